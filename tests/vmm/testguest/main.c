/* SPDX-License-Identifier: MIT */
/*
 * main.c: a tiny ring-0 test guest for the VMM tests (not the real kernel).
 * It checks the boot state dmtvm_abi.h promises (magic, FDT, page tables)
 * and does what `tg=WHAT` on the command line asks, to exercise one VMM
 * path at a time: hello (exit 3), fdt (print FDT facts), panic, fault
 * (ring-0 #PF without an IDT: triple fault), badgpa, enosys, efault, badexit,
 * spin (never exits), hlt (cli; hlt), mmio (read outside RAM), ports
 * (non-hypercall port I/O), outb (wrong-size hypercall access), time,
 * xlate [dmt] [pv] [roi] [two] [spin] (builds its own page tables, loads them in CR3
 * and hands the VMM trace records: TRACE_FLUSH, DMT_REGS, ALLOC_TEA),
 * xlate-errors (bad translation hypercalls: prints each error code),
 * eptcheck (loads at sampled direct-map addresses across all RAM),
 * xlate-bench (1 Mi GUPS-like records through the model).
 * Hostile guests (tests/hardening/): hostile (overflowing lengths and
 * addresses on every hypercall: prints each code), hcstorm [forever] (100k
 * bad hypercalls), flood (console bytes for ever), straddle / gpa-top
 * (argument structure across the end of RAM / at the top of the 32-bit gPA
 * space: the VMM must shut the guest down).
 * nkvm [spin|hostile]: an L1 hypervisor by hand: KVM hypercalls create an
 * L2 VM on 1 MiB of its RAM and run a few bytes of 64-bit L2 code, started
 * in long mode on a 2 MiB identity map (prints what L1 sees); spin: L2
 * loops for ever (L0's --timeout must end it); hostile: a magic hypercall
 * with a gPA outside L2 RAM and an MMIO access must be reflected, a run
 * area across the end of RAM refused; bench: 10000 L2 port writes, each
 * reflected to L1 and resumed at once.
 */
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "l2_long_mode.h"

#include "dmtvm_abi.h"
#include "dmtvm_trace.h"

#define VA(gpa) ((void *)(DMTVM_DIRECT_MAP_BASE + (uint64_t)(gpa)))
/* Both the kernel window and the direct map are linear: undo either. */
#define GPA(ptr)                                                                                   \
	((uint32_t)((uint64_t)(ptr) >= DMTVM_KERNEL_VIRT_BASE                                      \
			? (uint64_t)(ptr)-DMTVM_KERNEL_VIRT_BASE                                   \
			: (uint64_t)(ptr)-DMTVM_DIRECT_MAP_BASE))

static void hc(unsigned nr, void *arg)
{
	uint32_t gpa = GPA(arg);
	__asm__ volatile("outl %0, %w1" : : "a"(gpa), "d"((uint16_t)DMTVM_HC_PORT(nr)) : "memory");
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int64_t cons(const char *s, size_t n)
{
	struct dmtvm_hc_console a = {0, GPA(s), n};
	hc(DMTVM_HC_CONSOLE, &a);
	return a.ret;
}

static void puts_(const char *s)
{
	cons(s, slen(s));
}

static void putu(uint64_t v, int base)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	puts_(b + i);
}

static void exit_(int64_t status)
{
	struct dmtvm_hc_exit a = {0, status};
	hc(DMTVM_HC_EXIT, &a);
}

static void panic_(const char *msg)
{
	struct dmtvm_hc_panic a = {0, ~0ULL, 0, 0, 0, 0, GPA(msg), slen(msg)};
	hc(DMTVM_HC_PANIC, &a);
}

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Find /chosen or /memory@0 property `name` (flat walk; names are unique here). */
static const uint8_t *fdt_prop(const uint8_t *fdt, const char *name, uint32_t *len)
{
	const uint8_t *st = fdt + be32(fdt + 8);
	const char *strs = (const char *)fdt + be32(fdt + 12);
	for (uint32_t off = 0;;) {
		uint32_t tag = be32(st + off);
		off += 4;
		if (tag == 1) { /* BEGIN_NODE */
			off += (slen((const char *)st + off) + 4) & ~3U;
		} else if (tag == 3) { /* PROP */
			uint32_t l = be32(st + off), nameoff = be32(st + off + 4);
			if (streq(strs + nameoff, name)) {
				*len = l;
				return st + off + 8;
			}
			off += 8 + ((l + 3) & ~3U);
		} else if (tag == 9) {
			return NULL;
		}
	}
}

static uint64_t fdt_u64(const uint8_t *fdt, const char *name)
{
	uint32_t l;
	const uint8_t *p = fdt_prop(fdt, name, &l);
	return p ? (uint64_t)be32(p) << 32 | be32(p + 4) : ~0ULL;
}

static const char *word_after(const char *s, const char *key)
{
	for (; *s; s++) {
		size_t i = 0;
		while (key[i] && s[i] == key[i])
			i++;
		if (!key[i])
			return s + i;
	}
	return NULL;
}

static int is(const char *w, const char *v)
{
	while (*v && *w == *v)
		w++, v++;
	return !*v && (*w == 0 || *w == ' ');
}

/* ---- translation tests: own page tables, trace records, hypercalls ---- */

/* gPAs of the test's tables (well above the image) and data pages. */
#define XL_PML4	 0x400000ULL
#define XL_PDPT	 0x401000ULL
#define XL_PD	 0x402000ULL
#define XL_PT	 0x403000ULL /* the leaf table: the TEA of the VMA */
#define XL_PML4B 0x408000ULL /* a second address space (tg=xlate two) */
#define XL_DATA	 0x800000ULL
#define XL_VA	 0x40000000ULL /* VMA [XL_VA, XL_VA + 2 MiB) */
#define XL_PAGES 16

