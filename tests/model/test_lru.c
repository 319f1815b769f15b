/* SPDX-License-Identifier: MIT */
/*
 * test_lru.c: the cache model and the TLBs (order words, 32-bit tags that
 * widen, folded private addresses, wide sets) against a plain MRU-first
 * reference, access by access, over addresses in every range the model
 * uses: low RAM, the fold block at 116 GiB, the private regions at 2^51, and
 * high addresses that force 32-bit (LLC) and 64-bit tags.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "mmu_internal.h"
#include "mmu_tlb.h"

/* ---- reference: MRU-first arrays of full keys ---- */
struct ref_set_assoc {
	uint64_t *k, *v;
	uint32_t ways, sets;
};

static void ref_init(struct ref_set_assoc *r, uint32_t sets, uint32_t ways)
{
	r->ways = ways;
	r->sets = sets;
	r->k = calloc((size_t)sets * ways, 8);
	r->v = calloc((size_t)sets * ways, 8);
}

static void ref_free(struct ref_set_assoc *r)
{
	free(r->k);
	free(r->v);
}

/* Returns hit; fills on a miss when fill. */
static bool ref_access(struct ref_set_assoc *r, uint64_t key, uint64_t set, bool fill, uint64_t val,
		       uint64_t *out)
{
	uint64_t *k = r->k + (set % r->sets) * r->ways, *v = r->v + (set % r->sets) * r->ways;
	uint32_t i;

	for (i = 0; i < r->ways; i++)
		if (k[i] == key)
			break;
	if (i == r->ways && !fill)
		return false;
	bool hit = i < r->ways;
	uint64_t hv = hit ? v[i] : val;
	if (!hit)
		i = r->ways - 1;
	for (; i > 0; i--) {
		k[i] = k[i - 1];
		v[i] = v[i - 1];
	}
	k[0] = key;
	v[0] = hit && !fill ? hv : val;
	if (out)
		*out = hv;
	return hit;
}

