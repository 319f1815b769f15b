/* SPDX-License-Identifier: MIT */
/*
 * test_hostmem.c: the modelled host memory and its EPT (vmm/hostmem.c)
 * without KVM. A guest identity table (VA = gPA, 2 MiB pages) in a malloc'd
 * "guest RAM" lets the model's own 2D walker (mmu_translate, x86-2d) walk
 * the EPT for EVERY 4 KiB gPA; each walk must end at the hPA the placement
 * says, before and after pvDMT TEAs move chunks.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dmtvm_abi.h"
#include "hostmem.h"
#include "mmu.h"

#define MEM  (32ULL << 20)
#define PML4 0x1000ULL
#define PDPT 0x2000ULL
#define PD   0x3000ULL

static uint8_t *ram;
static struct vmm_hostmem hm;

static const void *gpa_frame(void *ctx, uint64_t gpa)
{
	(void)ctx;
	return gpa < MEM ? ram + (gpa & ~0xfffULL) : NULL;
}

static void setup_ram(void)
{
	ram = aligned_alloc(4096, MEM);
	cr_assert(ram);
	memset(ram, 0, MEM);
	uint64_t *pml4 = (uint64_t *)(ram + PML4), *pdpt = (uint64_t *)(ram + PDPT);
	uint64_t *pd = (uint64_t *)(ram + PD);
	pml4[0] = PDPT | 3;
	pdpt[0] = PD | 3;
	for (uint64_t i = 0; i < MEM >> 21; i++)
		pd[i] = (i << 21) | 0x83;
}

static void init(unsigned shift, bool fragmented, uint64_t seed)
{
	setup_ram();
	struct vmm_hostmem_params p = {MEM, shift, fragmented, seed, true};
	char err[256];
	cr_assert_eq(vmm_hostmem_init(&hm, &p, ram, err, sizeof(err)), 0, "%s", err);
}

static void fini(void)
{
	vmm_hostmem_free(&hm);
	free(ram);
}

/* The model's 2D walk of va = gpa for every page equals the placement. */
static void check_all_pages(void)
{
	struct mmu_config cfg;
	mmu_config_default(&cfg);
	static struct mmu_ctx c;
	memset(&c, 0, sizeof(c));
	c.gpa = (struct mmu_space){gpa_frame, NULL};
	c.hpa = (struct mmu_space){vmm_hostmem_hpa_frame, &hm};
	c.cr3 = PML4;
	c.ept_root = hm.hv.ept_root;
	for (uint64_t gpa = 0; gpa < MEM; gpa += 4096) {
		struct mmu_walk_result r;
		mmu_translate(&cfg, &c, MMU_X86_2D, gpa + 8, MMU_LOAD, &r);
		cr_assert_eq(r.fault, MMU_OK, "gpa %#lx: fault %d", gpa, r.fault);
		uint64_t want = vmm_hostmem_hpa(&hm, gpa) + 8;
		cr_assert_eq(r.pa, want, "gpa %#lx: walk %#lx, placement %#lx", gpa, r.pa, want);
		/* ... and the frame there is the guest's own RAM. */
		cr_assert_eq(vmm_hostmem_hpa_frame(&hm, want), ram + gpa);
	}
}

Test(hostmem, contiguous_4k)
{
	init(12, false, 1);
	cr_assert_eq(vmm_hostmem_hpa(&hm, 0), VMM_HOSTMEM_RAM_BASE);
	cr_assert_eq(vmm_hostmem_hpa(&hm, MEM - 4096), VMM_HOSTMEM_RAM_BASE + MEM - 4096);
	/* 32 MiB of 4 KiB leaves: 16 leaf tables in the host TEA + PD, PDPT, PML4. */
	cr_assert_eq(hm.hv.ept_tables[1], 16);
	cr_assert_eq(hm.hv.ept_tables[2] + hm.hv.ept_tables[3] + hm.hv.ept_tables[4], 3);
	check_all_pages();
	fini();
}

