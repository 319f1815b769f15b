/* SPDX-License-Identifier: MIT */
/*
 * golden.c: the model's golden counters test. Runs fixed pseudo-random
 * streams (GUPS pairs, sequential runs, fetches, hot windows, unmapped and
 * read-only pages, several vCPUs, invalidations, an address-space switch)
 * over the benchmark's realistic tables with walk caches and caches on,
 * under every scheme, 4 KiB and 2 MiB pages, and compares EVERY counter
 * with the JSON files in tests/model/golden/, written by the model as it was
 * before the speed work. A speed change must not move a single counter.
 *
 *   golden DIR            check against DIR/NAME.json (exit 1 on a difference)
 *   golden --write DIR    (re)write the golden files
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gups_world.h"

#define NONNESTED                                                                                  \
	(MMU_ALL_SCHEMES & ~(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |   \
			     MMU_SCHEME_BIT(MMU_PVDMT_NESTED)))
#define NESTED                                                                                     \
	(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |                       \
	 MMU_SCHEME_BIT(MMU_PVDMT_NESTED) | MMU_SCHEME_BIT(MMU_X86_NATIVE) |                       \
	 MMU_SCHEME_BIT(MMU_DMT_NATIVE) | MMU_SCHEME_BIT(MMU_FPT_NATIVE))

/* Outside the VMA (no DMT register: register misses, radix fallbacks). */
#define XVA4K  0x7e0000000000ULL /* 64 pages of 4 KiB, page 5 read-only, 6 NX */
#define XVA2M  0x7e0000400000ULL /* one 2 MiB page */
#define XDATA  0x08000000ULL
#define XDATA2 0x0a000000ULL

struct run {
	const char *name;
	int pshift;
	bool nested;
	uint32_t mask;
	size_t n;
	const char *cfg; /* config lines on top of the defaults */
};

static const struct run runs[] = {
    {"4k-virt", 12, false, NONNESTED, 240000, ""},
    {"4k-nested", 12, true, NESTED, 100000, ""},
    {"4k-virt-data-ntlb", 12, false, NONNESTED, 60000,
     "cache_data = 1\nntlb_entries = 16\npwc_pde = 8\nl2_size = 256K\nllc_size = 2M\n"
     "llc_ways = 16\n"},
    {"4k-nested-ntlb", 12, true, NESTED, 40000, "ntlb_entries = 32\nntlb_ways = 8\n"},
    {"4k-virt-nopwc", 12, false, NONNESTED, 40000, "pwc = 0\ntlb_2m = 0\n"},
    {"4k-virt-wide", 12, false, NONNESTED, 40000,
     "l1_ways = 2\nl2_size = 512K\nl2_ways = 32\nllc_size = 4M\nllc_ways = 64\n"
     "stlb_entries = 1024\nstlb_ways = 64\n"},
    {"2m-virt", 21, false, NONNESTED, 120000,
     "stlb_entries = 64\nstlb_ways = 4\nl1d_tlb_entries = 16\n"},
    {"2m-nested", 21, true, NESTED, 60000,
     "stlb_entries = 64\nstlb_ways = 4\nl1d_tlb_entries = 16\ncache_data = 1\n"},
};

static uint64_t rng = 0x243F6A8885A308D3ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Extra mappings outside the VMA; one read-only and one NX page in the VMA. */
static void extra_maps(struct gups_world *w)
{
	uint64_t cr3 = w->vctx.cr3;

	for (uint64_t i = 0; i < 64; i++)
		fx_map(&w->g, cr3, XVA4K + (i << 12), XDATA + (i << 12), 1, false);
	fx_map(&w->g, cr3, XVA2M, XDATA2, 2, false);
	*fx_walk_entry(&w->g, cr3, XVA4K + (5 << 12), 1, false) &= ~0x2ULL;
	*fx_walk_entry(&w->g, cr3, XVA4K + (6 << 12), 1, false) |= 1ULL << 63;
	*fx_walk_entry(&w->g, cr3, GW_VMA + (7ULL << w->pshift), w->pshift == 21 ? 2 : 1, false) &=
	    ~0x2ULL;
	*fx_walk_entry(&w->g, cr3, GW_VMA + (9ULL << w->pshift), w->pshift == 21 ? 2 : 1, false) |=
	    1ULL << 63;
}

