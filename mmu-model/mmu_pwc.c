/* SPDX-License-Identifier: MIT */
/*
 * mmu_pwc.c: page-walk caches (PML4E, PDPTE, PDE caches): small
 * set-associative LRU arrays mapping a VA (or gPA) prefix to the next table.
 * Their lookup and insert are inline in mmu_internal.h (a few per walk).
 */
#include <string.h>

#include "mmu_internal.h"

void mmu_pwc_init(struct mmu_pwc *p, uint32_t entries, uint32_t ways)
{
	memset(p, 0, sizeof(*p));
	if (!entries || !ways)
		return;
	p->n = entries;
	p->ways = ways;
	p->set_mask = entries / ways - 1;
}

void mmu_pwc_clear(struct mmu_pwc *p)
{
	memset(p->key, 0, sizeof(p->key));
	p->last = 0;
}
