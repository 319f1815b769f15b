/* SPDX-License-Identifier: MIT */
/*
 * test_sim.c: the simulator: TLB hits cost nothing, walk caches skip upper
 * levels, register misses are counted, shadow fills and invalidations,
 * trajectory histograms of known walks, skipped schemes.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

static void setup(void)
{
	mmu_config_default(&cfg);
	cfg.pwc = false;
	world_build(&W, 1, false);
}

static void one(uint64_t va, enum mmu_kind kind)
{
	struct mmu_access a = {.va = va, .size = 8, .kind = (uint8_t)kind, .vcpu = 0};

	mmu_sim_run(sim, &W.ctx, &a, 1);
}

static const struct mmu_counters *C(enum mmu_scheme s)
{
	return mmu_sim_counters(sim, s);
}

#define VA (W_VA4K + 0x123456)

TestSuite(sim, .init = setup, .fini = sim_fixture_fini);

Test(sim, tlb_hit_costs_no_refs)
{
	mk(MMU_ALL_SCHEMES);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_2D)->refs, 24);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4);
	one(VA + 8, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_2D)->refs, 24);
	cr_expect_eq(C(MMU_X86_2D)->tlb_l1_hits, 1);
	cr_expect_eq(C(MMU_X86_2D)->tlb_misses, 1);
	cr_expect_eq(C(MMU_X86_2D)->walks, 1);
	cr_expect_eq(C(MMU_X86_2D)->accesses[MMU_LOAD], 2);
	cr_expect_eq(C(MMU_DMT_VIRT)->refs, 3);
	cr_expect_eq(C(MMU_PVDMT)->refs, 2);
	cr_expect_eq(C(MMU_DMT_NATIVE)->refs, 1);
	/* an instruction fetch looks in the iTLB (empty) then the STLB (hit) */
	one(VA, MMU_FETCH);
	cr_expect_eq(C(MMU_X86_2D)->tlb_l2_hits, 1);
	cr_expect_eq(C(MMU_X86_2D)->refs, 24);
	/* nested schemes do not apply to a non-nested context */
	cr_expect_eq(C(MMU_X86_3D)->skipped, 3);
	cr_expect_eq(C(MMU_X86_3D)->walks, 0);
}

Test(sim, cold_refs_are_served_by_dram_then_caches)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_DRAM], 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->walk_cycles, 4 * 200);
	/* next page, same PT page: L4..L2 lines now hit L1, the PTE line is new */
	one(VA + 0x10000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_L1], 3);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_DRAM], 5);
	cr_expect_eq(C(MMU_X86_NATIVE)->walk_cycles, 5 * 200 + 3 * 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs_dim_level[MMU_DIM_GUEST][1], 2);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs_hist[4], 2);
}

Test(sim, pwc_hit_skips_upper_levels)
{
	cfg.pwc = true;
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE) | MMU_SCHEME_BIT(MMU_X86_2D));
	one(VA, MMU_LOAD);
	/* 2D, within one walk: the guest tables share a 2 MiB gPA region, so the
	 * host walks for G3, G2, G1 hit the host PDE cache (1 ref each), and the
	 * data gPA (another 2 MiB of the same 1 GiB) the PDPTE cache (2 refs):
	 * (4 + 1) + 3 x (1 + 1) + 2 = 13 refs, 4 PWC hits */
	cr_expect_eq(C(MMU_X86_2D)->refs, 13);
	cr_expect_eq(C(MMU_X86_2D)->served[MMU_SRV_PWC], 4);
	/* another 4 KiB page under the same PDE: PDE cache hit -> only the PTE */
	one(VA + 0x1000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_PWC], 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs_hist[1], 1);
	/* 2D: guest PDE cache gives the PT page's hPA; the host PDE cache covers
	 * the data gPA's 2 MiB region: PTE read + 1 host ref (its EPT PTE) */
	cr_expect_eq(C(MMU_X86_2D)->refs, 13 + 2);
	cr_expect_eq(C(MMU_X86_2D)->served[MMU_SRV_PWC], 4 + 2);
	/* another 1 GiB region of the same 512 GiB: PML4E cache hit, then the
	 * PDPTE and the 2 MiB PDE leaf */
	one(W_VA2M + 0x5000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1 + 2);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_PWC], 2);
}

