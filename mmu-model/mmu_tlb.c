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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mmu_internal.h"

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

/* Moves entries 0 .. i-1 down one way and puts x in front (MRU). An entry
 * is 16 bytes at a 16-byte boundary: one vector move each, inline (a
 * memmove call costs more than the few entries of a set; the empty asm
 * keeps the compiler from turning the loop back into one). */
static inline void to_front(struct mmu_tlb_entry *e, uint32_t i, struct mmu_tlb_entry x)
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

static inline bool probe(struct mmu_tlb *t, uint64_t key, uint64_t setno, uint64_t *base)
{
	struct mmu_tlb_entry *e = t->e + (size_t)(setno & t->set_mask) * t->ways;

	for (uint32_t i = 0; i < t->ways; i++) {
		if (e[i].key == key) {
			*base = e[i].val;
			to_front(e, i, e[i]);
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
	struct mmu_tlb_entry *e = t->e + (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t key = tlb_key(addr, shift);
	uint32_t i;

	for (i = 0; i < t->ways - 1; i++)
		if (e[i].key == key)
			break;
	count_keys(t, e[i].key, key); /* the key found, or the LRU one dropped */
	to_front(e, i, (struct mmu_tlb_entry){key, base});
}

void mmu_tlb_flush_page(struct mmu_tlb *t, uint64_t addr)
{
	static const unsigned shifts[2] = {12, 21};

	for (int j = 0; j < 2; j++) {
		uint64_t key = tlb_key(addr, shifts[j]);
		struct mmu_tlb_entry *e =
		    t->e + (size_t)((addr >> shifts[j]) & t->set_mask) * t->ways;
		for (uint32_t i = 0; i < t->ways; i++)
			if (e[i].key == key) {
				count_keys(t, key, 0);
				e[i].key = 0;
			}
	}
}

void mmu_tlb_insert_missed(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base)
{
	struct mmu_tlb_entry *e = t->e + (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t key = tlb_key(addr, shift);

	count_keys(t, e[t->ways - 1].key, key); /* the LRU entry is dropped */
	to_front(e, t->ways - 1, (struct mmu_tlb_entry){key, base});
}
