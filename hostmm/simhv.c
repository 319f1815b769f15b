/* SPDX-License-Identifier: MIT */
/* simhv.c: EPT building, host TEAs and pvDMT backing for simos (simhv.h). */
#include <stdio.h>
#include <string.h>

#include "pgtable.h"
#include "simhv.h"

#define ALIGN_2M (2ULL << 20)

static int fail(struct simhv *hv, const char *what, uint64_t a)
{
	snprintf(hv->err, hv->errlen, "simos: %s: %s 0x%llx", hv->name, what,
		 (unsigned long long)a);
	return -1;
}

/* The table level whose entries are EPT leaves. */
static int leaf_level(const struct simhv *hv)
{
	return hv->page_shift == 21 ? 2 : 1;
}

/* A new host frame for tables, backed below when the host is itself a guest. */
static int host_frame(struct simhv *hv, uint64_t *pa)
{
	if (physmem_alloc(hv->host, PM_PAGE, PM_PAGE, pa) < 0)
		return fail(hv, "host memory exhausted at", hv->host->bump);
	if (hv->below && simhv_ensure(hv->below, *pa, PM_PAGE) < 0)
		return -1;
	return 0;
}

static int ept_alloc(void *ctx, int level, uint64_t gpa, uint64_t *pa)
{
	struct simhv *hv = ctx;
	hv->ept_tables[level]++;
	if (level == leaf_level(hv) && !hv->ordinary_leaves) {
		/* DMT: EPT leaf tables sit in the host TEA, in gPA order. */
		*pa = hv->tea_base + (gpa >> pt_shift(level + 1)) * PM_PAGE;
		return 0;
	}
	return host_frame(hv, pa);
}

int simhv_init(struct simhv *hv, const char *name, struct physmem *guest, struct physmem *host,
	       struct simhv *below, unsigned page_shift, uint64_t guest_span, char *err,
	       unsigned errlen)
{
	memset(hv, 0, sizeof(*hv));
	hv->name = name;
	hv->guest = guest;
	hv->host = host;
	hv->below = below;
	hv->page_shift = page_shift;
	hv->guest_span = guest_span;
	hv->err = err;
	hv->errlen = errlen;
	u64map_init(&hv->backed);
	physmem_set_upper(host, guest, page_shift);
	if (host_frame(hv, &hv->ept_root) < 0)
		return -1;
	if (!physmem_materialize(host, hv->ept_root))
		return fail(hv, "out of memory for the EPT root", hv->ept_root);
	hv->ept_tables[4] = 1;
	/* One leaf table maps 512 leaves: the TEA needs span / (512 << shift) pages. */
	uint64_t per_page = 512ULL << page_shift;
	hv->tea_pages = (guest_span + per_page - 1) / per_page;
	uint64_t bytes = hv->tea_pages * PM_PAGE;
	if (physmem_alloc(host, bytes, ALIGN_2M, &hv->tea_base) < 0)
		return fail(hv, "host memory exhausted reserving the host TEA at", host->bump);
	hv->tea_hpa = hv->tea_base;
	if (below) {
		/* Nested: L1's TEA is host-contiguous too (pvDMT-nested). */
		uint64_t b = (bytes + ALIGN_2M - 1) & ~(ALIGN_2M - 1);
		if (simhv_back_contig(below, hv->tea_base, b, &hv->tea_hpa) < 0)
			return -1;
	}
	return 0;
}

void simhv_free(struct simhv *hv)
{
	u64map_free(&hv->backed);
}

static int map_chunk(struct simhv *hv, uint64_t gchunk, uint64_t hpa)
{
	int r = pt_map(hv->host, PT_EPT, hv->ept_root, gchunk << hv->page_shift, hpa,
		       leaf_level(hv), ept_alloc, hv);
	if (r < 0)
		return fail(hv, "cannot map gPA", gchunk << hv->page_shift);
	if (u64map_put(&hv->backed, gchunk, hpa >> hv->page_shift) < 0 ||
	    physmem_link(hv->host, hpa, gchunk << hv->page_shift) < 0)
		return fail(hv, "out of memory backing gPA", gchunk << hv->page_shift);
	hv->chunks_backed++;
	return 0;
}

