/* SPDX-License-Identifier: MIT */
/*
 * mmu_tlb.c: set-associative LRU TLBs holding 4 KiB and 2 MiB entries: the
 * L1 dTLB / iTLB, the STLB and the nested TLB. Sets keep their keys MRU
 * first (for these few 64-bit keys this beats an order word in wall time).
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

int mmu_tlb_init(struct mmu_tlb *t, uint32_t entries, uint32_t ways)
{
	t->n[0] = t->n[1] = 0;
	t->ways = ways;
	t->set_mask = entries / ways - 1;
	t->key = calloc(entries, sizeof(uint64_t));
	t->val = calloc(entries, sizeof(uint64_t));
	if (!t->key || !t->val) {
		mmu_tlb_free(t);
		return -1;
	}
	return 0;
}

void mmu_tlb_free(struct mmu_tlb *t)
{
	free(t->key);
	free(t->val);
	t->key = t->val = NULL;
}

void mmu_tlb_clear(struct mmu_tlb *t)
{
	memset(t->key, 0, ((size_t)t->set_mask + 1) * t->ways * sizeof(uint64_t));
	t->n[0] = t->n[1] = 0;
}

/* Key: page number << 1 | is_2m, + 1 so that 0 means empty. */
static inline uint64_t tlb_key(uint64_t addr, unsigned shift)
{
	return (((addr >> shift) << 1) | (shift != 12)) + 1;
}

/* Key old leaves the TLB and key new enters (either may be 0 = empty). */
static inline void count_keys(struct mmu_tlb *t, uint64_t old, uint64_t new)
{
	if (old)
		t->n[(old - 1) & 1]--;
	if (new)
		t->n[(new - 1) & 1]++;
}

static inline bool probe(struct mmu_tlb *t, uint64_t key, uint64_t setno, uint64_t *base)
{
	size_t s = (size_t)(setno & t->set_mask) * t->ways;
	uint64_t *k = t->key + s, *v = t->val + s;

	for (uint32_t i = 0; i < t->ways; i++) {
		if (k[i] == key) {
			uint64_t val = v[i];
			for (; i > 0; i--) {
				k[i] = k[i - 1];
				v[i] = v[i - 1];
			}
			k[0] = key;
			v[0] = val;
			*base = val;
			return true;
		}
	}
	return false;
}

unsigned mmu_tlb_lookup(struct mmu_tlb *t, uint64_t addr, bool use_2m, uint64_t *base)
{
	/* a probe for a page size the TLB holds none of would miss (and change
	 * nothing): skip it */
	if (t->n[0] && probe(t, tlb_key(addr, 12), addr >> 12, base))
		return 12;
	if (use_2m && t->n[1] && probe(t, tlb_key(addr, 21), addr >> 21, base))
		return 21;
	return 0;
}

void mmu_tlb_insert(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base)
{
	size_t s = (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t *k = t->key + s, *v = t->val + s;
	uint64_t key = tlb_key(addr, shift);
	uint32_t i;

	for (i = 0; i < t->ways - 1; i++)
		if (k[i] == key)
			break;
	count_keys(t, k[i], key); /* k[i]: the key found, or the LRU one dropped */
	for (; i > 0; i--) {
		k[i] = k[i - 1];
		v[i] = v[i - 1];
	}
	k[0] = key;
	v[0] = base;
}

void mmu_tlb_flush_page(struct mmu_tlb *t, uint64_t addr)
{
	static const unsigned shifts[2] = {12, 21};

	for (int j = 0; j < 2; j++) {
		uint64_t key = tlb_key(addr, shifts[j]);
		size_t s = (size_t)((addr >> shifts[j]) & t->set_mask) * t->ways;
		for (uint32_t i = 0; i < t->ways; i++)
			if (t->key[s + i] == key) {
				count_keys(t, key, 0);
				t->key[s + i] = 0;
			}
	}
}
