/* SPDX-License-Identifier: MIT */
/*
 * test_ptrace_mmu.c: Criterion tests of the ptrace platform's MMU
 * (vmm/platform/ptrace_mmu.c): the walk of the guest's x86-64 page tables
 * (pt_walk), gPA -> guest-RAM offset through memslots (pt_mem_off,
 * pt_mem_ptr), and the host mappings of a traced process kept as a TLB
 * (pt_tlb_fault: #PF error codes, MMIO, 2 MiB granules, 4 KiB runs and
 * batches; pt_tlb_invlpg; pt_tlb_flush; the tlb_max limit; pt_tlb_lookup),
 * plus pt_kread/pt_kwrite. Guest RAM is a calloc'd buffer with the page
 * tables built in it by hand; the traced processes are fakes:
 * pt_proc_inject and pt_proc_inject_mmaps below (the only functions
 * ptrace_mmu.c takes from other files) record every mmap/munmap the MMU
 * would run in a child, and each test asserts exactly what is mapped or
 * unmapped, where, with which rights and at which offset of guest RAM.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "dmtvm_abi.h"
#include "ptrace.h"

/* Page-table entry bits. */
#define P  0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

#define CR0_PE_PG 0x80000001ULL
#define CR0_WP	  (1ULL << 16)

#define KIB4	 0x1000ULL
#define MIB2	 0x200000ULL
#define RAM_SIZE (32ULL << 20)
#define RAM_FD	 7
#define MAPF	 ((uint64_t)(MAP_SHARED | MAP_FIXED | MAP_POPULATE))
#define RWX	 (PROT_READ | PROT_WRITE | PROT_EXEC)
#define RX	 (PROT_READ | PROT_EXEC)
#define RWONLY	 (PROT_READ | PROT_WRITE)

/* Page-table pages in guest RAM (gPA = offset in the buffer). */
#define PML4   0x1000ULL
#define PDPT_U 0x2000ULL /* PML4[0] */
#define PD_U   0x3000ULL /* PDPT_U[1]: UVA */
#define PT_U   0x4000ULL /* PD_U[0] */
#define PT_U2  0x5000ULL /* free for a test */
#define PDPT_K 0x6000ULL /* PML4[254]: KVA */
#define PD_K   0x7000ULL
#define PT_K   0x8000ULL /* PD_K[0] */
#define SPARE  0x9000ULL /* 0x9000.. 0xf000: free for a test */

#define UVA 0x40000000ULL	   /* PML4 0, PDPT 1, PD 0, PT 0 */
#define KVA DMTVM_KERNEL_VIRT_BASE /* PML4 254, PDPT 0, PD 0, PT 0 */

/* Data frames. */
#define F2M	0x400000ULL /* 2 MiB frames at 4 and 6 MiB */
#define F4K	0x800000ULL /* 4 KiB frames from 8 MiB up */
#define MMIO_PA 0xfee00000ULL

static uint8_t *ram;
static struct pt_vcpu c;

/* --- the fake traced processes: every injected call, in order ----------- */

enum { OP_MMAP = 1, OP_MUNMAP, OP_BATCH };
static const char *const op_name[] = {"?", "mmap", "munmap", "batch mmap"};

struct op {
	int kind;
	const struct pt_proc *p;
	unsigned batch; /* OP_BATCH: which pt_proc_inject_mmaps call (1, 2, ...) */
	struct pt_mmap m;
};

#define OPS_MAX 4096
static struct op ops[OPS_MAX];
static unsigned nops, nbatches;
static unsigned mmap_fail; /* the next mmaps of pt_proc_inject fail (-ENOMEM) */
static long batch_ret;	   /* what pt_proc_inject_mmaps returns */

long pt_proc_inject(struct pt_proc *p, long nr, long a0, long a1, long a2, long a3, long a4,
		    long a5)
{
	cr_assert_lt(nops, OPS_MAX);
	cr_assert(nr == SYS_mmap || nr == SYS_munmap, "unexpected injected system call %ld", nr);
	ops[nops++] = (struct op){.kind = nr == SYS_mmap ? OP_MMAP : OP_MUNMAP,
				  .p = p,
				  .m = {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3,
					(uint64_t)a4, (uint64_t)a5}};
	if (nr == SYS_mmap && mmap_fail) {
		mmap_fail--;
		return -ENOMEM;
	}
	return nr == SYS_mmap ? a0 : 0;
}

long pt_proc_inject_mmaps(struct pt_proc *p, const struct pt_mmap *m, unsigned n)
{
	nbatches++;
	cr_assert_gt(n, 0);
	cr_assert_leq(n, PT_BATCH_MAX);
	for (unsigned k = 0; k < n; k++) {
		cr_assert_lt(nops, OPS_MAX);
		ops[nops++] = (struct op){.kind = OP_BATCH, .p = p, .batch = nbatches, .m = m[k]};
	}
	return batch_ret;
}

static void ops_reset(void)
{
	nops = nbatches = 0;
}

static void expect_nops(unsigned n)
{
	cr_assert_eq(nops, n, "%u injected calls, expected %u", nops, n);
}

/* ops[i] is an mmap (OP_MMAP or OP_BATCH) of guest RAM at off, in p. */
static void expect_map(unsigned i, int kind, const struct pt_proc *p, uint64_t addr, uint64_t len,
		       int prot, uint64_t off)
{
	cr_assert_lt(i, nops, "call %u missing (%u calls)", i, nops);
	const struct op *o = &ops[i];
	cr_assert_eq(o->kind, kind, "call %u: %s, expected %s", i, op_name[o->kind], op_name[kind]);
	cr_assert_eq(o->p, p, "call %u: in the %s process, expected the %s one", i, o->p->name,
		     p->name);
	cr_assert_eq(o->m.addr, addr, "call %u: addr %#lx, expected %#lx", i, o->m.addr, addr);
	cr_assert_eq(o->m.len, len, "call %u: len %#lx, expected %#lx", i, o->m.len, len);
	cr_assert_eq(o->m.prot, (uint64_t)prot, "call %u: prot %#lx, expected %#x", i, o->m.prot,
		     prot);
	cr_assert_eq(o->m.flags, MAPF, "call %u: flags %#lx", i, o->m.flags);
	cr_assert_eq(o->m.fd, (uint64_t)RAM_FD, "call %u: fd %lu", i, o->m.fd);
	cr_assert_eq(o->m.off, off, "call %u: off %#lx, expected %#lx", i, o->m.off, off);
}

static void expect_mmap(unsigned i, const struct pt_proc *p, uint64_t addr, uint64_t len, int prot,
			uint64_t off)
{
	expect_map(i, OP_MMAP, p, addr, len, prot, off);
}

static void expect_batch(unsigned i, unsigned batch, const struct pt_proc *p, uint64_t addr,
			 uint64_t len, int prot, uint64_t off)
{
	expect_map(i, OP_BATCH, p, addr, len, prot, off);
	cr_assert_eq(ops[i].batch, batch, "call %u: in batch %u, expected %u", i, ops[i].batch,
		     batch);
}

static void expect_munmap(unsigned i, const struct pt_proc *p, uint64_t addr, uint64_t len)
{
	cr_assert_lt(i, nops, "call %u missing (%u calls)", i, nops);
	const struct op *o = &ops[i];
	cr_assert_eq(o->kind, OP_MUNMAP, "call %u: %s, expected munmap", i, op_name[o->kind]);
	cr_assert_eq(o->p, p, "call %u: in the %s process, expected the %s one", i, o->p->name,
		     p->name);
	cr_assert_eq(o->m.addr, addr, "call %u: munmap at %#lx, expected %#lx", i, o->m.addr, addr);
	cr_assert_eq(o->m.len, len, "call %u: munmap of %#lx, expected %#lx", i, o->m.len, len);
}

/* --- guest RAM, page tables, the vCPU ------------------------------------ */

