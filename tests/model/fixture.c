/* SPDX-License-Identifier: MIT */
/*
 * fixture.c: sparse memories and table builders for the model's tests and
 * benchmark (see fixture.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fixture.h"

#define ADDR 0x000ffffffffff000ULL

void fx_init(struct fx_mem *m, uint64_t size, uint64_t alloc_base)
{
	memset(m, 0, sizeof(*m));
	m->nframes = size >> 12;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->base == MAP_FAILED)
		abort();
	madvise(m->base, size, MADV_HUGEPAGE);
	m->used = calloc((m->nframes + 63) / 64, sizeof(uint64_t));
	m->next = alloc_base;
}

void fx_free(struct fx_mem *m)
{
	munmap(m->base, m->nframes << 12);
	free(m->used);
	m->base = NULL;
	m->used = NULL;
}

static bool fx_used(const struct fx_mem *m, uint64_t i)
{
	return i < m->nframes && (m->used[i / 64] >> (i % 64) & 1);
}

uint64_t fx_alloc(struct fx_mem *m)
{
	uint64_t pa = m->next;
	uint64_t i = pa >> 12;

	if (i >= m->nframes)
		abort(); /* a test fixture bug */
	m->next += 4096;
	m->used[i / 64] |= 1ULL << (i % 64);
	return pa;
}

uint64_t *fx_entry(struct fx_mem *m, uint64_t pa)
{
	if (!fx_used(m, pa >> 12))
		return NULL;
	return (uint64_t *)(m->base + (pa & ~7ULL));
}

const void *fx_frame(void *ctx, uint64_t pa)
{
	struct fx_mem *m = ctx;

	return fx_used(m, pa >> 12) ? m->base + (pa & ~0xfffULL) : NULL;
}

const void *fx_layer_frame(void *ctx, uint64_t pa)
{
	struct fx_layer *l = ctx;

	if (l->child && pa >= l->child_base && pa - l->child_base < l->child_size)
		return fx_layer_frame(l->child, pa - l->child_base);
	return fx_frame(l->own, pa);
}

static unsigned idx(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

void fx_map(struct fx_mem *m, uint64_t root, uint64_t va, uint64_t pa, int level, bool ept)
{
	uint64_t table = root;

	for (int l = 4; l > level; l--) {
		uint64_t *e = fx_entry(m, table + idx(va, l) * 8);
		if (!(*e & (ept ? FX_EPT_RWX : 1)))
			*e = fx_alloc(m) | (ept ? FX_EPT_RWX : FX_X86_TABLE);
		table = *e & ADDR;
	}
	*fx_entry(m, table + idx(va, level) * 8) =
	    pa | (ept ? FX_EPT_RWX : FX_X86_LEAF) | (level > 1 ? 0x80 : 0);
}

uint64_t *fx_walk_entry(struct fx_mem *m, uint64_t root, uint64_t va, int level, bool ept)
{
	uint64_t table = root;

	for (int l = 4;; l--) {
		uint64_t *e = fx_entry(m, table + idx(va, l) * 8);
		if (!e || l == level)
			return e;
		if (!(*e & (ept ? FX_EPT_RWX : 1)))
			return NULL;
		table = *e & ADDR;
	}
}

uint64_t fx_ept_linear(struct fx_mem *m, uint64_t size, uint64_t off, int level, uint64_t *tea)
{
	uint64_t root = fx_alloc(m);
	uint64_t step = level == 2 ? 1ULL << 21 : 1ULL << 12;
	uint64_t tables = level == 2 ? 1ULL << 30 : 1ULL << 21; /* VA per leaf table */

	/* upper levels first (PDPTs, then PDs), then the leaf tables in order */
	for (uint64_t g = 0; g < size; g += 1ULL << 30) {
		uint64_t *e4 = fx_entry(m, root + idx(g, 4) * 8);
		if (!(*e4 & 7))
			*e4 = fx_alloc(m) | FX_EPT_RWX;
	}
	if (level == 1)
		for (uint64_t g = 0; g < size; g += 1ULL << 30) {
			uint64_t pdpt = *fx_entry(m, root + idx(g, 4) * 8) & ADDR;
			uint64_t *e3 = fx_entry(m, pdpt + idx(g, 3) * 8);
			if (!(*e3 & 7))
				*e3 = fx_alloc(m) | FX_EPT_RWX;
		}
	*tea = m->next;
	for (uint64_t g = 0; g < size; g += tables) {
		uint64_t t = root;
		for (int l = 4; l > level + 1; l--)
			t = *fx_entry(m, t + idx(g, l) * 8) & ADDR;
		*fx_entry(m, t + idx(g, level + 1) * 8) = fx_alloc(m) | FX_EPT_RWX;
	}
	for (uint64_t g = 0; g < size; g += step)
		fx_map(m, root, g, g + off, level, true);
	return root;
}
