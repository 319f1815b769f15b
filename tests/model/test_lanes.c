/* SPDX-License-Identifier: MIT */
/*
 * test_lanes.c: batching and lanes do not move a counter. Each stream runs
 * one access per mmu_sim_run call, in batches, and in batches on 2 and 3
 * lanes (mmu-model/lanes/lanes.c threads), with the same table edits (remaps,
 * unmaps of pages and of page tables), invalidations and address-space
 * switches between batches; every counter of every scheme must be equal
 * across the four runs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "lanes.h"
#include "world.h"

#define NESTED                                                                                     \
	(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |                       \
	 MMU_SCHEME_BIT(MMU_PVDMT_NESTED))
#define NATIVE                                                                                     \
	(MMU_SCHEME_BIT(MMU_X86_NATIVE) | MMU_SCHEME_BIT(MMU_DMT_NATIVE) |                         \
	 MMU_SCHEME_BIT(MMU_FPT_NATIVE))
#define NACC 24000

enum mode { ONE, BATCH, LANES2, LANES3, NMODES };

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Streams with page runs: most accesses go again to the page of one of the
 * last 4 (another offset, kind and often vCPU), as real programs do; the
 * batched runs then take the L1 TLB's same-page shortcut (begin_group). */
static bool page_runs;

/* Loads, stores and fetches over both VMAs, unmapped addresses, 3 vCPUs. */
static void stream(struct mmu_access *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next(), va;
		unsigned pick = (unsigned)(r % 100);

		if (page_runs && i >= 4 && (r >> 50) % 10 < 7)
			va = (a[i - 1 - (r >> 54) % 4].va & ~0xfffULL) | ((r >> 8) & 0xff8);
		else if (pick < 70)
			va = W_VA4K + ((r >> 8) & ((4ULL << 20) - 1));
		else if (pick < 90)
			va = W_VA2M + ((r >> 8) & ((4ULL << 20) - 1));
		else
			va = (r >> 8) & 1 ? W_VA4K + (4ULL << 20) + (r >> 40) : 0x1000;
		a[i] = (struct mmu_access){va, 8, (uint8_t)((r >> 30) % 3),
					   (uint8_t)((r >> 34) % 3), 0};
	}
}

/* One edit between batches: remaps, unmaps, invalidations, an ASID switch.
 * Returns the context of the next batch. */
static const struct mmu_ctx *edit(struct world *w, struct mmu_sim *sim, struct mmu_ctx *other)
{
	uint64_t r = next();
	uint64_t va = W_VA4K + ((r >> 8) & ((4ULL << 20) - 1) & ~0xfffULL);
	uint64_t vb = W_VA4K + ((r >> 32) & ((4ULL << 20) - 1) & ~0xfffULL);
	uint64_t *ea = world_gentry(w, va, 1), *eb = world_gentry(w, vb, 1), t;

	if ((!ea || !eb) && r % 7 < 5)
		return &w->ctx; /* a page table unmapped (below): no leaf to edit */

	switch (r % 7) {
	case 0: /* remap two pages, no invalidation (stale TLB and shadow entries) */
		t = *ea, *ea = *eb, *eb = t;
		break;
	case 1: /* remap and invlpg both */
		t = *ea, *ea = *eb, *eb = t;
		mmu_sim_invalidate(sim, &w->ctx, va, 4096);
		mmu_sim_invalidate(sim, &w->ctx, vb, 4096);
		break;
	case 2: /* unmap or map back a page, invalidate a range */
		*ea ^= 1;
		mmu_sim_invalidate(sim, &w->ctx, va & ~0x7fffULL, 8 * 4096);
		break;
	case 3:
		mmu_sim_invalidate(sim, &w->ctx, 0, 0);
		break;
	case 4: /* make a page read-only / NX, without invalidation */
		*ea ^= (r >> 40) & 1 ? 0x2ULL : 1ULL << 63;
		break;
	case 5:
		return other;
	default: /* unmap or map back a guest page table (its PDE), without
		  * invalidation; software walks must read it again (struct
		  * mmu_upmemo) */
		*world_gentry(w, va, 2) ^= 1;
		break;
	}
	return &w->ctx;
}