static uint64_t *tab(uint64_t pa)
{
	return (uint64_t *)(ram + pa);
}

static unsigned ix(uint64_t va, int shift)
{
	return (unsigned)((va >> shift) & 511);
}

/* PML4 -> pdpt -> pd (-> pt unless 0) for va, every entry with flags; the
 * tables at RAM offsets pdpt, pd, pt are at gPA base + the offset. */
static void link_tables_at(uint64_t base, uint64_t va, uint64_t pdpt, uint64_t pd, uint64_t pt,
			   uint64_t flags)
{
	tab(PML4)[ix(va, 39)] = (base + pdpt) | flags;
	tab(pdpt)[ix(va, 30)] = (base + pd) | flags;
	if (pt)
		tab(pd)[ix(va, 21)] = (base + pt) | flags;
}

static void link_tables(uint64_t va, uint64_t pdpt, uint64_t pd, uint64_t pt, uint64_t flags)
{
	link_tables_at(0, va, pdpt, pd, pt, flags);
}

static uint64_t *pte(uint64_t pt, uint64_t va)
{
	return &tab(pt)[ix(va, 12)];
}

static void tlb_free(struct pt_tlb *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
	cr_assert_not_null(ram);
	memset(&c, 0, sizeof(c));
	c.mem = (struct pt_mem){.ram = ram, .ram_size = RAM_SIZE};
	c.cr3 = PML4;
	c.cr0 = CR0_PE_PG | CR0_WP;
	c.ram_fd = RAM_FD;
	c.tlb_max = PT_TLB_MAX;
	c.k = (struct pt_proc){.pid = 1000, .name = "kernel"};
	c.u = (struct pt_proc){.pid = 1001, .name = "user"};
	c.cpl = 3;
	ops_reset();
	mmap_fail = 0;
	batch_ret = 0;
	/* User space at UVA and the kernel window at KVA, all levels P|RW(|US). */
	link_tables(UVA, PDPT_U, PD_U, PT_U, P | RW | US);
	link_tables(KVA, PDPT_K, PD_K, PT_K, P | RW);
}

static void teardown(void)
{
	tlb_free(&c.k.tlb);
	tlb_free(&c.u.tlb);
	free(ram);
	ram = NULL;
}

/* A host fault of p (K: cpl 0, U: cpl 3) at va: pt_tlb_fault's result. */
static uint64_t ferr, fgpa;
static int fault(struct pt_proc *p, uint64_t va, bool fetch, bool write)
{
	ferr = fgpa = 0xbadbadbadULL;
	return pt_tlb_fault(&c, p, p == &c.u ? 3 : 0, va, fetch, write, &ferr, &fgpa);
}

/* A fault that must be the guest's #PF with error err, and map nothing. */
static void expect_pf(struct pt_proc *p, uint64_t va, bool fetch, bool write, uint64_t err)
{
	unsigned before = nops;
	int r = fault(p, va, fetch, write);
	cr_assert_eq(r, 1, "%s fault at %#lx (fetch %d write %d): %d, expected a #PF", p->name, va,
		     fetch, write, r);
	cr_assert_eq(ferr, err, "%s fault at %#lx (fetch %d write %d): error %#lx, expected %#lx",
		     p->name, va, fetch, write, ferr, err);
	cr_assert_eq(fgpa, 0xbadbadbadULL, "a #PF sets no gPA");
	cr_assert_eq(nops, before, "a #PF maps nothing (%u calls)", nops - before);
}

/* A fault that maps (0). */
static void expect_fill(struct pt_proc *p, uint64_t va, bool fetch, bool write)
{
	int r = fault(p, va, fetch, write);
	cr_assert_eq(r, 0, "%s fault at %#lx (fetch %d write %d): %d (error %#lx), expected a fill",
		     p->name, va, fetch, write, r, ferr);
}

static void expect_tlb(struct pt_proc *p, uint64_t va, uint64_t gpa)
{
	uint64_t g = 0;
	cr_assert_eq(pt_tlb_lookup(p, va, &g), 1, "%s: %#lx not in the TLB", p->name, va);
	cr_assert_eq(g, gpa, "%s: %#lx -> %#lx, expected %#lx", p->name, va, g, gpa);
}

static void expect_no_tlb(struct pt_proc *p, uint64_t va)
{
	uint64_t g = 0;
	cr_assert_eq(pt_tlb_lookup(p, va, &g), 0, "%s: %#lx still in the TLB (-> %#lx)", p->name,
		     va, g);
}

TestSuite(walk, .init = setup, .fini = teardown);
TestSuite(mem, .init = setup, .fini = teardown);
TestSuite(fault, .init = setup, .fini = teardown);
TestSuite(large, .init = setup, .fini = teardown);
TestSuite(run, .init = setup, .fini = teardown);
TestSuite(batch, .init = setup, .fini = teardown);
TestSuite(invlpg, .init = setup, .fini = teardown);
TestSuite(flush, .init = setup, .fini = teardown);
TestSuite(limit, .init = setup, .fini = teardown);
TestSuite(kcopy, .init = setup, .fini = teardown);

/* --- pt_walk -------------------------------------------------------------- */

static void walk_ok(uint64_t va, struct pt_walk *w)
{
	memset(w, 0xa5, sizeof(*w));
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va, w), 0, "walk of %#lx failed", va);
}

#define RIGHTS(w, W, U, X, UW, UU, UX)                                                             \
	do {                                                                                       \
		cr_assert_eq((w).w, W, "w");                                                       \
		cr_assert_eq((w).u, U, "u");                                                       \
		cr_assert_eq((w).x, X, "x");                                                       \
		cr_assert_eq((w).uw, UW, "uw");                                                    \
		cr_assert_eq((w).uu, UU, "uu");                                                    \
		cr_assert_eq((w).ux, UX, "ux");                                                    \
	} while (0)

Test(walk, leaf_4k)
{
	uint64_t va = UVA + 3 * KIB4 + 0x123;
	*pte(PT_U, va) = (F4K + 0x5000) | P | RW | US;
	struct pt_walk w;
	walk_ok(va, &w);
	cr_assert_eq(w.gpa, F4K + 0x5123);
	cr_assert_eq(w.size, KIB4);
	cr_assert_eq(w.leaf, pte(PT_U, va));
	RIGHTS(w, true, true, true, true, true, true);
	/* CR3's low bits (PWT, PCD, a PCID) are not part of the table address. */
	c.cr3 = PML4 | 0x18;
	walk_ok(va, &w);
	cr_assert_eq(w.gpa, F4K + 0x5123);
}

Test(walk, leaf_4k_rights_combine)
{
	uint64_t va = UVA + 0x7000, *leaf = pte(PT_U, va);
	struct pt_walk w;
	/* RO at the PDPT, NX at the PD, supervisor only at the leaf. */
	tab(PDPT_U)[1] = PD_U | P | US;
	tab(PD_U)[0] = PT_U | P | RW | US | NX;
	*leaf = F4K | P | RW;
	walk_ok(va, &w);
	RIGHTS(w, false, false, false, false, true, false);
	/* All upper levels open, the leaf RO and NX. */
	link_tables(UVA, PDPT_U, PD_U, PT_U, P | RW | US);
	*leaf = F4K | P | US | NX;
	walk_ok(va, &w);
	RIGHTS(w, false, true, false, true, true, true);
	/* Supervisor only at the PML4. */
	tab(PML4)[0] = PDPT_U | P | RW;
	*leaf = F4K | P | RW | US;
	walk_ok(va, &w);
	RIGHTS(w, true, false, true, true, false, true);
	/* NX only at the PML4, RO only at the PD. */
	tab(PML4)[0] = PDPT_U | P | RW | US | NX;
	tab(PD_U)[0] = PT_U | P | US;
	walk_ok(va, &w);
	RIGHTS(w, false, true, false, false, true, false);
	cr_assert_eq(w.gpa, F4K);
}