static uint64_t recs[64];

static void zero_page(uint64_t gpa)
{
	uint64_t *p = VA(gpa);
	for (int i = 0; i < 512; i++)
		p[i] = 0;
}

static uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/*
 * PML4 with the boot kernel slots (DMTVM_KERNEL_PML4_FIRST..511: direct map,
 * kernel window, legacy windows) plus one 4 KiB mapped VMA in user space:
 * XL_VA + i*4K -> XL_DATA + i*4K. Loaded in
 * CR3, so KVM's walker (KVM_TRANSLATE) sees the same tables as the model.
 */
static void build_tables(void)
{
	const uint64_t *boot = VA(read_cr3() & ~0xfffULL);
	uint64_t *pml4 = VA(XL_PML4), *pdpt = VA(XL_PDPT), *pd = VA(XL_PD), *pt = VA(XL_PT);
	zero_page(XL_PML4);
	zero_page(XL_PDPT);
	zero_page(XL_PD);
	zero_page(XL_PT);
	for (int i = DMTVM_KERNEL_PML4_FIRST; i < 512; i++)
		pml4[i] = boot[i];
	pml4[0] = XL_PDPT | 3;
	pdpt[XL_VA >> 30] = XL_PD | 3;
	pd[0] = XL_PT | 3;
	for (uint64_t i = 0; i < XL_PAGES; i++)
		pt[i] = (XL_DATA + i * 4096) | 3;
	__asm__ volatile("mov %0, %%cr3" : : "r"(XL_PML4) : "memory");
	/* The mapping is real: write through it, read back through the direct map. */
	*(volatile uint64_t *)(XL_VA + 4096) = 0x1234;
	if (*(volatile uint64_t *)VA(XL_DATA + 4096) != 0x1234)
		panic_("test tables do not map XL_VA");
}

static uint64_t ld(uint64_t va)
{
	return dmtvm_trace_rec(va, 8, DMTVM_TRACE_LOAD, 0);
}

static uint64_t ctl(unsigned type)
{
	return dmtvm_trace_rec(0, type, DMTVM_TRACE_CONTROL, 0);
}

static int64_t flush(uint64_t va, uint64_t count, uint64_t cr3, uint64_t flags)
{
	struct dmtvm_hc_trace_flush a = {0, va, count, cr3, 1, flags};
	hc(DMTVM_HC_TRACE_FLUSH, &a);
	return a.ret;
}

static int64_t dmt_regs(uint64_t cr3, uint64_t count, uint64_t regs_gpa)
{
	struct dmtvm_hc_dmt_regs a = {0, cr3, 1, count, regs_gpa};
	hc(DMTVM_HC_DMT_REGS, &a);
	return a.ret;
}

static int64_t alloc_tea(uint64_t gpa, uint64_t pgcnt, uint64_t mode, uint64_t *hpa)
{
	struct dmtvm_hc_alloc_tea a = {0, 7, gpa, pgcnt, mode, 0};
	hc(DMTVM_HC_ALLOC_TEA, &a);
	if (hpa)
		*hpa = a.hpa;
	return a.ret;
}

static void puti(int64_t v)
{
	if (v < 0) {
		puts_("-");
		v = -v;
	}
	putu((uint64_t)v, 10);
}

static struct dmtvm_dmt_reg regs[4];

/*
 * tg=xlate [dmt] [pv] [roi]: 8 loads to 8 distinct pages of the VMA (8
 * cold TLB misses). dmt: one DMT register over the VMA's leaf table (the
 * TEA); pv: that TEA obtained with ALLOC_TEA (4 pages, host-contiguous, PV
 * flag). two: flush again under a second address space, then the first.
 * spin: stay alive afterwards (control-socket tests).
 * roi: 4 warm-up loads, ROI begin, 4 new pages and one repeated page,
 * ROI end, 4 more loads (not simulated).
 */
static void xlate(const char *opts)
{
	build_tables();
	int dmt = word_after(opts, "dmt") != NULL, pv = word_after(opts, "pv") != NULL;
	int roi = word_after(opts, "roi") != NULL;
	if (pv) {
		uint64_t hpa = 0;
		int64_t r = alloc_tea(XL_PT, 4, DMTVM_TEA_MODE(0, 0, 0), &hpa);
		puts_("alloc_tea ");
		puti(r);
		puts_(hpa ? " hpa!=0\n" : " hpa=0\n");
	}
	if (dmt || pv) {
		regs[0] = (struct dmtvm_dmt_reg){XL_VA, XL_VA + (2ULL << 20), XL_PT, 12,
						 pv ? DMTVM_DMT_REG_PV : 0};
		puts_("dmt_regs ");
		puti(dmt_regs(XL_PML4, 1, GPA(regs)));
		puts_("\n");
	}
	unsigned n = 0;
	if (roi) {
		for (int i = 0; i < 4; i++)
			recs[n++] = ld(XL_VA + i * 4096ULL);
		recs[n++] = ctl(DMTVM_TRACE_ROI_BEGIN);
		for (int i = 4; i < 8; i++)
			recs[n++] = ld(XL_VA + i * 4096ULL);
		recs[n++] = ld(XL_VA);
		recs[n++] = ctl(DMTVM_TRACE_ROI_END);
		for (int i = 8; i < 12; i++)
			recs[n++] = ld(XL_VA + i * 4096ULL);
	} else {
		for (int i = 0; i < 8; i++)
			recs[n++] = ld(XL_VA + i * 4096ULL + 8);
	}
	/* recs lives in the kernel window: the VMM reads it through our CR3. */
	puts_("trace_flush ");
	puti(flush((uint64_t)recs, n, XL_PML4, 0));
	puts_("\n");
	if (word_after(opts, "two")) {
		/* A second address space (a copy of the first, asid 2, no DMT
		 * registers), then the first again: two switches. */
		uint64_t *a = VA(XL_PML4), *b = VA(XL_PML4B);
		for (int i = 0; i < 512; i++)
			b[i] = a[i];
		struct dmtvm_hc_trace_flush f = {0, (uint64_t)recs, n, XL_PML4B, 2, 0};
		hc(DMTVM_HC_TRACE_FLUSH, &f);
		puts_("trace_flush asid 2: ");
		puti(f.ret);
		puts_("\ntrace_flush asid 1: ");
		puti(flush((uint64_t)recs, n, XL_PML4, 0));
		puts_("\n");
	}
	struct dmtvm_hc_pt_update u = {0, XL_PML4, 1, XL_VA, 4096};
	hc(DMTVM_HC_PT_UPDATE, &u);
	puts_("pt_update ");
	puti(u.ret);
	puts_("\n");
	if (word_after(opts, "spin")) /* for control-socket tests */
		for (;;)
			__asm__ volatile("pause");
	exit_(0);
}