/* Runs the stream of seed under mode; the sim is the caller's to check. */
static struct mmu_sim *run(const char *cfgtext, bool nested, uint64_t seed, enum mode mode,
			   struct mmu_access *acc)
{
	static const unsigned nl[NMODES] = {1, 1, 2, 3};
	uint32_t mask = nested ? NESTED | NATIVE : MMU_ALL_SCHEMES & ~NESTED;
	struct mmu_config cfg;
	struct world w;
	struct mmu_ctx other;
	const struct mmu_ctx *ctx;
	struct lanes *l = mode >= LANES2 ? lanes_create(nl[mode]) : NULL;
	struct mmu_sim *sim;
	char err[256];

	mmu_config_default(&cfg);
	cr_assert_eq(mmu_config_parse(&cfg, cfgtext, err, sizeof(err)), 0, "%s", err);
	sim = mmu_sim_create(&cfg, mask, err, sizeof(err));
	cr_assert(sim, "%s", err);
	cr_assert(mode < LANES2 || l);
	world_build(&w, 1, nested);
	other = w.ctx;
	other.asid = 2;
	ctx = &w.ctx;
	rng = seed;
	stream(acc, NACC);
	for (size_t k = 0; k < NACC;) {
		size_t m = 1 + next() % 3000;
		if (m > NACC - k)
			m = NACC - k;
		if (mode == ONE) {
			for (size_t i = 0; i < m; i++)
				mmu_sim_run(sim, ctx, acc + k + i, 1);
		} else if (mode == BATCH) {
			mmu_sim_run(sim, ctx, acc + k, m);
		} else {
			struct lanes_job job = {sim, ctx, acc + k, m};
			lanes_run(l, &job, 1);
		}
		k += m;
		ctx = edit(&w, sim, &other);
	}
	lanes_destroy(l);
	world_free(&w);
	return sim;
}

/* Every counter of scheme s is the same in sim as in the reference run. */
static void expect_same(struct mmu_sim *ref, struct mmu_sim *sim, int s, const char *what)
{
	const uint64_t *x = (const uint64_t *)mmu_sim_counters(ref, (enum mmu_scheme)s);
	const uint64_t *y = (const uint64_t *)mmu_sim_counters(sim, (enum mmu_scheme)s);

	for (size_t i = 0; i < sizeof(struct mmu_counters) / 8; i++)
		cr_assert_eq(x[i], y[i], "%s, %s: counter word %zu: %llu != %llu",
			     mmu_scheme_name((enum mmu_scheme)s), what, i, (unsigned long long)x[i],
			     (unsigned long long)y[i]);
}

static void check(const char *cfgtext, bool nested, uint64_t seed)
{
	static struct mmu_access acc[NACC];
	struct mmu_sim *sim[NMODES];
	uint32_t mask;

	for (int m = 0; m < NMODES; m++)
		sim[m] = run(cfgtext, nested, seed, (enum mode)m, acc);
	mask = mmu_sim_schemes(sim[0]);
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const struct mmu_counters *a = mmu_sim_counters(sim[ONE], (enum mmu_scheme)s);
		if (!(mask & MMU_SCHEME_BIT(s)))
			continue;
		/* the streams exercise walks, faults and (virtualized) invalidations */
		cr_assert_gt(a->walks, 1000, "%s", mmu_scheme_name((enum mmu_scheme)s));
		cr_assert_gt(a->faults, 0, "%s", mmu_scheme_name((enum mmu_scheme)s));
		for (int m = BATCH; m < NMODES; m++) {
			static const char *const modes[NMODES] = {"one", "batched", "2 lanes",
								  "3 lanes"};
			expect_same(sim[ONE], sim[m], s, modes[m]);
		}
	}
	if (!nested) {
		cr_assert_gt(mmu_sim_counters(sim[ONE], MMU_X86_SHADOW)->shadow_fills, 0);
		cr_assert_gt(mmu_sim_counters(sim[ONE], MMU_X86_SHADOW)->shadow_invalidations, 0);
	}
	for (int m = 0; m < NMODES; m++)
		mmu_sim_destroy(sim[m]);
}

