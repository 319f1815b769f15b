/* SPDX-License-Identifier: MIT */
/*
 * mmu_cache.c: the cache hierarchy one scheme's walks disturb: L1, L2, LLC,
 * set-associative, true LRU, fill on miss into every level. This runs for
 * every walk reference of every scheme, so:
 * - sets of up to 16 ways use the mmu_lru.h primitives (unordered tags, one
 *   LRU order word); wider sets (no room in the word) keep an MRU-first
 *   array of 64-bit tags. Both give the same hits and victims.
 * - tags are 32-bit while they fit (a set of up to 14 ways and its order
 *   word are one 64-byte line of the host), and a level widens itself to 64-bit tags, once, on the
 * first tag that does not fit. So that the model-private addresses (2^51 and up) fit too, the cache
 * sees addresses through fold(), a bijection that swaps the low 2^38 bytes of each private region
 * with a block at 2^43. It keeps the low 38 bits (the set index), so hits and misses are unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"
#include "mmu_lru.h"

#define FOLD_BITS    38
#define FOLD_LOW     (1ULL << 43)
#define FOLD_REGIONS 5 /* shadow, agile, EPT02, ECPT guest, ECPT host */

static inline uint64_t fold(uint64_t pa)
{
	const uint64_t off = pa & ((1ULL << FOLD_BITS) - 1);

	if (pa >= MMU_PRIV_BASE) {
		uint64_t k = (pa - MMU_PRIV_BASE) >> 48;
		if (k < FOLD_REGIONS && ((pa - MMU_PRIV_BASE) & ((1ULL << 48) - 1)) == off)
			return FOLD_LOW + (k << FOLD_BITS) + off;
	} else if (pa - FOLD_LOW < ((uint64_t)FOLD_REGIONS << FOLD_BITS)) {
		return MMU_PRIV_BASE + (((pa - FOLD_LOW) >> FOLD_BITS) << 48) + off;
	}
	return pa;
}

static void *zalloc64(size_t bytes)
{
	/* + 64: the 16-way compare may read one vector past the last set */
	size_t n = (bytes + 64 + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n);

	if (p)
		memset(p, 0, n);
	return p;
}

/* The LRU order word of set s. */
static inline uint64_t *order_of(struct mmu_cache_level *l, uint64_t s)
{
	if (l->order_in_set)
		return (uint64_t *)(l->tags32 + s * 16 + 14);
	return &l->order[s];
}

/* Where mmu_cache_prefetch finds a set's tags and order word. */
static void set_prefetch(struct mmu_cache_level *l)
{
	l->pf_tags = l->tags32 ? (const char *)l->tags32 : (const char *)l->tags;
	l->pf_stride = l->stride * (l->tags32 ? 4 : 8);
	l->pf_order = l->order_in_set ? NULL : (const char *)l->order;
}

static int level_init(struct mmu_cache_level *l, uint32_t size, uint32_t ways, uint32_t line)
{
	uint32_t sets = size / line / ways;

	l->ways = ways;
	l->set_mask = sets - 1;
	l->set_shift = (uint32_t)__builtin_ctz(sets);
	l->mru_array = ways > MMU_LRU_MAX_WAYS;
	/* fold() must not touch the set index */
	l->wide = l->mru_array || __builtin_ctz(line) + l->set_shift > FOLD_BITS;
	/* 32-bit sets of up to 14 ways are one 64-byte line of the host, their
	 * order word in its last 8 bytes (never compared: the match is masked
	 * to the set's ways) */
	l->order_in_set = !l->wide && ways <= 14;
	l->stride = l->mru_array ? ways : l->wide ? (ways + 1) & ~1u : 16; /* 32-bit: 16 slots */
	if (l->wide)
		l->tags = zalloc64((size_t)sets * l->stride * sizeof(uint64_t));
	else
		l->tags32 = zalloc64((size_t)sets * l->stride * sizeof(uint32_t));
	if (!l->tags && !l->tags32)
		return -1;
	if (l->mru_array) {
		set_prefetch(l);
		return 0;
	}
	if (!l->order_in_set && !(l->order = malloc((size_t)sets * sizeof(uint64_t))))
		return -1;
	for (uint32_t s = 0; s < sets; s++)
		*order_of(l, s) = mmu_lru_init(l->ways);
	l->full = (uint32_t)((2ULL << (ways - 1)) - 1);
	l->vshift = 4 * (ways - 1);
	l->omask = ways >= 16 ? ~0ULL : (1ULL << (4 * ways)) - 1;
	l->obase = l->order_in_set ? (uint64_t *)(l->tags32 + 14) : l->order;
	l->oshift = l->order_in_set ? 6 : 3;
	set_prefetch(l);
	return 0;
}

/* A tag did not fit in 32 bits: the level moves to 64-bit tags for good. */
static int level_widen(struct mmu_cache_level *l)
{
	uint32_t stride = (l->ways + 1) & ~1u;
	size_t sets = (size_t)l->set_mask + 1;
	uint64_t *t = zalloc64(sets * stride * sizeof(uint64_t));
	uint64_t *order = l->order_in_set ? malloc(sets * sizeof(uint64_t)) : l->order;

	if (!t || !order) {
		free(t);
		return -1;
	}
	for (size_t s = 0; s < sets; s++) {
		for (uint32_t i = 0; i < l->ways; i++)
			t[s * stride + i] = l->tags32[s * l->stride + i];
		order[s] = *order_of(l, s);
	}
	free(l->tags32);
	l->tags32 = NULL;
	l->tags = t;
	l->order = order;
	l->order_in_set = false;
	l->stride = stride;
	l->wide = true;
	l->obase = order;
	l->oshift = 3;
	set_prefetch(l);
	return 0;
}