/* tg=xlate-errors: every malformed call gets its documented code. */
static void xlate_errors(uint64_t mem)
{
	build_tables();
	recs[0] = ld(XL_VA);
	uint64_t r = (uint64_t)recs;
	const uint64_t P = XL_PML4;
	int64_t v[40];
	int n = 0;
	v[n++] = flush(r, 1, P, 1);			      /* flags */
	v[n++] = flush(r, DMTVM_TRACE_FLUSH_MAX + 1, P, 0);   /* count */
	v[n++] = flush(r + 4, 1, P, 0);			      /* unaligned va */
	v[n++] = flush(r, 1, P + 8, 0);			      /* unaligned cr3 */
	v[n++] = flush(r, 1, mem, 0);			      /* cr3 outside RAM */
	v[n++] = flush(XL_VA + 0x100000, 1, P, 0);	      /* records not mapped */
	v[n++] = flush(0x00007ffffffffff8ULL, 2, P, 0);	      /* crosses the hole */
	v[n++] = flush(XL_VA + XL_PAGES * 4096 - 8, 2, P, 0); /* runs off the mapping */
	v[n++] = flush(r, 0, P, 0);			      /* nothing: 0 */
	v[n++] = flush(r, 1, P, 0);			      /* fine: 1 */
	regs[0] = (struct dmtvm_dmt_reg){XL_VA, XL_VA + (2ULL << 20), XL_PT, 12, 0};
	regs[1] = regs[0];
	v[n++] = dmt_regs(P, DMTVM_DMT_REGS_MAX + 1, GPA(regs)); /* count */
	v[n++] = dmt_regs(P, 1, mem - 16);			 /* array outside RAM */
	v[n++] = dmt_regs(P, 1, GPA(regs) + 4);			 /* unaligned array */
	v[n++] = dmt_regs(P, 2, GPA(regs));			 /* overlapping */
	regs[0].page_shift = 13;
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* page_shift */
	regs[0].page_shift = 12;
	regs[0].limit = regs[0].base;
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* empty range */
	regs[0].limit = XL_VA + (2ULL << 20);
	regs[0].tea_gpa = mem - 8;
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* TEA runs out of RAM */
	regs[0].tea_gpa = XL_PT;
	regs[0].flags = 2;
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* unknown flag */
	regs[0].flags = DMTVM_DMT_REG_PV;
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* PV without ALLOC_TEA */
	regs[0].flags = 0;
	v[n++] = dmt_regs(P, 1, GPA(regs));			    /* fine: 0 */
	v[n++] = alloc_tea(XL_PT + 8, 1, 0, 0);			    /* unaligned */
	v[n++] = alloc_tea(XL_PT, 0, 0, 0);			    /* pgcnt 0 */
	v[n++] = alloc_tea(XL_PT, 1ULL << 40, 0, 0);		    /* pgcnt too large */
	v[n++] = alloc_tea(mem - 4096, 2, 0, 0);		    /* outside RAM */
	v[n++] = alloc_tea(XL_PT, 1, DMTVM_TEA_MODE(0, 0, 1), 0);   /* nested level */
	v[n++] = alloc_tea(XL_PT, 1, 1ULL << 12, 0);		    /* reserved mode bits */
	v[n++] = alloc_tea(XL_PT, 1, DMTVM_TEA_MODE(0, 1, 0), 0);   /* free unknown */
	v[n++] = alloc_tea(XL_PT, 4, 0, 0);			    /* fine */
	v[n++] = alloc_tea(XL_PT + 0x2000, 1, 0, 0);		    /* overlaps */
	v[n++] = alloc_tea(XL_PT, 4, DMTVM_TEA_MODE(0, 1, 0), 0);   /* free: 0 */
	v[n++] = alloc_tea(XL_PT, 4, DMTVM_TEA_MODE(0, 1, 0), 0);   /* again */
	struct dmtvm_hc_pt_update u = {0, P, 1, ~0ULL - 100, 4096}; /* wraps */
	hc(DMTVM_HC_PT_UPDATE, &u);
	v[n++] = u.ret;
	struct dmtvm_hc_pt_update u2 = {0, P, 1, 0, 0}; /* all: 0 */
	hc(DMTVM_HC_PT_UPDATE, &u2);
	v[n++] = u2.ret;
	for (int i = 0; i < n; i++) {
		puts_(i ? " " : "");
		puti(v[i]);
	}
	puts_("\n");
	exit_(0);
}

