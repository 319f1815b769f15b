/* SPDX-License-Identifier: MIT */
/* vma.c: clustering touched 2 MiB chunks into VMAs (vma.h). */
#include <stdlib.h>

#include "vma.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int vma_cluster(const struct u64map *set, uint64_t gap, struct simos_vma **out)
{
	size_t n = 0;
	uint64_t *c = malloc((set->count ? set->count : 1) * sizeof(*c));
	if (!c)
		return -1;
	for (size_t i = 0; i < set->cap; i++)
		if (set->keys[i] != U64MAP_EMPTY)
			c[n++] = set->keys[i];
	qsort(c, n, sizeof(*c), cmp_u64);
	struct simos_vma *v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		free(c);
		return -1;
	}
	int nv = 0;
	uint64_t chunk = 1ULL << VMA_CHUNK_SHIFT;
	for (size_t i = 0; i < n; i++) {
		uint64_t start = c[i] << VMA_CHUNK_SHIFT;
		/* The topmost chunk's end would wrap to 0: stop one byte short. */
		uint64_t end = start + chunk ? start + chunk : UINT64_MAX;
		if (nv > 0 && start - v[nv - 1].end <= gap) {
			v[nv - 1].end = end;
			continue;
		}
		v[nv].start = start;
		v[nv].end = end;
		v[nv].tea = -1;
		v[nv].refused = 0;
		nv++;
	}
	free(c);
	*out = v;
	return nv;
}