int simhv_ensure(struct simhv *hv, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa >> hv->page_shift, last = (gpa + len - 1) >> hv->page_shift;
	if (gpa + len > hv->guest_span || gpa + len < gpa)
		return fail(hv, "guest-physical address beyond simos.guest_mem:", gpa + len - 1);
	for (uint64_t c = first; c <= last; c++) {
		if (u64map_find(&hv->backed, c))
			continue;
		uint64_t size = 1ULL << hv->page_shift, hpa;
		if (hv->place) {
			if (hv->place(hv->place_ctx, c << hv->page_shift, &hpa) < 0)
				return fail(hv, "no host placement for gPA", c << hv->page_shift);
		} else if (physmem_alloc(hv->host, size, size, &hpa) < 0)
			return fail(hv, "host memory exhausted backing gPA", c << hv->page_shift);
		if (hv->below && simhv_ensure(hv->below, hpa, size) < 0)
			return -1;
		if (map_chunk(hv, c, hpa) < 0)
			return -1;
	}
	return 0;
}

int simhv_back_contig(struct simhv *hv, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	uint64_t size = 1ULL << hv->page_shift;
	uint64_t align = size > ALIGN_2M ? size : ALIGN_2M;
	if ((gpa | len) & (size - 1))
		return fail(hv, "pvDMT range not aligned to the host page size: gPA", gpa);
	if (gpa + len > hv->guest_span || gpa + len < gpa)
		return fail(hv, "pvDMT range beyond simos.guest_mem: gPA", gpa);
	for (uint64_t c = gpa >> hv->page_shift; c < (gpa + len) >> hv->page_shift; c++)
		if (u64map_find(&hv->backed, c))
			return fail(hv, "pvDMT range already backed: gPA", c << hv->page_shift);
	uint64_t base;
	if (physmem_alloc(hv->host, len, align, &base) < 0)
		return fail(hv, "host memory exhausted for a pvDMT TEA of gPA", gpa);
	/* Forward down first (artifact: nested_level - 1), then map here. */
	*hpa = base;
	if (hv->below && simhv_back_contig(hv->below, base, len, hpa) < 0)
		return -1;
	for (uint64_t off = 0; off < len; off += size)
		if (map_chunk(hv, (gpa + off) >> hv->page_shift, base + off) < 0)
			return -1;
	hv->pv_teas++;
	hv->pv_tea_bytes += len;
	return 0;
}

int simhv_rebind(struct simhv *hv, uint64_t gpa, uint64_t hpa)
{
	uint64_t c = gpa >> hv->page_shift;
	if (!u64map_find(&hv->backed, c))
		return fail(hv, "rebinding a gPA that is not backed:", gpa);
	if (pt_set_leaf(hv->host, PT_EPT, hv->ept_root, c << hv->page_shift, hpa, leaf_level(hv)) <
	    0)
		return fail(hv, "no EPT leaf for gPA", gpa);
	if (u64map_put(&hv->backed, c, hpa >> hv->page_shift) < 0 ||
	    physmem_link(hv->host, hpa, c << hv->page_shift) < 0)
		return fail(hv, "out of memory rebinding gPA", gpa);
	return 0;
}

void simhv_dmt_reg(const struct simhv *hv, uint64_t *base, uint64_t *limit, uint64_t *tea,
		   uint64_t *tea_hpa, uint32_t *page_shift)
{
	*base = 0;
	*limit = hv->guest_span;
	*tea = hv->tea_base;
	*tea_hpa = hv->tea_hpa;
	*page_shift = hv->page_shift;
}
