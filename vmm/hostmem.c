/* SPDX-License-Identifier: MIT */
/* hostmem.c: host-physical placement, EPT and pvDMT backing (hostmem.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmtvm_abi.h"
#include "hostmem.h"

#define GIB	 (1ULL << 30)
#define ALIGN_2M (2ULL << 20)
#define NONE	 UINT64_MAX

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a seed gives the same placement on every host. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t chunk(const struct vmm_hostmem *hm)
{
	return 1ULL << hm->p.page_shift;
}

static uint64_t slot_hpa(const struct vmm_hostmem *hm, uint64_t slot)
{
	return VMM_HOSTMEM_RAM_BASE + (slot << hm->p.page_shift);
}

/* simhv placement hook: a guest chunk's first home. */
static int place(void *ctx, uint64_t gpa, uint64_t *hpa)
{
	struct vmm_hostmem *hm = ctx;
	uint64_t c = gpa >> hm->p.page_shift;
	if (c >= hm->nchunks)
		return -1;
	*hpa = slot_hpa(hm, hm->home[c]);
	return 0;
}

/*
 * Contiguous: guest chunk i at slot i. Fragmented: the guest's chunks take a
 * random half of a region twice RAM's size (a Fisher-Yates shuffle of the
 * slots), so neighbouring gPAs almost never sit in neighbouring host frames.
 */
static int place_ram(struct vmm_hostmem *hm)
{
	uint64_t n = hm->nchunks;
	hm->ram_span = (hm->p.fragmented ? 2 * n : n) << hm->p.page_shift;
	uint64_t nslots = hm->ram_span >> hm->p.page_shift;
	hm->home = malloc(n * sizeof(*hm->home));
	hm->cur = malloc(n * sizeof(*hm->cur));
	hm->slot = calloc(nslots, sizeof(*hm->slot));
	if (!hm->home || !hm->cur || !hm->slot)
		return -1;
	if (hm->p.fragmented) {
		uint32_t *perm = malloc(nslots * sizeof(*perm));
		if (!perm)
			return -1;
		for (uint64_t i = 0; i < nslots; i++)
			perm[i] = (uint32_t)i;
		uint64_t s = hm->p.seed;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t j = i + next_rand(&s) % (nslots - i);
			uint32_t t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
			hm->home[i] = perm[i];
		}
		free(perm);
	} else {
		for (uint64_t i = 0; i < n; i++)
			hm->home[i] = (uint32_t)i;
	}
	for (uint64_t i = 0; i < n; i++) {
		hm->cur[i] = slot_hpa(hm, hm->home[i]);
		hm->slot[hm->home[i]] = (uint32_t)(i + 1);
	}
	return 0;
}

int vmm_hostmem_init(struct vmm_hostmem *hm, const struct vmm_hostmem_params *p, const uint8_t *ram,
		     char *err, size_t errlen)
{
	uint64_t t0 = now_ns();
	memset(hm, 0, sizeof(*hm));
	hm->p = *p;
	hm->ram = ram;
	hm->nchunks = p->mem_size >> p->page_shift;
	u64map_init(&hm->pv_rev);
	if (place_ram(hm) < 0) {
		snprintf(err, errlen, "out of memory placing %llu host pages",
			 (unsigned long long)hm->nchunks);
		return -1;
	}
	uint64_t tables = (VMM_HOSTMEM_RAM_BASE + hm->ram_span + GIB - 1) & ~(GIB - 1);
	physmem_init(&hm->host, "host", tables, tables + (1ULL << 40));
	if (simhv_init(&hm->hv, "EPT", NULL, &hm->host, NULL, p->page_shift, p->mem_size, hm->err,
		       sizeof(hm->err)) < 0)
		goto fail;
	hm->hv.place = place;
	hm->hv.place_ctx = hm;
	hm->hv.ordinary_leaves = !p->host_tea;
	if (simhv_ensure(&hm->hv, 0, p->mem_size) < 0)
		goto fail;
	hm->build_ns = now_ns() - t0;
	return 0;
fail:
	snprintf(err, errlen, "building the EPT: %s", hm->err);
	return -1;
}

void vmm_hostmem_free(struct vmm_hostmem *hm)
{
	simhv_free(&hm->hv);
	physmem_free(&hm->host);
	u64map_free(&hm->pv_rev);
	free(hm->home);
	free(hm->cur);
	free(hm->slot);
}

const void *vmm_hostmem_hpa_frame(void *ctx, uint64_t hpa)
{
	const struct vmm_hostmem *hm = ctx;
	uint64_t mask = chunk(hm) - 1, g = NONE;
	if (hpa >= VMM_HOSTMEM_RAM_BASE && hpa - VMM_HOSTMEM_RAM_BASE < hm->ram_span) {
		uint32_t s = hm->slot[(hpa - VMM_HOSTMEM_RAM_BASE) >> hm->p.page_shift];
		if (!s)
			return NULL; /* a hole, or a frame whose guest chunk moved */
		g = s - 1;
	} else {
		const uint64_t *v = u64map_find(&hm->pv_rev, hpa >> hm->p.page_shift);
		if (!v)
			return physmem_frame(&hm->host, hpa);
		if (*v == NONE)
			return NULL;
		g = *v;
	}
	return hm->ram + (g << hm->p.page_shift) + (hpa & mask & ~0xfffULL);
}

