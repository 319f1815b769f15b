/* SPDX-License-Identifier: MIT */
/*
 * test_walks.c: one cold walk per scheme over hand-built tables: exact
 * reference counts (DMT.md), exact translations, and fault results.
 */
#include <criterion/criterion.h>

#include "world.h"

static struct mmu_config cfg;
static struct world W;

static struct mmu_walk_result walk(enum mmu_scheme s, uint64_t va)
{
	struct mmu_walk_result r;

	mmu_translate(&cfg, &W.ctx, s, va, MMU_LOAD, &r);
	return r;
}

static void expect(enum mmu_scheme s, uint64_t va, uint32_t refs, uint64_t pa)
{
	struct mmu_walk_result r = walk(s, va);

	cr_expect_eq(r.fault, MMU_OK, "%s: fault %d (dim %d level %d)", mmu_scheme_name(s), r.fault,
		     r.fault_dim, r.fault_level);
	cr_expect_eq(r.refs, refs, "%s: %u refs, expected %u", mmu_scheme_name(s), r.refs, refs);
	cr_expect_eq(r.pa, pa, "%s: pa %#llx, expected %#llx", mmu_scheme_name(s),
		     (unsigned long long)r.pa, (unsigned long long)pa);
}

static void setup4k(void)
{
	mmu_config_default(&cfg);
	world_build(&W, 1, false);
}

static void setup2m(void)
{
	mmu_config_default(&cfg);
	world_build(&W, 2, false);
}

static void setup_nested(void)
{
	mmu_config_default(&cfg);
	world_build(&W, 1, true);
}

static void teardown(void)
{
	world_free(&W);
}

#define VA  (W_VA4K + 0x123456)
#define GPA (W_DATA4K + 0x123456)
#define HPA (GPA + W_OFF)

TestSuite(walks, .init = setup4k, .fini = teardown);

Test(walks, native_4k_is_4_refs)
{
	expect(MMU_X86_NATIVE, VA, 4, GPA);
	expect(MMU_X86_NATIVE, W_VA2M + 0x1234, 3, W_DATA2M + 0x1234);
}

Test(walks, one_gib_leaf_is_2_refs)
{
	/* data beyond the guest's RAM is fine: only tables are read */
	fx_map(&W.g, W.ctx.cr3, 0x7f8000000000ULL, 0x40000000ULL, 3, false);
	expect(MMU_X86_NATIVE, 0x7f8000000000ULL + 0x2345678, 2, 0x40000000ULL + 0x2345678);
	cr_expect_eq(walk(MMU_X86_NATIVE, 0x7f8000000000ULL).page_shift, 30);
}

Test(walks, x86_2d_4k_4k_is_24)
{
	expect(MMU_X86_2D, VA, 24, HPA);
	cr_expect_eq(walk(MMU_X86_2D, VA).page_shift, 12);
}

Test(walks, dmt_native_is_1)
{
	struct mmu_walk_result r = walk(MMU_DMT_NATIVE, VA);
	expect(MMU_DMT_NATIVE, VA, 1, GPA);
	cr_expect(r.dmt_hit);
	cr_expect(!r.fallback);
}

Test(walks, dmt_virt_is_3_pvdmt_is_2)
{
	expect(MMU_DMT_VIRT, VA, 3, HPA);
	expect(MMU_PVDMT, VA, 2, HPA);
}

Test(walks, pvdmt_without_host_contiguous_tea_is_3)
{
	W.ctx.guest_regs[0].tea_hpa = 0;
	expect(MMU_PVDMT, VA, 3, HPA);
}

Test(walks, fpt_native_2_virt_8)
{
	expect(MMU_FPT_NATIVE, VA, 2, GPA);
	expect(MMU_FPT, VA, 8, HPA);
}

Test(walks, agile_is_8_asap_fetches_24_overlapped)
{
	struct mmu_walk_result a = walk(MMU_ASAP, VA), x = walk(MMU_X86_2D, VA);

	expect(MMU_AGILE, VA, 3 + 1 + 4 + 1, HPA); /* cold: 1 ref faults into the fill */
	expect(MMU_ASAP, VA, 24, HPA);
	/* G2 and G1 rows (2 x (4 + 1) refs) overlap into one DRAM latency */
	cr_expect_eq(a.cycles, x.cycles - 9 * cfg.lat_dram);
}

