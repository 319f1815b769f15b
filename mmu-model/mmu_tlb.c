/* SPDX-License-Identifier: MIT */
/*
 * mmu_tlb.c: set-associative LRU TLBs holding 4 KiB and 2 MiB entries (the
 * L1 dTLB/iTLB, the STLB and the nested TLB), the page-walk caches, and the
 * model's own table memory (struct mmu_pstore).
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

int mmu_tlb_init(struct mmu_tlb *t, uint32_t entries, uint32_t ways)
{
	t->ways = ways;
	t->set_mask = entries / ways - 1;
	t->key = calloc(entries, sizeof(uint64_t));
	t->val = calloc(entries, sizeof(uint64_t));
	if (!t->key || !t->val) {
		mmu_tlb_free(t);
		return -1;
	}
	return 0;
}

void mmu_tlb_free(struct mmu_tlb *t)
{
	free(t->key);
	free(t->val);
	t->key = t->val = NULL;
}

void mmu_tlb_clear(struct mmu_tlb *t)
{
	memset(t->key, 0, ((size_t)t->set_mask + 1) * t->ways * sizeof(uint64_t));
}

/* Key: page number << 1 | is_2m, + 1 so that 0 means empty. */
static inline uint64_t tlb_key(uint64_t addr, unsigned shift)
{
	return (((addr >> shift) << 1) | (shift != 12)) + 1;
}

static inline bool probe(struct mmu_tlb *t, uint64_t key, uint64_t setno, uint64_t *base)
{
	size_t s = (size_t)(setno & t->set_mask) * t->ways;
	uint64_t *k = t->key + s, *v = t->val + s;

	for (uint32_t i = 0; i < t->ways; i++) {
		if (k[i] == key) {
			uint64_t val = v[i];
			memmove(k + 1, k, i * sizeof(uint64_t));
			memmove(v + 1, v, i * sizeof(uint64_t));
			k[0] = key;
			v[0] = val;
			*base = val;
			return true;
		}
	}
	return false;
}

unsigned mmu_tlb_lookup(struct mmu_tlb *t, uint64_t addr, bool use_2m, uint64_t *base)
{
	if (probe(t, tlb_key(addr, 12), addr >> 12, base))
		return 12;
	if (use_2m && probe(t, tlb_key(addr, 21), addr >> 21, base))
		return 21;
	return 0;
}

void mmu_tlb_insert(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base)
{
	size_t s = (size_t)((addr >> shift) & t->set_mask) * t->ways;
	uint64_t *k = t->key + s, *v = t->val + s;
	uint64_t key = tlb_key(addr, shift);
	uint32_t i;

	for (i = 0; i < t->ways - 1; i++)
		if (k[i] == key)
			break;
	memmove(k + 1, k, i * sizeof(uint64_t));
	memmove(v + 1, v, i * sizeof(uint64_t));
	k[0] = key;
	v[0] = base;
}

void mmu_tlb_flush_page(struct mmu_tlb *t, uint64_t addr)
{
	static const unsigned shifts[2] = {12, 21};

	for (int j = 0; j < 2; j++) {
		uint64_t key = tlb_key(addr, shifts[j]);
		size_t s = (size_t)((addr >> shifts[j]) & t->set_mask) * t->ways;
		for (uint32_t i = 0; i < t->ways; i++)
			if (t->key[s + i] == key)
				t->key[s + i] = 0;
	}
}

bool mmu_pwc_lookup(struct mmu_pwc *p, uint64_t tag, uint64_t *val)
{
	uint64_t key = tag + 1;

	for (uint32_t i = 0; i < p->n; i++) {
		if (p->key[i] == key) {
			uint64_t v = p->val[i];
			memmove(p->key + 1, p->key, i * sizeof(uint64_t));
			memmove(p->val + 1, p->val, i * sizeof(uint64_t));
			p->key[0] = key;
			p->val[0] = v;
			*val = v;
			return true;
		}
	}
	return false;
}

void mmu_pwc_insert(struct mmu_pwc *p, uint64_t tag, uint64_t val)
{
	uint64_t key = tag + 1;
	uint32_t i;

	if (!p->n)
		return;
	for (i = 0; i < p->n - 1; i++)
		if (p->key[i] == key)
			break;
	memmove(p->key + 1, p->key, i * sizeof(uint64_t));
	memmove(p->val + 1, p->val, i * sizeof(uint64_t));
	p->key[0] = key;
	p->val[0] = val;
}

void mmu_pwc_clear(struct mmu_pwc *p)
{
	memset(p->key, 0, sizeof(p->key));
}

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
	struct mmu_pstore *s = ctx;
	uint64_t idx = (pa - s->base) >> 12;

	return pa >= s->base && idx < s->n ? s->frames[idx] : NULL;
}

uint64_t *mmu_pstore_entry(struct mmu_pstore *s, uint64_t pa)
{
	uint8_t *f = (uint8_t *)mmu_pstore_frame(s, pa);

	return f ? (uint64_t *)(f + (pa & 0xff8)) : NULL;
}
