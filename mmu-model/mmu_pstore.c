/* SPDX-License-Identifier: MIT */
/*
 * mmu_pstore.c: the model's own table memory (shadow tables, Agile paging,
 * EPT02): zeroed 4 KiB frames at addresses above every real physical address.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

void mmu_pstore_init(struct mmu_pstore *s, uint64_t base)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
}

void mmu_pstore_free(struct mmu_pstore *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->frames[i]);
	free(s->frames);
	s->frames = NULL;
	s->n = s->cap = 0;
}

uint64_t mmu_pstore_alloc(struct mmu_pstore *s)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		uint8_t **f = realloc(s->frames, cap * sizeof(*f));
		if (!f)
			return 0;
		s->frames = f;
		s->cap = cap;
	}
	s->frames[s->n] = calloc(1, 4096);
	if (!s->frames[s->n])
		return 0;
	return s->base + ((uint64_t)s->n++ << 12);
}

const void *mmu_pstore_frame(void *ctx, uint64_t pa)
{
	return mmu_pstore_frame_of(ctx, pa);
}

uint64_t *mmu_pstore_entry(struct mmu_pstore *s, uint64_t pa)
{
	uint8_t *f = mmu_pstore_frame_of(s, pa);

	return f ? (uint64_t *)(f + (pa & 0xff8)) : NULL;
}