static void stream(struct mmu_access *a, size_t n, uint64_t vsize)
{
	uint64_t seq = GW_VMA;

	for (size_t i = 0; i < n;) {
		uint64_t r = next(), va;
		unsigned pick = (unsigned)(r % 100), vcpu = (r >> 8) % 10 == 0 ? 1 : 0;
		uint8_t kind = MMU_LOAD;

		if ((r >> 16) % 997 == 0)
			vcpu = 3;
		r = next();
		if (pick < 55) { /* GUPS read-modify-write */
			va = GW_VMA + (r & (vsize - 1) & ~7ULL);
			a[i++] = (struct mmu_access){va, 8, MMU_LOAD, (uint8_t)vcpu, 0};
			if (i < n)
				a[i++] = (struct mmu_access){va, 8, MMU_STORE, (uint8_t)vcpu, 0};
			continue;
		}
		if (pick < 70) { /* a sequential run */
			seq += 64 + (r & 0x3c0);
			if (seq >= GW_VMA + vsize)
				seq = GW_VMA;
			va = seq;
		} else if (pick < 78) { /* code */
			va = GW_VMA + (r & (vsize - 1));
			kind = MMU_FETCH;
		} else if (pick < 88) { /* a hot 2 MiB window */
			va = GW_VMA + (32ULL << 20) + (r & 0x1ffff8);
			kind = (r >> 40) & 1 ? MMU_STORE : MMU_LOAD;
		} else if (pick < 95) { /* outside the VMA, RO and NX pages included */
			va = (r >> 32) & 1 ? XVA2M + (r & 0x1fffff) : XVA4K + (r & 0x3ffff);
			kind = (uint8_t)((r >> 33) % 3);
		} else if (pick < 97) { /* the VMA's read-only / NX pages */
			va = GW_VMA + (((r >> 40) & 1 ? 7ULL : 9ULL) << 21 >> 9) + (r & 0xff8);
			kind = (uint8_t)((r >> 33) % 3);
		} else { /* unmapped */
			va =
			    (r >> 32) & 1 ? GW_VMA + vsize + (r & 0xffffff) : 0x1000 + (r & 0xffff);
		}
		a[i++] = (struct mmu_access){va, (uint32_t)(1u << (r >> 50) % 4), kind,
					     (uint8_t)vcpu, 0};
	}
}

static struct mmu_sim *run_one(const struct run *rn, struct gups_world *w)
{
	struct mmu_config cfg;
	char err[256];
	struct mmu_sim *sim;
	struct mmu_access *acc = malloc(rn->n * sizeof(*acc));
	struct mmu_ctx ctx = rn->nested ? w->nctx : w->vctx, other;

	mmu_config_default(&cfg);
	if (mmu_config_parse(&cfg, rn->cfg, err, sizeof(err)) ||
	    !(sim = mmu_sim_create(&cfg, rn->mask, err, sizeof(err)))) {
		fprintf(stderr, "golden: %s: %s\n", rn->name, err);
		exit(2);
	}
	other = ctx;
	other.asid = 2; /* an address-space switch: flushes TLBs and walk caches */
	stream(acc, rn->n, w->vsize);
	for (size_t k = 0, b = 0; k < rn->n; k += 1000, b++) {
		size_t m = rn->n - k < 1000 ? rn->n - k : 1000;
		mmu_sim_run(sim, b % 37 == 36 ? &other : &ctx, acc + k, m);
		if (b % 11 == 10)
			mmu_sim_invalidate(sim, &ctx, acc[k].va & ~0xfffULL, 4096);
		if (b % 53 == 52)
			mmu_sim_invalidate(sim, &ctx, 0, 0);
		if (b % 29 == 28)
			mmu_sim_invalidate(sim, &ctx, GW_VMA, 8ULL << 12);
	}
	free(acc);
	return sim;
}

