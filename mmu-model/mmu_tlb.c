/* SPDX-License-Identifier: MIT */
/*
 * mmu_tlb.c: set-associative LRU TLBs holding 4 KiB and 2 MiB entries: the
 * L1 dTLB / iTLB, the STLB and the nested TLB. Sets keep their entries MRU
 * first (for these few 64-bit keys this beats an order word in wall time);
 * an entry's key and value are adjacent, so a 4-way set is one host line
 * and a 12-way set three.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_tlb.h"

int mmu_tlb_init(struct mmu_tlb *t, uint32_t entries, uint32_t ways)
{
	t->n[0] = t->n[1] = 0;
	t->ways = ways;
	t->set_mask = entries / ways - 1;
	t->e = aligned_alloc(64, ((size_t)entries * sizeof(*t->e) + 63) & ~(size_t)63);
	if (!t->e)
		return -1;
	memset(t->e, 0, (size_t)entries * sizeof(*t->e));
	return 0;
}

void mmu_tlb_free(struct mmu_tlb *t)
{
	free(t->e);
	t->e = NULL;
}

void mmu_tlb_clear(struct mmu_tlb *t)
{
	memset(t->e, 0, ((size_t)t->set_mask + 1) * t->ways * sizeof(*t->e));
	t->n[0] = t->n[1] = 0;
}

void mmu_tlb_insert(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base)
{
	struct mmu_tlb_entry *e = t->e + (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t key = mmu_tlb_key(addr, shift);
	uint32_t i;

	for (i = 0; i < t->ways - 1; i++)
		if (e[i].key == key)
			break;
	mmu_tlb_count_keys(t, e[i].key, key); /* the key found, or the LRU one dropped */
	mmu_tlb_to_front(e, i, (struct mmu_tlb_entry){key, base});
}

void mmu_tlb_flush_page(struct mmu_tlb *t, uint64_t addr)
{
	static const unsigned shifts[2] = {12, 21};

	for (int j = 0; j < 2; j++) {
		uint64_t key = mmu_tlb_key(addr, shifts[j]);
		struct mmu_tlb_entry *e =
		    t->e + (size_t)((addr >> shifts[j]) & t->set_mask) * t->ways;
		for (uint32_t i = 0; i < t->ways; i++)
			if (e[i].key == key) {
				mmu_tlb_count_keys(t, key, 0);
				e[i].key = 0;
			}
	}
}
