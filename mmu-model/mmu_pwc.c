/* SPDX-License-Identifier: MIT */
/*
 * mmu_pwc.c: page-walk caches (PML4E, PDPTE, PDE caches): small
 * set-associative LRU arrays mapping a VA (or gPA) prefix to the next table.
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

bool mmu_pwc_lookup(struct mmu_pwc *p, uint64_t tag, uint64_t *val)
{
	uint64_t key = tag + 1;
	uint64_t *k, *v;

	if (!p->n)
		return false;
	k = p->key + (tag & p->set_mask) * p->ways;
	v = p->val + (tag & p->set_mask) * p->ways;
	for (uint32_t i = 0; i < p->ways; i++) {
		if (k[i] == key) {
			uint64_t x = v[i];
			for (; i > 0; i--) {
				k[i] = k[i - 1];
				v[i] = v[i - 1];
			}
			k[0] = key;
			v[0] = x;
			*val = x;
			return true;
		}
	}
	return false;
}

void mmu_pwc_insert(struct mmu_pwc *p, uint64_t tag, uint64_t val)
{
	uint64_t key = tag + 1;
	uint64_t *k, *v;
	uint32_t i;

	if (!p->n)
		return;
	k = p->key + (tag & p->set_mask) * p->ways;
	v = p->val + (tag & p->set_mask) * p->ways;
	for (i = 0; i < p->ways - 1; i++)
		if (k[i] == key)
			break;
	for (; i > 0; i--) {
		k[i] = k[i - 1];
		v[i] = v[i - 1];
	}
	k[0] = key;
	v[0] = val;
}

void mmu_pwc_clear(struct mmu_pwc *p)
{
	memset(p->key, 0, sizeof(p->key));
	p->last = 0;
}
