/* SPDX-License-Identifier: MIT */
/*
 * bench-model.c: throughput of the MMU model (libmmu) on a GUPS-like stream:
 * random 8-byte read-modify-writes over a VMA of 4 KiB or 2 MiB pages, with
 * realistic tables built here (guest radix tables whose PT pages form the
 * VMA's TEA, frames scattered over guest RAM, EPT with a host TEA, and an L1
 * with EPT12 for the nested schemes). Prints accesses/s per scheme, for the
 * 11 native and virtualized schemes in one simulator, native + 3 nested in
 * one, and all 14 in one run (the 11 under the virtualized context plus the
 * 3 nested ones under the nested context, each batch through both) on 1 and
 * on -t threads (mmu_sim_run_lane); medians of 5 runs each.
 *
 *   bench-model [-n accesses (2000000)] [-p 4k|2m (4k)] [-v vma (1g)]
 *               [-s schemes (all)] [-t threads (2)] [-b batch (65536, as dmtvm replay)]
 *               [-a (all-14 only)]
 *               [-C cpus (e.g. 1 or 0,1: run only there)]
 *   bench-model -c [-n accesses (1000000)] [-t threads]: the cost curve,
 *               64 MiB, 1 GiB and 16 GiB VMAs x 4 KiB and 2 MiB pages
 * -p 2m: 2 MiB guest pages and 2 MiB host (EPT) pages, a PMD-level TEA.
 * Rates per scheme are per CPU-second of the one thread; the all-14 rates
 * per CPU-second of the busiest thread (the wall rate with a core per
 * thread; shared machines rarely give one), per wall second and per
 * CPU-second of the process. On a shared VM the CPUs may not be equal
 * (seen here: one vCPU 1.5x slower than the other, all day); with -C the
 * run stays on the CPUs given, so that rates compare.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gups_world.h"
#include "lanes.h"

#define NESTED_BITS                                                                                \
	(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |                       \
	 MMU_SCHEME_BIT(MMU_PVDMT_NESTED))

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: the dev machines are shared, and wall time would
 * count the time other processes hold the core */
static double now(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median5(double *r)
{
	qsort(r, 5, sizeof(r[0]), cmp_d);
	return r[2];
}

static struct mmu_sim *make_sim(const struct mmu_config *cfg, uint32_t mask)
{
	char err[256];
	struct mmu_sim *sim = mmu_sim_create(cfg, mask, err, sizeof(err));

	if (!sim) {
		fprintf(stderr, "bench-model: %s\n", err);
		exit(1);
	}
	return sim;
}

static size_t batch = 65536; /* dmtvm replay's default --batch */

/* Median accesses/s over 5 runs, each from a reset (cold) simulator. */
static double bench(const struct mmu_config *cfg, uint32_t mask, const struct mmu_ctx *ctx,
		    const struct mmu_access *acc, size_t n, struct mmu_sim **keep)
{
	double r[5];
	struct mmu_sim *sim = make_sim(cfg, mask);

	for (int i = 0; i < 5; i++) {
		double t0;
		mmu_sim_reset(sim);
		t0 = now();
		for (size_t k = 0; k < n; k += batch)
			mmu_sim_run(sim, ctx, acc + k, n - k < batch ? n - k : batch);
		r[i] = (double)n / (now() - t0);
	}
	if (keep)
		*keep = sim;
	else
		mmu_sim_destroy(sim);
	return median5(r);
}

/* All 14 schemes on `threads` lanes: medians of accesses per wall second
 * (*wall), per CPU-second of the process (*cpu) and per CPU-second of the
 * busiest lane (*lane: the wall rate with a core per thread). */
static void bench_all(const struct mmu_config *cfg, const struct gups_world *w,
		      const struct mmu_access *acc, size_t n, unsigned threads, double *wall,
		      double *cpu, double *lane)
{
	struct mmu_sim *sv = make_sim(cfg, MMU_ALL_SCHEMES & ~NESTED_BITS);
	struct mmu_sim *sn = make_sim(cfg, NESTED_BITS);
	struct lanes *l = lanes_create(threads);
	double rw[5], rc[5], rl[5];

	if (!l) {
		fprintf(stderr, "bench-model: cannot start %u threads\n", threads);
		exit(1);
	}
	for (int i = 0; i < 5; i++) {
		double t0, c0;
		mmu_sim_reset(sv);
		mmu_sim_reset(sn);
		t0 = clock_s(CLOCK_MONOTONIC);
		c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		lanes_busy_max(l, true);
		for (size_t k = 0; k < n; k += batch) {
			size_t m = n - k < batch ? n - k : batch;
			struct lanes_job jobs[2] = {{sv, &w->vctx, acc + k, m},
						    {sn, &w->nctx, acc + k, m}};
			lanes_run(l, jobs, 2);
		}
		rw[i] = (double)n / (clock_s(CLOCK_MONOTONIC) - t0);
		rc[i] = (double)n / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
		rl[i] = (double)n / lanes_busy_max(l, false);
	}
	*wall = median5(rw);
	*cpu = median5(rc);
	*lane = median5(rl);
	lanes_destroy(l);
	mmu_sim_destroy(sv);
	mmu_sim_destroy(sn);
}

/* GUPS: random 8-byte read-modify-write (load, then store) over the VMA */
static struct mmu_access *gups_stream(size_t n, uint64_t vsize)
{
	struct mmu_access *acc = malloc(n * sizeof(*acc));
	uint64_t x = 88172645463325252ULL;

	if (!acc)
		exit(1);
	for (size_t i = 0; i < n; i += 2) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		acc[i] = (struct mmu_access){GW_VMA + (x & (vsize - 1) & ~7ULL), 8, MMU_LOAD, 0, 0};
		if (i + 1 < n)
			acc[i + 1] = acc[i], acc[i + 1].kind = MMU_STORE;
	}
	return acc;
}