Test(walk, leaf_2m)
{
	uint64_t va = UVA + MIB2 + 0x12345;
	/* A PAT bit (12) in a 2 MiB leaf is not part of the frame. */
	tab(PD_U)[1] = F2M | 0x1000 | P | RW | US | PS | NX;
	tab(PDPT_U)[1] = PD_U | P | US; /* RO above */
	struct pt_walk w;
	walk_ok(va, &w);
	cr_assert_eq(w.gpa, F2M + 0x12345);
	cr_assert_eq(w.size, MIB2);
	cr_assert_eq(w.leaf, &tab(PD_U)[1]);
	RIGHTS(w, false, true, false, false, true, true);
}

Test(walk, leaf_1g)
{
	uint64_t va = 0x80000000ULL + 0x2345678;			  /* PML4 0, PDPT 2 */
	tab(PDPT_U)[2] = 0x40000000ULL | 0x1000 | 0x200000 | P | US | PS; /* RO; PAT, stray bits */
	tab(PML4)[0] = PDPT_U | P | RW | US | NX;
	struct pt_walk w;
	walk_ok(va, &w);
	cr_assert_eq(w.gpa, 0x40000000ULL + 0x2345678);
	cr_assert_eq(w.size, 1ULL << 30);
	cr_assert_eq(w.leaf, &tab(PDPT_U)[2]);
	RIGHTS(w, false, true, false, true, true, false);
}

Test(walk, not_present_at_each_level)
{
	uint64_t va = UVA + 0x5000;
	*pte(PT_U, va) = F4K | P | RW | US;
	uint64_t *e[4] = {&tab(PML4)[0], &tab(PDPT_U)[1], &tab(PD_U)[0], pte(PT_U, va)};
	struct pt_walk w;
	for (int l = 0; l < 4; l++) {
		uint64_t v = *e[l];
		*e[l] = v & ~P; /* every other bit kept */
		cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1, "level %d not present", l);
		*e[l] = 0;
		cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1, "level %d zero", l);
		*e[l] = v;
		walk_ok(va, &w);
	}
	/* The neighbour page in the same table was never mapped. */
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va + KIB4, &w), -1);
}

Test(walk, table_outside_memory)
{
	uint64_t va = UVA + 0x5000;
	*pte(PT_U, va) = F4K | P | RW | US;
	struct pt_walk w;
	c.cr3 = RAM_SIZE; /* the PML4 itself */
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1);
	c.cr3 = PML4;
	tab(PML4)[0] = RAM_SIZE | P | RW | US;
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1);
	tab(PML4)[0] = PDPT_U | P | RW | US;
	tab(PDPT_U)[1] = 0x10000000000ULL | P | RW | US;
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1);
	tab(PDPT_U)[1] = PD_U | P | RW | US;
	/* A table on the last page of RAM is inside. */
	tab(PD_U)[0] = (RAM_SIZE - KIB4) | P | RW | US;
	cr_assert_eq(pt_walk(&c.mem, c.cr3, va, &w), -1); /* its entries are zero */
	*pte(RAM_SIZE - KIB4, va) = F4K | P | RW | US;
	walk_ok(va, &w);
	cr_assert_eq(w.gpa, F4K);
	cr_assert_eq(w.leaf, pte(RAM_SIZE - KIB4, va));
}

Test(walk, tables_through_slots)
{
	/* gPA 4 GiB + x -> RAM x (the tables), gPA [0, 16 MiB) -> RAM 16 MiB + x. */
	const uint64_t G4 = 0x100000000ULL;
	const struct vmm_memslot slots[] = {{0, G4, 0x100000, 0}, {0, 0, 16 << 20, 16 << 20}};
	c.mem.slots = slots;
	c.mem.nslots = 2;
	c.cr3 = G4 + PML4;
	link_tables_at(G4, UVA, PDPT_U, PD_U, PT_U, P | RW | US);
	*pte(PT_U, UVA) = 0x5000 | P | RW | US;
	struct pt_walk w;
	walk_ok(UVA + 0x10, &w);
	cr_assert_eq(w.gpa, 0x5010);
	cr_assert_eq(w.leaf, pte(PT_U, UVA));
	/* gPA PML4 is RAM 16 MiB + PML4 through the second slot: zeros. */
	cr_assert_eq(pt_walk(&c.mem, PML4, UVA, &w), -1);
	/* A fault maps at the frame's slot offset. */
	expect_fill(&c.u, UVA + 0x10, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA, KIB4, RWX, (16 << 20) + 0x5000);
	expect_tlb(&c.u, UVA + 0x10, 0x5010);
}

/* --- pt_mem_off / pt_mem_ptr ---------------------------------------------- */

static void expect_off(const struct pt_mem *m, uint64_t gpa, uint64_t len, uint64_t want)
{
	uint64_t off = 0xdead;
	cr_assert_eq(pt_mem_off(m, gpa, len, &off), 0, "[%#lx, +%#lx) outside", gpa, len);
	cr_assert_eq(off, want, "[%#lx, +%#lx): off %#lx, expected %#lx", gpa, len, off, want);
	cr_assert_eq(pt_mem_ptr(m, gpa, len), m->ram + want);
}

static void expect_outside(const struct pt_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off;
	cr_assert_eq(pt_mem_off(m, gpa, len, &off), -1, "[%#lx, +%#lx) inside", gpa, len);
	cr_assert_null(pt_mem_ptr(m, gpa, len));
}

Test(mem, identity)
{
	const struct pt_mem *m = &c.mem;
	expect_off(m, 0, RAM_SIZE, 0);
	expect_off(m, 0x1234, 10, 0x1234);
	expect_off(m, RAM_SIZE - KIB4, KIB4, RAM_SIZE - KIB4);
	expect_off(m, RAM_SIZE, 0, RAM_SIZE); /* the empty range at the end */
	expect_outside(m, RAM_SIZE - KIB4, KIB4 + 1);
	expect_outside(m, RAM_SIZE, 1);
	expect_outside(m, RAM_SIZE + KIB4, 0);
	expect_outside(m, KIB4, UINT64_MAX); /* no wrap-around */
	expect_outside(m, UINT64_MAX, 2);
	expect_outside(m, MMIO_PA, 4);
}

Test(mem, slots)
{
	const uint64_t R = RAM_SIZE;
	const struct vmm_memslot slots[] = {
	    {0, 0, 0x100000, 0x400000},			 /* A */
	    {0, 0x100000, 0x100000, 0x500000},		 /* B: A's next gPA at A's next offset */
	    {0, 0x100000000ULL, 0x200000, 0x100000},	 /* C: 4 GiB -> 1 MiB */
	    {0, 0x200000000ULL, 0x200000, R - 0x100000}, /* D: its second half past RAM */
	};
	const struct pt_mem m = {.ram = ram, .ram_size = R, .slots = slots, .nslots = 4};
	expect_off(&m, 0x1000, KIB4, 0x401000);
	expect_off(&m, 0xff000, KIB4, 0x4ff000); /* A's last page */
	expect_off(&m, 0x100000, KIB4, 0x500000);
	expect_off(&m, 0x100000000ULL + 0x1234, 16, 0x101234);
	expect_off(&m, 0x100000000ULL, 0x200000, 0x100000);
	expect_off(&m, 0x200000000ULL, 0x100000, R - 0x100000);
	/* Straddling a slot end: outside, even into a slot that continues it. */
	expect_outside(&m, 0xff000, 2 * KIB4);
	expect_outside(&m, 0x1ff000, 2 * KIB4);
	expect_outside(&m, 0x100000000ULL + 0x1ff000, 2 * KIB4);
	/* Outside every slot. */
	expect_outside(&m, 0x200000, 1);
	expect_outside(&m, 0x100000000ULL + 0x200000, 1);
	expect_outside(&m, 0xfffff000ULL, KIB4);
	expect_outside(&m, 0x400000, KIB4); /* an offset that is in RAM is not a gPA */
	/* Inside D but past the end of RAM. */
	expect_outside(&m, 0x200000000ULL + 0x100000, KIB4);
	expect_outside(&m, 0x200000000ULL + 0xff000, 2 * KIB4);
}

