/* SPDX-License-Identifier: MIT */
/* u64map.c: linear-probing hash map of uint64_t, grown at 50% load. */
#include <stdlib.h>

#include "u64map.h"

static size_t slot(uint64_t key, size_t cap)
{
	/* Fibonacci hashing spreads sequential frame numbers. */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

void u64map_init(struct u64map *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->count = 0;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	u64map_init(m);
}

uint64_t *u64map_find(const struct u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return &m->vals[i];
		if (m->keys[i] == U64MAP_EMPTY)
			return NULL;
	}
}

static int grow(struct u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	uint64_t *nk = malloc(ncap * sizeof(*nk)), *nv = malloc(ncap * sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < ncap; i++)
		nk[i] = U64MAP_EMPTY;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == U64MAP_EMPTY)
			continue;
		size_t j = slot(m->keys[i], ncap);
		while (nk[j] != U64MAP_EMPTY)
			j = (j + 1) & (ncap - 1);
		nk[j] = m->keys[i];
		nv[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
	m->cap = ncap;
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t *v = u64map_find(m, key);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->count + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	size_t i = slot(key, m->cap);
	while (m->keys[i] != U64MAP_EMPTY)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->count++;
	return 0;
}
