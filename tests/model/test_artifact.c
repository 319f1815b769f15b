/* SPDX-License-Identifier: MIT */
/*
 * test_artifact.c: the artifact's simulator as configuration keys (each
 * behaviour alone, on hand-built tables: the cache fast path, line-tagged
 * walk caches covering 8 siblings, global walk caches, no walk cache on the
 * data walk, the warm-up), the artifact preset, per-step outcomes
 * (trajectory_served) and the designs by formula recomputed from them.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

static void setup(void)
{
	mmu_config_default(&cfg);
	world_build(&W, 1, false);
}

static void one_on(const struct mmu_ctx *ctx, uint64_t va, unsigned vcpu)
{
	struct mmu_access a = {.va = va, .size = 8, .kind = MMU_LOAD, .vcpu = (uint8_t)vcpu};

	mmu_sim_run(sim, ctx, &a, 1);
}

static void one(uint64_t va)
{
	one_on(&W.ctx, va, 0);
}

static const struct mmu_counters *C(enum mmu_scheme s)
{
	return mmu_sim_counters(sim, s);
}

static const struct mmu_steps *S(enum mmu_scheme s)
{
	return mmu_sim_steps(sim, s);
}

static unsigned step(const char *name)
{
	for (unsigned i = 0; i < MMU_NTRAJ; i++)
		if (!strcmp(mmu_traj_name(i), name))
			return i;
	cr_assert_fail("no step %s", name);
	return 0;
}

#define VA  (W_VA4K + 0x123456)
#define NAT MMU_SCHEME_BIT(MMU_X86_NATIVE)
#define V2D MMU_SCHEME_BIT(MMU_X86_2D)

TestSuite(artifact, .init = setup, .fini = sim_fixture_fini);

/*
 * A self-referencing PML4: PML4[1] points to the PML4 itself, so a VA with
 * PML4 index 1 and PDPT index 2 reads PML4+8 then PML4+16, the same line,
 * back to back. Cold, the first read misses (DRAM); the second hits L1,
 * unless the fast path serves the repeated line by memory.
 */
static uint64_t self_ref_tables(struct fx_mem *m, struct mmu_ctx *ctx)
{
	uint64_t p = fx_alloc(m), pd = fx_alloc(m), pt = fx_alloc(m);

	*fx_entry(m, p + 8) = p | FX_X86_TABLE;
	*fx_entry(m, p + 16) = pd | FX_X86_TABLE;
	*fx_entry(m, pd) = pt | FX_X86_TABLE;
	*fx_entry(m, pt) = 0x200000 | FX_X86_LEAF;
	memset(ctx, 0, sizeof(*ctx));
	ctx->gpa = (struct mmu_space){fx_frame, m};
	ctx->cr3 = p;
	ctx->asid = 1;
	return (1ULL << 39) | (2ULL << 30);
}

Test(artifact, fast_path_serves_a_repeated_line_by_memory)
{
	struct fx_mem m;
	struct mmu_ctx ctx;
	uint64_t va;

	fx_init(&m, 16 << 20, 0x1000);
	va = self_ref_tables(&m, &ctx);
	cfg.pwc = false;
	mk(NAT);
	one_on(&ctx, va, 0);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_L1], 1);
	cr_expect_eq(C(MMU_X86_NATIVE)->walk_cycles, 3 * 200 + 4);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G3")][MMU_STEP_L1], 1);

	cfg.cache_fast_path = true;
	mk(NAT);
	one_on(&ctx, va, 0);
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_L1], 0);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_DRAM], 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->walk_cycles, 4 * 200);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G3")][MMU_STEP_DRAM], 1);
	/* the line stays in L1: another line in between, then it hits again */
	mmu_sim_invalidate(sim, &ctx, 0, 0);
	one_on(&ctx, va, 0);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_L1], 3, "%llu",
		     (unsigned long long)C(MMU_X86_NATIVE)->served[MMU_SRV_L1]);
	fx_free(&m);
}