Test(walks, ecpt_three_steps)
{
	struct mmu_walk_result r = walk(MMU_ECPT, VA);

	expect(MMU_ECPT, VA, 9 + 3 + 3, HPA);
	cr_expect_eq(r.cycles, 3 * cfg.lat_dram);
}

Test(walks, shadow_caller_kept_is_4)
{
	uint64_t sroot = fx_alloc(&W.h);

	fx_map(&W.h, sroot, VA & ~0xfffULL, HPA & ~0xfffULL, 1, false);
	W.ctx.shadow_root = sroot;
	expect(MMU_X86_SHADOW, VA, 4, HPA);
}

Test(walks, shadow_model_kept_cold_fills)
{
	/* cold: the shadow PML4E is empty (1 ref), exit + fill, retry (4 refs) */
	expect(MMU_X86_SHADOW, VA, 5, HPA);
}

Test(walks, register_miss_falls_back_to_radix)
{
	struct mmu_walk_result r = walk(MMU_DMT_NATIVE, W_VA2M + 8);

	cr_expect_eq(r.refs, 3);
	cr_expect(!r.dmt_hit);
	cr_expect(r.fallback);
	cr_expect_eq(r.pa, W_DATA2M + 8);
}

Test(walks, register_count_limits_registers)
{
	cfg.dmt_regs = 0;
	cr_expect_eq(walk(MMU_DMT_NATIVE, VA).refs, 4);
	cr_expect(walk(MMU_DMT_NATIVE, VA).fallback);
}

Test(walks, tea_entry_not_present_falls_back)
{
	/* a TEA slot without a PTE: the radix walk then faults at level 1 */
	struct mmu_walk_result r;

	*world_gentry(&W, VA, 1) = 0;
	r = walk(MMU_DMT_NATIVE, VA);
	cr_expect(r.fallback);
	cr_expect_eq(r.refs, 1 + 4);
	cr_expect_eq(r.fault, MMU_FAULT_NOT_PRESENT);
	cr_expect_eq(r.fault_level, 1);
}

Test(walks, not_present_at_each_level)
{
	for (int l = 4; l >= 1; l--) {
		struct mmu_walk_result r;
		uint64_t *e = world_gentry(&W, VA, l), save = *e;

		*e &= ~1ULL;
		r = walk(MMU_X86_NATIVE, VA);
		cr_expect_eq(r.fault, MMU_FAULT_NOT_PRESENT, "level %d", l);
		cr_expect_eq(r.fault_level, l);
		cr_expect_eq(r.refs, (uint32_t)(5 - l));
		r = walk(MMU_X86_2D, VA);
		cr_expect_eq(r.fault, MMU_FAULT_NOT_PRESENT, "2d level %d", l);
		cr_expect_eq(r.fault_dim, MMU_DIM_GUEST);
		cr_expect_eq(r.fault_level, l);
		*e = save;
	}
}

Test(walks, reserved_bit_at_each_level)
{
	for (int l = 4; l >= 1; l--) {
		struct mmu_walk_result r;
		uint64_t *e = world_gentry(&W, VA, l), save = *e;

		*e |= 1ULL << 50; /* above phys_bits = 46 */
		r = walk(MMU_X86_NATIVE, VA);
		cr_expect_eq(r.fault, MMU_FAULT_RESERVED, "level %d", l);
		cr_expect_eq(r.fault_level, l);
		*e = save;
	}
	/* PS in a PML4E is reserved too */
	{
		uint64_t *e = world_gentry(&W, VA, 4);
		*e |= 0x80;
		cr_expect_eq(walk(MMU_X86_NATIVE, VA).fault, MMU_FAULT_RESERVED);
		*e &= ~0x80ULL;
	}
}

Test(walks, table_outside_memory_is_a_fault_not_a_read)
{
	for (int l = 4; l >= 2; l--) {
		struct mmu_walk_result r;
		uint64_t *e = world_gentry(&W, VA, l), save = *e;

		/* points at a table far outside the 64 MiB guest memory */
		*e = (save & 0xfff) | 0x3fff0000000ULL;
		r = walk(MMU_X86_NATIVE, VA);
		cr_expect_eq(r.fault, MMU_FAULT_BAD_PA, "level %d", l);
		cr_expect_eq(r.fault_level, l - 1);
		*e = save;
	}
}

