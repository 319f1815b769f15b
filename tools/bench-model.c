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

#include "fixture.h"

#define GRAM  (2ULL << 30) /* guest (L2) RAM */
#define OFF12 (2ULL << 30) /* L2 RAM in L1 */
#define L1RAM (4ULL << 30)
#define OFF01 (4ULL << 30) /* guest / L1 RAM in host */
#define HSIZE (8ULL << 30)
#define VMA   0x7f0000000000ULL
#define DATA0 (256ULL << 20) /* data frames in guest RAM from here */

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

static struct fx_mem g, l1, h, h2;
static struct fx_layer lg, ll1, lh, lh2;

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
	uint64_t gib = 1, vsize = gib << 30, npages, cr3, tea, gtea;
	int pshift = 12, lvl;
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
	lvl = pshift == 21 ? 2 : 1;
	npages = vsize >> pshift;
	t0 = now();
	fx_init(&g, GRAM, 0x100000);
	fx_init(&l1, L1RAM, 0x1000);
	fx_init(&h, HSIZE, 0x1000);
	fx_init(&h2, HSIZE, 0x1000);
	lg.own = &g;
	/* guest tables: PT pages allocated in VA order = the VMA's TEA; data
	 * frames scattered over guest RAM by an odd-multiplier permutation */
	cr3 = fx_alloc(&g);
	for (uint64_t i = 0; i < npages; i++)
		fx_map(&g, cr3, VMA + (i << pshift),
		       DATA0 + (((i * 0x9E3779B1ULL) & (npages - 1)) << pshift), lvl, false);
	gtea = *fx_walk_entry(&g, cr3, VMA, lvl + 1, false) & 0x000ffffffffff000ULL;

	/* virtualized: guest RAM at hPA + OFF01, EPT with a host TEA */
	memset(&vctx, 0, sizeof(vctx));
	lh.own = &h;
	lh.child = &lg;
	lh.child_base = OFF01;
	lh.child_size = GRAM;
	vctx.gpa = (struct mmu_space){fx_frame, &g};
	vctx.hpa = (struct mmu_space){fx_layer_frame, &lh};
	vctx.cr3 = cr3;
	vctx.asid = 1;
	vctx.ept_root = fx_ept_linear(&h, GRAM, OFF01, lvl, &tea);
	vctx.n_guest_regs = 1;
	vctx.guest_regs[0] =
	    (struct mmu_dmt_reg){VMA, VMA + vsize, gtea, gtea + OFF01, (uint32_t)pshift, 0};
	vctx.n_host_regs = 1;
	vctx.host_regs[0] = (struct mmu_dmt_reg){0, GRAM, tea, 0, (uint32_t)pshift, 0};

	/* nested: L2 RAM in L1 at + OFF12, L1 RAM in host at + OFF01 */
	nctx = vctx;
	ll1.own = &l1;
	ll1.child = &lg;
	ll1.child_base = OFF12;
	ll1.child_size = GRAM;
	lh2.own = &h2;
	lh2.child = &ll1;
	lh2.child_base = OFF01;
	lh2.child_size = L1RAM;
	nctx.hpa = (struct mmu_space){fx_layer_frame, &lh2};
	nctx.ept12_root = fx_ept_linear(&l1, GRAM, OFF12, lvl, &tea);
	nctx.n_ept12_regs = 1;
	nctx.ept12_regs[0] = (struct mmu_dmt_reg){0, GRAM, tea, tea + OFF01, (uint32_t)pshift, 0};
	nctx.ept_root = fx_ept_linear(&h2, L1RAM, OFF01, lvl, &tea);
	nctx.host_regs[0] = (struct mmu_dmt_reg){0, L1RAM, tea, 0, (uint32_t)pshift, 0};
	nctx.guest_regs[0].tea_hpa = gtea + OFF12 + OFF01;

	/* GUPS: random 8-byte read-modify-write (load, then store) */
	acc = malloc(n * sizeof(*acc));
	for (size_t i = 0; i < n; i += 2) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		acc[i] = (struct mmu_access){VMA + (x & (vsize - 1) & ~7ULL), 8, MMU_LOAD, 0, 0};
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
	fx_free(&g);
	fx_free(&l1);
	fx_free(&h);
	fx_free(&h2);
	return 0;
}