uint64_t vmm_hostmem_hpa(const struct vmm_hostmem *hm, uint64_t gpa)
{
	return hm->cur[gpa >> hm->p.page_shift] + (gpa & (chunk(hm) - 1));
}

/* Points guest chunk c at hpa: placement maps, reverse maps and the EPT. */
static int move_chunk(struct vmm_hostmem *hm, uint64_t c, uint64_t hpa)
{
	uint64_t old = hm->cur[c];
	if (old >= VMM_HOSTMEM_RAM_BASE && old - VMM_HOSTMEM_RAM_BASE < hm->ram_span)
		hm->slot[(old - VMM_HOSTMEM_RAM_BASE) >> hm->p.page_shift] = 0;
	else if (u64map_put(&hm->pv_rev, old >> hm->p.page_shift, NONE) < 0)
		return -1;
	if (hpa >= VMM_HOSTMEM_RAM_BASE && hpa - VMM_HOSTMEM_RAM_BASE < hm->ram_span)
		hm->slot[(hpa - VMM_HOSTMEM_RAM_BASE) >> hm->p.page_shift] = (uint32_t)(c + 1);
	else if (u64map_put(&hm->pv_rev, hpa >> hm->p.page_shift, c) < 0)
		return -1;
	hm->cur[c] = hpa;
	return simhv_rebind(&hm->hv, c << hm->p.page_shift, hpa);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Does a TEA other than skip use a host chunk in [c0, c1]? */
static bool chunks_used(const struct vmm_hostmem *hm, uint64_t c0, uint64_t c1,
			const struct vmm_pv_tea *skip)
{
	unsigned s = hm->p.page_shift;
	for (unsigned i = 0; i < hm->nteas; i++) {
		const struct vmm_pv_tea *t = &hm->teas[i];
		if (t != skip && t->gpa >> s <= c1 && (t->gpa + t->len - 1) >> s >= c0)
			return true;
	}
	return false;
}

int vmm_hostmem_alloc_tea(struct vmm_hostmem *hm, uint64_t id, uint64_t gpa, uint64_t len,
			  uint64_t *hpa)
{
	unsigned s = hm->p.page_shift;
	uint64_t c0 = gpa >> s, c1 = (gpa + len - 1) >> s;
	for (unsigned i = 0; i < hm->nteas; i++)
		if (overlaps(gpa, len, hm->teas[i].gpa, hm->teas[i].len))
			return -DMTVM_EINVAL;
	if (hm->nteas == VMM_HOSTMEM_MAX_TEAS)
		return -DMTVM_ENOMEM;
	bool contiguous = true;
	for (uint64_t c = c0 + 1; c <= c1 && contiguous; c++)
		contiguous = hm->cur[c] == hm->cur[c0] + ((c - c0) << s);
	bool moved = false;
	if (!contiguous) {
		/*
		 * Moving a chunk another TEA uses could split that TEA (2 MiB
		 * host pages, TEAs sharing a chunk): refuse instead.
		 */
		if (chunks_used(hm, c0, c1, NULL))
			return -DMTVM_EINVAL;
		uint64_t base, bytes = (c1 - c0 + 1) << s;
		if (physmem_alloc(&hm->host, bytes, chunk(hm) > ALIGN_2M ? chunk(hm) : ALIGN_2M,
				  &base) < 0)
			return -DMTVM_ENOMEM;
		for (uint64_t c = c0; c <= c1; c++)
			if (move_chunk(hm, c, base + ((c - c0) << s)) < 0)
				return -DMTVM_ENOMEM;
		hm->pv_moved_chunks += c1 - c0 + 1;
		moved = true;
	}
	struct vmm_pv_tea *t = &hm->teas[hm->nteas++];
	*t = (struct vmm_pv_tea){id, gpa, len, vmm_hostmem_hpa(hm, gpa), moved};
	*hpa = t->hpa;
	return 0;
}

int vmm_hostmem_free_tea(struct vmm_hostmem *hm, uint64_t gpa, uint64_t len)
{
	unsigned s = hm->p.page_shift;
	for (unsigned i = 0; i < hm->nteas; i++) {
		struct vmm_pv_tea *t = &hm->teas[i];
		if (t->gpa != gpa || t->len != len)
			continue;
		if (t->moved) {
			/* Back home, except chunks a remaining TEA still relies on. */
			for (uint64_t c = gpa >> s; c <= (gpa + len - 1) >> s; c++)
				if (!chunks_used(hm, c, c, t) &&
				    move_chunk(hm, c, slot_hpa(hm, hm->home[c])) < 0)
					return -DMTVM_ENOMEM;
		}
		hm->teas[i] = hm->teas[--hm->nteas];
		return 0;
	}
	return -DMTVM_EINVAL;
}

const struct vmm_pv_tea *vmm_hostmem_find_tea(const struct vmm_hostmem *hm, uint64_t gpa,
					      uint64_t len)
{
	for (unsigned i = 0; i < hm->nteas; i++) {
		const struct vmm_pv_tea *t = &hm->teas[i];
		if (gpa >= t->gpa && len <= t->len && gpa - t->gpa <= t->len - len)
			return t;
	}
	return NULL;
}
