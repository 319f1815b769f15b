/* SPDX-License-Identifier: MIT */
/*
 * mmu_cache.c: the cache hierarchy one scheme's walks disturb: L1, L2, LLC,
 * set-associative, true LRU, fill on miss into every level. This runs for
 * every walk reference of every scheme, so:
 * - sets of up to 16 ways use the mmu_lru.h primitives (unordered tags, one
 *   LRU order word); wider sets (no room in the word) keep an MRU-first
 *   array of 64-bit tags. Both give the same hits and victims.
 * - tags are as narrow as they fit, and a level widens itself, once per
 *   step, on the first tag that does not fit:
 *   16-bit for large levels of up to 12 ways (the LLC): a set and its
 *     order word are 32 bytes, so the LLC's tags take half the host memory;
 *   32-bit: a set of up to 14 ways and its order word are one 64-byte line
 *     of the host (15 and 16 ways: the order words apart);
 *   64-bit: the order words apart.
 * So that the model-private addresses (2^51 and up) fit too, the cache
 * sees addresses through fold(), a bijection that swaps the low 2 GiB of
 * each private region with a block at 116-126 GiB (above the host RAM of
 * the VMM and replay, which starts at 64 GiB). It keeps the low 31 bits
 * (the set index of every level that is not 64-bit from the start), so hits
 * and misses are unchanged, and the tags of addresses below 128 GiB fit in
 * 16 bits on a level whose line and set bits are 21 or more.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"
#include "mmu_lru.h"

#define FOLD_BITS    31
#define FOLD_LOW     (116ULL << 30) /* above the host RAM of the VMM and replay (64 GiB + RAM) */
#define FOLD_REGIONS 5		    /* shadow, agile, EPT02, ECPT guest, ECPT host */
#define NARROW_SHIFT 21		    /* line + set bits from which a level starts 16-bit */
#define NARROW_WAYS  12		    /* 12 tags + an order word: 32 bytes */

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

/* The LRU order word of set s (not of an mru_array level). */
static inline uint64_t *order_of(const struct mmu_cache_level *l, uint64_t s)
{
	return (uint64_t *)((char *)l->obase + (s << l->oshift));
}

/* Where the order words are (after the tags changed width) and where
 * mmu_cache_prefetch finds a set. */
static void set_layout(struct mmu_cache_level *l)
{
	if (l->tags16) {
		l->obase = (uint64_t *)(l->tags16 + NARROW_WAYS);
		l->oshift = 5;
		l->pf_tags = (const char *)l->tags16;
		l->pf_stride = 32;
	} else if (l->tags32) {
		l->obase = l->order ? l->order : (uint64_t *)(l->tags32 + 14);
		l->oshift = l->order ? 3 : 6;
		l->pf_tags = (const char *)l->tags32;
		l->pf_stride = 64;
	} else {
		l->obase = l->order;
		l->oshift = 3;
		l->pf_tags = (const char *)l->tags;
		l->pf_stride = l->stride * 8;
	}
}

static int level_init(struct mmu_cache_level *l, uint32_t size, uint32_t ways, uint32_t line)
{
	uint32_t sets = size / line / ways, bits = (uint32_t)__builtin_ctz(line);
	/* fold() must not touch the set index */
	bool wide = ways > MMU_LRU_MAX_WAYS || bits + __builtin_ctz(sets) > FOLD_BITS;

	l->ways = ways;
	l->set_mask = sets - 1;
	l->set_shift = (uint32_t)__builtin_ctz(sets);
	l->mru_array = ways > MMU_LRU_MAX_WAYS;
	l->stride = l->mru_array ? ways : wide ? (ways + 1) & ~1u : 16;
	if (wide)
		l->tags = zalloc64((size_t)sets * l->stride * sizeof(uint64_t));
	else if (ways <= NARROW_WAYS && bits + l->set_shift >= NARROW_SHIFT)
		l->tags16 = zalloc64((size_t)sets * 16 * sizeof(uint16_t));
	else
		l->tags32 = zalloc64((size_t)sets * 16 * sizeof(uint32_t));
	if (!l->tags && !l->tags16 && !l->tags32)
		return -1;
	if (l->mru_array) {
		set_layout(l);
		return 0;
	}
	/* 64-bit tags and 32-bit sets of 15 or 16 ways: order words apart */
	if ((wide || (!l->tags16 && ways > 14)) &&
	    !(l->order = malloc((size_t)sets * sizeof(uint64_t))))
		return -1;
	set_layout(l);
	for (uint32_t s = 0; s < sets; s++)
		*order_of(l, s) = mmu_lru_init(l->ways);
	l->full = mmu_lru_ways(ways);
	l->vshift = mmu_lru_vshift(ways);
	l->omask = mmu_lru_omask(ways);
	return 0;
}

/* A tag did not fit in 16 bits: the level moves to 32-bit tags for good
 * (up to 12 ways: the order word stays in the set). */