/*
 * tg=xlate-bench: GUPS-like model throughput inside a run. Maps a 64 MiB
 * VMA with 4 KiB pages (its 32 leaf tables contiguous: the TEA, obtained
 * with ALLOC_TEA and described by a pvDMT register), writes 64 Ki random
 * loads once (ring-0 stores are slow here) and flushes them 16 times: 1 Mi
 * records through the model, mostly TLB misses.
 */
#define XB_PT	  0x1000000ULL /* 32 leaf tables: the TEA */
#define XB_DATA	  0x4000000ULL /* 64 MiB of data */
#define XB_PAGES  16384ULL
#define XB_RECS	  65536
#define XB_ROUNDS 16
static uint64_t bench_recs[XB_RECS];

static void xlate_bench(void)
{
	build_tables();
	uint64_t *pd = VA(XL_PD);
	for (uint64_t t = 0; t < XB_PAGES / 512; t++)
		pd[t] = (XB_PT + t * 4096) | 3;
	uint64_t *pt = VA(XB_PT);
	for (uint64_t i = 0; i < XB_PAGES; i++)
		pt[i] = (XB_DATA + i * 4096) | 3;
	__asm__ volatile("mov %0, %%cr3" : : "r"(XL_PML4) : "memory");
	uint64_t hpa;
	int64_t r = alloc_tea(XB_PT, XB_PAGES / 512, 0, &hpa);
	regs[0] = (struct dmtvm_dmt_reg){XL_VA, XL_VA + XB_PAGES * 4096, XB_PT, 12,
					 r == 0 ? DMTVM_DMT_REG_PV : 0};
	dmt_regs(XL_PML4, 1, GPA(regs));
	uint64_t x = 1;
	for (int i = 0; i < XB_RECS; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		bench_recs[i] = ld(XL_VA + ((x >> 20) % (XB_PAGES * 4096) & ~7ULL));
	}
	int64_t n = 0;
	for (int k = 0; k < XB_ROUNDS; k++)
		n += flush((uint64_t)bench_recs, XB_RECS, XL_PML4, 0);
	puts_("traced ");
	puti(n);
	puts_("\n");
	exit_(0);
}

/*
 * tg=eptcheck: loads at direct-map addresses of 64 gPAs spread over all of
 * RAM (and a few random-looking ones), flushed under the boot CR3 (the
 * vCPU's own): with --debug-translate-check the VMM compares each with
 * KVM_TRANSLATE and the EPT walk with its placement.
 */
static void eptcheck(uint64_t mem)
{
	uint64_t n = 0, x = 12345;
	for (uint64_t i = 0; i < 32; i++)
		recs[n++] = ld(DMTVM_DIRECT_MAP_BASE + i * (mem / 32) + (i & 7) * 4096);
	for (uint64_t i = 0; i < 32; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		recs[n++] = ld(DMTVM_DIRECT_MAP_BASE + ((x >> 16) % mem & ~7ULL));
	}
	puts_("trace_flush ");
	puti(flush((uint64_t)recs, n, read_cr3() & ~0xfffULL, 0));
	puts_("\n");
	exit_(0);
}

/* ---- hostile guests (tests/hardening/) ---- */

static int64_t zero_(uint64_t gpa, uint64_t len)
{
	struct dmtvm_hc_zero a = {0, gpa, len};
	hc(DMTVM_HC_ZERO, &a);
	return a.ret;
}

static int64_t cons_at(uint64_t gpa, uint64_t len)
{
	struct dmtvm_hc_console a = {0, gpa, len};
	hc(DMTVM_HC_CONSOLE, &a);
	return a.ret;
}

/*
 * tg=hostile: lengths and addresses that overflow, straddle the end of RAM
 * or lie beyond it, on every hypercall that takes one; garbage trace
 * records through the model. Prints each return code (exact list checked by
 * tests/hardening/meson.build).
 */