Test(artifact, fast_path_in_a_line_tagged_walk_cache_misses_the_repeated_tag)
{
	cfg.pwc_line_tags = true;
	mk(NAT);
	one(VA);
	one(VA + 0x1000); /* same PDE line: a PDE-cache hit, the PTE only */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1);
	cfg.cache_fast_path = true;
	mk(NAT);
	one(VA);
	one(VA + 0x1000); /* the same tags as the last probe of each cache: misses */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 4);
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_PWC], 0);
	one(W_VA2M + 0x1000); /* other tags in between */
	one(VA + 0x2000);     /* its PDE-cache tag is back: a hit */
	cr_expect_eq(C(MMU_X86_NATIVE)->served[MMU_SRV_PWC], 1);
}

Test(artifact, one_pde_cache_entry_covers_8_siblings)
{
	/* PDE index 0 and 1 of the 4 KiB VMA are siblings in one 8-entry line;
	 * PDE index 8 (16 MiB on) is in the next line */
	uint64_t far = W_VA4K + (16ULL << 20);

	fx_map(&W.g, W.ctx.cr3, far, W_DATA4K, 1, false);
	mk(NAT);
	one(W_VA4K);
	one(W_VA4K + (2ULL << 20)); /* exact tags: PDE miss, PDPTE hit: PDE + PTE */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 2);

	cfg.pwc_line_tags = true;
	mk(NAT);
	one(W_VA4K);
	one(W_VA4K + (2ULL << 20)); /* the sibling's PDE-cache entry: the PTE only */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G2")][MMU_STEP_PWC], 1);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G3")][MMU_STEP_ZERO], 1);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G1")][MMU_STEP_L1] +
			 S(MMU_X86_NATIVE)->served[step("G1")][MMU_STEP_DRAM],
		     2);
	one(far); /* next PDE line: the PDPTE cache (same 8-entry line) */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1 + 2);
	cr_expect_eq(S(MMU_X86_NATIVE)->served[step("G3")][MMU_STEP_PWC], 1);
	/* the translation is that of the VA, not of the sibling the entry was
	 * filled by */
	cr_expect_eq(C(MMU_X86_NATIVE)->faults, 0);
}

Test(artifact, line_tags_in_2d_make_the_next_tables_host_walk)
{
	cfg.pwc_line_tags = true;
	mk(V2D);
	one(VA);
	one(VA + 0x1000);
	/* the second walk: a guest PDE-cache hit (the PDE step is PWC, the PD
	 * page's host walk is skipped), then the PT page's host walk is made:
	 * the host set, probed with the PT page's gPA, hits its PDE line (H2 is
	 * PWC, H4 and H3 skipped), then its EPT PTE (H1) is read. In the first
	 * walk the host walks after the first one already hit the same line. */
	cr_expect_eq(S(MMU_X86_2D)->served[step("G2")][MMU_STEP_PWC], 1);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G2H1")][MMU_STEP_ZERO], 1);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G1H3")][MMU_STEP_ZERO], 2);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G1H2")][MMU_STEP_PWC], 2);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G1H1")][MMU_STEP_ZERO], 0);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G4H4")][MMU_STEP_ZERO], 1);
	cr_expect_eq(S(MMU_X86_2D)->walks, 2);
	cr_expect_eq(C(MMU_X86_2D)->faults, 0);
}

Test(artifact, global_walk_caches_are_shared_by_vcpus)
{
	mk(NAT);
	one_on(&W.ctx, VA, 0);
	one_on(&W.ctx, VA + 0x1000, 1); /* vCPU 1's own walk caches are cold */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 4);
	cfg.pwc_global = true;
	mk(NAT);
	one_on(&W.ctx, VA, 0);
	one_on(&W.ctx, VA + 0x1000, 1); /* vCPU 0's PDE-cache entry */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 4 + 1);
}

