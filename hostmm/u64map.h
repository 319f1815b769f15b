/* SPDX-License-Identifier: MIT */
/*
 * u64map.h: an open-addressing hash map from uint64_t keys to uint64_t
 * values (frame numbers, pointers, sets). Keys must not be UINT64_MAX.
 */
#ifndef HOSTMM_U64MAP_H
#define HOSTMM_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys;
	uint64_t *vals;
	size_t cap; /* power of two, or 0 */
	size_t count;
};

#define U64MAP_EMPTY UINT64_MAX

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
/* Returns a pointer to the value of key, or NULL. */
uint64_t *u64map_find(const struct u64map *m, uint64_t key);
/* Inserts or overwrites; returns 0, or -1 when out of memory. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);

#endif /* HOSTMM_U64MAP_H */