/* --- pt_tlb_fault: #PF error codes ---------------------------------------- */

Test(fault, user_access_to_supervisor_page)
{
	*pte(PT_K, KVA) = F4K | P | RW; /* supervisor */
	expect_pf(&c.u, KVA, false, false, 0x5);
	expect_pf(&c.u, KVA, true, false, 0x15);
	expect_pf(&c.u, KVA + 8, false, true, 0x7);
	/* A user leaf under a supervisor-only PD, PDPT or PML4 entry. */
	uint64_t va = UVA + 0x3000;
	*pte(PT_U, va) = F4K | P | RW | US;
	uint64_t *e[3] = {&tab(PML4)[0], &tab(PDPT_U)[1], &tab(PD_U)[0]};
	for (int l = 0; l < 3; l++) {
		*e[l] &= ~US;
		expect_pf(&c.u, va, false, false, 0x5);
		expect_pf(&c.u, va, true, false, 0x15);
		*e[l] |= US;
	}
	expect_nops(0);
	/* The kernel may read the user page (and the U TLB stays empty). */
	tab(PD_U)[0] &= ~US;
	expect_fill(&c.k, va, false, false);
	expect_nops(1);
	expect_mmap(0, &c.k, va, KIB4, RWX, F4K);
	expect_no_tlb(&c.u, va);
}

Test(fault, write_to_readonly_page)
{
	uint64_t va = UVA + 0x2000;
	*pte(PT_U, va) = F4K | P | US; /* RO */
	expect_pf(&c.u, va, false, true, 0x7);
	/* RO at an upper level only. */
	*pte(PT_U, va) = F4K | P | RW | US;
	tab(PDPT_U)[1] &= ~RW;
	expect_pf(&c.u, va, false, true, 0x7);
	/* A fetch from an NX page. */
	tab(PDPT_U)[1] |= RW;
	*pte(PT_U, va) = F4K | P | RW | US | NX;
	expect_pf(&c.u, va, true, false, 0x15);
	tab(PD_U)[0] |= NX;
	*pte(PT_U, va) = F4K | P | RW | US;
	expect_pf(&c.u, va, true, false, 0x15);
	expect_nops(0);
	/* A read of the RO page maps it read-only (executable: NX clear). */
	tab(PD_U)[0] &= ~NX;
	*pte(PT_U, va) = F4K | P | US;
	expect_fill(&c.u, va, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, va, KIB4, RX, F4K);
}

Test(fault, not_present)
{
	uint64_t va = UVA + 0x7000;		     /* PT_U is empty */
	uint64_t far = UVA + 5 * MIB2 + 0x1000;	     /* no PD entry */
	uint64_t kva = KVA + 0x40000000ULL + 0x1000; /* no PDPT entry */
	for (int i = 0; i < 3; i++) {
		uint64_t a = i == 0 ? va : i == 1 ? far : kva;
		expect_pf(&c.u, a, false, false, 0x4);
		expect_pf(&c.u, a, false, true, 0x6);
		expect_pf(&c.u, a, true, false, 0x14);
		expect_pf(&c.k, a, false, false, 0x0);
		expect_pf(&c.k, a, false, true, 0x2);
		expect_pf(&c.k, a, true, false, 0x10);
	}
	expect_nops(0);
}

Test(fault, kernel_write_to_readonly_page_and_cr0_wp)
{
	*pte(PT_K, KVA) = F4K | P; /* supervisor, RO */
	expect_pf(&c.k, KVA, false, true, 0x3);
	c.cr0 &= ~CR0_WP;
	expect_fill(&c.k, KVA, false, true);
	expect_nops(1);
	expect_mmap(0, &c.k, KVA, KIB4, RWX, F4K);
	expect_tlb(&c.k, KVA + 0x10, F4K + 0x10);
	/* CR0.WP is for ring 0 only: a user write to a RO user page is still a #PF. */
	*pte(PT_U, UVA) = (F4K + KIB4) | P | US;
	expect_pf(&c.u, UVA, false, true, 0x7);
}

Test(fault, reserved_range_is_not_present)
{
	/* The guest maps the platform's slot 255 (4 KiB pages at its start)
	 * and the last page below it. */
	const uint64_t R = DMTVM_PLATFORM_RESERVED_BASE, below = R - KIB4;
	link_tables(R, SPARE, SPARE + 0x1000, SPARE + 0x2000, P | RW | US);
	*pte(SPARE + 0x2000, R) = F4K | P | RW | US;
	link_tables(below, SPARE + 0x3000, SPARE + 0x4000, SPARE + 0x5000, P | RW | US);
	*pte(SPARE + 0x5000, below) = (F4K + 0x10000) | P | RW | US;
	struct pt_walk w;
	walk_ok(R, &w); /* the tables do map it */
	expect_pf(&c.k, R, false, false, 0x0);
	expect_pf(&c.k, R, false, true, 0x2);
	expect_pf(&c.k, R, true, false, 0x10);
	expect_pf(&c.u, R, false, false, 0x4);
	expect_pf(&c.u, R + 8, false, true, 0x6);
	expect_pf(&c.k, PT_STUB_VA, false, false, 0x0);
	expect_pf(&c.k, PT_BATCH_VA, false, true, 0x2);
	expect_pf(&c.k, DMTVM_PLATFORM_RESERVED_END, false, false, 0x0);
	expect_pf(&c.k, DMTVM_LEGACY_DIRECT_MAP_BASE, false, false, 0x0);
	expect_nops(0);
	expect_fill(&c.u, below, false, true);
	expect_nops(1);
	expect_mmap(0, &c.u, below, KIB4, RWX, F4K + 0x10000);
}

Test(fault, second_fault_on_fully_mapped_page)
{
	*pte(PT_U, UVA) = F4K | P | US; /* RO */
	expect_fill(&c.u, UVA, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA, KIB4, RX, F4K);
	/* Mapped with every right the tables give: the host fault was the
	 * access they forbid (a write the caller did not decode as one). */
	expect_pf(&c.u, UVA, false, false, 0x7);
	expect_pf(&c.u, UVA, false, true, 0x7);
	expect_nops(1);
	/* The guest makes it writable (no invlpg needed for more rights): the
	 * spurious fault maps it again with them. */
	*pte(PT_U, UVA) = F4K | P | RW | US;
	expect_fill(&c.u, UVA, false, true);
	expect_nops(2);
	expect_mmap(1, &c.u, UVA, KIB4, RWX, F4K);
	expect_nops(2);
	cr_assert_eq(c.u.tlb.fills, 2);
	cr_assert_eq(c.st.fills, 2);
}

Test(fault, gpa_outside_memory_is_mmio)
{
	*pte(PT_U, UVA) = MMIO_PA | P | RW | US;
	int r = fault(&c.u, UVA + 0x123, false, true);
	cr_assert_eq(r, 2);
	cr_assert_eq(fgpa, MMIO_PA + 0x123);
	cr_assert_eq(ferr, 0xbadbadbadULL, "MMIO sets no error code");
	/* A 2 MiB leaf past the end of RAM, and one 4 KiB past its end. */
	tab(PD_U)[1] = 0xc0000000ULL | P | RW | US | PS;
	r = fault(&c.u, UVA + MIB2 + 0x54321, false, false);
	cr_assert_eq(r, 2);
	cr_assert_eq(fgpa, 0xc0000000ULL + 0x54321);
	*pte(PT_U, UVA + KIB4) = RAM_SIZE | P | RW | US;
	r = fault(&c.k, UVA + KIB4 + 8, false, false);
	cr_assert_eq(r, 2);
	cr_assert_eq(fgpa, RAM_SIZE + 8);
	expect_nops(0);
	/* Rights first: a user fault on a supervisor MMIO page is a #PF. */
	*pte(PT_U, UVA) = MMIO_PA | P | RW;
	expect_pf(&c.u, UVA, false, false, 0x5);
}

