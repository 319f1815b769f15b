/* SPDX-License-Identifier: MIT */
/*
 * test_ept12.c: host unit tests of L1 dmtvm's pieces that need no KVM:
 * the EPT12 builder (vmm/ept12.c), checked against an independent walker
 * (hostmm/pgtable.c's pt_lookup over a struct physmem holding the
 * pool's bytes at their L1 gPAs), and the image's default /init arguments
 * (vmm/args.c vmm_bootargs: nested.img's command line).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "args.h"
#include "ept12.h"
#include "pgtable.h"
#include "physmem.h"

#define POOL_GPA 0x3000000ULL /* where L1 pinned the tables */
#define RAM_GPA	 0x4000000ULL /* where L1 pinned L2's RAM (2 MiB aligned) */

/* Copies the pool into a physmem at its L1 gPAs: pt_lookup reads it there. */
static void load(struct physmem *pm, const struct ept12_layout *l, const uint8_t *pool)
{
	physmem_init(pm, "L1", 0, 1ULL << 40);
	for (uint64_t off = 0; off < l->size; off += 4096)
		memcpy(physmem_materialize(pm, POOL_GPA + off), pool + off, 4096);
}

static void check_tree(uint64_t mem, unsigned shift)
{
	struct ept12_layout l;
	char err[200];
	cr_assert_eq(ept12_layout(mem, shift, &l, err, sizeof(err)), 0, "%s", err);
	uint8_t *pool = aligned_alloc(4096, l.size);
	memset(pool, 0xa5, l.size); /* the builder must clear what it does not fill */
	ept12_build(&l, pool, POOL_GPA, RAM_GPA);
	struct physmem pm;
	load(&pm, &l, pool);
	uint64_t root = POOL_GPA + l.pml4_off;
	const uint64_t *tea = (const uint64_t *)pool;
	for (uint64_t g = 0; g < mem; g += 4096) {
		uint64_t pa = 0;
		cr_assert_eq(pt_lookup(&pm, PT_EPT, root, g + 8, &pa), 0, "L2 gPA %#lx unmapped",
			     g);
		cr_assert_eq(pa, RAM_GPA + g + 8, "L2 gPA %#lx -> %#lx", g, pa);
		/* DMT: the leaf of g is TEA entry g >> page_shift, in L2-gPA order. */
		uint64_t e = tea[g >> shift];
		cr_assert_eq(e & PTE_ADDR & ~((1ULL << shift) - 1),
			     RAM_GPA + (g & ~((1ULL << shift) - 1)));
		cr_assert_eq(e & 0xff, EPT_RWX | EPT_MT_WB | (shift == 21 ? EPT_PS : 0));
	}
	uint64_t pa;
	cr_expect_eq(pt_lookup(&pm, PT_EPT, root, mem, &pa), -1, "L2 gPA past RAM is mapped");
	physmem_free(&pm);
	free(pool);
}

Test(ept12, layout_64m_4k)
{
	struct ept12_layout l;
	char err[200];
	cr_assert_eq(ept12_layout(64ULL << 20, 12, &l, err, sizeof(err)), 0);
	/* 32 leaf tables (the TEA), 1 PD, 1 PDPT, 1 PML4. */
	cr_expect_eq(l.tea_pages, 32);
	cr_expect_eq(l.pd_pages, 1);
	cr_expect_eq(l.pdpt_off, 33 * 4096);
	cr_expect_eq(l.pml4_off, 34 * 4096);
	cr_expect_eq(l.size, 35 * 4096);
	cr_assert_eq(ept12_layout(3ULL << 30, 21, &l, err, sizeof(err)), 0);
	cr_expect_eq(l.tea_pages, 3); /* the 3 PDs are the leaves */
	cr_expect_eq(l.pd_pages, 0);
	cr_expect_eq(l.size, 5 * 4096);
}

Test(ept12, walks_4k)
{
	check_tree(64ULL << 20, 12);
}

Test(ept12, walks_2m)
{
	check_tree(64ULL << 20, 21);
}

Test(ept12, walks_4k_over_1g)
{
	check_tree((1ULL << 30) + (4ULL << 20), 12); /* two PDs */
}

/*
 * L2 RAM pinned in pieces (the L1 kernel pins at most 1 GiB per call): each
 * L2 gPA lands in its own piece's L1 run, pieces in a scrambled L1 order,
 * and the leaves stay one TEA in L2-gPA order.
 */