Test(hostmem, fragmented_4k_deterministic_injective)
{
	init(12, true, 99);
	check_all_pages();
	uint64_t n = MEM >> 12;
	uint64_t *a = malloc(n * 8);
	memcpy(a, hm.cur, n * 8);
	/* Injective, inside the 2 x RAM region, and actually fragmented. */
	uint64_t adjacent = 0;
	for (uint64_t i = 0; i < n; i++) {
		cr_assert(a[i] >= VMM_HOSTMEM_RAM_BASE && a[i] < VMM_HOSTMEM_RAM_BASE + 2 * MEM);
		cr_assert_eq(hm.slot[(a[i] - VMM_HOSTMEM_RAM_BASE) >> 12], i + 1);
		adjacent += i && a[i] == a[i - 1] + 4096;
	}
	cr_assert_lt(adjacent, n / 100, "%lu of %lu pages adjacent", adjacent, n);
	fini();
	init(12, true, 99);
	cr_assert_eq(memcmp(a, hm.cur, n * 8), 0, "same seed, same placement");
	fini();
	init(12, true, 100);
	cr_assert_neq(memcmp(a, hm.cur, n * 8), 0, "another seed, another placement");
	fini();
	free(a);
}

Test(hostmem, fragmented_2m)
{
	init(21, true, 5);
	cr_assert_eq(hm.hv.ept_tables[1], 0);
	check_all_pages();
	fini();
}

Test(hostmem, holes_read_as_nothing)
{
	init(12, true, 7);
	uint64_t holes = 0;
	for (uint64_t h = VMM_HOSTMEM_RAM_BASE; h < VMM_HOSTMEM_RAM_BASE + 2 * MEM; h += 4096)
		holes += vmm_hostmem_hpa_frame(&hm, h) == NULL;
	cr_assert_eq(holes, MEM >> 12, "half the fragmented region is holes");
	cr_assert_null(vmm_hostmem_hpa_frame(&hm, 0x1000));
	fini();
}

Test(hostmem, pv_tea_moves_and_returns)
{
	init(12, true, 3);
	uint64_t gpa = 0x400000, len = 8 * 4096, hpa;
	uint64_t home = vmm_hostmem_hpa(&hm, gpa + 4096);
	cr_assert_eq(vmm_hostmem_alloc_tea(&hm, 1, gpa, len, &hpa), 0);
	cr_assert(hm.teas[0].moved);
	for (uint64_t off = 0; off < len; off += 4096)
		cr_assert_eq(vmm_hostmem_hpa(&hm, gpa + off), hpa + off);
	cr_assert_null(vmm_hostmem_hpa_frame(&hm, home), "the old frame backs nothing");
	check_all_pages();
	cr_assert_eq(vmm_hostmem_alloc_tea(&hm, 2, gpa + len - 4096, 4096, &hpa), -DMTVM_EINVAL);
	cr_assert_eq(vmm_hostmem_free_tea(&hm, gpa, len - 4096), -DMTVM_EINVAL);
	cr_assert_eq(vmm_hostmem_free_tea(&hm, gpa, len), 0);
	cr_assert_eq(vmm_hostmem_hpa(&hm, gpa + 4096), home, "back home");
	check_all_pages();
	cr_assert_eq(vmm_hostmem_free_tea(&hm, gpa, len), -DMTVM_EINVAL);
	fini();
}

Test(hostmem, pv_tea_contiguous_layout_stays)
{
	init(12, false, 1);
	uint64_t hpa;
	cr_assert_eq(vmm_hostmem_alloc_tea(&hm, 1, 0x400000, 16 * 4096, &hpa), 0);
	cr_assert_eq(hpa, VMM_HOSTMEM_RAM_BASE + 0x400000);
	cr_assert(!hm.teas[0].moved);
	fini();
}

Test(hostmem, pv_tea_2m_shared_chunk)
{
	init(21, true, 11);
	uint64_t hpa;
	/* Inside one 2 MiB host page: contiguous as is. */
	cr_assert_eq(vmm_hostmem_alloc_tea(&hm, 1, 0x400000, 4, &hpa), 0);
	cr_assert(!hm.teas[0].moved);
	/* Spanning that chunk and the next: moving it would move TEA 1's chunk
	 * too (fine) but is refused to keep TEAs' hPAs stable. */
	int r = vmm_hostmem_alloc_tea(&hm, 2, 0x5ff000, 2 * 4096, &hpa);
	cr_assert(r == -DMTVM_EINVAL || (r == 0 && vmm_hostmem_hpa(&hm, 0x600000) == hpa + 4096));
	/* Two fresh chunks: moved together, contiguous. */
	cr_assert_eq(vmm_hostmem_alloc_tea(&hm, 3, 0x1000000, 512 * 2 * 4096, &hpa), 0);
	cr_assert_eq(vmm_hostmem_hpa(&hm, 0x1200000), hpa + 0x200000);
	check_all_pages();
	fini();
}
