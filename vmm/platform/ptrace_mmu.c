/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace_mmu.c: the guest's page tables as the ptrace platform's
 * MMU. The guest's tables stay the truth: a traced process's host
 * mappings of guest RAM are a TLB, filled when the process faults (from
 * the guest's tables at the current CR3, a whole 2 MiB page, or the run of
 * 4 KiB pages with the same rights and consecutive frames around the
 * fault, one mmap), emptied on CR3 loads (the user half) and invlpg, and
 * bounded (PT_TLB_MAX fills, then a full flush) so a guest that maps 4 KiB
 * pages at scattered frames never reaches the host's vm.max_map_count.
 * The A and D bits are not set (no guest here reads them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "dmtvm_abi.h"
#include "ptrace.h"
#include "vmm.h"

#define PTE_P	(1ULL << 0)
#define PTE_RW	(1ULL << 1)
#define PTE_US	(1ULL << 2)
#define PTE_PS	(1ULL << 7)
#define PTE_NX	(1ULL << 63)
#define PTE_PFN 0x000ffffffffff000ULL
#define CR0_WP	(1ULL << 16)

int pt_mem_off(const struct pt_mem *m, uint64_t gpa, uint64_t len, uint64_t *off)
{
	if (!m->nslots) {
		if (gpa > m->ram_size || len > m->ram_size - gpa)
			return -1;
		*off = gpa;
		return 0;
	}
	/* Through the memslots, and the L1 frames must lie in the memfd. */
	if (vmm_memslot_find(m->slots, m->nslots, gpa, len, off) < 0 || *off > m->ram_size ||
	    len > m->ram_size - *off)
		return -1;
	return 0;
}

void *pt_mem_ptr(const struct pt_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off;
	return pt_mem_off(m, gpa, len, &off) < 0 ? NULL : m->ram + off;
}

static uint64_t *table(const struct pt_mem *m, uint64_t pa)
{
	return pt_mem_ptr(m, pa & PTE_PFN, 4096);
}

int pt_walk(const struct pt_mem *m, uint64_t cr3, uint64_t va, struct pt_walk *w)
{
	uint64_t *t = table(m, cr3);
	bool rw = true, us = true, nx = false;
	for (int shift = 39; t; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		uint64_t v = *e;
		if (!(v & PTE_P))
			return -1;
		w->uw = rw;
		w->uu = us;
		w->ux = !nx;
		rw &= !!(v & PTE_RW);
		us &= !!(v & PTE_US);
		nx |= !!(v & PTE_NX);
		if (shift == 12 || ((v & PTE_PS) && (shift == 21 || shift == 30))) {
			uint64_t size = 1ULL << shift;
			w->size = size;
			w->gpa = (v & PTE_PFN & ~(size - 1)) | (va & (size - 1));
			w->leaf = e;
			w->w = rw;
			w->u = us;
			w->x = !nx;
			return 0;
		}
		t = table(m, v);
	}
	return -1;
}

static int kcopy(struct pt_vcpu *c, uint64_t va, void *buf, size_t n, bool wr)
{
	uint8_t *b = buf;
	while (n) {
		struct pt_walk w;
		if (pt_walk(&c->mem, c->cr3, va, &w) < 0 || (wr && !w.w && (c->cr0 & CR0_WP)))
			return -1;
		size_t chunk = 4096 - (va & 4095);
		if (chunk > n)
			chunk = n;
		uint8_t *g = pt_mem_ptr(&c->mem, w.gpa, chunk);
		if (!g)
			return -1;
		if (wr)
			memcpy(g, b, chunk);
		else
			memcpy(b, g, chunk);
		b += chunk;
		va += chunk;
		n -= chunk;
	}
	return 0;
}

int pt_kread(struct pt_vcpu *c, uint64_t va, void *buf, size_t n)
{
	return kcopy(c, va, buf, n, false);
}

int pt_kwrite(struct pt_vcpu *c, uint64_t va, const void *buf, size_t n)
{
	return kcopy(c, va, (void *)buf, n, true);
}

/* --- the TLB: granules of 512 page entries, open addressing --- */

static size_t slot_of(const struct pt_tlb *t, uint64_t g)
{
	return (size_t)((g * 0x9e3779b97f4a7c15ULL) >> 17) & (t->cap - 1);
}

static struct pt_gran *gran_find(const struct pt_tlb *t, uint64_t g)
{
	if (!t->cap)
		return NULL;
	for (size_t i = slot_of(t, g);; i = (i + 1) & (t->cap - 1)) {
		struct pt_gran *x = t->slots[i];
		if (!x)
			return NULL;
		if (x->g == g)
			return x;
	}
}

static struct pt_gran *gran_get(struct pt_tlb *t, uint64_t g)
{
	struct pt_gran *x = gran_find(t, g);
	if (x)
		return x;
	if ((t->used + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		struct pt_gran **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return NULL;
		struct pt_tlb n = {.slots = ns,
				   .cap = ncap,
				   .used = t->used,
				   .fills = t->fills,
				   .kfills = t->kfills};
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i])
				continue;
			size_t j = slot_of(&n, t->slots[i]->g);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = t->slots[i];
		}
		free(t->slots);
		*t = n;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->g = g;
	size_t j = slot_of(t, g);
	while (t->slots[j])
		j = (j + 1) & (t->cap - 1);
	t->slots[j] = x;
	t->used++;
	return x;
}

