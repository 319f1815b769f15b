/* SPDX-License-Identifier: MIT */
/*
 * mmu_tlb.h: the TLBs' per-access path, inline (mmu_sim.c runs it for every
 * access, the nested TLB for every host translation): the lookup and the
 * fill after a missed lookup. The rest is in mmu_tlb.c.
 */
#ifndef MMU_TLB_H
#define MMU_TLB_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mmu_internal.h"

/* Key: page number << 1 | is_2m, + 1 so that 0 means empty. */
static inline uint64_t mmu_tlb_key(uint64_t addr, unsigned shift)
{
	return (((addr >> shift) << 1) | (shift != 12)) + 1;
}

/* Key old leaves the TLB and key new enters (either may be 0 = empty). */
static inline void mmu_tlb_count_keys(struct mmu_tlb *t, uint64_t old, uint64_t new)
{
	if (old)
		t->n[(old - 1) & 1]--;
	if (new)
		t->n[(new - 1) & 1]++;
}

/* Moves entries 0 .. i-1 down one way and puts x in front (MRU). An entry
 * is 16 bytes at a 16-byte boundary: one vector move each, inline (a
 * memmove call costs more than the few entries of a set; the empty asm
 * keeps the compiler from turning the loop back into one). */
static inline void mmu_tlb_to_front(struct mmu_tlb_entry *e, uint32_t i, struct mmu_tlb_entry x)
{
	for (; i > 0; i--) {
#ifdef __SSE2__
		_mm_store_si128((__m128i *)(e + i), _mm_load_si128((const __m128i *)(e + i - 1)));
#else
		e[i] = e[i - 1];
#endif
		__asm__("" : : "r"(e) : "memory");
	}
	e[0] = x;
}

static inline bool mmu_tlb_probe(struct mmu_tlb *t, uint64_t key, uint64_t setno, uint64_t *base)
{
	struct mmu_tlb_entry *e = t->e + (size_t)(setno & t->set_mask) * t->ways;

	for (uint32_t i = 0; i < t->ways; i++) {
		if (e[i].key == key) {
			*base = e[i].val;
			mmu_tlb_to_front(e, i, e[i]);
			return true;
		}
	}
	return false;
}

/* Looks up the 4 KiB entry of addr, then (if use_2m) the 2 MiB one. On a hit
 * returns the page shift and *base = the page's physical base. 0 on a miss. */
static inline unsigned mmu_tlb_lookup(struct mmu_tlb *t, uint64_t addr, bool use_2m, uint64_t *base)
{
	/* a probe for a page size the TLB holds none of would miss (and change
	 * nothing): skip it */
	if (t->n[0] && mmu_tlb_probe(t, mmu_tlb_key(addr, 12), addr >> 12, base))
		return 12;
	if (use_2m && t->n[1] && mmu_tlb_probe(t, mmu_tlb_key(addr, 21), addr >> 21, base))
		return 21;
	return 0;
}

/* The same as mmu_tlb_insert when a lookup of addr just missed (and nothing
 * was inserted since): the key is not in its set, so no search. */
static inline void mmu_tlb_insert_missed(struct mmu_tlb *t, uint64_t addr, unsigned shift,
					 uint64_t base)
{
	struct mmu_tlb_entry *e = t->e + (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t key = mmu_tlb_key(addr, shift);

	mmu_tlb_count_keys(t, e[t->ways - 1].key, key); /* the LRU entry is dropped */
	mmu_tlb_to_front(e, t->ways - 1, (struct mmu_tlb_entry){key, base});
}

#endif /* MMU_TLB_H */