static uint64_t rng = 12345;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* An address from one of the ranges, clustered so that lines repeat; when
 * narrow only those whose LLC tags fit in 16 bits: below 128 GiB and not in
 * the fold block (its addresses are swapped with the private regions'). */
static uint64_t some_pa(bool narrow)
{
	static const int narrow_ranges[4] = {0, 1, 3, 4};
	uint64_t r = rnd(), off = (r >> 8) & 0x3ffc0;

	switch (narrow ? narrow_ranges[r % 4] : (int)(r % 8)) {
	case 0:
		return 0x100000 + off;
	case 1: /* 64 lines in each of 64 sets of every level: full sets, evictions */
		return (1ULL << 30) + ((r >> 20) % 64 << 21) + (off & 0xfc0);
	case 2:
		return (116ULL << 30) + ((r >> 40) % 5 << 31) + off; /* the fold block */
	case 3:
	case 4:
		return MMU_PRIV_BASE + ((r >> 40) % 5 << 48) + off; /* private regions */
	case 5:
		return MMU_PRIV_BASE + (1ULL << 40) + off; /* private, beyond the fold */
	case 6:
		return (1ULL << 43) + off; /* 32-bit LLC tags */
	default:
		return (r >> 5 & 1 ? 1ULL << 47 : 1ULL << 50) + off; /* forces wide tags */
	}
}

/* The cache against the reference for 200000 accesses (a clear halfway);
 * the first `narrow` accesses are of addresses below 128 GiB only, so that
 * the levels that start with 16-bit tags keep them until then. */
static void check_cache(uint32_t l1, uint32_t w1, uint32_t l2, uint32_t w2, uint32_t l3,
			uint32_t w3, int narrow)
{
	struct mmu_config cfg;
	struct mmu_cache c;
	struct ref_set_assoc ref[3];
	uint32_t size[3] = {l1, l2, l3}, ways[3] = {w1, w2, w3};

	mmu_config_default(&cfg);
	cfg.l1_size = l1, cfg.l1_ways = w1, cfg.l2_size = l2, cfg.l2_ways = w2;
	cfg.llc_size = l3, cfg.llc_ways = w3;
	cr_assert_eq(mmu_cache_init(&c, &cfg), 0);
	for (int i = 0; i < 3; i++)
		ref_init(&ref[i], size[i] / 64 / ways[i], ways[i]);
	for (int n = 0; n < 200000; n++) {
		uint64_t pa = some_pa(n < narrow), line = pa >> 6;
		int want = MMU_SRV_DRAM;
		for (int i = 0; i < 3; i++) {
			if (ref_access(&ref[i], line, line, true, 0, NULL)) {
				want = MMU_SRV_L1 + i;
				break;
			}
		}
		int got = mmu_cache_access(&c, pa);
		if (n == narrow - 1 && l3 == (22 << 20) && w3 == 11)
			cr_assert(c.lv[2].tags16, "the narrow phase widened the LLC");
		cr_assert_eq(got, want, "LLC %u/%u: access %d pa 0x%llx: served %d, reference %d",
			     l3, w3, n, (unsigned long long)pa, got, want);
		if (n == 100000) { /* a reset empties every level of both */
			mmu_cache_clear(&c);
			for (int i = 0; i < 3; i++)
				memset(ref[i].k, 0, 8ULL * ref[i].sets * ref[i].ways);
		}
	}
	for (int i = 0; i < 3; i++)
		ref_free(&ref[i]);
	mmu_cache_free(&c);
}

Test(lru, cache_default_geometry)
{
	check_cache(32768, 8, 1 << 20, 16, 22 << 20, 11, 0);
}

/* The LLC's 16-bit tags: kept throughout, then widened with full sets. */
Test(lru, cache_narrow_tags_then_widened)
{
	check_cache(32768, 8, 1 << 20, 16, 22 << 20, 11, 200000);
	check_cache(32768, 8, 1 << 20, 16, 22 << 20, 11, 60000);
	/* a small L2, so that the LLC's full sets serve many hits */
	check_cache(4096, 2, 65536, 4, 22 << 20, 11, 200000);
	check_cache(4096, 2, 65536, 4, 24 << 20, 12, 60000);
}

Test(lru, cache_small_odd_and_wide_sets)
{
	check_cache(1024, 2, 16384, 16, 65536, 32, 0);
	check_cache(4096, 1, 8192, 4, 1 << 20, 64, 0);
	check_cache(2048, 16, 12288, 3, 40960, 5, 0);
}

static void check_tlb(uint32_t entries, uint32_t ways)
{
	struct mmu_tlb t;
	struct ref_set_assoc ref;

	cr_assert_eq(mmu_tlb_init(&t, entries, ways), 0);
	ref_init(&ref, entries / ways, ways);
	for (int n = 0; n < 200000; n++) {
		uint64_t r = rnd(), va = ((r >> 12) % 4096) << 12 | (r & 0xfff), base, want;
		unsigned shift = r >> 60 & 1 ? 21 : 12;
		uint64_t key = (((va >> shift) << 1) | (shift != 12)) + 1;
		if (r % 7 == 0) {
			uint64_t pb = (r >> 20) << 12;
			mmu_tlb_insert(&t, va, shift, pb);
			ref_access(&ref, key, va >> shift, true, pb, NULL);
		} else if (r % 97 == 1) {
			mmu_tlb_flush_page(&t, va);
			for (int j = 0; j < 2; j++) {
				unsigned s = j ? 21 : 12;
				uint64_t k = (((va >> s) << 1) | (s != 12)) + 1;
				uint64_t *ks = ref.k + ((va >> s) % ref.sets) * ways;
				for (uint32_t i = 0; i < ways; i++)
					if (ks[i] == k)
						ks[i] = 0;
			}
		} else {
			unsigned got = mmu_tlb_lookup(&t, va, true, &base);
			unsigned exp = 0;
			uint64_t k12 = ((va >> 12) << 1) + 1, k21 = (((va >> 21) << 1) | 1) + 1;
			if (ref_access(&ref, k12, va >> 12, false, 0, &want))
				exp = 12;
			else if (ref_access(&ref, k21, va >> 21, false, 0, &want))
				exp = 21;
			cr_assert_eq(got, exp, "lookup %d va 0x%llx: %u, reference %u", n,
				     (unsigned long long)va, got, exp);
			if (got) {
				cr_assert_eq(base, want);
			} else if (r % 5 == 0) { /* the fill after a miss */
				uint64_t pb = (r >> 24) << 12;
				mmu_tlb_insert_missed(&t, va, shift, pb);
				ref_access(&ref, key, va >> shift, true, pb, NULL);
			}
		}
	}
	ref_free(&ref);
	mmu_tlb_free(&t);
}

Test(lru, tlbs_match_mru_arrays)
{
	check_tlb(64, 4);
	check_tlb(1536, 12);
	check_tlb(16, 16);
	check_tlb(128, 32);
	check_tlb(8, 1);
}