#define SMALL_TLB "stlb_entries = 64\nstlb_ways = 4\nl1d_tlb_entries = 16\nl1i_tlb_entries = 16\n"

Test(lanes, virt_default_tables_edited_between_batches)
{
	check(SMALL_TLB, false, 0x9E3779B97F4A7C15ULL);
}

Test(lanes, virt_data_in_caches_nested_tlb)
{
	check(SMALL_TLB "cache_data = 1\nntlb_entries = 16\nllc_size = 1M\nllc_ways = 16\n", false,
	      0x243F6A8885A308D3ULL);
}

Test(lanes, virt_no_walk_caches_4k_tlb_only)
{
	check(SMALL_TLB "pwc = 0\ntlb_2m = 0\n", false, 0x13198A2E03707344ULL);
}

Test(lanes, nested_default)
{
	check(SMALL_TLB, true, 0xA4093822299F31D0ULL);
}

Test(lanes, nested_data_in_caches)
{
	check(SMALL_TLB "cache_data = 1\nntlb_entries = 32\n", true, 0x082EFA98EC4E6C89ULL);
}

Test(lanes, virt_page_runs)
{
	page_runs = true;
	check(SMALL_TLB, false, 0xBE5466CF34E90C6CULL);
	check(SMALL_TLB "tlb_2m = 0\n", false, 0xC0AC29B7C97C50DDULL);
	check(SMALL_TLB "cache_data = 1\n", false, 0x3F84D5B5B5470917ULL);
}

Test(lanes, nested_page_runs)
{
	page_runs = true;
	check(SMALL_TLB, true, 0x9216D5D98979FB1BULL);
}

/* The last lane out publishes the counters: lanes that find no task left. */
Test(lanes, more_lanes_than_tasks)
{
	struct mmu_config cfg;
	struct world w;
	struct mmu_access a[64];
	struct mmu_sim *s1, *s8;
	struct lanes *l = lanes_create(MMU_MAX_LANES);
	char err[256];

	cr_assert(l);
	cr_assert_null(lanes_create(MMU_MAX_LANES + 1));
	mmu_config_default(&cfg);
	world_build(&w, 1, false);
	s1 = mmu_sim_create(&cfg, MMU_SCHEME_BIT(MMU_X86_2D), err, sizeof(err));
	s8 = mmu_sim_create(&cfg, MMU_SCHEME_BIT(MMU_X86_2D), err, sizeof(err));
	cr_assert(s1 && s8);
	rng = 5;
	stream(a, 64);
	for (int r = 0; r < 3; r++) {
		struct lanes_job job = {s8, &w.ctx, a, 64};
		mmu_sim_run(s1, &w.ctx, a, 64);
		lanes_run(l, &job, 1);
	}
	cr_assert_eq(mmu_sim_counters(s8, MMU_X86_2D)->accesses[0] +
			 mmu_sim_counters(s8, MMU_X86_2D)->accesses[1] +
			 mmu_sim_counters(s8, MMU_X86_2D)->accesses[2],
		     3 * 64);
	cr_assert_eq(memcmp(mmu_sim_counters(s1, MMU_X86_2D), mmu_sim_counters(s8, MMU_X86_2D),
			    sizeof(struct mmu_counters)),
		     0);
	lanes_destroy(l);
	mmu_sim_destroy(s1);
	mmu_sim_destroy(s8);
	world_free(&w);
}

/* Two simulators per call (a virtualized and a nested world, as bench-model
 * and dmtvm replay run them): lane i starts at job i % 2 (lanes.h), and
 * every lane must still pass through both, or a simulator's last lane never
 * publishes its counters. Sequential mmu_sim_run calls are the reference. */