Test(artifact, data_walk_without_walk_caches)
{
	unsigned udh[4] = {step("UDH4"), step("UDH3"), step("UDH2"), step("UDH1")};

	mk(V2D);
	for (uint64_t o = 0; o < (4ULL << 20); o += 0x1000)
		one(W_VA4K + o);
	cr_expect_gt(S(MMU_X86_2D)->served[udh[2]][MMU_STEP_PWC], 0);
	cfg.pwc_data_walk = false;
	mk(V2D);
	for (uint64_t o = 0; o < (4ULL << 20); o += 0x1000)
		one(W_VA4K + o);
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(S(MMU_X86_2D)->served[udh[i]][MMU_STEP_PWC], 0);
		cr_expect_eq(S(MMU_X86_2D)->served[udh[i]][MMU_STEP_ZERO], 0);
	}
	/* the host walks of the guest tables still use the host walk caches */
	cr_expect_gt(S(MMU_X86_2D)->served[step("G1H2")][MMU_STEP_PWC], 0);
}

Test(artifact, preset_never_serves_udh_steps_from_a_walk_cache)
{
	char err[256];
	uint64_t x = 7;

	cr_assert_eq(mmu_config_preset(&cfg, "artifact", err, sizeof(err)), 0, "%s", err);
	cr_expect(cfg.pwc_line_tags && cfg.pwc_global && !cfg.pwc_data_walk &&
		  cfg.cache_fast_path && !cfg.tlb_2m && !cfg.ntlb_entries && cfg.cache_data);
	mk(MMU_ALL_SCHEMES);
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		one_on(&W.ctx, W_VA4K + (x & ((4ULL << 20) - 8)), (unsigned)(x >> 40) % 4);
	}
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		if (mmu_scheme_1d((enum mmu_scheme)s) || !mmu_scheme_has_traj((enum mmu_scheme)s))
			continue;
		for (const char *const *n =
			 (const char *const[]){"UDH4", "UDH3", "UDH2", "UDH1", NULL};
		     *n; n++)
			cr_expect_eq(S((enum mmu_scheme)s)->served[step(*n)][MMU_STEP_PWC], 0,
				     "%s %s", mmu_scheme_name((enum mmu_scheme)s), *n);
	}
	cr_expect_gt(S(MMU_X86_2D)->walks, 1000);
	/* with the fast path, a working set under one PDE-cache tag (4 MiB of
	 * VA) never hits the walk caches: each probe repeats the last tag */
	cr_expect_eq(S(MMU_X86_2D)->served[step("G2")][MMU_STEP_PWC], 0);
	cr_expect_eq(S(MMU_X86_2D)->served[step("G2")][MMU_STEP_ZERO], 0);
	/* unknown presets are named */
	cr_expect_eq(mmu_config_preset(&cfg, "nope", err, sizeof(err)), -1);
	cr_expect(strstr(err, "artifact"), "%s", err);
	cr_expect_eq(mmu_config_preset_name(0) ? strcmp(mmu_config_preset_name(0), "artifact") : 1,
		     0);
}

Test(artifact, warmup_accesses_are_not_counted)
{
	cfg.warmup_refs = 3;
	mk(NAT | V2D);
	one(VA);
	one(VA + 8);
	cr_expect_eq(C(MMU_X86_2D)->walks, 0);
	cr_expect_eq(C(MMU_X86_2D)->accesses[MMU_LOAD], 0);
	{
		struct mmu_access a[3] = {{VA + 16, 8, MMU_LOAD, 0, 0},
					  {VA + 0x1000, 8, MMU_LOAD, 0, 0},
					  {VA + 24, 8, MMU_LOAD, 0, 0}};
		mmu_sim_run(sim, &W.ctx, a, 3); /* the warm-up ends inside a batch */
	}
	cr_expect_eq(C(MMU_X86_2D)->accesses[MMU_LOAD], 2);
	cr_expect_eq(C(MMU_X86_2D)->walks, 1);
	cr_expect_eq(C(MMU_X86_2D)->tlb_l1_hits, 1); /* the TLB stayed warm */
	cr_expect_eq(C(MMU_X86_NATIVE)->refs, 1);    /* so did the walk caches */
	cr_expect_eq(S(MMU_X86_NATIVE)->walks, 1);
	mmu_sim_reset(sim); /* a reset starts the warm-up again */
	one(VA);
	cr_expect_eq(C(MMU_X86_2D)->walks, 0);
}