Test(sim, register_miss_counts_fallback)
{
	mk(MMU_SCHEME_BIT(MMU_DMT_NATIVE) | MMU_SCHEME_BIT(MMU_DMT_VIRT));
	one(W_VA2M + 64, MMU_LOAD);
	cr_expect_eq(C(MMU_DMT_NATIVE)->dmt_misses, 1);
	cr_expect_eq(C(MMU_DMT_NATIVE)->dmt_fallbacks, 1);
	cr_expect_eq(C(MMU_DMT_NATIVE)->dmt_hits, 0);
	cr_expect_eq(C(MMU_DMT_NATIVE)->refs, 3);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_DMT_NATIVE)->dmt_hits, 1);
	/* dmt-virt: the fallback's 3 guest-table gPAs and the data gPA hit the
	 * host register (4), then 1 guest + 2 host register hits */
	cr_expect_eq(C(MMU_DMT_VIRT)->dmt_hits, 4 + 3, "%llu",
		     (unsigned long long)C(MMU_DMT_VIRT)->dmt_hits);
	cr_expect_eq(C(MMU_DMT_VIRT)->dmt_misses, 1);
}

Test(sim, trajectory_of_a_cold_2d_walk)
{
	mk(MMU_SCHEME_BIT(MMU_X86_2D));
	one(VA, MMU_LOAD);
	for (unsigned i = 0; i < MMU_NTRAJ; i++)
		cr_expect_eq(C(MMU_X86_2D)->traj[i], 1, "%s", mmu_traj_name(i));
}

Test(sim, trajectory_of_a_2m_2m_walk)
{
	world_free(&W);
	world_build(&W, 2, false);
	mk(MMU_SCHEME_BIT(MMU_X86_2D));
	one(W_VA2M + 0x1000, MMU_LOAD);
	for (unsigned i = 0; i < MMU_NTRAJ; i++) {
		const char *n = mmu_traj_name(i);
		/* guest levels 4..2 and host levels 4..2 only */
		unsigned exp = strchr(n, '1') ? 0 : 1;
		cr_expect_eq(C(MMU_X86_2D)->traj[i], exp, "%s", n);
	}
	cr_expect_eq(C(MMU_X86_2D)->refs, 15);
}

Test(sim, dmt_trajectory_uses_g1h1_g1_udh1)
{
	mk(MMU_SCHEME_BIT(MMU_DMT_VIRT));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_DMT_VIRT)->traj[15], 1); /* G1H1 */
	cr_expect_eq(C(MMU_DMT_VIRT)->traj[19], 1); /* G1 */
	cr_expect_eq(C(MMU_DMT_VIRT)->traj[23], 1); /* UDH1 */
	cr_expect_eq(C(MMU_DMT_VIRT)->refs, 3);
}

Test(sim, shadow_fill_then_4_refs_and_invalidation)
{
	struct mmu_ctx other = W.ctx;
	struct mmu_access a = {.va = VA, .size = 8, .kind = MMU_LOAD};

	other.asid = 2;
	mk(MMU_SCHEME_BIT(MMU_X86_SHADOW));
	one(VA, MMU_LOAD); /* 1 ref, fill exit, 4 refs */
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 1);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 5);
	mmu_sim_run(sim, &other, &a, 1); /* switch away: TLB flushed */
	mmu_sim_run(sim, &W.ctx, &a, 1); /* back: shadow kept, 4 refs */
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 2);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 5 + 5 + 4);
	/* the guest changes the PTE: invalidation exit, entry refilled */
	mmu_sim_invalidate(sim, &W.ctx, VA & ~0xfffULL, 4096);
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_invalidations, 1);
	one(VA, MMU_LOAD); /* PTE slot empty: 4 refs, fill, 4 refs */
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 3);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 14 + 8);
}