static void hostile(uint64_t mem)
{
	build_tables();
	int64_t v[48];
	int n = 0;
	const uint64_t P = XL_PML4, T = ~0ULL;
	v[n++] = cons_at(mem - 4, 8);			     /* straddles the end: -14 */
	v[n++] = cons_at(mem, 0);			     /* empty at the end: 0 */
	v[n++] = cons_at(T - 7, 16);			     /* wraps: -14 */
	v[n++] = cons_at(mem + 4096, 1);		     /* beyond RAM: -14 */
	v[n++] = zero_(mem - 4096, 8192);		     /* straddles: -22 */
	v[n++] = zero_(0xfffffffffffff000ULL, 0x2000);	     /* wraps: -22 */
	v[n++] = zero_(4096, T & ~0xfffULL);		     /* len overflows: -22 */
	v[n++] = zero_(mem, 4096);			     /* at the end: -22 */
	v[n++] = flush((uint64_t)recs, 1ULL << 63, P, 0);    /* count * 8 wraps: -22 */
	v[n++] = flush((uint64_t)recs, T, P, 0);	     /* -22 */
	v[n++] = flush(0xfffffffffffffff8ULL, 1, P, 0);	     /* top of VA space, unmapped: -14 */
	v[n++] = flush(0x0000800000000000ULL, 1, P, 0);	     /* non-canonical: -14 */
	v[n++] = flush((uint64_t)recs, 1, T & ~0xfffULL, 0); /* cr3 far beyond RAM: -14 */
	v[n++] = flush(XL_VA, DMTVM_TRACE_FLUSH_MAX, P, 0);  /* runs off the mapping: -14 */
	/* 64 garbage records (random VAs, sizes, types, control codes): all simulated. */
	uint64_t x = 99;
	for (int i = 0; i < 64; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		recs[i] = x ^ (x >> 29);
	}
	v[n++] = flush((uint64_t)recs, 64, P, 0);	    /* 64 */
	v[n++] = alloc_tea(0xfffffffffffff000ULL, 2, 0, 0); /* wraps: -14 */
	v[n++] = alloc_tea(mem - 4096, 1ULL << 18, 0, 0);   /* beyond RAM: -14 */
	v[n++] = alloc_tea(mem, 1, 0, 0);		    /* at the end: -14 */
	v[n++] = alloc_tea(0, T, 0, 0);			    /* pgcnt: -22 */
	v[n++] = dmt_regs(P, T, GPA(regs));		    /* count: -22 */
	v[n++] = dmt_regs(P, 1, T & ~7ULL);		    /* regs array wraps: -14 */
	v[n++] = dmt_regs(P, DMTVM_DMT_REGS_MAX, mem - 64); /* array straddles: -14 */
	regs[0] = (struct dmtvm_dmt_reg){0, 1ULL << 63, XL_PT, 12, 0};
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* non-canonical range: -22 */
	regs[0] = (struct dmtvm_dmt_reg){XL_VA, XL_VA + (2ULL << 20), T & ~0xfffULL, 12, 0};
	v[n++] = dmt_regs(P, 1, GPA(regs)); /* TEA far beyond RAM: -14 */
	regs[0] = (struct dmtvm_dmt_reg){0, 1ULL << 47, 0, 12, 0};
	v[n++] = dmt_regs(P, 1, GPA(regs));		  /* TEA of 2^35 entries (256 GiB): -14 */
	struct dmtvm_hc_pt_update u = {0, P, 1, 4096, T}; /* len wraps: -22 */
	hc(DMTVM_HC_PT_UPDATE, &u);
	v[n++] = u.ret;
	struct dmtvm_hc_exit e = {0, -1};
	hc(DMTVM_HC_EXIT, &e);
	v[n++] = e.ret; /* -22 */
	for (int i = 0; i < n; i++) {
		puts_(i ? " " : "");
		puti(v[i]);
	}
	puts_("\n");
	exit_(0);
}

/*
 * tg=hcstorm [forever]: 100000 bad hypercalls (unassigned numbers, EFAULT
 * consoles, EINVAL exits and zeroes, malformed flushes), each checked; then
 * "storm 100000 bad 0" and exit 0. forever: never stops (--timeout test).
 */
static void hcstorm(uint64_t mem, int forever)
{
	uint64_t bad = 0, n = 0;
	for (; forever || n < 100000; n++) {
		int64_t r, want;
		switch (n % 5) {
		case 0: {
			struct dmtvm_hc_ret a = {0};
			hc(14 + n % 4, &a); /* unassigned 14..17 (9 is KVM, 13 ALLOC_TEA) */
			r = a.ret, want = -DMTVM_ENOSYS;
			break;
		}
		case 1:
			r = cons_at(mem - 2 + n % 3, 4 + n % 4096), want = -DMTVM_EFAULT;
			break;
		case 2: {
			struct dmtvm_hc_exit a = {0, 256 + (int64_t)n};
			hc(DMTVM_HC_EXIT, &a);
			r = a.ret, want = -DMTVM_EINVAL;
			break;
		}
		case 3:
			r = zero_(n << 12, ~0ULL << 12), want = -DMTVM_EINVAL;
			break;
		default:
			r = flush(n * 8, DMTVM_TRACE_FLUSH_MAX + n, 0, 0), want = -DMTVM_EINVAL;
			break;
		}
		bad += r != want;
	}
	puts_("storm ");
	puti((int64_t)n);
	puts_(" bad ");
	puti((int64_t)bad);
	puts_("\n");
	exit_(0);
}

/* tg=flood: DMTVM_CONSOLE_MAX bytes per hypercall, for ever. */
static void flood(void)
{
	static char line[DMTVM_CONSOLE_MAX];
	for (int i = 0; i < DMTVM_CONSOLE_MAX; i++)
		line[i] = i % 64 == 63 ? '\n' : 'f';
	for (;;)
		cons(line, sizeof(line));
}

/* ---- nesting: this guest as L1, DMTVM_HC_KVM (vmm/nkvm.c) ---- */

static uint64_t fdt_mem_size;

static int64_t kvm(uint64_t target, uint64_t cmd, void *arg, uint64_t len)
{
	struct dmtvm_hc_kvm a = {0, target, cmd, len ? GPA(arg) : (uint64_t)(uintptr_t)arg, len};
	hc(DMTVM_HC_KVM, &a);
	return a.ret;
}

static void putis(int64_t v)
{
	puti(v);
	puts_(" ");
}

#define NK_L2	 0x1000000ULL /* L1 gPA of L2's 1 MiB of RAM */
#define NK_RUN	 0x1200000ULL /* L1 gPA of the vCPU's run area */
#define NK_ARGS	 0x1300000ULL
#define NK_EPT12 0x1400000ULL /* L1 gPA of EPT12: PML4, PDPT, PD, PT */
#define NK_PML4	 0xa000ULL    /* L2 gPAs of the tables and GDT L2 runs on */
#define NK_GDT	 0xd000ULL
#define NK_SYS	 DMTVM_KVM_TARGET_SYSTEM
#define NK_VM	 DMTVM_KVM_TARGET_VM
#define NK_VCPU	 DMTVM_KVM_TARGET_VCPU(0)

