/* SPDX-License-Identifier: MIT */
/*
 * mmu_tlb.c: set-associative LRU TLBs holding 4 KiB and 2 MiB entries: the
 * L1 dTLB / iTLB, the STLB and the nested TLB. Sets of up to 16 ways use the
 * mmu_lru.h primitives (unordered keys, an LRU order word); wider sets keep
 * their keys MRU first. Both give exactly the same hits and victims.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"
#include "mmu_lru.h"

int mmu_tlb_init(struct mmu_tlb *t, uint32_t entries, uint32_t ways)
{
	uint32_t sets = entries / ways;
	size_t bytes;

	memset(t, 0, sizeof(*t));
	t->ways = ways;
	t->set_mask = sets - 1;
	t->mru_array = ways > MMU_LRU_MAX_WAYS;
	t->stride = t->mru_array ? ways : (ways + 1) & ~1u; /* whole 16-byte vectors */
	bytes = ((size_t)sets * t->stride * sizeof(uint64_t) + 63) & ~(size_t)63;
	t->key = aligned_alloc(64, bytes);
	t->val = calloc((size_t)sets * t->stride, sizeof(uint64_t));
	t->order = t->mru_array ? NULL : malloc(sets * sizeof(uint64_t));
	if (!t->key || !t->val || (!t->mru_array && !t->order)) {
		mmu_tlb_free(t);
		return -1;
	}
	t->key_bytes = bytes;
	mmu_tlb_clear(t);
	return 0;
}

void mmu_tlb_free(struct mmu_tlb *t)
{
	free(t->key);
	free(t->val);
	free(t->order);
	t->key = t->val = t->order = NULL;
}

void mmu_tlb_clear(struct mmu_tlb *t)
{
	memset(t->key, 0, t->key_bytes);
	t->n2m = 0;
	for (uint32_t s = 0; t->order && s <= t->set_mask; s++)
		t->order[s] = mmu_lru_init(t->ways);
}

/* Key: page number << 1 | is_2m, + 1 so that 0 means empty. */
static inline uint64_t tlb_key(uint64_t addr, unsigned shift)
{
	return (((addr >> shift) << 1) | (shift != 12)) + 1;
}

static inline bool key_is_2m(uint64_t key)
{
	return key && ((key - 1) & 1);
}

/* Key old leaves the TLB and key new enters (either may be 0). */
static inline void count_2m(struct mmu_tlb *t, uint64_t old, uint64_t new)
{
	t->n2m += (uint32_t)key_is_2m(new) - (uint32_t)key_is_2m(old);
}

/* Wide sets: keys MRU first, a hit moves to the front. */
static bool probe_mru(struct mmu_tlb *t, uint64_t key, size_t s, uint64_t *base)
{
	uint64_t *k = t->key + s * t->stride, *v = t->val + s * t->stride;

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

static inline bool probe(struct mmu_tlb *t, uint64_t key, uint64_t setno, uint64_t *base)
{
	size_t s = (size_t)(setno & t->set_mask);
	uint32_t m;

	if (__builtin_expect(t->mru_array, 0))
		return probe_mru(t, key, s, base);
	m = mmu_lru_match64(t->key + s * t->stride, key, t->stride);
	if (!m)
		return false;
	t->order[s] = mmu_lru_touch(t->order[s], (unsigned)__builtin_ctz(m));
	*base = t->val[s * t->stride + (unsigned)__builtin_ctz(m)];
	return true;
}

unsigned mmu_tlb_lookup(struct mmu_tlb *t, uint64_t addr, bool use_2m, uint64_t *base)
{
	if (probe(t, tlb_key(addr, 12), addr >> 12, base))
		return 12;
	/* no 2 MiB entry held: the probe would miss (and change nothing) */
	if (use_2m && t->n2m && probe(t, tlb_key(addr, 21), addr >> 21, base))
		return 21;
	return 0;
}

void mmu_tlb_insert(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base)
{
	size_t s = (size_t)((addr >> shift) & t->set_mask);
	uint64_t *k = t->key + s * t->stride, *v = t->val + s * t->stride;
	uint64_t key = tlb_key(addr, shift);
	uint32_t i, m;

	if (!t->mru_array) {
		/* an entry already there is refreshed in place, else the LRU way */
		m = mmu_lru_match64(k, key, t->stride);
		i = m ? (unsigned)__builtin_ctz(m) : mmu_lru_victim(t->order[s], t->ways);
		t->order[s] =
		    m ? mmu_lru_touch(t->order[s], i) : mmu_lru_fill(t->order[s], t->ways);
		count_2m(t, k[i], key);
		k[i] = key;
		v[i] = base;
		return;
	}
	for (i = 0; i < t->ways - 1; i++)
		if (k[i] == key)
			break;
	count_2m(t, k[i], key);
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

	/* the emptied way keeps its place in the LRU order, as in an MRU array */
	for (int j = 0; j < 2; j++) {
		uint64_t key = tlb_key(addr, shifts[j]);
		size_t s = (size_t)((addr >> shifts[j]) & t->set_mask) * t->stride;
		for (uint32_t i = 0; i < t->ways; i++)
			if (t->key[s + i] == key) {
				count_2m(t, key, 0);
				t->key[s + i] = 0;
			}
	}
}
