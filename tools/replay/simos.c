/* SPDX-License-Identifier: MIT */
/* simos.c: guest page tables, VMAs and DMT TEAs for replay (simos.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtable.h"
#include "simos.h"

#define GUEST_BASE (1ULL << 20)
#define ALIGN_2M   (2ULL << 20)

static int fail(struct simos *os, const char *what, uint64_t a)
{
	snprintf(os->err, os->errlen, "simos: %s 0x%llx", what, (unsigned long long)a);
	return -1;
}

int simos_init(struct simos *os, const struct simos_params *p, char *err, unsigned errlen)
{
	memset(os, 0, sizeof(*os));
	os->p = *p;
	os->err = err;
	os->errlen = errlen;
	if (os->p.tea_max > SIMOS_MAX_TEAS)
		os->p.tea_max = SIMOS_MAX_TEAS;
	physmem_init(&os->mem, "guest", GUEST_BASE, p->guest_mem);
	return 0;
}

void simos_free(struct simos *os)
{
	for (unsigned i = 0; i < os->nas; i++) {
		free(os->as[i].vmas);
		u64map_free(&os->as[i].mapped);
	}
	free(os->as);
	physmem_free(&os->mem);
}

int simos_attach_hv(struct simos *os, struct simhv *hv)
{
	if (os->nhv == SIMOS_MAX_HV)
		return fail(os, "too many hypervisors, at", 0);
	os->hv[os->nhv++] = hv;
	return 0;
}

/* Backs guest frames in every world below. */
static int back(struct simos *os, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < os->nhv; i++)
		if (simhv_ensure(os->hv[i], gpa, len) < 0)
			return -1;
	return 0;
}

static int guest_alloc(struct simos *os, uint64_t bytes, uint64_t align, uint64_t *gpa)
{
	if (physmem_alloc(&os->mem, bytes, align, gpa) < 0)
		return fail(os, "guest memory exhausted (raise simos.guest_mem) at", os->mem.bump);
	return 0;
}

struct simos_as *simos_find_as(struct simos *os, uint64_t asid)
{
	for (unsigned i = 0; i < os->nas; i++)
		if (os->as[i].asid == asid)
			return &os->as[i];
	return NULL;
}

static int cmp_vma(const void *a, const void *b)
{
	const struct simos_vma *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct simos_as *simos_add_as(struct simos *os, uint64_t asid, const struct simos_vma *vmas,
			      unsigned nvmas)
{
	struct simos_as *na = realloc(os->as, (os->nas + 1) * sizeof(*na));
	if (!na) {
		fail(os, "out of memory adding address space", asid);
		return NULL;
	}
	os->as = na;
	struct simos_as *as = &na[os->nas];
	memset(as, 0, sizeof(*as));
	as->asid = asid;
	as->last_page = UINT64_MAX;
	u64map_init(&as->mapped);
	as->vmas = malloc((nvmas ? nvmas : 1) * sizeof(*vmas));
	if (!as->vmas) {
		fail(os, "out of memory adding address space", asid);
		return NULL;
	}
	memcpy(as->vmas, vmas, nvmas * sizeof(*vmas));
	as->nvmas = nvmas;
	qsort(as->vmas, nvmas, sizeof(*vmas), cmp_vma);
	for (unsigned i = 0; i < nvmas; i++) {
		as->vmas[i].tea = -1;
		as->vmas[i].refused = false;
	}
	if (guest_alloc(os, PM_PAGE, PM_PAGE, &as->cr3) < 0 || back(os, as->cr3, PM_PAGE) < 0)
		return NULL;
	if (!physmem_materialize(&os->mem, as->cr3)) {
		fail(os, "out of memory for a PML4 at", as->cr3);
		return NULL;
	}
	os->st.table_pages[4]++;
	os->nas++;
	return as;
}

static struct simos_vma *find_vma(struct simos_as *as, uint64_t va)
{
	unsigned lo = 0, hi = as->nvmas;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (va < as->vmas[mid].start)
			hi = mid;
		else if (va >= as->vmas[mid].end)
			lo = mid + 1;
		else
			return &as->vmas[mid];
	}
	return NULL;
}