Test(sim, nested_schemes_on_a_nested_context)
{
	world_free(&W);
	world_build(&W, 1, true);
	mk(MMU_ALL_SCHEMES);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_3D)->refs, 124);
	cr_expect_eq(C(MMU_PVDMT_NESTED)->refs, 3);
	cr_expect_eq(C(MMU_X86_2D)->skipped, 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4);
	/* the composed EPT02 is warm now: after a CR3 switch, 24 refs */
	{
		struct mmu_ctx other = W.ctx;
		uint64_t before, fills;
		other.asid = 7;
		mmu_sim_run(sim, &other, &(struct mmu_access){.va = VA}, 1);
		before = C(MMU_X86_NESTED_EPT02)->refs;
		fills = C(MMU_X86_NESTED_EPT02)->shadow_fills;
		mmu_sim_run(sim, &W.ctx, &(struct mmu_access){.va = VA}, 1);
		cr_expect_eq(C(MMU_X86_NESTED_EPT02)->refs - before, 24);
		cr_expect_eq(C(MMU_X86_NESTED_EPT02)->shadow_fills, fills);
	}
}

Test(sim, faults_are_counted_and_not_cached)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	one(0x1000, MMU_LOAD);
	one(0x1000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->faults, 2);
	cr_expect_eq(C(MMU_X86_NATIVE)->tlb_misses, 2);
}

Test(sim, trace_records_are_accepted)
{
	uint64_t recs[3] = {
	    (VA & 0xffffffffffffULL) | (8ULL << 48) | (0ULL << 56),
	    (1ULL << 48) | (3ULL << 56), /* control: ROI begin */
	    ((VA + 8) & 0xffffffffffffULL) | (8ULL << 48) | (1ULL << 56),
	};
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	mmu_sim_run_trace(sim, &W.ctx, recs, 3);
	cr_expect_eq(C(MMU_X86_NATIVE)->accesses[MMU_LOAD], 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->accesses[MMU_STORE], 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->walks, 1);
}

/* A trace longer than mmu_sim_run_trace's chunk of accesses (65536), with
 * control records among the accesses, counts as its accesses run one call
 * each: every counter word of every scheme. */
Test(sim, long_trace_counts_as_its_accesses)
{
	enum { N = 150000 };
	uint64_t *recs = malloc(N * sizeof(*recs)), x = 12345;
	struct mmu_sim *one_by_one;
	char err[256];
	size_t walks = 0;

	cr_assert(recs);
	mk(MMU_ALL_SCHEMES);
	one_by_one = mmu_sim_create(&cfg, MMU_ALL_SCHEMES, err, sizeof(err));
	cr_assert(one_by_one, "%s", err);
	for (size_t i = 0; i < N; i++) {
		uint64_t va = W_VA4K + ((x >> 20) & ((4ULL << 20) - 8)), kind = (x >> 11) & 1;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i % 1000 == 999) { /* a control record (an ASID record) */
			recs[i] = (7ULL << 48) | (3ULL << 56);
			continue;
		}
		recs[i] = (va & 0xffffffffffffULL) | (8ULL << 48) | (kind << 56);
		mmu_sim_run(one_by_one, &W.ctx,
			    &(struct mmu_access){.va = va, .size = 8, .kind = (uint8_t)kind}, 1);
	}
	mmu_sim_run_trace(sim, &W.ctx, recs, N);
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const struct mmu_counters *a = C((enum mmu_scheme)s);
		const struct mmu_counters *b = mmu_sim_counters(one_by_one, (enum mmu_scheme)s);
		cr_expect(!memcmp(a, b, sizeof(*a)), "%s differs",
			  mmu_scheme_name((enum mmu_scheme)s));
		walks += a->walks;
	}
	cr_expect_eq(C(MMU_X86_NATIVE)->accesses[MMU_LOAD] + C(MMU_X86_NATIVE)->accesses[MMU_STORE],
		     N - N / 1000);
	cr_expect_gt(walks, 1000); /* the stream misses the TLBs */
	mmu_sim_destroy(one_by_one);
	free(recs);
}

/* A stream with both page sizes, faults, loads and stores, in calls of
 * varied length, with invlpg and full flushes between them. */
