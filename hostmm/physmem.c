/* SPDX-License-Identifier: MIT */
/* physmem.c: sparse simulated physical memory (see physmem.h). */
#include <stdlib.h>
#include <string.h>

#include "physmem.h"

#define SLAB_FRAMES 256 /* 1 MiB of frames per calloc */

void physmem_init(struct physmem *pm, const char *name, uint64_t base, uint64_t limit)
{
	memset(pm, 0, sizeof(*pm));
	pm->name = name;
	pm->base = base;
	pm->limit = limit;
	pm->bump = base;
	u64map_init(&pm->frames);
	u64map_init(&pm->rev);
	pm->rev_shift = 12;
}

void physmem_free(struct physmem *pm)
{
	for (uint64_t i = 0; i < pm->nslabs; i++)
		free(pm->slabs[i]);
	free(pm->slabs);
	u64map_free(&pm->frames);
	u64map_free(&pm->rev);
}

int physmem_alloc(struct physmem *pm, uint64_t bytes, uint64_t align, uint64_t *pa)
{
	bytes = (bytes + PM_PAGE - 1) & ~(PM_PAGE - 1);
	if (bytes == PM_PAGE && align <= PM_PAGE && pm->nholes > 0) {
		int h = pm->nholes - 1;
		*pa = pm->holes[h].start;
		pm->holes[h].start += PM_PAGE;
		if (pm->holes[h].start == pm->holes[h].end)
			pm->nholes--;
		pm->bytes_allocated += bytes;
		return 0;
	}
	uint64_t at = (pm->bump + align - 1) & ~(align - 1);
	if (at < pm->bump || at + bytes < at || at + bytes > pm->limit)
		return -1;
	if (at > pm->bump && pm->nholes < PM_MAX_HOLES) {
		pm->holes[pm->nholes].start = pm->bump;
		pm->holes[pm->nholes].end = at;
		pm->nholes++;
	}
	pm->bump = at + bytes;
	pm->bytes_allocated += bytes;
	*pa = at;
	return 0;
}

uint8_t *physmem_frame(const struct physmem *pm, uint64_t pa)
{
	for (int depth = 0; pm && depth < 4; depth++) {
		uint64_t *v = u64map_find(&pm->frames, pa >> 12);
		if (v)
			return (uint8_t *)(uintptr_t)*v;
		if (!pm->upper)
			return NULL;
		uint64_t *u = u64map_find(&pm->rev, pa >> pm->rev_shift);
		if (!u)
			return NULL;
		uint64_t mask = (1ULL << pm->rev_shift) - 1;
		pa = (*u << pm->rev_shift) | (pa & mask);
		pm = pm->upper;
	}
	return NULL;
}

uint8_t *physmem_materialize(struct physmem *pm, uint64_t pa)
{
	uint64_t *v = u64map_find(&pm->frames, pa >> 12);
	if (v)
		return (uint8_t *)(uintptr_t)*v;
	if (pm->nslabs == 0 || pm->slab_used == SLAB_FRAMES) {
		uint8_t **ns = realloc(pm->slabs, (pm->nslabs + 1) * sizeof(*ns));
		if (!ns)
			return NULL;
		pm->slabs = ns;
		ns[pm->nslabs] = calloc(SLAB_FRAMES, PM_PAGE);
		if (!ns[pm->nslabs])
			return NULL;
		pm->nslabs++;
		pm->slab_used = 0;
	}
	uint8_t *f = pm->slabs[pm->nslabs - 1] + pm->slab_used * PM_PAGE;
	if (u64map_put(&pm->frames, pa >> 12, (uint64_t)(uintptr_t)f) < 0)
		return NULL;
	pm->slab_used++;
	pm->frames_materialized++;
	return f;
}

void physmem_set_upper(struct physmem *pm, const struct physmem *upper, unsigned shift)
{
	pm->upper = upper;
	pm->rev_shift = shift;
}

int physmem_link(struct physmem *pm, uint64_t pa, uint64_t upper_pa)
{
	/* Without an upper memory nobody follows the link (the VMM's host
	 * memory finds guest frames itself): keep no map for it. */
	if (!pm->upper)
		return 0;
	return u64map_put(&pm->rev, pa >> pm->rev_shift, upper_pa >> pm->rev_shift);
}

const void *physmem_frame_cb(void *ctx, uint64_t pa)
{
	return physmem_frame(ctx, pa);
}
