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

	l->tags = calloc((size_t)sets * ways, sizeof(uint64_t));
	l->ways = ways;
	l->set_mask = sets - 1;
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
		c->lv[i].tags = NULL;
	}
}

void mmu_cache_clear(struct mmu_cache *c)
{
	for (int i = 0; i < 3; i++)
		memset(c->lv[i].tags, 0,
		       ((size_t)c->lv[i].set_mask + 1) * c->lv[i].ways * sizeof(uint64_t));
}

/* Looks tag up in one level; on a hit moves it to MRU; on a miss inserts it
 * at MRU (evicting LRU). Returns whether it hit. */
static inline bool level_access(struct mmu_cache_level *l, uint64_t line)
{
	uint64_t tag = line + 1;
	uint64_t *set = l->tags + (size_t)(line & l->set_mask) * l->ways;
	uint32_t i;

	if (set[0] == tag)
		return true;
	for (i = 1; i < l->ways; i++)
		if (set[i] == tag)
			break;
	bool hit = i < l->ways;
	if (!hit)
		i = l->ways - 1;
	memmove(set + 1, set, i * sizeof(uint64_t));
	set[0] = tag;
	return hit;
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