/* --- large pages ------------------------------------------------------------ */

Test(large, leaf_2m_maps_the_granule)
{
	tab(PD_U)[1] = F2M | P | RW | US | PS;
	expect_fill(&c.u, UVA + MIB2 + 0x5123, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA + MIB2, MIB2, RWX, F2M);
	expect_tlb(&c.u, UVA + MIB2, F2M);
	expect_tlb(&c.u, UVA + MIB2 + 0x1ff007, F2M + 0x1ff007);
	expect_no_tlb(&c.u, UVA + 2 * MIB2);
	cr_assert_eq(c.u.tlb.fills, 1);
	cr_assert_eq(c.st.fills, 1);
	cr_assert_eq(c.st.batches, 0);
	/* NX: no PROT_EXEC; RO: no PROT_WRITE; NX at the PDPT only. */
	tab(PD_U)[2] = (F2M + MIB2) | P | RW | US | PS | NX;
	tab(PD_U)[3] = F2M | P | US | PS;
	expect_fill(&c.u, UVA + 2 * MIB2 + 0x1fffff, false, true);
	expect_fill(&c.u, UVA + 3 * MIB2, true, false);
	expect_nops(3);
	expect_mmap(1, &c.u, UVA + 2 * MIB2, MIB2, RWONLY, F2M + MIB2);
	expect_mmap(2, &c.u, UVA + 3 * MIB2, MIB2, RX, F2M);
	tab(PDPT_U)[1] |= NX;
	tab(PD_U)[4] = F2M | P | RW | US | PS;
	expect_fill(&c.k, UVA + 4 * MIB2 + 0x3000, false, false);
	expect_nops(4);
	expect_mmap(3, &c.k, UVA + 4 * MIB2, MIB2, RWONLY, F2M);
}

Test(large, leaf_1g_maps_its_granule)
{
	const uint64_t va = 0x80000000ULL; /* PDPT_U[2]: gPA [0, 1 GiB) */
	tab(PDPT_U)[2] = 0 | P | RW | US | PS;
	expect_fill(&c.u, va + 0x600000 + 0x10, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, va + 0x600000, MIB2, RWX, 0x600000);
	/* A granule partly outside memory (RAM ends at 31 MiB through a slot):
	 * the fault's 4 KiB page only; past the end, MMIO. */
	const struct vmm_memslot slot = {0, 0, 31 << 20, 0};
	c.mem.slots = &slot;
	c.mem.nslots = 1;
	expect_fill(&c.u, va + (30 << 20) + 0x5010, false, false);
	expect_nops(2);
	expect_mmap(1, &c.u, va + (30 << 20) + 0x5000, KIB4, RWX, (30 << 20) + 0x5000);
	cr_assert_eq(fault(&c.u, va + (31 << 20) + 0x10, false, false), 2);
	cr_assert_eq(fgpa, (31 << 20) + 0x10);
	expect_nops(2);
}

/* --- 4 KiB leaves: the run around the fault --------------------------------- */

Test(run, table_of_512_consecutive_frames)
{
	for (unsigned i = 0; i < 512; i++)
		tab(PT_U)[i] = (F4K + i * KIB4) | P | RW | US;
	expect_fill(&c.u, UVA + 300 * KIB4 + 8, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA, MIB2, RWX, F4K);
	expect_tlb(&c.u, UVA, F4K);
	expect_tlb(&c.u, UVA + 511 * KIB4 + 1, F4K + 511 * KIB4 + 1);
	cr_assert_eq(nbatches, 0);
	cr_assert_eq(c.u.tlb.fills, 1);
	/* The kernel's own: RW, NX. */
	for (unsigned i = 0; i < 512; i++)
		tab(PT_K)[i] = (F4K + MIB2 + i * KIB4) | P | RW | NX;
	expect_fill(&c.k, KVA + 511 * KIB4, false, true);
	expect_nops(2);
	expect_mmap(1, &c.k, KVA, MIB2, RWONLY, F4K + MIB2);
}

Test(run, split_by_rights_change)
{
	/* Consecutive frames throughout; rights RW, RO, RW+NX; then supervisor. */
	for (unsigned i = 0; i < 350; i++) {
		uint64_t r = i < 100 ? RW | US : i < 200 ? US : i < 300 ? RW | US | NX : RW;
		tab(PT_U)[i] = (F4K + i * KIB4) | P | r;
	}
	expect_fill(&c.u, UVA + 150 * KIB4, false, false);
	expect_fill(&c.u, UVA + 20 * KIB4, false, true);
	expect_fill(&c.u, UVA + 299 * KIB4, false, false);
	expect_nops(3);
	expect_mmap(0, &c.u, UVA + 100 * KIB4, 100 * KIB4, RX, F4K + 100 * KIB4);
	expect_mmap(1, &c.u, UVA, 100 * KIB4, RWX, F4K);
	expect_mmap(2, &c.u, UVA + 200 * KIB4, 100 * KIB4, RWONLY, F4K + 200 * KIB4);
	cr_assert_eq(nbatches, 0);
	expect_tlb(&c.u, UVA + 199 * KIB4, F4K + 199 * KIB4);
	expect_no_tlb(&c.u, UVA + 300 * KIB4);
	expect_pf(&c.u, UVA + 300 * KIB4, false, false, 0x5);
}

Test(run, split_by_frame_gap)
{
	const uint64_t A = F4K, B = F4K + 0x100000;
	for (unsigned i = 0; i < 30; i++)
		tab(PT_U)[i] = (i < 10	 ? A + i * KIB4
				: i < 20 ? B + (i - 10) * KIB4
					 : A + (i - 10) * KIB4) |
			       P | RW | US;
	expect_fill(&c.u, UVA + 15 * KIB4, false, false);
	expect_fill(&c.u, UVA + 29 * KIB4, false, false);
	expect_fill(&c.u, UVA, false, false);
	expect_nops(3);
	expect_mmap(0, &c.u, UVA + 10 * KIB4, 10 * KIB4, RWX, B);
	expect_mmap(1, &c.u, UVA + 20 * KIB4, 10 * KIB4, RWX, A + 10 * KIB4);
	expect_mmap(2, &c.u, UVA, 10 * KIB4, RWX, A);
	/* Frames going down: every page its own run (3 runs: no batch). */
	for (unsigned i = 0; i < 3; i++)
		tab(PT_U2)[i] = (F4K + 0x200000 - i * KIB4) | P | RW | US;
	tab(PD_U)[1] = PT_U2 | P | RW | US;
	expect_fill(&c.u, UVA + MIB2 + KIB4, false, false);
	expect_nops(4);
	expect_mmap(3, &c.u, UVA + MIB2 + KIB4, KIB4, RWX, F4K + 0x200000 - KIB4);
	cr_assert_eq(nbatches, 0);
}

Test(run, run_past_the_end_of_memory)
{
	/* Consecutive frames running past the end of a slot: the run around the
	 * fault is not in one piece of memory, so only the fault's page is
	 * mapped (then the next one on its own fault). */
	const struct vmm_memslot slot = {0, 0, 16 << 20, 16 << 20};
	const uint64_t G4 = 0x100000000ULL;
	const struct vmm_memslot slots[] = {{0, G4, 0x100000, 0}, slot};
	c.mem.slots = slots;
	c.mem.nslots = 2;
	c.cr3 = G4 + PML4;
	link_tables_at(G4, UVA, PDPT_U, PD_U, PT_U, P | RW | US);
	for (unsigned i = 0; i < 4; i++)
		tab(PT_U)[i] = ((16 << 20) - 2 * KIB4 + i * KIB4) | P | RW | US;
	expect_fill(&c.u, UVA, false, false);
	expect_fill(&c.u, UVA + KIB4, false, false);
	expect_nops(2);
	expect_mmap(0, &c.u, UVA, KIB4, RWX, RAM_SIZE - 2 * KIB4);
	expect_mmap(1, &c.u, UVA + KIB4, KIB4, RWX, RAM_SIZE - KIB4);
	cr_assert_eq(fault(&c.u, UVA + 2 * KIB4, false, false), 2);
	cr_assert_eq(fgpa, 16 << 20);
}