/*
 * Prints: refused calls' codes, the VM and vCPU handles, then the hypercall
 * port of each exit L1 sees (INIT_STARTED and EXIT: TRACE_FLUSH is served
 * by L0), the TRACE_FLUSH result L0 wrote into L2's memory, and "ok".
 */
static void nkvm(int spin)
{
	static const uint8_t code[] = {0xb8, 0x00, 0x20, 0x00, 0x00, /* mov $0x2000, %eax */
				       0x66, 0xba, 0x03, 0x05, 0xef, /* out INIT_STARTED */
				       0x66, 0xba, 0x05, 0x05, 0xef, /* out TRACE_FLUSH (L0) */
				       0x66, 0xba, 0x01, 0x05, 0xef, /* out EXIT */
				       0xf4};
	uint8_t *l2 = VA(NK_L2);
	for (unsigned i = 0; i < sizeof(code); i++)
		l2[0x1000 + i] = code[i];
	static const uint8_t hostile[] = {
	    0xb8, 0x00, 0xf0, 0xff, 0x00,	      /* mov $0xfff000, %eax: outside L2 RAM */
	    0x66, 0xba, 0x05, 0x05, 0xef,	      /* out TRACE_FLUSH: reflected */
	    0x8a, 0x04, 0x25, 0x00, 0x00, 0x10, 0x00, /* mov 0x100000, %al: gPA 1 MiB, MMIO */
	    0xf4};
	if (spin == 2)
		for (unsigned i = 0; i < sizeof(hostile); i++)
			l2[0x1000 + i] = hostile[i];
	if (spin == 1)
		l2[0x1000] = 0xeb, l2[0x1001] = 0xfe; /* jmp . */
	static const uint8_t bench[] = {
	    0xb9, 0x10, 0x27, 0x00, 0x00, /* mov $10000, %ecx */
	    0xe6, 0x80, 0xe2, 0xfc,	  /* 1: out %al, $0x80; loop 1b: each one reflected */
	    0x66, 0xba, 0x01, 0x05, 0xef, /* out EXIT */
	    0xf4};
	if (spin == 3) {
		for (unsigned i = 0; i < sizeof(bench); i++)
			l2[0x1000 + i] = bench[i];
	}
	/*
	 * L2's tables for the model (the flush names them; L2 itself runs on
	 * those of nkvm_long_mode): VA [0, 1 MiB) -> L2 gPA, 4 KiB pages, PML4
	 * at L2 gPA 0x3000; one load record at VA 0x8000. EPT12 (L2 gPA -> L1 gPA NK_L2 + gPA)
	 * in L1 RAM at NK_EPT12, registered below: the model walks in 3D.
	 */
	uint64_t *t = VA(NK_L2 + 0x3000);
	t[0] = 0x4000 | 7, t[512] = 0x5000 | 7, t[1024] = 0x6000 | 7;
	for (uint64_t i = 0; i < 256; i++)
		t[1536 + i] = (i << 12) | 7;
	*(uint64_t *)VA(NK_L2 + 0x8000) = dmtvm_trace_rec(0x9008, 8, DMTVM_TRACE_LOAD, 0);
	uint64_t *e = VA(NK_EPT12);
	e[0] = (NK_EPT12 + 0x1000) | 7, e[512] = (NK_EPT12 + 0x2000) | 7;
	e[1024] = (NK_EPT12 + 0x3000) | 7;
	for (uint64_t i = 0; i < 256; i++)
		e[1536 + i] = (NK_L2 + (i << 12)) | 7 | (6 << 3);
	struct dmtvm_hc_trace_flush *tf = VA(NK_L2 + 0x2000);
	*tf = (struct dmtvm_hc_trace_flush){.ret = 99, .va = 0x8000, .count = 1, .cr3 = 0x3000};
	putis(kvm(NK_SYS, KVM_GET_API_VERSION, 0, 0));
	putis(kvm(NK_SYS, KVM_CHECK_EXTENSION, (void *)DMTVM_KVM_CAP_NESTED, 0));
	putis(kvm(NK_SYS, KVM_CREATE_VM, 0, 0));
	putis(kvm(NK_SYS, KVM_CREATE_VM, 0, 0));	  /* -EBUSY: one at a time */
	putis(kvm(NK_VM, KVM_CREATE_IRQCHIP, 0, 0));	  /* -EINVAL */
	putis(kvm(NK_VM, 0xdeadbeef, 0, 0));		  /* -ENOTTY */
	putis(kvm(NK_VM, KVM_CREATE_VCPU, (void *)1, 0)); /* -EINVAL: one vCPU */
	struct kvm_userspace_memory_region *m = VA(NK_ARGS);
	*m = (struct kvm_userspace_memory_region){.memory_size = 1 << 20,
						  .userspace_addr = fdt_mem_size - 4096};
	putis(kvm(NK_VM, KVM_SET_USER_MEMORY_REGION, m, sizeof(*m))); /* -EFAULT */
	m->userspace_addr = NK_L2;
	putis(kvm(NK_VM, KVM_SET_USER_MEMORY_REGION, m, sizeof(*m)));
	putis(kvm(NK_VM, KVM_CREATE_VCPU, 0, 0));
	struct dmtvm_kvm_ept12 *ep = VA(NK_ARGS + 0x3000);
	*ep = (struct dmtvm_kvm_ept12){.root = fdt_mem_size, .nregs = 0}; /* -EFAULT */
	putis(kvm(NK_VM, DMTVM_KVM_SET_EPT12, ep, sizeof(*ep)));
	ep->root = NK_EPT12;
	putis(kvm(NK_VM, DMTVM_KVM_SET_EPT12, ep, sizeof(*ep)));
	struct kvm_sregs *sr = VA(NK_ARGS + 0x1000);
	kvm(NK_VCPU, KVM_GET_SREGS, sr, sizeof(*sr));
	/* L2 in 64-bit mode at CPL 0: VA = gPA through one 2 MiB page (beyond 1 MiB: MMIO). */
	l2_tables(l2, 1 << 20, NK_PML4, NK_GDT);
	l2_sregs(sr, NK_PML4, NK_GDT);
	putis(kvm(NK_VCPU, KVM_SET_SREGS, sr, sizeof(*sr)));
	struct kvm_regs *r = VA(NK_ARGS + 0x2000);
	*r = (struct kvm_regs){.rip = 0x1000, .rflags = 2};
	putis(kvm(NK_VCPU, KVM_SET_REGS, r, sizeof(*r)));
	int64_t sz = kvm(NK_SYS, KVM_GET_VCPU_MMAP_SIZE, 0, 0);
	struct kvm_run *run = VA(NK_RUN);
	if (spin == 3) {
		/* L1 answers each reflected exit at once: the round trip's cost. */
		uint64_t n = 0;
		for (;;) {
			struct dmtvm_hc_kvm a = {0, NK_VCPU, KVM_RUN, NK_RUN, (uint64_t)sz};
			hc(DMTVM_HC_KVM, &a);
			if (a.ret < 0 || run->exit_reason != KVM_EXIT_IO ||
			    run->io.port == DMTVM_HC_PORT(DMTVM_HC_EXIT))
				break;
			n++;
		}
		puts_("reflected ");
		putu(n, 10);
		puts_("\n");
		exit_(0);
	}
	for (int i = 0; i < 2; i++) {
		struct dmtvm_hc_kvm a = {0, NK_VCPU, KVM_RUN, NK_RUN, (uint64_t)sz};
		hc(DMTVM_HC_KVM, &a);
		if (a.ret < 0 || run->exit_reason != KVM_EXIT_IO) {
			putis(a.ret);
			putis(run->exit_reason);
			if (run->exit_reason == KVM_EXIT_MMIO) {
				puts_("0x");
				putu(run->mmio.phys_addr, 16);
				puts_(" ");
			}
			break;
		}
		puts_("0x");
		putu(run->io.port, 16);
		puts_(" ");
	}
	putis(tf->ret);
	if (spin == 2) {
		/* The run area across the end of L1 RAM. */
		struct dmtvm_hc_kvm a = {0, NK_VCPU, KVM_RUN, fdt_mem_size - 4096, (uint64_t)sz};
		hc(DMTVM_HC_KVM, &a);
		putis(a.ret);
	}
	putis(kvm(NK_VM, DMTVM_KVM_CLOSE, 0, 0));
	putis(kvm(NK_VCPU, KVM_GET_REGS, r, sizeof(*r))); /* -EBADF: gone */
	puts_("ok\n");
	exit_(0);
}