static int level_widen32(struct mmu_cache_level *l)
{
	size_t sets = (size_t)l->set_mask + 1;
	uint32_t *t = zalloc64(sets * 16 * sizeof(uint32_t));

	if (!t)
		return -1;
	for (size_t s = 0; s < sets; s++) {
		for (uint32_t i = 0; i < l->ways; i++)
			t[s * 16 + i] = l->tags16[s * 16 + i];
		memcpy(t + s * 16 + 14, order_of(l, s), sizeof(uint64_t));
	}
	free(l->tags16);
	l->tags16 = NULL;
	l->tags32 = t;
	set_layout(l);
	return 0;
}

/* A tag did not fit in 32 bits: the level moves to 64-bit tags for good. */
static int level_widen64(struct mmu_cache_level *l)
{
	uint32_t stride = (l->ways + 1) & ~1u;
	size_t sets = (size_t)l->set_mask + 1;
	uint64_t *t = zalloc64(sets * stride * sizeof(uint64_t));
	uint64_t *order = l->order ? l->order : malloc(sets * sizeof(uint64_t));

	if (!t || !order) {
		free(t);
		if (order != l->order)
			free(order);
		return -1;
	}
	for (size_t s = 0; s < sets; s++) {
		for (uint32_t i = 0; i < l->ways; i++)
			t[s * stride + i] = l->tags32[s * 16 + i];
		order[s] = *order_of(l, s);
	}
	free(l->tags32);
	l->tags32 = NULL;
	l->tags = t;
	l->order = order;
	l->stride = stride;
	set_layout(l);
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
		struct mmu_cache_level *l = &c->lv[i];
		free(l->tags16);
		free(l->tags32);
		free(l->tags);
		free(l->order);
		l->tags16 = NULL;
		l->tags32 = NULL;
		l->tags = NULL;
		l->order = NULL;
	}
}

void mmu_cache_clear(struct mmu_cache *c)
{
	memset(c->last, 0xff, sizeof(c->last));
	for (int i = 0; i < 3; i++) {
		struct mmu_cache_level *l = &c->lv[i];
		size_t sets = (size_t)l->set_mask + 1;
		if (l->tags16)
			memset(l->tags16, 0, sets * 16 * sizeof(uint16_t));
		else if (l->tags32)
			memset(l->tags32, 0, sets * 16 * sizeof(uint32_t));
		else
			memset(l->tags, 0, sets * l->stride * sizeof(uint64_t));
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

/* Set s's LRU order after the ways' match bits m: on a hit the way becomes
 * MRU (returns true); on a miss the LRU way does, *victim names it. */
static inline bool order_step(const struct mmu_cache_level *l, uint64_t s, uint32_t m,
			      unsigned *victim)
{
	uint64_t *op = order_of(l, s), o = *op;

	if (m) {
		*op = mmu_lru_touch(o, (unsigned)__builtin_ctz(m));
		return true;
	}
	*victim = mmu_lru_victim(o, l->vshift);
	*op = mmu_lru_fill(o, *victim, l->omask);
	return false;
}

static inline bool access32(struct mmu_cache_level *l, uint64_t s, uint64_t tag)
{
	uint32_t *set = l->tags32 + s * 16;
	unsigned w;

	if (order_step(l, s, mmu_lru_match32x16(set, (uint32_t)tag) & l->full, &w))
		return true;
	set[w] = (uint32_t)tag;
	return false;
}

/* The general case of level_access: sets wider than 16 ways, 64-bit tags,
 * and the first tag that does not fit (the level widens). */
static __attribute__((noinline)) bool level_access_slow(struct mmu_cache_level *l, uint64_t s,
							uint64_t tag)
{
	unsigned w;

	if (l->mru_array)
		return mru_access(l, s, tag);
	if (l->tags16 && level_widen32(l))
		return false; /* out of memory: counted as a miss, nothing kept */
	if (l->tags32 && tag <= UINT32_MAX)
		return access32(l, s, tag);
	if (l->tags32 && level_widen64(l))
		return false;
	if (order_step(l, s, mmu_lru_match64(l->tags + s * l->stride, tag, l->stride), &w))
		return true;
	l->tags[s * l->stride + w] = tag;
	return false;
}

/* Looks line up in one level; on a hit makes it MRU; on a miss fills it into
 * the LRU way. Returns whether it hit. The hot paths: 16- and 32-bit tags,
 * 16 slots a set, the geometry precomputed (level_init). */
static inline __attribute__((always_inline)) bool level_access(struct mmu_cache_level *l,
							       uint64_t line)
{
	uint64_t tag = (line >> l->set_shift) + 1, s = line & l->set_mask;
	unsigned w;

	if (l->tags16 && tag <= UINT16_MAX) { /* as access32, 16-bit */
		uint16_t *set = l->tags16 + s * 16;
		if (order_step(l, s, mmu_lru_match16x16(set, (uint16_t)tag) & l->full, &w))
			return true;
		set[w] = (uint16_t)tag;
		return false;
	}
	if (__builtin_expect(l->tags32 && tag <= UINT32_MAX, 1))
		return access32(l, s, tag);
	return level_access_slow(l, s, tag);
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