/* --- 4 KiB leaves at scattered frames: one batch of every run --------------- */

static const uint64_t FA = F4K, FC = F4K + 0x100000, FD = F4K + 0x180000, FE = F4K + 0x200000,
		      FG = F4K + 0x300000;

/* PT_U: runs [0,2) FA RW, [2] FC RW, [3,6) FC+1.. RO, 6 not present, 7
 * supervisor (FD), 8 outside RAM, [9,11) FE RW+NX, [511] FG RW. */
static void scattered_table(void)
{
	uint64_t *t = tab(PT_U);
	t[0] = FA | P | RW | US;
	t[1] = (FA + KIB4) | P | RW | US;
	t[2] = FC | P | RW | US;
	t[3] = (FC + KIB4) | P | US;
	t[4] = (FC + 2 * KIB4) | P | US;
	t[5] = (FC + 3 * KIB4) | P | US;
	t[6] = (FC + 4 * KIB4) | RW | US; /* not present, frame bits set */
	t[7] = FD | P | RW;
	t[8] = MMIO_PA | P | RW | US;
	t[9] = FE | P | RW | US | NX;
	t[10] = (FE + KIB4) | P | RW | US | NX;
	t[511] = FG | P | RW | US;
}

Test(batch, scattered_frames_one_batch)
{
	scattered_table();
	expect_fill(&c.u, UVA + 4 * KIB4 + 0x10, false, false);
	expect_nops(5);
	cr_assert_eq(nbatches, 1);
	expect_batch(0, 1, &c.u, UVA, 2 * KIB4, RWX, FA);
	expect_batch(1, 1, &c.u, UVA + 2 * KIB4, KIB4, RWX, FC);
	expect_batch(2, 1, &c.u, UVA + 3 * KIB4, 3 * KIB4, RX, FC + KIB4);
	expect_batch(3, 1, &c.u, UVA + 9 * KIB4, 2 * KIB4, RWONLY, FE);
	expect_batch(4, 1, &c.u, UVA + 511 * KIB4, KIB4, RWX, FG);
	cr_assert_eq(c.st.batches, 1);
	cr_assert_eq(c.st.fills, 5);
	cr_assert_eq(c.u.tlb.fills, 5);
	const uint64_t want[12] = {FA, FA + KIB4, FC, FC + KIB4, FC + 2 * KIB4, FC + 3 * KIB4,
				   0,  0,	  0,  FE,	 FE + KIB4,	0};
	for (unsigned i = 0; i < 12; i++) {
		if (want[i])
			expect_tlb(&c.u, UVA + i * KIB4 + 1, want[i] + 1);
		else
			expect_no_tlb(&c.u, UVA + i * KIB4);
	}
	expect_tlb(&c.u, UVA + 511 * KIB4, FG);
	expect_pf(&c.u, UVA + 7 * KIB4, false, false, 0x5);
	expect_pf(&c.u, UVA + 6 * KIB4, false, false, 0x4);
	cr_assert_eq(fault(&c.u, UVA + 8 * KIB4, false, false), 2);
	cr_assert_eq(fgpa, MMIO_PA);
	expect_nops(5);
}

Test(batch, kernel_process_and_cr0_wp)
{
	scattered_table();
	/* Ring 0 maps the supervisor page too; WP clear makes the RO pages
	 * writable, so [2,6) is one run of consecutive frames. */
	c.cr0 &= ~CR0_WP;
	expect_fill(&c.k, UVA + 7 * KIB4, false, false);
	expect_nops(5);
	cr_assert_eq(nbatches, 1);
	expect_batch(0, 1, &c.k, UVA, 2 * KIB4, RWX, FA);
	expect_batch(1, 1, &c.k, UVA + 2 * KIB4, 4 * KIB4, RWX, FC);
	expect_batch(2, 1, &c.k, UVA + 7 * KIB4, KIB4, RWX, FD);
	expect_batch(3, 1, &c.k, UVA + 9 * KIB4, 2 * KIB4, RWONLY, FE);
	expect_batch(4, 1, &c.k, UVA + 511 * KIB4, KIB4, RWX, FG);
	expect_no_tlb(&c.u, UVA);
}

Test(batch, pages_already_mapped_are_not_mapped_again)
{
	scattered_table();
	expect_fill(&c.u, UVA + 4 * KIB4, false, false);
	expect_nops(5);
	/* Drop one page of four runs (U only has them): four munmaps. */
	ops_reset();
	pt_tlb_invlpg(&c, UVA);
	pt_tlb_invlpg(&c, UVA + 2 * KIB4);
	pt_tlb_invlpg(&c, UVA + 4 * KIB4);
	pt_tlb_invlpg(&c, UVA + 9 * KIB4 + 0xfff);
	expect_nops(4);
	expect_munmap(0, &c.u, UVA, KIB4);
	expect_munmap(1, &c.u, UVA + 2 * KIB4, KIB4);
	expect_munmap(2, &c.u, UVA + 4 * KIB4, KIB4);
	expect_munmap(3, &c.u, UVA + 9 * KIB4, KIB4);
	/* Exactly 4 runs left to map: one batch of these four pages. */
	ops_reset();
	expect_fill(&c.u, UVA + 2 * KIB4, false, true);
	expect_nops(4);
	cr_assert_eq(nbatches, 1);
	expect_batch(0, 1, &c.u, UVA, KIB4, RWX, FA);
	expect_batch(1, 1, &c.u, UVA + 2 * KIB4, KIB4, RWX, FC);
	expect_batch(2, 1, &c.u, UVA + 4 * KIB4, KIB4, RX, FC + 2 * KIB4);
	expect_batch(3, 1, &c.u, UVA + 9 * KIB4, KIB4, RWONLY, FE);
	cr_assert_eq(c.st.batches, 2);
	cr_assert_eq(c.u.tlb.fills, 9);
	/* One page missing from a run: fewer than 4 runs, so the fault's whole
	 * run (joined on equal rights and frames) is mapped again, its pages
	 * still in the TLB included (same frames, same rights: harmless). */
	ops_reset();
	pt_tlb_invlpg(&c, UVA + 4 * KIB4);
	expect_fill(&c.u, UVA + 4 * KIB4, false, false);
	expect_nops(2);
	expect_munmap(0, &c.u, UVA + 4 * KIB4, KIB4);
	expect_mmap(1, &c.u, UVA + 3 * KIB4, 3 * KIB4, RX, FC + KIB4);
	/* More rights for one page (no invlpg needed): it differs from its TLB
	 * value, the only page to map, so its run is (now [2,4), RW). */
	ops_reset();
	tab(PT_U)[3] = (FC + KIB4) | P | RW | US;
	expect_fill(&c.u, UVA + 3 * KIB4, false, true);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA + 2 * KIB4, 2 * KIB4, RWX, FC);
	expect_tlb(&c.u, UVA + 3 * KIB4, FC + KIB4);
}

Test(batch, failed_batch_maps_the_fault_run)
{
	scattered_table();
	batch_ret = -ENOMEM;
	expect_fill(&c.u, UVA + 4 * KIB4, false, false);
	/* What the failed batch may have mapped is untracked: all of it goes first. */
	expect_nops(7);
	cr_assert_eq(nbatches, 1);
	expect_munmap(5, &c.u, 0, PT_STUB_VA);
	expect_mmap(6, &c.u, UVA + 3 * KIB4, 3 * KIB4, RX, FC + KIB4);
	expect_tlb(&c.u, UVA + 4 * KIB4, FC + 2 * KIB4);
	cr_assert_eq(c.st.batches, 0);
	cr_assert_eq(c.u.tlb.fills, 1);
}