static void tlb_clear(struct pt_tlb *t, bool user_only)
{
	/* Rebuild without the dropped granules (open addressing has no plain delete). */
	struct pt_tlb keep = {0};
	for (size_t i = 0; i < t->cap; i++) {
		struct pt_gran *x = t->slots[i];
		if (!x)
			continue;
		if (user_only && (x->g << 21) >= DMTVM_USER_TOP) {
			struct pt_gran *y = gran_get(&keep, x->g);
			if (y)
				memcpy(y->page, x->page, sizeof(x->page));
		}
		free(x);
	}
	free(t->slots);
	/* The kept (kernel-half) mappings still count against the limit. */
	keep.fills = keep.kfills = user_only ? t->kfills : 0;
	*t = keep;
}

void pt_tlb_flush(struct pt_vcpu *c, struct pt_proc *p, bool user_only)
{
	if (!p->pid || !p->tlb.used)
		return;
	uint64_t end = user_only ? DMTVM_USER_TOP : PT_STUB_VA;
	pt_proc_inject(p, SYS_munmap, 0, (long)end, 0, 0, 0, 0);
	tlb_clear(&p->tlb, user_only);
	c->st.flushes++;
}

/* Unmap and forget a whole granule's pages. */
static void drop_granule(struct pt_proc *p, struct pt_gran *x)
{
	pt_proc_inject(p, SYS_munmap, (long)(x->g << 21), (long)PT_TLB_GRAN, 0, 0, 0, 0);
	memset(x->page, 0, sizeof(x->page));
}

/*
 * invlpg as x86 does it: the translation of va goes, whole, so a page that
 * came from a 2 MiB leaf takes its granule and one from a 1 GiB leaf every
 * granule of that gigabyte (SDM vol. 3, 4.10.2.3).
 */
static void invlpg_one(struct pt_proc *p, uint64_t va)
{
	struct pt_gran *x = gran_find(&p->tlb, va >> 21);
	uint64_t e = x ? x->page[(va >> 12) & 511] : 0;
	if (!e)
		return;
	if (e & PT_LEAF_1G) {
		for (uint64_t g = (va >> 30) << 9; g < ((va >> 30) + 1) << 9; g++) {
			struct pt_gran *y = gran_find(&p->tlb, g);
			for (unsigned i = 0; y && i < 512; i++)
				if (y->page[i] & PT_LEAF_1G) {
					drop_granule(p, y);
					break;
				}
		}
		return;
	}
	if (e & PT_LEAF_2M) {
		drop_granule(p, x);
		return;
	}
	pt_proc_inject(p, SYS_munmap, (long)(va & ~4095ULL), 4096, 0, 0, 0, 0);
	x->page[(va >> 12) & 511] = 0;
}

void pt_tlb_invlpg(struct pt_vcpu *c, uint64_t va)
{
	invlpg_one(&c->k, va);
	invlpg_one(&c->u, va);
}

int pt_tlb_lookup(struct pt_proc *p, uint64_t va, uint64_t *gpa)
{
	struct pt_gran *x = gran_find(&p->tlb, va >> 21);
	uint64_t e = x ? x->page[(va >> 12) & 511] : 0;
	if (!e)
		return 0;
	*gpa = (e & ~4095ULL) | (va & 4095);
	return 1;
}

static unsigned prot_of(const struct pt_walk *w, int cpl, uint64_t cr0)
{
	unsigned prot = PT_PROT_R;
	if (w->w || (cpl == 0 && !(cr0 & CR0_WP)))
		prot |= PT_PROT_W;
	if (w->x)
		prot |= PT_PROT_X;
	return prot;
}

/* Same rights and the next frame: a 4 KiB leaf that can join a run. */
static bool joins(uint64_t pte, uint64_t want_pa, uint64_t like)
{
	const uint64_t rights = PTE_P | PTE_RW | PTE_US | PTE_NX;
	return (pte & rights) == (like & rights) && (pte & PTE_PFN) == want_pa;
}