/*
 * Creates the TEA of vma (leaf tables of span `span` each) unless the
 * policy says no: over the per-space limit, or another VMA shares one of
 * its leaf-table pages (possible with THP, whose tables span 1 GiB).
 */
static int make_tea(struct simos *os, struct simos_as *as, struct simos_vma *vma)
{
	unsigned shift = simos_page_shift(os);
	uint64_t span = 512ULL << shift;
	/* [lo, hi] inclusive: the top of the address space must not wrap. */
	uint64_t lo = vma->start & ~(span - 1), hi = (vma->end - 1) | (span - 1);
	bool shared = false;
	for (unsigned i = 0; i < as->nvmas; i++) {
		struct simos_vma *o = &as->vmas[i];
		if (o != vma && o->start <= hi && o->end - 1 >= lo)
			shared = true;
	}
	if (shared || as->nteas >= os->p.tea_max) {
		vma->refused = true;
		os->st.vmas_refused++;
		return 0;
	}
	struct simos_tea *t = &as->teas[as->nteas];
	memset(t, 0, sizeof(*t));
	t->vma_start = vma->start;
	t->vma_end = vma->end;
	t->va_base = lo;
	t->pages = (hi - lo) / span + 1;
	t->page_shift = shift;
	/* 2 MiB-aligned and sized so any host page size can back it contiguously. */
	uint64_t bytes = (t->pages * PM_PAGE + ALIGN_2M - 1) & ~(ALIGN_2M - 1);
	if (guest_alloc(os, bytes, ALIGN_2M, &t->gpa) < 0)
		return -1;
	for (unsigned i = 0; i < os->nhv; i++)
		if (simhv_back_contig(os->hv[i], t->gpa, bytes, &t->hpa[i]) < 0)
			return -1;
	vma->tea = (int)as->nteas++;
	os->st.teas++;
	os->st.tea_pages += t->pages;
	return 0;
}

struct table_alloc_ctx {
	struct simos *os;
	struct simos_as *as;
	struct simos_vma *vma;
};

static int table_alloc(void *ctx, int level, uint64_t va, uint64_t *pa)
{
	struct table_alloc_ctx *c = ctx;
	struct simos *os = c->os;
	os->st.table_pages[level]++;
	int leaf_table = os->p.thp ? 2 : 1;
	if (level == leaf_table && c->vma->end - c->vma->start >= os->p.tea_min) {
		if (c->vma->tea < 0 && !c->vma->refused && make_tea(os, c->as, c->vma) < 0)
			return -1;
		if (c->vma->tea >= 0) {
			struct simos_tea *t = &c->as->teas[c->vma->tea];
			*pa = t->gpa + ((va - t->va_base) >> pt_shift(level + 1)) * PM_PAGE;
			os->st.tea_table_pages++;
			return 0; /* backed with the whole TEA */
		}
		os->st.tea_fallbacks++;
	}
	if (guest_alloc(os, PM_PAGE, PM_PAGE, pa) < 0)
		return -1;
	return back(os, *pa, PM_PAGE);
}

int simos_touch(struct simos *os, struct simos_as *as, uint64_t va)
{
	unsigned shift = simos_page_shift(os);
	uint64_t page = va >> shift;
	if (page == as->last_page)
		return 0;
	if (u64map_find(&as->mapped, page)) {
		as->last_page = page;
		return 0;
	}
	/* By page start: a VMA ending at UINT64_MAX excludes that last byte. */
	struct simos_vma *vma = find_vma(as, page << shift);
	if (!vma)
		return fail(os, "access outside every VMA at va", va);
	uint64_t size = 1ULL << shift, gpa;
	if (guest_alloc(os, size, size, &gpa) < 0 || back(os, gpa, size) < 0)
		return -1;
	struct table_alloc_ctx c = {os, as, vma};
	int r = pt_map(&os->mem, PT_X86, as->cr3, page << shift, gpa, os->p.thp ? 2 : 1,
		       table_alloc, &c);
	if (r < 0)
		return os->err[0] ? -1 : fail(os, "cannot map va", va);
	if (u64map_put(&as->mapped, page, gpa) < 0)
		return fail(os, "out of memory mapping va", va);
	as->last_page = page;
	os->st.data_pages++;
	os->st.new_mappings++;
	return 1;
}