static void check_pieces(unsigned shift)
{
	const uint64_t mem = (1ULL << 30) + (512ULL << 20);
	const struct ept12_piece p[2] = {{0, 1ULL << 30, 0x80000000ULL},
					 {1ULL << 30, 512ULL << 20, RAM_GPA}};
	struct ept12_layout l;
	char err[200];
	cr_assert_eq(ept12_layout(mem, shift, &l, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ept12_pieces_ok(&l, p, 2, err, sizeof(err)), 0, "%s", err);
	uint8_t *pool = aligned_alloc(4096, l.size);
	memset(pool, 0xa5, l.size);
	ept12_build_pieces(&l, pool, POOL_GPA, p, 2);
	struct physmem pm;
	load(&pm, &l, pool);
	uint64_t root = POOL_GPA + l.pml4_off;
	const uint64_t *tea = (const uint64_t *)pool;
	for (uint64_t g = 0; g < mem; g += 4096) {
		const struct ept12_piece *q = &p[g >= p[1].l2_gpa];
		uint64_t pa = 0, want = q->l1_gpa + (g - q->l2_gpa);
		cr_assert_eq(pt_lookup(&pm, PT_EPT, root, g + 8, &pa), 0, "L2 gPA %#lx unmapped",
			     g);
		cr_assert_eq(pa, want + 8, "L2 gPA %#lx -> %#lx", g, pa);
		cr_assert_eq(tea[g >> shift] & PTE_ADDR & ~((1ULL << shift) - 1),
			     want & ~((1ULL << shift) - 1));
	}
	uint64_t pa;
	cr_expect_eq(pt_lookup(&pm, PT_EPT, root, mem, &pa), -1, "L2 gPA past RAM is mapped");
	physmem_free(&pm);
	free(pool);
}

Test(ept12, pieces_4k)
{
	check_pieces(12);
}

Test(ept12, pieces_2m)
{
	check_pieces(21);
}

Test(ept12, pieces_bad)
{
	struct ept12_layout l;
	char err[200];
	cr_assert_eq(ept12_layout(4ULL << 20, 21, &l, err, sizeof(err)), 0);
	struct ept12_piece gap[2] = {{0, 2ULL << 20, 0}, {4ULL << 20, 2ULL << 20, 4ULL << 20}};
	cr_expect_eq(ept12_pieces_ok(&l, gap, 2, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "EPT12 piece 1 (L2 gPA 0x400000, 0x200000 bytes at L1 gPA "
			      "0x400000): expected L2 gPA 0x200000 and a multiple of 2048 KiB");
	struct ept12_piece odd[2] = {{0, 2ULL << 20, 0}, {2ULL << 20, 2ULL << 20, 0x1000}};
	cr_expect_eq(ept12_pieces_ok(&l, odd, 2, err, sizeof(err)), -1); /* not 2 MiB aligned */
	cr_expect_eq(ept12_pieces_ok(&l, gap, 1, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "EPT12 pieces cover 0x200000 bytes of L2 RAM, expected 0x400000");
}

Test(ept12, bad_sizes)
{
	struct ept12_layout l;
	char err[200];
	cr_expect_eq(ept12_layout(0, 12, &l, err, sizeof(err)), -1);
	cr_expect_eq(ept12_layout(3ULL << 20, 12, &l, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "EPT12 for 3145728 bytes of L2 RAM: need a multiple of 2 MiB, at "
			      "most 512 GiB");
	cr_expect_eq(ept12_layout(1ULL << 40, 12, &l, err, sizeof(err)), -1);
	cr_expect_eq(ept12_layout(64ULL << 20, 13, &l, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "EPT12 leaf size 1 << 13: expected 4 KiB or 2 MiB");
}

Test(bootargs, image_default_args)
{
	char out[256], err[128];
	char *a[] = {"gups", "-m", "8M"};
	const char *img = "dmtvm.thp=off -- dmtvm run --mem=64M /l2.img -- hello";
	/* No arguments: the image's own command line, defaults included. */
	cr_assert_eq(vmm_bootargs(img, NULL, 0, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, img);
	/* Arguments replace the defaults; kernel options stay. */
	cr_assert_eq(vmm_bootargs(img, a, 3, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, "dmtvm.thp=off -- gups -m 8M");
	cr_assert_eq(vmm_bootargs("-- dmtvm run /l2.img", a, 1, out, sizeof(out), err, sizeof(err)),
		     0);
	cr_expect_str_eq(out, "-- gups");
	/* "--" inside a word is not the separator. */
	cr_assert_eq(vmm_bootargs("a--b x=--", a, 1, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, "a--b x=-- -- gups");
}