static const struct mmu_ctx *ctx_of(const struct gups_world *w, int s)
{
	return mmu_scheme_setup((enum mmu_scheme)s) == MMU_SETUP_NESTED ? &w->nctx : &w->vctx;
}

static const char *size_name(uint64_t v, char *buf, size_t len)
{
	if (v >= 1ULL << 30)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(v >> 30));
	else
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v >> 20));
	return buf;
}

/* The cost curve: every scheme, and all 14 on `threads`, at three VMA sizes
 * and two page sizes, side by side (M accesses/s). */
static int curve(size_t n, unsigned threads)
{
	static const uint64_t vmas[3] = {64ULL << 20, 1ULL << 30, 16ULL << 30};
	static const int pages[2] = {12, 21};
	double rate[MMU_NSCHEMES + 2][6], walks[6];
	struct mmu_config cfg;
	char b[32];

	mmu_config_default(&cfg);
	for (int c = 0; c < 6; c++) {
		struct gups_world *w = malloc(sizeof(*w));
		uint64_t vsize = vmas[c / 2];
		struct mmu_access *acc = gups_stream(n, vsize);
		double t0 = now(), cpu, wall;

		if (!w)
			return 1;
		gups_world_build(w, vsize, pages[c % 2]);
		fprintf(stderr, "bench-model: %s VMA, %s pages: tables built in %.2f s\n",
			size_name(vsize, b, sizeof(b)), pages[c % 2] == 21 ? "2 MiB" : "4 KiB",
			now() - t0);
		for (int s = 0; s < MMU_NSCHEMES; s++) {
			struct mmu_sim *sim;
			rate[s][c] = bench(&cfg, MMU_SCHEME_BIT(s), ctx_of(w, s), acc, n, &sim);
			if (s == 0)
				walks[c] = (double)mmu_sim_counters(sim, MMU_X86_NATIVE)->walks /
					   (double)n;
			mmu_sim_destroy(sim);
		}
		bench_all(&cfg, w, acc, n, 1, &wall, &cpu, &rate[MMU_NSCHEMES][c]);
		bench_all(&cfg, w, acc, n, threads, &wall, &cpu, &rate[MMU_NSCHEMES + 1][c]);
		free(acc);
		gups_world_free(w);
		free(w);
	}
	printf("bench-model -c: %zu GUPS accesses, M accesses/s (medians of 5; per scheme per "
	       "CPU-second of 1 core, all-14 per CPU-second of its busiest thread)\n",
	       n);
	printf("%-17s", "VMA");
	for (int c = 0; c < 6; c++)
		printf(" %9s", size_name(vmas[c / 2], b, sizeof(b)));
	printf("\n%-17s", "pages");
	for (int c = 0; c < 6; c++)
		printf(" %9s", pages[c % 2] == 21 ? "2 MiB" : "4 KiB");
	printf("\n%-17s", "TLB misses/access");
	for (int c = 0; c < 6; c++)
		printf(" %9.3f", walks[c]);
	printf("\n");
	for (int s = 0; s < MMU_NSCHEMES + 2; s++) {
		char name[32];
		if (s < MMU_NSCHEMES)
			snprintf(name, sizeof(name), "%s", mmu_scheme_name((enum mmu_scheme)s));
		else
			snprintf(name, sizeof(name), "all-14 %u thr",
				 s == MMU_NSCHEMES ? 1 : threads);
		printf("%-17s", name);
		for (int c = 0; c < 6; c++)
			printf(" %9.2f", rate[s][c] / 1e6);
		printf("\n");
	}
	return 0;
}

static uint64_t parse_size(const char *s)
{
	char *e;
	uint64_t v = strtoull(s, &e, 0);

	switch (*e) {
	case 'g':
	case 'G':
		return v << 30;
	case 'm':
	case 'M':
		return v << 20;
	default:
		return *e ? 0 : v;
	}
}