static uint64_t fdt_mem(const uint8_t *fdt)
{
	uint32_t rl;
	const uint8_t *reg = fdt_prop(fdt, "reg", &rl);
	return (uint64_t)be32(reg + 8) << 32 | be32(reg + 12);
}

void tg_main(uint64_t fdt_gpa, uint64_t magic);

void tg_main(uint64_t fdt_gpa, uint64_t magic)
{
	if (magic != DMTVM_BOOT_MAGIC || fdt_gpa != DMTVM_BOOT_FDT_GPA)
		panic_("bad boot magic or FDT address");
	const uint8_t *fdt = VA(fdt_gpa);
	if (be32(fdt) != 0xd00dfeed)
		panic_("no FDT magic");
	uint32_t l;
	const char *bootargs = (const char *)fdt_prop(fdt, "bootargs", &l);
	if (!bootargs)
		panic_("no bootargs");
	const char *what = word_after(bootargs, "tg=");
	struct dmtvm_hc_ret started = {0};
	hc(DMTVM_HC_INIT_STARTED, &started);

	if (!what || is(what, "hello")) {
		puts_("hello from the dmtvm test guest\n");
		exit_(3);
	} else if (is(what, "fdt")) {
		uint32_t rl;
		const uint8_t *reg = fdt_prop(fdt, "reg", &rl);
		const uint8_t *mode = fdt_prop(fdt, "dmtvm,mode", &l);
		uint64_t rs = fdt_u64(fdt, "linux,initrd-start");
		uint64_t re = fdt_u64(fdt, "linux,initrd-end");
		const uint8_t *res = fdt_prop(fdt, "dmtvm,reserved", &l);
		puts_("mem=");
		putu((uint64_t)be32(reg + 8) << 32 | be32(reg + 12), 10);
		puts_(" abi=");
		putu(be32(fdt_prop(fdt, "dmtvm,abi-version", &rl)), 10);
		puts_(" mode=");
		puts_((const char *)mode);
		puts_(" vcpus=");
		putu(be32(fdt_prop(fdt, "dmtvm,vcpus", &rl)), 10);
		puts_(" tsc=");
		puts_(be32(fdt_prop(fdt, "dmtvm,tsc-khz", &rl)) ? "yes" : "no");
		puts_(" reserved=");
		putu(l / 16, 10);
		puts_(" initrd=");
		cons(VA(rs), 6);
		puts_(re > rs && res ? " ok" : " bad");
		puts_(" bootargs=[");
		puts_(bootargs);
		puts_("]\n");
		/* The direct map covers all of RAM: touch its last byte. */
		uint64_t mem = (uint64_t)be32(reg + 8) << 32 | be32(reg + 12);
		volatile uint8_t *last = VA(mem - 1);
		*last = 1;
		exit_(0);
	} else if (is(what, "panic")) {
		static const char msg[] = "test\npanic";
		struct dmtvm_hc_panic a = {
		    0,	    14,	    2,	      DMTVM_KERNEL_VIRT_BASE + 0x100123,
		    0xdead, 0x7000, GPA(msg), sizeof(msg) - 1};
		hc(DMTVM_HC_PANIC, &a);
	} else if (is(what, "fault")) {
		/* Nothing mapped below DMTVM_USER_TOP and no IDT: #PF, #DF, triple fault. */
		volatile uint64_t addr = 8;
		*(volatile int *)addr = 1;
	} else if (is(what, "badgpa")) {
		__asm__ volatile("outl %0, %w1" : : "a"(0x12345), "d"((uint16_t)DMTVM_HC_PORT(0)));
	} else if (is(what, "enosys")) {
		struct dmtvm_hc_ret a = {0};
		hc(40, &a);
		struct dmtvm_hc_ret b = {0};
		hc(DMTVM_HC_MAX, &b);
		puts_(a.ret == -DMTVM_ENOSYS && b.ret == -DMTVM_ENOSYS ? "enosys ok\n"
								       : "enosys bad\n");
		exit_(0);
	} else if (is(what, "efault")) {
		struct dmtvm_hc_console a = {0, 0xffffffff00000000ULL, 16};
		hc(DMTVM_HC_CONSOLE, &a);
		static const char big[DMTVM_CONSOLE_MAX + 100] = {[0 ... DMTVM_CONSOLE_MAX + 99] =
								      '.'};
		struct dmtvm_hc_console b = {0, GPA(big), ~0ULL}; /* len is cut to the max */
		hc(DMTVM_HC_CONSOLE, &b);
		puts_(a.ret == -DMTVM_EFAULT && b.ret == DMTVM_CONSOLE_MAX ? "\nefault ok\n"
									   : "\nefault bad\n");
		exit_(0);
	} else if (is(what, "badexit")) {
		struct dmtvm_hc_exit a = {0, 300};
		hc(DMTVM_HC_EXIT, &a);
		exit_(a.ret == -DMTVM_EINVAL ? 7 : 8);
	} else if (is(what, "spin")) {
		for (;;)
			__asm__ volatile("pause");
	} else if (is(what, "time")) {
		struct dmtvm_hc_time a = {0}, b = {0};
		hc(DMTVM_HC_TIME, &a);
		hc(DMTVM_HC_TIME, &b);
		/* Monotonic since dmtvm started (well under 10 s), realtime after 2020. */
		int ok = a.ret == 0 && a.monotonic_ns > 0 && a.monotonic_ns < 10000000000ULL &&
			 b.monotonic_ns > a.monotonic_ns && a.realtime_ns > 1577836800000000000ULL;
		puts_(ok ? "time ok\n" : "time bad\n");
		exit_(0);
	} else if (is(what, "ports")) {
		/* Ports outside the hypercall range: writes vanish, reads give ~0. */
		uint8_t b;
		__asm__ volatile("outb %b0, $0x80" : : "a"(0x55));
		__asm__ volatile("inb $0x61, %b0" : "=a"(b));
		puts_(b == 0xff ? "ports ok\n" : "ports bad\n");
		exit_(0);
	} else if (is(what, "outb")) {
		/* A hypercall port takes one outl, nothing else. */
		__asm__ volatile("outb %b0, %w1" : : "a"(0), "d"((uint16_t)DMTVM_HC_PORT(0)));
	} else if (is(what, "xlate")) {
		xlate(what);
	} else if (is(what, "xlate-bench")) {
		xlate_bench();
	} else if (is(what, "xlate-errors") || is(what, "eptcheck")) {
		uint32_t rl;
		const uint8_t *reg = fdt_prop(fdt, "reg", &rl);
		uint64_t mem = (uint64_t)be32(reg + 8) << 32 | be32(reg + 12);
		if (is(what, "eptcheck"))
			eptcheck(mem);
		xlate_errors(mem);
	} else if (is(what, "nkvm")) {
		fdt_mem_size = fdt_mem(fdt);
		nkvm(word_after(what, "spin")	   ? 1
		     : word_after(what, "hostile") ? 2
		     : word_after(what, "bench")   ? 3
						   : 0);
	} else if (is(what, "hostile")) {
		hostile(fdt_mem(fdt));
	} else if (is(what, "hcstorm")) {
		hcstorm(fdt_mem(fdt), word_after(what, "forever") != NULL);
	} else if (is(what, "flood")) {
		flood();
	} else if (is(what, "straddle")) {
		/* A 24-byte CONSOLE structure whose last 16 bytes lie past RAM. */
		uint32_t gpa = (uint32_t)(fdt_mem(fdt) - 8);
		__asm__ volatile("outl %0, %w1" : : "a"(gpa), "d"((uint16_t)DMTVM_HC_PORT(0)));
	} else if (is(what, "gpa-top")) {
		__asm__ volatile("outl %0, %w1"
				 :
				 : "a"(0xfffffff8U), "d"((uint16_t)DMTVM_HC_PORT(1)));
	} else if (is(what, "hlt")) {
		__asm__ volatile("cli; hlt");
	} else if (is(what, "mmio")) {
		(void)*(volatile uint32_t *)(DMTVM_KERNEL_VIRT_BASE + (1ULL << 30) - 4096);
	}
	panic_("test guest: unknown tg= or fell through");
}