/* Names the counter word at index k of struct mmu_counters (for messages). */
static void word_name(size_t k, char *buf, size_t len)
{
	static const struct {
		const char *name;
		size_t off, n;
	} a[] = {
#define A(f) {#f, offsetof(struct mmu_counters, f), sizeof(((struct mmu_counters *)0)->f) / 8}
	    A(accesses),
	    A(skipped),
	    A(tlb_l1_hits),
	    A(tlb_l2_hits),
	    A(tlb_misses),
	    A(walks),
	    A(faults),
	    A(refs),
	    A(refs_hist),
	    A(refs_dim_level),
	    A(served),
	    A(walk_cycles),
	    A(dmt_hits),
	    A(dmt_misses),
	    A(dmt_fallbacks),
	    A(shadow_fills),
	    A(shadow_invalidations),
	    A(traj),
	    A(data_cycles),
#undef A
	};
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		if (k * 8 >= a[i].off && k * 8 < a[i].off + a[i].n * 8) {
			snprintf(buf, len, "%s[%zu]", a[i].name, k - a[i].off / 8);
			return;
		}
	}
	snprintf(buf, len, "word %zu", k);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	s[n] = 0;
	fclose(f);
	return s;
}

/* Returns the number of differing counters. */
static int check(const struct run *rn, struct mmu_sim *sim, const char *path)
{
	struct mmu_counters want[MMU_NSCHEMES];
	uint32_t mask;
	char err[256], *text = slurp(path);
	int bad = 0;

	if (!text) {
		fprintf(stderr, "golden: %s: cannot read %s\n", rn->name, path);
		return 1;
	}
	if (mmu_report_json_read(text, want, &mask, err, sizeof(err))) {
		fprintf(stderr, "golden: %s: %s\n", path, err);
		free(text);
		return 1;
	}
	free(text);
	if (mask != mmu_sim_schemes(sim)) {
		fprintf(stderr, "golden: %s: schemes 0x%x, golden has 0x%x\n", rn->name,
			mmu_sim_schemes(sim), mask);
		return 1;
	}
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const uint64_t *now = (const uint64_t *)mmu_sim_counters(sim, (enum mmu_scheme)s);
		const uint64_t *old = (const uint64_t *)&want[s];
		if (!(mask & MMU_SCHEME_BIT(s)))
			continue;
		for (size_t k = 0; k < sizeof(struct mmu_counters) / 8; k++) {
			char name[64];
			if (now[k] == old[k])
				continue;
			word_name(k, name, sizeof(name));
			fprintf(stderr, "golden: %s: %s: %s = %llu, golden %llu\n", rn->name,
				mmu_scheme_name((enum mmu_scheme)s), name,
				(unsigned long long)now[k], (unsigned long long)old[k]);
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	bool write = argc == 3 && !strcmp(argv[1], "--write");
	const char *dir = write ? argv[2] : argc == 2 ? argv[1] : NULL;
	struct gups_world w4, w2;
	int bad = 0;

	if (!dir) {
		fprintf(stderr, "usage: golden [--write] DIR\n");
		return 2;
	}
	gups_world_build(&w4, 256ULL << 20, 12);
	extra_maps(&w4);
	gups_world_build(&w2, 1ULL << 30, 21);
	extra_maps(&w2);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const struct run *rn = &runs[i];
		char path[4096];
		struct mmu_sim *sim;
		int b = 0;

		rng = 0x243F6A8885A308D3ULL + i;
		sim = run_one(rn, rn->pshift == 21 ? &w2 : &w4);
		snprintf(path, sizeof(path), "%s/%s.json", dir, rn->name);
		if (write) {
			FILE *f = fopen(path, "w");
			if (!f) {
				fprintf(stderr, "golden: cannot write %s\n", path);
				return 2;
			}
			mmu_report_json(sim, f);
			fclose(f);
		} else {
			b = check(rn, sim, path);
		}
		printf("%-20s %s\n", rn->name, write ? "written" : b ? "DIFFERS" : "ok");
		bad += b;
		mmu_sim_destroy(sim);
	}
	gups_world_free(&w4);
	gups_world_free(&w2);
	return bad ? 1 : 0;
}