/* The rights of a 4 KiB leaf under the upper levels of w, as PT_PROT_* (0: not for cpl). */
static unsigned leaf_prot(const struct pt_walk *w, uint64_t pte, int cpl, uint64_t cr0)
{
	if (!(pte & PTE_P) || (cpl == 3 && !(w->uu && (pte & PTE_US))))
		return 0;
	struct pt_walk l = {.w = w->uw && (pte & PTE_RW), .x = w->ux && !(pte & PTE_NX)};
	return prot_of(&l, cpl, cr0);
}

/*
 * A 4 KiB miss where the page table maps scattered frames (a fragmented
 * guest allocator): every run of pages with equal rights and consecutive
 * frames in the table, not yet in the TLB, is mapped in one stop (the
 * stub's batch), as the guest kernel's own 2 MiB fault-around would have
 * it: one ptrace round trip instead of one per page. -1: not worth it (the
 * caller maps the fault's own run).
 */
static int fill_table(struct pt_vcpu *c, struct pt_proc *p, int cpl, uint64_t va,
		      const struct pt_walk *w)
{
	const uint64_t *pt = w->leaf - ((va >> 12) & 511);
	const uint64_t base = va & ~(PT_TLB_GRAN - 1);
	struct pt_gran *x = gran_find(&p->tlb, va >> 21);
	static __thread struct pt_mmap m[512];
	unsigned n = 0, pages = 0;
	for (unsigned i = 0; i < 512;) {
		unsigned prot = leaf_prot(w, pt[i], cpl, c->cr0);
		uint64_t pa = pt[i] & PTE_PFN, off;
		if (!prot || pt_mem_off(&c->mem, pa, 4096, &off) < 0 ||
		    (x && x->page[i] == (pa | prot))) {
			i++;
			continue;
		}
		unsigned j = i + 1;
		uint64_t off2;
		while (j < 512 && leaf_prot(w, pt[j], cpl, c->cr0) == prot &&
		       (pt[j] & PTE_PFN) == pa + (uint64_t)(j - i) * 4096 &&
		       pt_mem_off(&c->mem, pa, (uint64_t)(j - i + 1) * 4096, &off2) == 0 &&
		       !(x && x->page[j] == ((pt[j] & PTE_PFN) | prot)))
			j++;
		int hprot = PROT_READ | ((prot & PT_PROT_W) ? PROT_WRITE : 0) |
			    ((prot & PT_PROT_X) ? PROT_EXEC : 0);
		m[n++] = (struct pt_mmap){
		    base + (uint64_t)i * 4096, (uint64_t)(j - i) * 4096,
		    (uint64_t)hprot,	       MAP_SHARED | MAP_FIXED | MAP_POPULATE,
		    (uint64_t)c->ram_fd,       off};
		pages += j - i;
		i = j;
	}
	if (n < 4)
		return -1; /* contiguous enough: one mmap of the fault's run does */
	if (p->tlb.fills + n > c->tlb_max) {
		pt_tlb_flush(c, p, false);
		x = NULL;
	}
	for (unsigned k = 0; k < n; k += PT_BATCH_MAX) {
		unsigned cnt = n - k < PT_BATCH_MAX ? n - k : (unsigned)PT_BATCH_MAX;
		if (pt_proc_inject_mmaps(p, m + k, cnt) != 0) {
			/* Some of it may be mapped and not tracked: start clean. */
			pt_proc_inject(p, SYS_munmap, 0, (long)PT_STUB_VA, 0, 0, 0, 0);
			tlb_clear(&p->tlb, false);
			c->st.flushes++;
			return -1;
		}
	}
	p->tlb.fills += n;
	p->tlb.kfills += base >= DMTVM_USER_TOP ? n : 0;
	c->st.fills += n;
	c->st.batches++;
	x = gran_get(&p->tlb, va >> 21);
	if (!x)
		return -1;
	for (unsigned k = 0; k < n; k++)
		for (uint64_t a = m[k].addr; a < m[k].addr + m[k].len; a += 4096)
			x->page[(a >> 12) & 511] = ((pt[(a >> 12) & 511] & PTE_PFN) |
						    leaf_prot(w, pt[(a >> 12) & 511], cpl, c->cr0));
	(void)pages;
	return 0;
}