static void run_mixed(struct mmu_sim *s)
{
	uint64_t x = 99;

	for (int call = 0; call < 60; call++) {
		struct mmu_access a[700];
		size_t n = 1 + (size_t)(x >> 40) % 700;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = x >> 16,
				 va = (r & 1 ? W_VA2M : W_VA4K) + (r >> 2) % (4ULL << 20);
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			if (r % 97 == 0)
				va = W_VA4K + (64ULL << 20); /* unmapped: a fault */
			a[i] = (struct mmu_access){
			    .va = va & ~7ULL, .size = 8, .kind = (uint8_t)((r >> 30) & 1)};
		}
		mmu_sim_run(s, &W.ctx, a, n);
		if (call % 7 == 3)
			mmu_sim_invalidate(s, &W.ctx, W_VA4K + (x >> 44) % (4ULL << 20), 4096);
		if (call % 19 == 11)
			mmu_sim_invalidate(s, &W.ctx, 0, 0);
	}
}

/* With x86-2d in the simulator, x86-2d's walks count asap (the same walk,
 * levels 2 and 1 overlapped): every counter and step outcome must be those
 * of asap simulated alone. */
Test(sim, asap_counted_by_x86_2d_equals_asap_alone)
{
	for (int data = 0; data < 2; data++) {
		struct mmu_sim *alone;
		char err[256];
		cfg.pwc = true;
		cfg.cache_data = data;
		mk(MMU_SCHEME_BIT(MMU_X86_2D) | MMU_SCHEME_BIT(MMU_ASAP));
		alone = mmu_sim_create(&cfg, MMU_SCHEME_BIT(MMU_ASAP), err, sizeof(err));
		cr_assert(alone, "%s", err);
		run_mixed(sim);
		run_mixed(alone);
		cr_expect(!memcmp(C(MMU_ASAP), mmu_sim_counters(alone, MMU_ASAP),
				  sizeof(struct mmu_counters)),
			  "cache_data %d: counters differ", data);
		cr_expect(!memcmp(mmu_sim_steps(sim, MMU_ASAP), mmu_sim_steps(alone, MMU_ASAP),
				  sizeof(struct mmu_steps)),
			  "cache_data %d: step outcomes differ", data);
		/* the stream walks, faults, and asap's overlap shows in its cycles */
		cr_expect_gt(C(MMU_ASAP)->walks, 1000);
		cr_expect_gt(C(MMU_ASAP)->faults, 10);
		cr_expect_lt(C(MMU_ASAP)->walk_cycles, C(MMU_X86_2D)->walk_cycles);
		mmu_sim_destroy(alone);
	}
}

/* The frames a walk was given are remembered for the rest of its call
 * only: after memory changed between calls (here: every frame is gone),
 * the next call's walk must ask again (and fault). */
static const void *(*world_frame)(void *ctx, uint64_t pa);
static bool frames_gone;

static const void *going_frame(void *ctx, uint64_t pa)
{
	return frames_gone ? NULL : world_frame(ctx, pa);
}

Test(sim, frames_are_asked_again_in_the_next_call)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	world_frame = W.ctx.gpa.frame;
	W.ctx.gpa.frame = going_frame;
	frames_gone = false;
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->faults, 0);
	cr_expect_eq(C(MMU_X86_NATIVE)->walks, 1);
	frames_gone = true;
	mmu_sim_invalidate(sim, &W.ctx, VA, 4096);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->walks, 2);
	cr_expect_eq(C(MMU_X86_NATIVE)->faults, 1, "a frame from the last call was used");
	W.ctx.gpa.frame = world_frame;
}

/* Software walks keep the upper levels (4..2) of a 2 MiB region for the
 * rest of their call only (struct mmu_upmemo): after the guest's PDE, then
 * the EPT's PDE of the data went away between calls, the next call's
 * software walks (ECPT's and FPT's 2D walks, a shadow fill) must fault. */
