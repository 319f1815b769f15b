/* SPDX-License-Identifier: MIT */
/*
 * mmu_cache.c: the cache hierarchy one scheme's walks disturb: L1, L2, LLC,
 * set-associative, true LRU, fill on miss into every level. This runs for
 * every walk reference of every scheme: sets of up to 16 ways use the
 * mmu_lru.h primitives (unordered tags, an LRU order word); wider sets (no
 * room in the word) keep an MRU-first array. Both give the same hits.
 */
#include <stdlib.h>
#include <string.h>
#include "mmu_internal.h"
#include "mmu_lru.h"

static int level_init(struct mmu_cache_level *l, uint32_t size, uint32_t ways, uint32_t line)
{
	uint32_t sets = size / line / ways;
	unsigned line_bits = 52 - (unsigned)__builtin_ctz(line);
	bool t32;
	size_t bytes;
	void *p;

	l->ways = ways;
	l->set_mask = sets - 1;
	l->set_shift = (uint32_t)__builtin_ctz(sets);
	l->mru_array = ways > 16;
	/* physical addresses (model-private ones included) are below 2^52;
	 * 32-bit tags when they fit (the LLC: halves the model's footprint in
	 * the host's caches), else 64-bit. Sets are padded to whole 16-byte
	 * vectors; pad ways hold 0 (empty), which no tag equals. */
	t32 = line_bits - l->set_shift < 32;
	l->stride = l->mru_array ? ways : t32 ? (ways + 3) & ~3u : (ways + 1) & ~1u;
	bytes = ((size_t)sets * l->stride * (t32 ? 4 : 8) + 63) & ~(size_t)63;
	p = aligned_alloc(64, bytes);
	if (!p)
		return -1;
	memset(p, 0, bytes);
	if (t32)
		l->tags32 = p;
	else
		l->tags = p;
	l->order = l->mru_array ? NULL : malloc((size_t)sets * sizeof(uint64_t));
	if (!l->mru_array && !l->order)
		return -1;
	for (uint32_t s = 0; !l->mru_array && s < sets; s++)
		l->order[s] = mmu_lru_init(l->ways);
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
	for (int i = 0; i < 3; i++) {
		struct mmu_cache_level *l = &c->lv[i];
		size_t sets = (size_t)l->set_mask + 1, n = sets * l->stride;
		if (l->tags32)
			memset(l->tags32, 0, n * sizeof(uint32_t));
		else
			memset(l->tags, 0, n * sizeof(uint64_t));
		for (size_t s = 0; l->order && s < sets; s++)
			l->order[s] = mmu_lru_init(l->ways);
	}
}

/* Looks line up in one level; on a hit makes it MRU; on a miss fills it into
 * the LRU way. Returns whether it hit. */
#define LEVEL_ACCESS(T, arr, match)                                                                \
	do {                                                                                       \
		T tag = (T)((line >> l->set_shift) + 1);                                           \
		uint64_t s = line & l->set_mask;                                                   \
		T *set = l->arr + s * l->stride;                                                   \
		if (__builtin_expect(l->mru_array, 0)) {                                           \
			uint32_t i;                                                                \
			for (i = 0; i < l->ways; i++)                                              \
				if (set[i] == tag)                                                 \
					break;                                                     \
			bool hit = i < l->ways;                                                    \
			if (!hit)                                                                  \
				i = l->ways - 1;                                                   \
			for (; i > 0; i--) /* shift the younger ones down */                       \
				set[i] = set[i - 1];                                               \
			set[0] = tag;                                                              \
			return hit;                                                                \
		}                                                                                  \
		uint32_t m = match(set, tag, l->stride);                                           \
		uint64_t o = l->order[s];                                                          \
		if (m) {                                                                           \
			unsigned w = (unsigned)__builtin_ctz(m);                                   \
			l->order[s] = mmu_lru_touch(o, w);                                         \
			return true;                                                               \
		}                                                                                  \
		set[mmu_lru_victim(o, l->ways)] = tag;                                             \
		l->order[s] = mmu_lru_fill(o, l->ways);                                            \
		return false;                                                                      \
	} while (0)

static inline bool level_access(struct mmu_cache_level *l, uint64_t line)
{
	if (l->tags32)
		LEVEL_ACCESS(uint32_t, tags32, mmu_lru_match32);
	LEVEL_ACCESS(uint64_t, tags, mmu_lru_match64);
}

static inline void level_prefetch(struct mmu_cache_level *l, uint64_t line)
{
	uint64_t s = line & l->set_mask;

	if (l->tags32)
		__builtin_prefetch(l->tags32 + s * l->stride);
	else
		__builtin_prefetch(l->tags + s * l->stride);
	if (l->order)
		__builtin_prefetch(l->order + s);
}

void mmu_cache_prefetch(struct mmu_cache *c, uint64_t pa)
{
	uint64_t line = pa >> c->line_shift;

	level_prefetch(&c->lv[1], line);
	level_prefetch(&c->lv[2], line);
}

int mmu_cache_access(struct mmu_cache *c, uint64_t pa)
{
	uint64_t line = pa >> c->line_shift;

	if (level_access(&c->lv[0], line))
		return MMU_SRV_L1;
	if (level_access(&c->lv[1], line))
		return MMU_SRV_L2;
	if (level_access(&c->lv[2], line))
		return MMU_SRV_LLC;
	return MMU_SRV_DRAM;
}