/* The cycles of a step averaged into Σ over walks (outcome x latency). */
static uint64_t step_cycles(const struct mmu_steps *st, const char *name)
{
	const uint64_t lat[MMU_NSTEP_OUT] = {0,		 cfg.lat_pwc, cfg.lat_l1,
					     cfg.lat_l2, cfg.lat_llc, cfg.lat_dram};
	uint64_t sum = 0;

	for (unsigned o = 0; o < MMU_NSTEP_OUT; o++)
		sum += st->served[step(name)][o] * lat[o];
	return sum;
}

static uint64_t sum_of(const struct mmu_steps *st, const char *const *names)
{
	uint64_t sum = 0;

	for (; *names; names++)
		sum += step_cycles(st, *names);
	return sum;
}

/* Runs a stream, reads the JSON back, and recomputes every linear design
 * from trajectory_served: level names for 4 KiB (L = 1) or 2 MiB (L = 2). */
static void check_linear_formulas(int L)
{
	static const char *const n4k[][9] = {
	    /* DMT, pvDMT, FPT, ECPT (- 12), Agile */
	    {"G1H1", "G1", "UDH1", NULL},
	    {"G1", "UDH1", NULL},
	    {"G3H3", "G3H1", "G3", "G1H3", "G1H1", "G1", "UDH3", "UDH1", NULL},
	    {"G1H1", "G1", "UDH1", NULL},
	    {"G4", "G3", "G2", "G1", "UDH4", "UDH3", "UDH2", "UDH1", NULL},
	};
	static const char *const n2m[][9] = {
	    {"G2H2", "G2", "UDH2", NULL},
	    {"G2", "UDH2", NULL},
	    {"G4H4", "G4H2", "G4", "G2H4", "G2H2", "G2", "UDH4", "UDH2", NULL},
	    {"G2H2", "G2", "UDH2", NULL},
	    {"G4", "G3", "G2", "G1", "UDH4", "UDH3", "UDH2", "UDH1", NULL},
	};
	static const enum mmu_design d[] = {MMU_DESIGN_DMT, MMU_DESIGN_PVDMT, MMU_DESIGN_FPT,
					    MMU_DESIGN_ECPT, MMU_DESIGN_AGILE};
	const char *const(*n)[9] = L == 1 ? n4k : n2m;
	uint64_t base = L == 1 ? W_VA4K : W_VA2M, x = 99, all = 0;
	struct mmu_counters *back = calloc(MMU_NSCHEMES, sizeof(*back));
	struct mmu_steps *st = calloc(MMU_NSCHEMES, sizeof(*st));
	const struct mmu_steps *v;
	uint32_t mask;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	mk(NAT | V2D | MMU_SCHEME_BIT(MMU_DMT_VIRT));
	for (int i = 0; i < 30000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		one(base + (x & ((4ULL << 20) - 8)));
		if (i % 100 == 99)
			mmu_sim_invalidate(sim, &W.ctx, 0, 0);
	}
	f = open_memstream(&buf, &len);
	mmu_report_json(sim, f);
	fclose(f);
	cr_assert_eq(mmu_report_json_read_steps(buf, back, st, &mask, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect(strstr(buf, "\"trajectory_served\": {\"G4H4\": {\"zero\": "), "%s", buf);
	cr_expect(strstr(buf, "\"formula\": {\"x86\": "));
	free(buf);
	for (int s = 0; s < MMU_NSCHEMES; s++)
		cr_expect(!memcmp(&st[s], mmu_sim_steps(sim, (enum mmu_scheme)s), sizeof(st[s])),
			  "%s steps differ after the round trip",
			  mmu_scheme_name((enum mmu_scheme)s));
	v = &st[MMU_X86_2D];
	cr_assert_gt(v->walks, 100);
	for (unsigned i = 0; i < MMU_NTRAJ; i++) {
		uint64_t t = 0;
		cr_expect_eq(st[MMU_X86_NATIVE].served[i][MMU_STEP_ZERO],
			     i >= 16 && i < 20 ? st[MMU_X86_NATIVE].served[i][MMU_STEP_ZERO] : 0,
			     "1D: no %s", mmu_traj_name(i));
		for (unsigned o = 0; o < MMU_NSTEP_OUT; o++)
			t += v->served[i][o];
		cr_expect_eq(t, v->walks, "%s: outcomes of every walk", mmu_traj_name(i));
		all += step_cycles(v, mmu_traj_name(i));
	}
	cr_expect_eq(v->formula2[MMU_DESIGN_X86], 2 * all);
	/* no fault, no overlap: the x86 formula is the simulated walk */
	cr_expect_eq(all, back[MMU_X86_2D].walk_cycles);
	for (unsigned k = 0; k < sizeof(d) / sizeof(d[0]); k++)
		cr_expect_eq(v->formula2[d[k]],
			     2 * (sum_of(v, n[k]) + (d[k] == MMU_DESIGN_ECPT ? 12 * v->walks : 0)),
			     "%s", mmu_design_name(d[k]));
	v = &st[MMU_X86_NATIVE];
	cr_expect_eq(v->formula2[MMU_DESIGN_DMT], 2 * step_cycles(v, L == 1 ? "G1" : "G2"));
	cr_expect_eq(v->formula2[MMU_DESIGN_ECPT],
		     2 * (step_cycles(v, L == 1 ? "G1" : "G2") + 2 * v->walks));
	cr_expect_eq(v->formula2[MMU_DESIGN_FPT], 2 * (step_cycles(v, L == 1 ? "G1" : "G2") +
						       step_cycles(v, L == 1 ? "G3" : "G4")));
	/* ASAP overlaps: never more than the radix walk */
	cr_expect_leq(v->formula2[MMU_DESIGN_ASAP], v->formula2[MMU_DESIGN_X86]);
	/* DMT-virt simulated on the same stream is not a baseline: no formula */
	cr_expect(!mmu_formula_designs(MMU_DMT_VIRT));
	free(back);
	free(st);
}

Test(artifact, formula_from_trajectory_served_4k)
{
	check_linear_formulas(1);
}

Test(artifact, formula_from_trajectory_served_4k_under_the_preset)
{
	char err[256];

	cr_assert_eq(mmu_config_preset(&cfg, "artifact", err, sizeof(err)), 0, "%s", err);
	check_linear_formulas(1);
}

Test(artifact, formula_from_trajectory_served_2m)
{
	world_free(&W);
	world_build(&W, 2, false);
	check_linear_formulas(2);
}

Test(artifact, asap_is_the_max_chain_per_walk)
{
	/* one cold 2D walk, no caches of any kind: every step DRAM (200); ASAP
	 * per guest level max(H4 + H3, H2, H1) + G = 400 + 200, over the levels
	 * max(600 + 600, 600, 600) = 1200, plus the data walk's 400: 1600 */
	cfg.pwc = false;
	cfg.lat_l1 = cfg.lat_l2 = cfg.lat_llc = 200; /* every step costs 200 */
	mk(V2D | NAT);
	one(VA);
	cr_expect_eq(S(MMU_X86_2D)->formula2[MMU_DESIGN_ASAP], 2 * 1600);
	cr_expect_eq(S(MMU_X86_2D)->formula2[MMU_DESIGN_X86], 2 * 24 * 200);
	cr_expect_eq(S(MMU_X86_NATIVE)->formula2[MMU_DESIGN_ASAP], 2 * 400);
}

Test(artifact, nested_pvdmt_formula_on_the_nested_baseline)
{
	world_free(&W);
	world_build(&W, 1, true);
	cfg.pwc = false;
	cfg.lat_l1 = cfg.lat_l2 = cfg.lat_llc = 200;
	mk(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02));
	one(VA);
	/* cold: (G1 + UDH1) / 2 * 3 = (200 + 200) * 1.5 */
	cr_expect_eq(S(MMU_X86_NESTED_EPT02)->walks, 1);
	cr_expect_eq(S(MMU_X86_NESTED_EPT02)->formula2[MMU_DESIGN_PVDMT], 2 * 600);
	cr_expect_eq(mmu_formula_designs(MMU_X86_NESTED_EPT02),
		     (1u << MMU_DESIGN_X86) | (1u << MMU_DESIGN_PVDMT));
}