Test(walks, ept_fault_at_each_level)
{
	for (int l = 4; l >= 1; l--) {
		struct mmu_walk_result r;
		uint64_t *e = fx_walk_entry(&W.h, W.ctx.ept_root, GPA, l, true), save = *e;

		*e &= ~7ULL;
		r = walk(MMU_X86_2D, VA);
		cr_expect_eq(r.fault, MMU_FAULT_NOT_PRESENT, "ept level %d", l);
		cr_expect_eq(r.fault_dim, MMU_DIM_HOST);
		cr_expect_eq(r.fault_level, l);
		*e = save;
	}
}

Test(walks, ept_reserved_bits_at_each_level)
{
	for (int l = 4; l >= 1; l--) {
		struct mmu_walk_result r;
		uint64_t *e = fx_walk_entry(&W.h, W.ctx.ept_root, GPA, l, true), save = *e;

		*e |= 1ULL << 47; /* above phys_bits = 46 */
		r = walk(MMU_X86_2D, VA);
		cr_expect_eq(r.fault, MMU_FAULT_RESERVED, "ept level %d", l);
		cr_expect_eq(r.fault_dim, MMU_DIM_HOST);
		cr_expect_eq(r.fault_level, l);
		*e = (save & ~7ULL) | 2; /* write without read: misconfiguration */
		r = walk(MMU_X86_2D, VA);
		cr_expect_eq(r.fault, MMU_FAULT_RESERVED, "ept W-only level %d", l);
		*e = save;
	}
}

Test(walks, store_to_read_only_page_faults)
{
	uint64_t *e = world_gentry(&W, VA, 1);
	struct mmu_walk_result r;

	*e &= ~2ULL;
	mmu_translate(&cfg, &W.ctx, MMU_X86_NATIVE, VA, MMU_STORE, &r);
	cr_expect_eq(r.fault, MMU_FAULT_PROT);
	mmu_translate(&cfg, &W.ctx, MMU_X86_NATIVE, VA, MMU_LOAD, &r);
	cr_expect_eq(r.fault, MMU_OK);
}

TestSuite(walks2m, .init = setup2m, .fini = teardown);

Test(walks2m, x86_2d_2m_2m_is_15)
{
	expect(MMU_X86_2D, W_VA2M + 0x12345, 15, W_DATA2M + 0x12345 + W_OFF);
	cr_expect_eq(walk(MMU_X86_2D, W_VA2M + 0x12345).page_shift, 21);
	/* guest 4 KiB over host 2 MiB: 4 x (3 + 1) + 3 */
	expect(MMU_X86_2D, VA, 19, HPA);
	cr_expect_eq(walk(MMU_X86_2D, VA).page_shift, 12);
}

TestSuite(nested, .init = setup_nested, .fini = teardown);

#define NHPA (GPA + W_OFF12 + W_OFF)

Test(nested, true_3d_is_124)
{
	expect(MMU_X86_3D, VA, 124, NHPA);
}

Test(nested, pvdmt_nested_is_3)
{
	expect(MMU_PVDMT_NESTED, VA, 3, NHPA);
}

Test(nested, ept02_caller_kept_is_24)
{
	uint64_t tea;

	W.ctx.ept02_root = fx_ept_linear(&W.h, W_GSIZE, W_OFF12 + W_OFF, 1, &tea);
	expect(MMU_X86_NESTED_EPT02, VA, 24, NHPA);
}

Test(nested, ept02_model_kept_cold_counts_fill_probes)
{
	/* cold composed EPT02: each of the 5 host translations first finds an
	 * empty EPT02 (1 ref, or 4 once the upper levels exist), exits, fills */
	struct mmu_walk_result r = walk(MMU_X86_NESTED_EPT02, VA);

	cr_expect_eq(r.fault, MMU_OK);
	cr_expect_eq(r.pa, NHPA);
	cr_expect_gt(r.refs, 24);
}
