/* SPDX-License-Identifier: MIT */
/*
 * mmu_walk_peers.c: the peer designs the paper compares against that keep no
 * radix walk of their own: FPT (flattened L4+L3 / L2+L1 tables) and ECPT
 * (elastic cuckoo page tables, the artifact's step model).
 */
#include "mmu_walk.h"

/* ---- flattened page tables (FPT): L4+L3 and L2+L1 merged ---- */

/*
 * The flattened tables hold the same entries as the radix levels they merge,
 * so the model finds them with a software walk and counts one reference at
 * the address of the L3 entry (the L4+L3 table) and one at the leaf (the
 * L2+L1 table); a 1 GiB leaf needs only the first.
 */
int mmu_wk_fpt_ept(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa, unsigned *hs)
{
	bool silent = w->silent;
	int r;

	w->silent = true;
	r = mmu_wk_ept_walk(w, &w->ctx->hpa, w->ctx->ept_root, gpa, MMU_DIM_HOST, NULL, w->rsvd,
			    need, HX_NONE, hpa, hs);
	w->silent = silent;
	if (r && w->fault_level == 4)
		return r;
	cnt(w, w->rec_h[3], MMU_DIM_HOST, 3);
	if (w->leaf_level_h <= 2 || (r && w->fault_level <= 2))
		cnt(w, w->rec_h[r ? w->fault_level : w->leaf_level_h], MMU_DIM_HOST,
		    r ? w->fault_level : w->leaf_level_h);
	return r;
}

int mmu_wk_fpt_walk(struct wk *w, uint64_t va, bool virt, enum mmu_kind kind, uint64_t *pa,
		    unsigned *shift)
{
	const struct mmu_ctx *ctx = w->ctx;
	uint64_t root = virt ? ctx->cr3 : (ctx->native_cr3 ? ctx->native_cr3 : ctx->cr3);
	uint64_t rec[5], gpa;
	int leaf, r, levels[2], nl = 0;
	unsigned hs = 30, s;

	w->silent = true;
	r = mmu_wk_x86_walk(w, &ctx->gpa, root, va, virt ? HX_EPT : HX_NONE, MMU_DIM_GUEST, NULL,
			    w->rsvd, kind, pa, shift);
	w->silent = false;
	if (r)
		return r; /* a fault found by the software walk: no refs modelled */
	memcpy(rec, w->rec, sizeof(rec));
	leaf = w->leaf_level;
	gpa = w->leaf_gpa;
	levels[nl++] = 3;
	if (leaf <= 2)
		levels[nl++] = leaf;
	for (int i = 0; i < nl; i++) {
		uint64_t ea = rec[levels[i]];
		w->row = 4 - levels[i];
		if (virt && mmu_wk_fpt_ept(w, ea, EPT_R, &ea, &s))
			return -1;
		cnt(w, ea, MMU_DIM_GUEST, levels[i]);
	}
	if (virt) {
		w->row = 4;
		if (mmu_wk_fpt_ept(w, gpa, need_ept(kind), pa, &hs))
			return -1;
	}
	return 0;
}

/* ---- ECPT: elastic cuckoo page tables (the artifact's step model) ---- */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#define ECPT_WAY_BYTES (1ULL << 26) /* 2^20 lines of 8 clustered entries per way */

static uint64_t ecpt_slot(uint64_t base, unsigned way, uint64_t key)
{
	return base + way * ECPT_WAY_BYTES +
	       ((mix64(key * (2 * way + 3)) & (ECPT_WAY_BYTES / 64 - 1)) << 6);
}

/*
 * ECPT keeps no radix tree: a lookup probes all d cuckoo ways in parallel
 * (one step, latency = the slowest probe). Virtualized: step 1 host probes
 * for each guest way's line, step 2 the guest probes, step 3 host probes for
 * the data gPA. The tables are hashed; their entries are not stored, so the
 * model takes the translation from the radix tables (same mapping) and
 * models the probes at their hashed addresses.
 */
int mmu_wk_ecpt_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift)
{
	unsigned d = w->cfg->ecpt_ways;
	uint64_t gline[8], hline[8][8], dline[8], gpa;

	w->silent = true;
	int r = mmu_wk_x86_walk(w, NULL, w->ctx->cr3, va, HX_EPT, MMU_DIM_GUEST, NULL, w->rsvd,
				kind, pa, shift);
	w->silent = false;
	if (r)
		return r;
	gpa = w->leaf_gpa;
	/* the probes of a step are independent: hash them all and start all
	 * their set loads first */
	for (unsigned i = 0; i < d; i++) {
		gline[i] = ecpt_slot(MMU_PRIV_ECPT_G_BASE, i, va >> 15);
		dline[i] = ecpt_slot(MMU_PRIV_ECPT_H_BASE, i, gpa >> 15);
	}
	for (unsigned i = 0; i < d; i++)
		for (unsigned j = 0; j < d; j++)
			hline[i][j] = ecpt_slot(MMU_PRIV_ECPT_H_BASE, j, gline[i] >> 15);
	w->no_traj = true;
	w->overlap = true;
	w->ov_max = 0;
	for (unsigned i = 0; i < d && w->st->cache; i++) {
		mmu_cache_prefetch(w->st->cache, gline[i]);
		mmu_cache_prefetch(w->st->cache, dline[i]);
		for (unsigned j = 0; j < d; j++)
			mmu_cache_prefetch(w->st->cache, hline[i][j]);
	}
	for (unsigned i = 0; i < d; i++)
		for (unsigned j = 0; j < d; j++)
			cnt(w, hline[i][j], MMU_DIM_HOST, 0);
	w->cycles += w->ov_max;
	w->ov_max = 0;
	for (unsigned i = 0; i < d; i++)
		cnt(w, gline[i], MMU_DIM_GUEST, 0);
	w->cycles += w->ov_max;
	w->ov_max = 0;
	for (unsigned j = 0; j < d; j++)
		cnt(w, dline[j], MMU_DIM_HOST, 0);
	w->cycles += w->ov_max;
	w->ov_max = 0;
	w->overlap = false;
	return 0;
}
