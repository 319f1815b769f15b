/* SPDX-License-Identifier: MIT */
/*
 * mmu_cache.c: the cache hierarchy one scheme's walks disturb: L1, L2, LLC,
 * set-associative, LRU (MRU-first arrays), fill on miss into every level.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

static int level_init(struct mmu_cache_level *l, uint32_t size, uint32_t ways, uint32_t line)
{
	uint32_t sets = size / line / ways;
	unsigned line_bits = 52 - (unsigned)__builtin_ctz(line);

	l->ways = ways;
	l->set_mask = sets - 1;
	l->set_shift = (uint32_t)__builtin_ctz(sets);
	/* physical addresses (model-private ones included) are below 2^52 */
	if (line_bits - l->set_shift < 32) {
		l->tags32 = calloc((size_t)sets * ways, sizeof(uint32_t));
		return l->tags32 ? 0 : -1;
	}
	l->tags = calloc((size_t)sets * ways, sizeof(uint64_t));
	return l->tags ? 0 : -1;
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
		c->lv[i].tags = NULL;
		c->lv[i].tags32 = NULL;
	}
}

void mmu_cache_clear(struct mmu_cache *c)
{
	for (int i = 0; i < 3; i++) {
		size_t n = ((size_t)c->lv[i].set_mask + 1) * c->lv[i].ways;
		if (c->lv[i].tags32)
			memset(c->lv[i].tags32, 0, n * sizeof(uint32_t));
		else
			memset(c->lv[i].tags, 0, n * sizeof(uint64_t));
	}
}

/* Looks line up in one level; on a hit moves it to MRU; on a miss inserts it
 * at MRU (evicting LRU). Returns whether it hit. */
#define LEVEL_ACCESS(T, arr)                                                                       \
	do {                                                                                       \
		T tag = (T)((line >> l->set_shift) + 1);                                           \
		T *set = l->arr + (size_t)(line & l->set_mask) * l->ways;                          \
		uint32_t i;                                                                        \
		if (set[0] == tag)                                                                 \
			return true;                                                               \
		for (i = 1; i < l->ways; i++)                                                      \
			if (set[i] == tag)                                                         \
				break;                                                             \
		bool hit = i < l->ways;                                                            \
		if (!hit)                                                                          \
			i = l->ways - 1;                                                           \
		for (; i > 0; i--) /* LRU order: shift the younger ones down */                    \
			set[i] = set[i - 1];                                                       \
		set[0] = tag;                                                                      \
		return hit;                                                                        \
	} while (0)

static inline bool level_access(struct mmu_cache_level *l, uint64_t line)
{
	if (l->tags32)
		LEVEL_ACCESS(uint32_t, tags32);
	LEVEL_ACCESS(uint64_t, tags);
}

static inline void level_prefetch(struct mmu_cache_level *l, uint64_t line)
{
	size_t off = (size_t)(line & l->set_mask) * l->ways;

	if (l->tags32)
		__builtin_prefetch(l->tags32 + off);
	else
		__builtin_prefetch(l->tags + off);
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