int mmu_cache_init(struct mmu_cache *c, const struct mmu_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->line_shift = (uint32_t)__builtin_ctz(cfg->line_size);
	c->lat[0] = cfg->lat_l1;
	c->lat[1] = cfg->lat_l2;
	c->lat[2] = cfg->lat_llc;
	c->lat[3] = cfg->lat_dram;
	c->fast_path = cfg->cache_fast_path;
	memset(c->last, 0xff, sizeof(c->last));
	if (level_init(&c->lv[0], cfg->l1_size, cfg->l1_ways, cfg->line_size) ||
	    level_init(&c->lv[1], cfg->l2_size, cfg->l2_ways, cfg->line_size) ||
	    level_init(&c->lv[2], cfg->llc_size, cfg->llc_ways, cfg->line_size)) {
		mmu_cache_free(c);
		return -1;
	}
	return 0;
}

void mmu_cache_free(struct mmu_cache *c)
{
	for (int i = 0; i < 3; i++) {
		free(c->lv[i].tags);
		free(c->lv[i].tags32);
		free(c->lv[i].order);
		c->lv[i].tags = NULL;
		c->lv[i].tags32 = NULL;
		c->lv[i].order = NULL;
	}
}

void mmu_cache_clear(struct mmu_cache *c)
{
	memset(c->last, 0xff, sizeof(c->last));
	for (int i = 0; i < 3; i++) {
		struct mmu_cache_level *l = &c->lv[i];
		size_t sets = (size_t)l->set_mask + 1, n = sets * l->stride;
		if (l->tags32)
			memset(l->tags32, 0, n * sizeof(uint32_t));
		else
			memset(l->tags, 0, n * sizeof(uint64_t));
		for (size_t s = 0; !l->mru_array && s < sets; s++)
			*order_of(l, s) = mmu_lru_init(l->ways);
	}
}

/* Wide sets: tags MRU first; a hit moves to the front, a miss shifts the
 * set down by one (dropping the LRU tag) and enters at the front. */
static bool mru_access(struct mmu_cache_level *l, uint64_t s, uint64_t tag)
{
	uint64_t *set = l->tags + s * l->stride;
	uint32_t i;
	bool hit;

	for (i = 0; i < l->ways; i++)
		if (set[i] == tag)
			break;
	hit = i < l->ways;
	if (!hit)
		i = l->ways - 1;
	for (; i > 0; i--)
		set[i] = set[i - 1];
	set[0] = tag;
	return hit;
}

/* The general case of level_access: sets wider than 16 ways, 64-bit tags,
 * and the first tag that does not fit in 32 bits (the level widens). */
static __attribute__((noinline)) bool level_access_slow(struct mmu_cache_level *l, uint64_t s,
							uint64_t tag)
{
	uint64_t o, *op;
	uint32_t m;
	unsigned w;

	if (l->mru_array)
		return mru_access(l, s, tag);
	if (!l->wide && level_widen(l))
		return false; /* out of memory: counted as a miss, nothing kept */
	m = mmu_lru_match64(l->tags + s * l->stride, tag, l->stride);
	op = &l->order[s];
	o = *op;
	if (m) {
		*op = mmu_lru_touch(o, (unsigned)__builtin_ctz(m));
		return true;
	}
	w = mmu_lru_victim(o, l->ways);
	*op = mmu_lru_fill(o, l->ways);
	l->tags[s * l->stride + w] = tag;
	return false;
}

/* Looks line up in one level; on a hit makes it MRU; on a miss fills it into
 * the LRU way. Returns whether it hit. The hot path: 32-bit tags, a set of
 * up to 16 ways in 16 slots, its geometry precomputed (level_init). */
static inline __attribute__((always_inline)) bool level_access(struct mmu_cache_level *l,
							       uint64_t line)
{
	uint64_t tag = (line >> l->set_shift) + 1, s = line & l->set_mask, o, *op;
	uint32_t *set, m;
	unsigned w;

	if (__builtin_expect(!l->tags32 || tag > UINT32_MAX, 0))
		return level_access_slow(l, s, tag);
	set = l->tags32 + s * 16;
	op = (uint64_t *)((char *)l->obase + (s << l->oshift));
	m = mmu_lru_match32x16(set, (uint32_t)tag) & l->full;
	o = *op;
	if (m) {
		*op = mmu_lru_touch(o, (unsigned)__builtin_ctz(m));
		return true;
	}
	w = (unsigned)(o >> l->vshift) & 15;
	*op = ((o << 4) | w) & l->omask;
	set[w] = (uint32_t)tag;
	return false;
}

/* The artifact's fast path: a level whose last line is this one answers
 * "not found" without asking the next level (the line stays MRU there). */
static int access_fast_path(struct mmu_cache *c, uint64_t line)
{
	for (int i = 0; i < 3; i++) {
		if (c->last[i] == line)
			return MMU_SRV_DRAM;
		c->last[i] = line;
		if (level_access(&c->lv[i], line))
			return MMU_SRV_L1 + i;
	}
	return MMU_SRV_DRAM;
}

int mmu_cache_access(struct mmu_cache *c, uint64_t pa)
{
	uint64_t line = fold(pa) >> c->line_shift;

	if (__builtin_expect(c->fast_path, 0))
		return access_fast_path(c, line);
	if (level_access(&c->lv[0], line))
		return MMU_SRV_L1;
	if (level_access(&c->lv[1], line))
		return MMU_SRV_L2;
	if (level_access(&c->lv[2], line))
		return MMU_SRV_LLC;
	return MMU_SRV_DRAM;
}