/* --- pt_tlb_invlpg ---------------------------------------------------------- */

Test(invlpg, unmaps_the_page_in_each_process_that_has_it)
{
	for (unsigned i = 0; i < 3; i++)
		tab(PT_U)[i] = (F4K + i * KIB4) | P | RW | US;
	expect_fill(&c.u, UVA, false, false);
	expect_fill(&c.k, UVA + KIB4, false, false);
	*pte(PT_K, KVA) = (F4K + 0x10000) | P | RW;
	expect_fill(&c.k, KVA, false, false);
	expect_nops(3);
	expect_mmap(0, &c.u, UVA, 3 * KIB4, RWX, F4K);
	expect_mmap(1, &c.k, UVA, 3 * KIB4, RWX, F4K);
	expect_mmap(2, &c.k, KVA, KIB4, RWX, F4K + 0x10000);
	ops_reset();
	pt_tlb_invlpg(&c, UVA + KIB4 + 0x234);
	expect_nops(2);
	expect_munmap(0, &c.k, UVA + KIB4, KIB4);
	expect_munmap(1, &c.u, UVA + KIB4, KIB4);
	expect_no_tlb(&c.k, UVA + KIB4);
	expect_no_tlb(&c.u, UVA + KIB4);
	expect_tlb(&c.k, UVA, F4K);
	expect_tlb(&c.u, UVA + 2 * KIB4, F4K + 2 * KIB4);
	/* Not mapped any more, never mapped in a known granule, unknown granule. */
	pt_tlb_invlpg(&c, UVA + KIB4);
	pt_tlb_invlpg(&c, UVA + 5 * KIB4);
	pt_tlb_invlpg(&c, UVA + MIB2);
	expect_nops(2);
	/* Only K has the kernel page. */
	pt_tlb_invlpg(&c, KVA + 0xfff);
	expect_nops(3);
	expect_munmap(2, &c.k, KVA, KIB4);
	expect_no_tlb(&c.k, KVA);
	/* The page faults in again. */
	ops_reset();
	expect_fill(&c.u, UVA + KIB4, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA, 3 * KIB4, RWX, F4K);
}

/*
 * x86: invlpg of any address in a 2 MiB page drops the whole translation
 * of that page (SDM vol. 3 4.10.2.3: a processor that caches a large page
 * as smaller entries still invalidates "all TLB entries corresponding to
 * the translation"; Linux flushes a huge PMD with one invlpg per 2 MiB).
 * The guest's new PDE must be what the next access sees, on every page.
 */
Test(invlpg, in_a_2m_page_drops_the_whole_page)
{
	tab(PD_U)[1] = F2M | P | RW | US | PS;
	expect_fill(&c.u, UVA + MIB2 + 0x3000, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA + MIB2, MIB2, RWX, F2M);
	ops_reset();
	tab(PD_U)[1] = (F2M + MIB2) | P | RW | US | PS; /* another frame */
	pt_tlb_invlpg(&c, UVA + MIB2);
	/* No page of the old 2 MiB page is left in the TLB or the host... */
	for (uint64_t a = UVA + MIB2; a < UVA + 2 * MIB2; a += KIB4) {
		expect_no_tlb(&c.u, a);
		bool unmapped = false;
		for (unsigned i = 0; i < nops; i++)
			unmapped |= ops[i].kind == OP_MUNMAP && ops[i].p == &c.u &&
				    ops[i].m.addr <= a && a - ops[i].m.addr < ops[i].m.len;
		cr_assert(unmapped, "%#lx of the old 2 MiB page is still mapped", a);
	}
	/* ...so the next access reaches the new frame. */
	ops_reset();
	expect_fill(&c.u, UVA + MIB2 + 0x3000, false, false);
	expect_nops(1);
	expect_mmap(0, &c.u, UVA + MIB2, MIB2, RWX, F2M + MIB2);
}

/* --- pt_tlb_flush --------------------------------------------------------- */

Test(flush, user_only_keeps_the_kernel_half)
{
	/* K maps a 2 MiB page on each side of DMTVM_USER_TOP and a user page. */
	const uint64_t top = DMTVM_USER_TOP, below = top - MIB2;
	link_tables(below, SPARE, SPARE + 0x1000, 0, P | RW);
	tab(SPARE + 0x1000)[511] = F2M | P | RW | PS;
	link_tables(top, SPARE + 0x2000, SPARE + 0x3000, 0, P | RW);
	tab(SPARE + 0x3000)[0] = (F2M + MIB2) | P | RW | PS | NX;
	*pte(PT_U, UVA) = F4K | P | RW | US;
	expect_fill(&c.k, below + 0x1000, false, false);
	expect_fill(&c.k, top + 0x1000, false, false);
	expect_fill(&c.k, UVA, false, false);
	expect_fill(&c.u, UVA, false, false);
	expect_nops(4);
	expect_mmap(0, &c.k, below, MIB2, RWX, F2M);
	expect_mmap(1, &c.k, top, MIB2, RWONLY, F2M + MIB2);
	ops_reset();
	pt_tlb_flush(&c, &c.k, true);
	expect_nops(1);
	expect_munmap(0, &c.k, 0, DMTVM_USER_TOP);
	cr_assert_eq(c.st.flushes, 1);
	expect_no_tlb(&c.k, UVA);
	expect_no_tlb(&c.k, below + 0x1ff000);
	expect_tlb(&c.k, top, F2M + MIB2);
	expect_tlb(&c.k, top + 0x1ff000, F2M + MIB2 + 0x1ff000);
	cr_assert_eq(c.k.tlb.used, 1);
	expect_tlb(&c.u, UVA, F4K); /* the other process is its own */
	/* The user half faults in again. */
	expect_fill(&c.k, UVA, false, false);
	expect_nops(2);
	expect_mmap(1, &c.k, UVA, KIB4, RWX, F4K);
}

Test(flush, full_empty_and_no_process)
{
	*pte(PT_K, KVA) = F4K | P | RW;
	*pte(PT_U, UVA) = F4K | P | RW | US;
	expect_fill(&c.k, KVA, false, false);
	expect_fill(&c.k, UVA, false, false);
	ops_reset();
	pt_tlb_flush(&c, &c.k, false);
	expect_nops(1);
	expect_munmap(0, &c.k, 0, PT_STUB_VA);
	expect_no_tlb(&c.k, KVA);
	expect_no_tlb(&c.k, UVA);
	cr_assert_eq(c.k.tlb.used, 0);
	cr_assert_eq(c.k.tlb.fills, 0);
	cr_assert_eq(c.st.flushes, 1);
	/* Nothing mapped: nothing to do, not counted. */
	pt_tlb_flush(&c, &c.k, false);
	pt_tlb_flush(&c, &c.k, true);
	pt_tlb_flush(&c, &c.u, false);
	expect_nops(1);
	cr_assert_eq(c.st.flushes, 1);
	/* No process (pid 0): nothing injected, the TLB left as it is. */
	expect_fill(&c.u, UVA, false, false);
	c.u.pid = 0;
	ops_reset();
	pt_tlb_flush(&c, &c.u, false);
	expect_nops(0);
	expect_tlb(&c.u, UVA, F4K);
}

