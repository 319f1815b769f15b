/* SPDX-License-Identifier: MIT */
/*
 * bench-model.c: throughput of the MMU model (libmmu) on a GUPS-like stream:
 * random 8-byte read-modify-writes over a >= 1 GiB VMA of 4 KiB pages, with
 * realistic tables built here (guest radix tables whose PT pages form the
 * VMA's TEA, frames scattered over guest RAM, EPT with a host TEA, and an L1
 * with EPT12 for the nested schemes). Prints accesses/s per scheme and for
 * all schemes in one simulator (median of 5 runs each).
 *
 *   bench-model [-n accesses (2000000)] [-p 4k|2m (4k)] [-s schemes (all)]
 * -p 2m: 2 MiB guest pages and 2 MiB host (EPT) pages, a PMD-level TEA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gups_world.h"

static double now(void)
{
	struct timespec ts;

	/* CPU time of this thread: the dev machines are shared, and wall time
	 * would count the time other processes hold the core */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct gups_world W;

/* Median accesses/s over 5 runs, each from a reset (cold) simulator. */
static double bench(const struct mmu_config *cfg, uint32_t mask, const struct mmu_ctx *ctx,
		    const struct mmu_access *acc, size_t n, struct mmu_sim **keep)
{
	char err[256];
	double r[5];
	struct mmu_sim *sim = mmu_sim_create(cfg, mask, err, sizeof(err));

	if (!sim) {
		fprintf(stderr, "bench-model: %s\n", err);
		exit(1);
	}
	for (int i = 0; i < 5; i++) {
		double t0;
		mmu_sim_reset(sim);
		t0 = now();
		for (size_t k = 0; k < n; k += 4096)
			mmu_sim_run(sim, ctx, acc + k, n - k < 4096 ? n - k : 4096);
		r[i] = (double)n / (now() - t0);
	}
	qsort(r, 5, sizeof(r[0]), cmp_d);
	if (keep)
		*keep = sim;
	else
		mmu_sim_destroy(sim);
	return r[2];
}

int main(int argc, char **argv)
{
	size_t n = 2000000;
	uint64_t gib = 1, vsize = gib << 30;
	int pshift = 12;
	struct mmu_ctx vctx, nctx;
	struct mmu_config cfg;
	struct mmu_access *acc;
	struct mmu_sim *all;
	uint64_t x = 88172645463325252ULL;
	double t0, rate[MMU_NSCHEMES], total;
	uint32_t only = MMU_ALL_SCHEMES;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			i++;
			pshift = !strcmp(argv[i], "2m") ? 21 : !strcmp(argv[i], "4k") ? 12 : 0;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			if (!(only = mmu_scheme_mask_parse(argv[++i], err, sizeof(err)))) {
				fprintf(stderr, "bench-model: %s\n", err);
				return 2;
			}
		} else {
			pshift = 0;
		}
	}
	if (!n || !pshift) {
		fprintf(stderr, "usage: bench-model [-n accesses] [-p 4k|2m] [-s schemes]\n");
		return 2;
	}
	t0 = now();
	gups_world_build(&W, vsize, pshift);
	vctx = W.vctx;
	nctx = W.nctx;

	/* GUPS: random 8-byte read-modify-write (load, then store) */
	acc = malloc(n * sizeof(*acc));
	for (size_t i = 0; i < n; i += 2) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		acc[i] = (struct mmu_access){GW_VMA + (x & (vsize - 1) & ~7ULL), 8, MMU_LOAD, 0, 0};
		if (i + 1 < n)
			acc[i + 1] = acc[i], acc[i + 1].kind = MMU_STORE;
	}
	printf("bench-model: %zu GUPS accesses over a %llu GiB VMA (%s pages), tables "
	       "built in %.2f s; median of 5 runs, per CPU-second of 1 core\n",
	       n, (unsigned long long)gib, pshift == 21 ? "2 MiB" : "4 KiB", now() - t0);

	mmu_config_default(&cfg);
	printf("%-17s %14s %12s\n", "scheme", "accesses/s", "walks/s");
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const struct mmu_ctx *c =
		    mmu_scheme_setup((enum mmu_scheme)s) == MMU_SETUP_NESTED ? &nctx : &vctx;
		struct mmu_sim *sim;
		const struct mmu_counters *k;
		if (!(only & MMU_SCHEME_BIT(s)))
			continue;
		rate[s] = bench(&cfg, MMU_SCHEME_BIT(s), c, acc, n, &sim);
		k = mmu_sim_counters(sim, (enum mmu_scheme)s);
		printf("%-17s %12.2f M %10.2f M\n", mmu_scheme_name((enum mmu_scheme)s),
		       rate[s] / 1e6, rate[s] / 1e6 * (double)k->walks / (double)n);
		mmu_sim_destroy(sim);
	}
	if (only != MMU_ALL_SCHEMES)
		goto out;
	/* all non-nested schemes in one simulator (TLBs simulated once per group) */
	total = bench(&cfg,
		      MMU_ALL_SCHEMES &
			  ~(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |
			    MMU_SCHEME_BIT(MMU_PVDMT_NESTED)),
		      &vctx, acc, n, &all);
	printf("%-17s %12.2f M accesses/s (11 schemes in one simulator)\n", "all-virt",
	       total / 1e6);
	printf("\n");
	mmu_report_table(all, stdout);
	mmu_sim_destroy(all);
	total = bench(&cfg,
		      MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |
			  MMU_SCHEME_BIT(MMU_PVDMT_NESTED) | MMU_SCHEME_BIT(MMU_X86_NATIVE),
		      &nctx, acc, n, &all);
	printf("%-17s %12.2f M accesses/s (native + 3 nested schemes in one simulator)\n",
	       "all-nested", total / 1e6);
	mmu_report_table(all, stdout);
	mmu_sim_destroy(all);
out:
	free(acc);
	gups_world_free(&W);
	return 0;
}