/* -C: the process (and the lanes it starts) runs only on these CPUs. */
static int pin(const char *list)
{
	cpu_set_t set;
	char *end;

	CPU_ZERO(&set);
	for (const char *p = list; *p; p = *end ? end + 1 : end) {
		unsigned long c = strtoul(p, &end, 10);
		if (end == p || (*end && *end != ',') || c >= CPU_SETSIZE) {
			fprintf(stderr, "bench-model: -C %s: expected CPU numbers, e.g. 1 or 0,1\n",
				list);
			return -1;
		}
		CPU_SET(c, &set);
	}
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("bench-model: -C");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	uint64_t vsize = 1ULL << 30;
	int pshift = 12, cost = 0, only_all = 0;
	unsigned threads = 2;
	struct mmu_config cfg;
	struct mmu_access *acc;
	struct mmu_sim *all;
	double t0, rate[MMU_NSCHEMES], total, cpu, lane;
	uint32_t only = MMU_ALL_SCHEMES;
	static struct gups_world W;
	char err[256], b[32];

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-a")) {
			*(argv[i][1] == 'c' ? &cost : &only_all) = 1;
			continue;
		}
		if (!v) {
			pshift = 0;
			break;
		}
		i++;
		if (!strcmp(argv[i - 1], "-n")) {
			n = strtoull(v, NULL, 0);
		} else if (!strcmp(argv[i - 1], "-p")) {
			pshift = !strcmp(v, "2m") ? 21 : !strcmp(v, "4k") ? 12 : 0;
		} else if (!strcmp(argv[i - 1], "-v")) {
			vsize = parse_size(v);
		} else if (!strcmp(argv[i - 1], "-t")) {
			threads = (unsigned)strtoul(v, NULL, 0);
		} else if (!strcmp(argv[i - 1], "-b")) {
			batch = strtoull(v, NULL, 0);
		} else if (!strcmp(argv[i - 1], "-C")) {
			if (pin(v))
				return 2;
		} else if (!strcmp(argv[i - 1], "-s")) {
			if (!(only = mmu_scheme_mask_parse(v, err, sizeof(err)))) {
				fprintf(stderr, "bench-model: %s\n", err);
				return 2;
			}
		} else {
			pshift = 0;
		}
	}
	if (!n)
		n = cost ? 1000000 : 2000000;
	if (!pshift || !batch || !threads || threads > MMU_MAX_LANES || vsize < (2ULL << 20) ||
	    (vsize & (vsize - 1))) {
		fprintf(stderr, "usage: bench-model [-n accesses] [-p 4k|2m] [-v vma (power of "
				"two, e.g. 64m, 1g, 16g)] [-s schemes] [-t threads] [-b batch] "
				"[-a (all-14 only)] [-c (cost curve)] [-C cpus (e.g. 1 or 0,1)]\n");
		return 2;
	}
	if (cost)
		return curve(n, threads);
	t0 = now();
	gups_world_build(&W, vsize, pshift);
	acc = gups_stream(n, vsize);
	printf("bench-model: %zu GUPS accesses over a %s VMA (%s pages), tables "
	       "built in %.2f s; median of 5 runs, per CPU-second of 1 core\n",
	       n, size_name(vsize, b, sizeof(b)), pshift == 21 ? "2 MiB" : "4 KiB", now() - t0);

	mmu_config_default(&cfg);
	if (only_all)
		goto all14;
	printf("%-17s %14s %12s\n", "scheme", "accesses/s", "walks/s");
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		struct mmu_sim *sim;
		const struct mmu_counters *k;
		if (!(only & MMU_SCHEME_BIT(s)))
			continue;
		rate[s] = bench(&cfg, MMU_SCHEME_BIT(s), ctx_of(&W, s), acc, n, &sim);
		k = mmu_sim_counters(sim, (enum mmu_scheme)s);
		printf("%-17s %12.2f M %10.2f M\n", mmu_scheme_name((enum mmu_scheme)s),
		       rate[s] / 1e6, rate[s] / 1e6 * (double)k->walks / (double)n);
		mmu_sim_destroy(sim);
	}
	if (only != MMU_ALL_SCHEMES)
		goto out;
	/* all non-nested schemes in one simulator (TLBs simulated once per group) */
	total = bench(&cfg, MMU_ALL_SCHEMES & ~NESTED_BITS, &W.vctx, acc, n, &all);
	printf("%-17s %12.2f M accesses/s (11 schemes in one simulator)\n", "all-virt",
	       total / 1e6);
	printf("\n");
	mmu_report_table(all, stdout);
	mmu_sim_destroy(all);
	total = bench(&cfg, NESTED_BITS | MMU_SCHEME_BIT(MMU_X86_NATIVE), &W.nctx, acc, n, &all);
	printf("%-17s %12.2f M accesses/s (native + 3 nested schemes in one simulator)\n",
	       "all-nested", total / 1e6);
	mmu_report_table(all, stdout);
	mmu_sim_destroy(all);
	printf("\n");
all14:
	for (unsigned t = 1; t <= threads; t += threads > 1 ? threads - 1 : 1) {
		bench_all(&cfg, &W, acc, n, t, &total, &cpu, &lane);
		printf("%-17s %12.2f M accesses/s per CPU-second of the busiest thread; %.2f M "
		       "per wall second, %.2f M per CPU-second of the process (all 14 schemes, %u "
		       "thread%s)\n",
		       "all-14", lane / 1e6, total / 1e6, cpu / 1e6, t, t > 1 ? "s" : "");
	}
out:
	free(acc);
	gups_world_free(&W);
	return 0;
}