Test(flush, many_granules)
{
	/* 300 user and 300 kernel 2 MiB pages in K: the TLB's table grows
	 * (rehashes) and a user-only flush rebuilds it with the kernel half. */
	for (unsigned i = 0; i < 300; i++) {
		tab(PD_U)[i] = (F2M + (i & 1) * MIB2) | P | RW | US | PS;
		tab(PD_K)[i] = (F2M + (~i & 1) * MIB2) | P | RW | PS;
	}
	for (unsigned i = 0; i < 300; i++) {
		expect_fill(&c.k, UVA + i * MIB2 + 0x1000 * (i % 512), false, false);
		expect_fill(&c.k, KVA + i * MIB2, false, true);
	}
	expect_nops(600);
	cr_assert_eq(c.k.tlb.used, 600);
	for (unsigned i = 0; i < 300; i++) {
		expect_mmap(2 * i, &c.k, UVA + i * MIB2, MIB2, RWX, F2M + (i & 1) * MIB2);
		expect_tlb(&c.k, UVA + i * MIB2 + 0x1234, F2M + (i & 1) * MIB2 + 0x1234);
		expect_tlb(&c.k, KVA + i * MIB2 + 0x5678, F2M + (~i & 1) * MIB2 + 0x5678);
	}
	ops_reset();
	pt_tlb_flush(&c, &c.k, true);
	expect_nops(1);
	expect_munmap(0, &c.k, 0, DMTVM_USER_TOP);
	cr_assert_eq(c.k.tlb.used, 300);
	for (unsigned i = 0; i < 300; i++) {
		expect_no_tlb(&c.k, UVA + i * MIB2);
		expect_tlb(&c.k, KVA + i * MIB2 + 0x1ff000, F2M + (~i & 1) * MIB2 + 0x1ff000);
	}
}

/* --- the tlb_max limit ------------------------------------------------------ */

Test(limit, full_flush_before_the_fill_that_would_exceed_it)
{
	c.tlb_max = 3;
	/* Single pages at PT_K 0, 2, 4 (3 runs: never a batch). */
	for (unsigned i = 0; i < 6; i += 2)
		tab(PT_K)[i] = (F4K + i * 0x10000) | P | RW | NX;
	tab(PD_K)[1] = F2M | P | RW | PS;
	expect_fill(&c.k, KVA, false, false);
	expect_fill(&c.k, KVA + 2 * KIB4, false, false);
	expect_fill(&c.k, KVA + MIB2, false, false); /* a 2 MiB fill counts one */
	expect_nops(3);
	cr_assert_eq(c.k.tlb.fills, 3);
	cr_assert_eq(c.st.flushes, 0);
	/* The 4th would exceed 3: everything below the stub goes first. */
	expect_fill(&c.k, KVA + 4 * KIB4, false, false);
	expect_nops(5);
	expect_munmap(3, &c.k, 0, PT_STUB_VA);
	expect_mmap(4, &c.k, KVA + 4 * KIB4, KIB4, RWONLY, F4K + 4 * 0x10000);
	cr_assert_eq(c.k.tlb.fills, 1);
	cr_assert_eq(c.st.flushes, 1);
	cr_assert_eq(c.st.fills, 4);
	expect_no_tlb(&c.k, KVA);
	expect_no_tlb(&c.k, KVA + MIB2);
	expect_tlb(&c.k, KVA + 4 * KIB4, F4K + 4 * 0x10000);
	/* The other process has its own count. */
	*pte(PT_U, UVA) = F4K | P | RW | US;
	expect_fill(&c.u, UVA, false, false);
	expect_nops(6);
	expect_mmap(5, &c.u, UVA, KIB4, RWX, F4K);
}

Test(limit, batch_flushes_first_when_it_would_exceed)
{
	c.tlb_max = 8;
	scattered_table(); /* 5 runs at cpl 3 */
	/* PT_U2 at UVA + 2 MiB: 4 single pages, frames going down. */
	tab(PD_U)[1] = PT_U2 | P | RW | US;
	for (unsigned i = 0; i < 4; i++)
		tab(PT_U2)[2 * i] = (F4K + 0x10000 - i * KIB4) | P | RW | US;
	expect_fill(&c.u, UVA + MIB2, false, false); /* a batch of 4: fills 4 */
	expect_nops(4);
	cr_assert_eq(c.u.tlb.fills, 4);
	cr_assert_eq(c.st.flushes, 0);
	/* 4 + 5 > 8: a full flush, then the batch of 5. */
	ops_reset();
	expect_fill(&c.u, UVA + 9 * KIB4, false, false);
	expect_nops(6);
	expect_munmap(0, &c.u, 0, PT_STUB_VA);
	for (unsigned i = 1; i < 6; i++)
		cr_assert_eq(ops[i].kind, OP_BATCH);
	expect_batch(1, 1, &c.u, UVA, 2 * KIB4, RWX, FA);
	expect_batch(5, 1, &c.u, UVA + 511 * KIB4, KIB4, RWX, FG);
	cr_assert_eq(c.u.tlb.fills, 5);
	cr_assert_eq(c.st.flushes, 1);
	expect_no_tlb(&c.u, UVA + MIB2);
	expect_tlb(&c.u, UVA + 9 * KIB4, FE);
}

Test(limit, failed_mmap_flushes_and_retries_once)
{
	*pte(PT_K, KVA) = F4K | P | RW;
	*pte(PT_K, KVA + 2 * KIB4) = (F4K + 0x10000) | P | RW;
	*pte(PT_K, KVA + 4 * KIB4) = (F4K + 0x20000) | P | RW;
	expect_fill(&c.k, KVA, false, false);
	/* The host refuses the mmap (out of mappings): flush, try once more. */
	mmap_fail = 1;
	expect_fill(&c.k, KVA + 2 * KIB4, false, false);
	expect_nops(4);
	expect_mmap(1, &c.k, KVA + 2 * KIB4, KIB4, RWX, F4K + 0x10000);
	expect_munmap(2, &c.k, 0, PT_STUB_VA);
	expect_mmap(3, &c.k, KVA + 2 * KIB4, KIB4, RWX, F4K + 0x10000);
	expect_no_tlb(&c.k, KVA);
	expect_tlb(&c.k, KVA + 2 * KIB4, F4K + 0x10000);
	cr_assert_eq(c.k.tlb.fills, 1);
	/* Refused twice: an error, nothing recorded. */
	mmap_fail = 2;
	cr_assert_eq(fault(&c.k, KVA + 4 * KIB4, false, false), -1);
	expect_nops(7);
	expect_munmap(5, &c.k, 0, PT_STUB_VA);
	expect_no_tlb(&c.k, KVA + 4 * KIB4);
}

/* --- pt_kread / pt_kwrite --------------------------------------------------- */

Test(kcopy, across_pages_and_rights)
{
	*pte(PT_K, KVA) = (F4K + 0x7000) | P | RW;
	*pte(PT_K, KVA + KIB4) = F4K | P | RW | NX; /* a lower frame */
	const char in[17] = "0123456789abcdef";
	char out[17] = {0};
	cr_assert_eq(pt_kwrite(&c, KVA + 4088, in, 16), 0);
	cr_assert_eq(memcmp(ram + F4K + 0x7000 + 4088, in, 8), 0);
	cr_assert_eq(memcmp(ram + F4K, in + 8, 8), 0);
	cr_assert_eq(pt_kread(&c, KVA + 4088, out, 16), 0);
	cr_assert_str_eq(out, in);
	/* RO: refused with CR0.WP, written without. */
	*pte(PT_K, KVA + KIB4) = F4K | P;
	cr_assert_eq(pt_kwrite(&c, KVA + KIB4, "x", 1), -1);
	cr_assert_eq(pt_kread(&c, KVA + KIB4, out, 1), 0);
	c.cr0 &= ~CR0_WP;
	cr_assert_eq(pt_kwrite(&c, KVA + KIB4, "x", 1), 0);
	cr_assert_eq(ram[F4K], 'x');
	/* Not mapped, or a frame outside RAM. */
	cr_assert_eq(pt_kread(&c, KVA + 4090, out, 16), 0);
	cr_assert_eq(pt_kread(&c, KVA + 2 * KIB4 - 4, out, 8), -1);
	*pte(PT_K, KVA + 2 * KIB4) = MMIO_PA | P | RW;
	cr_assert_eq(pt_kread(&c, KVA + 2 * KIB4, out, 1), -1);
	expect_nops(0);
}