int pt_tlb_fault(struct pt_vcpu *c, struct pt_proc *p, int cpl, uint64_t va, bool fetch, bool write,
		 uint64_t *error, uint64_t *gpa)
{
	const struct pt_mem *m = &c->mem;
	struct pt_walk w;
	uint64_t user = cpl == 3 ? 4 : 0, off;
	struct pt_gran *x = gran_find(&p->tlb, va >> 21);
	uint64_t have = x ? x->page[(va >> 12) & 511] & 7 : 0;
	uint64_t kind = fetch ? 16 : write ? 2 : 0; /* I/D, W */
	if (va >= DMTVM_PLATFORM_RESERVED_BASE || pt_walk(m, c->cr3, va, &w) < 0) {
		*error = user | kind; /* not present */
		return 1;
	}
	unsigned prot = prot_of(&w, cpl, c->cr0);
	if ((cpl == 3 && !w.u) || (write && !(prot & PT_PROT_W)) ||
	    (fetch && !(prot & PT_PROT_X))) {
		*error = 1 | user | kind; /* present, not allowed */
		return 1;
	}
	if (have && (prot & ~have) == 0) {
		/* Mapped with all the rights the tables give: a real protection fault. */
		bool exec = fetch && !(have & PT_PROT_X);
		*error = 1 | user | (exec ? 16 : ((have & PT_PROT_W) ? 0 : 2));
		return 1;
	}
	if (pt_mem_off(m, w.gpa & ~4095ULL, 4096, &off) < 0) {
		*gpa = w.gpa;
		return 2;
	}
	/* The range to map: the 2 MiB granule of a large page, or a 4 KiB run. */
	uint64_t start = va & ~4095ULL, end = start + 4096, pa = w.gpa & ~4095ULL;
	if (w.size > 4096) {
		uint64_t s2 = va & ~(PT_TLB_GRAN - 1), pa2 = w.gpa - (va - s2);
		if (pt_mem_off(m, pa2, PT_TLB_GRAN, &off) == 0) {
			start = s2;
			end = s2 + PT_TLB_GRAN;
			pa = pa2;
		}
	} else if (fill_table(c, p, cpl, va, &w) == 0) {
		return 0;
	} else {
		uint64_t *pt = w.leaf - ((va >> 12) & 511);
		unsigned i = (unsigned)((va >> 12) & 511), lo = i, hi = i;
		uint64_t base = w.gpa & ~4095ULL;
		while (lo > 0 && base >= (uint64_t)(i - lo + 1) * 4096 &&
		       joins(pt[lo - 1], base - (uint64_t)(i - lo + 1) * 4096, *w.leaf))
			lo--;
		while (hi < 511 && joins(pt[hi + 1], base + (uint64_t)(hi + 1 - i) * 4096, *w.leaf))
			hi++;
		uint64_t s2 = (va & ~(PT_TLB_GRAN - 1)) + (uint64_t)lo * 4096;
		uint64_t e2 = (va & ~(PT_TLB_GRAN - 1)) + (uint64_t)(hi + 1) * 4096;
		uint64_t pa2 = base - (uint64_t)(i - lo) * 4096;
		if (pt_mem_off(m, pa2, e2 - s2, &off) == 0) {
			start = s2;
			end = e2;
			pa = pa2;
		}
	}
	if (pt_mem_off(m, pa, end - start, &off) < 0)
		return -1;
	if (p->tlb.fills >= c->tlb_max)
		pt_tlb_flush(c, p, false);
	int hprot = PROT_READ | ((prot & PT_PROT_W) ? PROT_WRITE : 0) |
		    ((prot & PT_PROT_X) ? PROT_EXEC : 0);
	long r = pt_proc_inject(p, SYS_mmap, (long)start, (long)(end - start), hprot,
				MAP_SHARED | MAP_FIXED | MAP_POPULATE, c->ram_fd, (long)off);
	if (r != (long)start) {
		/* Out of host mappings after all: start over with an empty TLB once. */
		pt_tlb_flush(c, p, false);
		r = pt_proc_inject(p, SYS_mmap, (long)start, (long)(end - start), hprot,
				   MAP_SHARED | MAP_FIXED | MAP_POPULATE, c->ram_fd, (long)off);
		if (r != (long)start)
			return -1;
	}
	p->tlb.fills++;
	p->tlb.kfills += start >= DMTVM_USER_TOP;
	c->st.fills++;
	x = gran_get(&p->tlb, va >> 21);
	if (!x)
		return -1;
	uint64_t leaf = w.size == (1ULL << 30)	? PT_LEAF_1G
			: w.size == PT_TLB_GRAN ? PT_LEAF_2M
						: 0;
	for (uint64_t a = start; a < end; a += 4096)
		x->page[(a >> 12) & 511] = (pa + (a - start)) | prot | leaf;
	return 0;
}