static void run_two(unsigned nlanes, struct mmu_sim *sim[2])
{
	static struct mmu_access acc[2][NACC];
	struct lanes *l = nlanes ? lanes_create(nlanes) : NULL;
	struct world w[2];
	struct mmu_ctx other[2];
	const struct mmu_ctx *ctx[2];
	struct mmu_config cfg;
	char err[256];

	cr_assert(!nlanes || l);
	mmu_config_default(&cfg);
	cr_assert_eq(mmu_config_parse(&cfg, SMALL_TLB, err, sizeof(err)), 0, "%s", err);
	rng = 0xB7E151628AED2A6BULL;
	for (int i = 0; i < 2; i++) {
		sim[i] = mmu_sim_create(&cfg, i ? NESTED | NATIVE : MMU_ALL_SCHEMES & ~NESTED, err,
					sizeof(err));
		cr_assert(sim[i], "%s", err);
		world_build(&w[i], 1, i == 1);
		other[i] = w[i].ctx;
		other[i].asid = 2;
		ctx[i] = &w[i].ctx;
		stream(acc[i], NACC);
	}
	for (size_t k = 0; k < NACC;) {
		size_t m = 1 + next() % 3000;
		if (m > NACC - k)
			m = NACC - k;
		if (l) {
			struct lanes_job jobs[2] = {{sim[0], ctx[0], acc[0] + k, m},
						    {sim[1], ctx[1], acc[1] + k, m}};
			lanes_run(l, jobs, 2);
		} else {
			for (int i = 0; i < 2; i++)
				mmu_sim_run(sim[i], ctx[i], acc[i] + k, m);
		}
		k += m;
		for (int i = 0; i < 2; i++)
			ctx[i] = edit(&w[i], sim[i], &other[i]);
	}
	lanes_destroy(l);
	for (int i = 0; i < 2; i++)
		world_free(&w[i]);
}

Test(lanes, two_simulators_per_call)
{
	struct mmu_sim *ref[2], *sim[2];

	run_two(0, ref);
	for (unsigned nl = 2; nl <= 3; nl++) {
		run_two(nl, sim);
		for (int i = 0; i < 2; i++) {
			uint32_t mask = mmu_sim_schemes(ref[i]);
			for (int s = 0; s < MMU_NSCHEMES; s++) {
				char what[48];
				if (!(mask & MMU_SCHEME_BIT(s)))
					continue;
				cr_assert_gt(mmu_sim_counters(ref[i], (enum mmu_scheme)s)->walks,
					     1000, "%s", mmu_scheme_name((enum mmu_scheme)s));
				snprintf(what, sizeof(what), "%u lanes, simulator %d", nl, i);
				expect_same(ref[i], sim[i], s, what);
			}
			mmu_sim_destroy(sim[i]);
		}
	}
	for (int i = 0; i < 2; i++)
		mmu_sim_destroy(ref[i]);
}

/* Accesses run on lanes count toward the warm-up (mmu_sim_warming), as
 * mmu_sim_run's do: a caller that leaves lanes while warming goes back. */
Test(lanes, lanes_count_toward_the_warm_up)
{
	struct mmu_config cfg;
	struct world w;
	struct mmu_access a[64];
	struct mmu_sim *sim;
	struct lanes *l = lanes_create(2);
	char err[256];

	cr_assert(l);
	mmu_config_default(&cfg);
	cfg.warmup_refs = 100;
	world_build(&w, 1, false);
	sim = mmu_sim_create(&cfg, MMU_SCHEME_BIT(MMU_X86_2D), err, sizeof(err));
	cr_assert(sim, "%s", err);
	rng = 11;
	stream(a, 64);
	struct lanes_job job = {sim, &w.ctx, a, 64};
	cr_assert(mmu_sim_warming(sim));
	lanes_run(l, &job, 1);
	cr_assert(mmu_sim_warming(sim), "64 of 100 warm-up accesses");
	mmu_sim_run(sim, &w.ctx, a, 64);
	cr_assert_not(mmu_sim_warming(sim), "128 accesses");
	lanes_destroy(l);
	mmu_sim_destroy(sim);
	world_free(&w);
}