Test(sim, software_walks_read_upper_levels_again_in_the_next_call)
{
	static const enum mmu_scheme s[] = {MMU_ECPT, MMU_FPT, MMU_X86_SHADOW};
	struct mmu_walk_result res;
	uint64_t *pde, old;

	cfg.pwc = true;
	mk(MMU_SCHEME_BIT(MMU_ECPT) | MMU_SCHEME_BIT(MMU_FPT) | MMU_SCHEME_BIT(MMU_X86_SHADOW));
	mmu_translate(&cfg, &W.ctx, MMU_X86_NATIVE, VA, MMU_LOAD, &res);
	cr_assert_eq(res.fault, MMU_OK);
	for (int round = 0; round < 2; round++) {
		/* two accesses in the region in one call: the second one's
		 * software walks start at level 1 */
		struct mmu_access a[2] = {{.va = VA, .size = 8, .kind = MMU_LOAD},
					  {.va = VA + 0x1000, .size = 8, .kind = MMU_LOAD}};
		mmu_sim_run(sim, &W.ctx, a, 2);
		for (unsigned i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			cr_expect_eq(C(s[i])->faults, 0, "%s", mmu_scheme_name(s[i]));
		pde = round ? fx_walk_entry(&W.h, W.ctx.ept_root, res.pa, 2, true)
			    : world_gentry(&W, VA, 2);
		old = *pde;
		*pde = 0;
		mmu_sim_invalidate(sim, &W.ctx, VA, 4096);
		one(VA, MMU_LOAD);
		for (unsigned i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			cr_expect_eq(C(s[i])->faults, 1, "%s, %s PDE gone: upper levels kept",
				     mmu_scheme_name(s[i]), round ? "EPT" : "guest");
		*pde = old;
		mk(MMU_SCHEME_BIT(MMU_ECPT) | MMU_SCHEME_BIT(MMU_FPT) |
		   MMU_SCHEME_BIT(MMU_X86_SHADOW));
	}
}

Test(sim, reset_empties_everything)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	one(VA, MMU_LOAD);
	mmu_sim_reset(sim);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 0);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_DRAM], 4);
}

Test(sim, nested_tlb_skips_host_walks)
{
	cfg.ntlb_entries = 16;
	mk(MMU_SCHEME_BIT(MMU_X86_2D));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_2D)->refs, 24);
	/* same guest tables (4 nested-TLB hits), a new data page (4 host refs) */
	one(VA + 0x1000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_2D)->refs, 24 + 4 + 4);
	cr_expect_eq(C(MMU_X86_2D)->served[MMU_SRV_PWC], 4);
}

Test(sim, data_accesses_in_the_cache_model_when_asked)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NATIVE)->data_cycles, 0);
	cfg.cache_data = true;
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE)); /* a new simulator in place of the first */
	one(VA, MMU_LOAD);
	one(VA, MMU_STORE);
	cr_expect_eq(C(MMU_X86_NATIVE)->data_cycles, 200 + 4);
}

Test(sim, invlpg_drops_one_page)
{
	mk(MMU_SCHEME_BIT(MMU_X86_NATIVE));
	one(VA, MMU_LOAD);
	one(VA + 0x1000, MMU_LOAD);
	mmu_sim_invalidate(sim, &W.ctx, VA & ~0xfffULL, 4096);
	one(VA + 0x1000, MMU_LOAD); /* still cached */
	cr_expect_eq(C(MMU_X86_NATIVE)->walks, 2);
	one(VA, MMU_LOAD); /* dropped: walks again */
	cr_expect_eq(C(MMU_X86_NATIVE)->walks, 3);
	cr_expect_eq(C(MMU_X86_NATIVE)->shadow_invalidations, 0);
}

Test(sim, pvdmt_nested_falls_back_per_level)
{
	world_free(&W);
	world_build(&W, 1, true);
	W.ctx.n_ept12_regs = 0; /* L1 gave no EPT12 TEA */
	mk(MMU_SCHEME_BIT(MMU_PVDMT_NESTED));
	one(VA, MMU_LOAD);
	/* L2 PTE at its hPA (1); EPT12 radix walk, each EPT12 table's L1 gPA
	 * through the host register (4 x (1 + 1)); data L1 gPA host register (1) */
	cr_expect_eq(C(MMU_PVDMT_NESTED)->refs, 1 + 8 + 1);
	cr_expect_eq(C(MMU_PVDMT_NESTED)->dmt_misses, 1);
	cr_expect_eq(C(MMU_PVDMT_NESTED)->dmt_fallbacks, 1);
	cr_expect_eq(C(MMU_PVDMT_NESTED)->dmt_hits, 1 + 4 + 1);
}

/* Garbage tables: every scheme must end each walk (fault or not) without
 * reading outside the frames it is given, and keep its counters consistent. */
Test(sim, random_table_bytes_never_crash)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct mmu_access acc[512];

	world_free(&W);
	world_build(&W, 1, false);
	mk(MMU_ALL_SCHEMES);
	for (int round = 0; round < 20; round++) {
		/* corrupt random entries of the guest's and the host's tables */
		for (int k = 0; k < 64; k++) {
			uint64_t *e;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			e = fx_entry(&W.g, 0x100000 + ((x >> 20) % 0x2000) * 8);
			if (e)
				*e = x;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			e = fx_entry(&W.h, 0x1000 + ((x >> 20) % 0x4000) * 8);
			if (e)
				*e = x & ~(3ULL << 62);
		}
		for (int i = 0; i < 512; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			acc[i] = (struct mmu_access){.va = (i & 1) ? W_VA4K + (x & 0x3fffff) : x,
						     .size = 8,
						     .kind = (uint8_t)(x % 3)};
		}
		mmu_sim_run(sim, &W.ctx, acc, 512);
		mmu_sim_invalidate(sim, &W.ctx, 0, 0);
	}
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const struct mmu_counters *c = C((enum mmu_scheme)s);
		if (mmu_scheme_setup((enum mmu_scheme)s) == MMU_SETUP_NESTED)
			continue;
		cr_expect_eq(c->walks, c->tlb_misses, "%s", mmu_scheme_name((enum mmu_scheme)s));
		cr_expect_eq(c->accesses[0] + c->accesses[1] + c->accesses[2], 20 * 512);
	}
}

/* ROI begin warms the model's own tables (mmu_sim_prefill): the shadow,
 * Agile and EPT02 entries a hypervisor made during the program's set-up are
 * there, so the first ROI walk takes no fill exit; nothing is counted. */
static bool counters_zero(enum mmu_scheme s)
{
	static const struct mmu_counters zero;

	return !memcmp(C(s), &zero, sizeof(zero));
}

Test(sim, prefill_warms_shadow_and_agile)
{
	mk(MMU_SCHEME_BIT(MMU_X86_SHADOW) | MMU_SCHEME_BIT(MMU_AGILE));
	mmu_sim_prefill(sim, &W.ctx);
	cr_expect(counters_zero(MMU_X86_SHADOW));
	cr_expect(counters_zero(MMU_AGILE));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 0);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 4);
	cr_expect_eq(C(MMU_AGILE)->shadow_fills, 0);
	cr_expect_eq(C(MMU_AGILE)->refs, 8);
	/* a second prefill finds every entry there and changes nothing */
	mmu_sim_prefill(sim, &W.ctx);
	one(VA + 0x10000, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 0);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 8);
}

Test(sim, prefill_off_leaves_tables_cold)
{
	cfg.own_tables_warm = false;
	mk(MMU_SCHEME_BIT(MMU_X86_SHADOW) | MMU_SCHEME_BIT(MMU_AGILE));
	mmu_sim_prefill(sim, &W.ctx);
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_SHADOW)->shadow_fills, 1);
	cr_expect_eq(C(MMU_X86_SHADOW)->refs, 5);
	cr_expect_eq(C(MMU_AGILE)->shadow_fills, 1);
}

Test(sim, prefill_warms_ept02)
{
	world_free(&W);
	world_build(&W, 1, true);
	mk(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02));
	mmu_sim_prefill(sim, &W.ctx);
	cr_expect(counters_zero(MMU_X86_NESTED_EPT02));
	one(VA, MMU_LOAD);
	cr_expect_eq(C(MMU_X86_NESTED_EPT02)->shadow_fills, 0);
	cr_expect_eq(C(MMU_X86_NESTED_EPT02)->refs, 24);
}
