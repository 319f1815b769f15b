/* SPDX-License-Identifier: MIT */
/*
 * mmu_walk_own.c: translation structures the model keeps in its own memory
 * when the caller keeps none, filled on demand and counted as VM exits:
 * shadow page tables, Agile paging's shadow upper levels, and the composed
 * EPT02 of nesting; their roots per address space, and invalidation.
 */
#include "mmu_walk.h"

/* ---- the model's own tables: shadow page tables, Agile paging, EPT02 ---- */

static const struct mmu_space *own_space(struct wk *w, struct mmu_space *sp)
{
	sp->frame = mmu_pstore_frame;
	sp->ctx = &w->st->store;
	return sp;
}

/* Returns the address of the entry for addr at level in own table root,
 * allocating missing tables down to that level (non-leaf entries get flags). */
static uint64_t *own_entry(struct mmu_pstore *s, uint64_t root, uint64_t addr, int level,
			   uint64_t nonleaf)
{
	uint64_t table = root;

	for (int l = 4;; l--) {
		uint64_t *e = mmu_pstore_entry(s, table + ((addr >> (12 + 9 * (l - 1))) & 511) * 8);
		if (!e)
			return NULL;
		if (l == level)
			return e;
		if (!(*e & 7) || (*e & AGILE_SWITCH)) {
			uint64_t t = mmu_pstore_alloc(s);
			if (!t)
				return NULL;
			*e = t | nonleaf;
		}
		table = *e & ADDR_MASK;
	}
}

/* The first leaf (or large leaf, or Agile switch) entry on the way to addr in
 * the current own table, with its level in *level; NULL if a table on the way
 * is missing or the entry is not present (x86: P; EPT02: any of RWX). */
static uint64_t *own_leaf(struct mmu_scheme_state *st, uint64_t addr, int *level)
{
	uint64_t table = st->cur_root;

	for (int l = 4; l >= 1; l--) {
		uint64_t *e =
		    mmu_pstore_entry(&st->store, table + ((addr >> (12 + 9 * (l - 1))) & 511) * 8);
		if (!e || !(*e & 7))
			return NULL;
		if (l == 1 || (*e & (X86_PS | AGILE_SWITCH))) {
			*level = l;
			return e;
		}
		table = *e & ADDR_MASK;
	}
	return NULL;
}

/* Software 2D walk (the hypervisor's, on a shadow fault): no counting. */
static int soft_2d(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *hpa, unsigned *shift)
{
	bool silent = w->silent;
	int r;

	w->silent = true;
	r = mmu_wk_x86_walk(w, NULL, w->ctx->cr3, va, HX_EPT, MMU_DIM_GUEST, NULL, w->rsvd, kind,
			    hpa, shift);
	w->silent = silent;
	return r;
}

static int shadow_fill(struct wk *w, uint64_t va, enum mmu_kind kind)
{
	uint64_t hpa, *e, flags;
	unsigned shift;
	int level;

	if (soft_2d(w, va, kind, &hpa, &shift))
		return -1; /* a real guest (or EPT) fault */
	level = shift == 30 ? 3 : shift == 21 ? 2 : 1;
	flags = X86_P | X86_US | (w->last_rw && (w->last_ept_perm & EPT_W) ? X86_RW : 0) |
		(w->last_nx || !(w->last_ept_perm & EPT_X) ? X86_NX : 0) | (level > 1 ? X86_PS : 0);
	e = own_entry(&w->st->store, w->st->cur_root, va, level, X86_P | X86_RW | X86_US);
	if (!e)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_HOST, level);
	*e = (hpa & ADDR_MASK & ~((1ULL << shift) - 1)) | flags;
	return 0;
}

int mmu_wk_shadow_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift)
{
	const struct mmu_ctx *ctx = w->ctx;
	struct mmu_space own;
	struct mmu_counters *c = &w->st->ctr;
	struct mmu_pwc *pwc = vpwc(w, MMU_DIM_GUEST);

	if (ctx->shadow_root) {
		if (!mmu_wk_x86_walk(w, &ctx->hpa, ctx->shadow_root, va, HX_NONE, MMU_DIM_GUEST,
				     pwc, w->rsvd, kind, pa, shift))
			return 0;
		if (w->fault != MMU_FAULT_NOT_PRESENT)
			return -1;
		/* The caller's shadow lacks it: a VM exit that fills it. */
		clear_fault(w);
		if (!w->silent)
			c->shadow_fills++;
		return soft_2d(w, va, kind, pa, shift);
	}
	if (!w->st->cur_root)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_GUEST, 4);
	if (!mmu_wk_x86_walk(w, own_space(w, &own), w->st->cur_root, va, HX_NONE, MMU_DIM_GUEST,
			     pwc, 0, kind, pa, shift))
		return 0;
	if (w->fault != MMU_FAULT_NOT_PRESENT && w->fault != MMU_FAULT_PROT)
		return -1;
	/* Shadow page fault: exit, the hypervisor walks the guest tables, fills
	 * the shadow entry, and the access retries (a second, counted walk). */
	clear_fault(w);
	if (!w->silent)
		c->shadow_fills++;
	if (shadow_fill(w, va, kind))
		return -1;
	return mmu_wk_x86_walk(w, &own, w->st->cur_root, va, HX_NONE, MMU_DIM_GUEST, pwc, 0, kind,
			       pa, shift);
}

/*
 * Agile paging: the upper levels are a shadow table (gVA -> hPA of the
 * guest's last-level table page), marked with a switch bit; the guest's leaf
 * entry is then read at its hPA and its gPA is translated by a nested (EPT)
 * walk. 4 KiB leaves: 3 shadow refs + 1 guest ref + 4 host refs = 8.
 */
static int agile_fill(struct wk *w, uint64_t va, enum mmu_kind kind)
{
	uint64_t hpa, *e;
	unsigned shift;
	int leaf;

	if (soft_2d(w, va, kind, &hpa, &shift))
		return -1;
	leaf = w->leaf_level;
	if (leaf == 4)
		return set_fault(w, MMU_FAULT_RESERVED, MMU_DIM_GUEST, 4);
	e = own_entry(&w->st->store, w->st->cur_root, va, leaf + 1, X86_P | X86_RW | X86_US);
	if (!e)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_GUEST, leaf + 1);
	*e = (w->rec_t[leaf] & ADDR_MASK) | X86_P | X86_RW | X86_US | AGILE_SWITCH;
	return 0;
}

static int agile_try(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift)
{
	struct mmu_space own;
	uint64_t table = w->st->cur_root, e = 0;
	unsigned hs;
	int level;

	own_space(w, &own);
	for (level = 4; level >= 2; level--) {
		w->row = 4 - level;
		if (rd(w, &own, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8, MMU_DIM_GUEST,
		       level, &e))
			return -1;
		if (!(e & X86_P))
			return set_fault(w, MMU_FAULT_NOT_PRESENT, MMU_DIM_GUEST, level);
		table = e & ADDR_MASK;
		if (e & AGILE_SWITCH)
			break;
	}
	if (level < 2)
		return set_fault(w, MMU_FAULT_NOT_PRESENT, MMU_DIM_GUEST, 1);
	/* the guest's own last-level entry, read at its hPA */
	level--;
	w->row = 4 - level;
	if (rd(w, &w->ctx->hpa, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8, MMU_DIM_GUEST,
	       level, &e) ||
	    mmu_wk_x86_check(w, e, level, w->rsvd, MMU_DIM_GUEST))
		return -1;
	if (!x86_leaf(e, level))
		return set_fault(w, MMU_FAULT_NOT_PRESENT, MMU_DIM_GUEST, level);
	if ((kind == MMU_STORE && !(e & X86_RW)) || (kind == MMU_FETCH && (e & X86_NX)))
		return set_fault(w, MMU_FAULT_PROT, MMU_DIM_GUEST, level);
	w->row = 4;
	if (mmu_wk_host_xlate(w, HX_EPT, leaf_addr(e, level, va), need_ept(kind), pa, &hs))
		return -1;
	*shift = 12 + 9 * (unsigned)(level - 1);
	if (hs < *shift)
		*shift = hs;
	return 0;
}

int mmu_wk_agile_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift)
{
	if (!w->st->cur_root)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_GUEST, 4);
	if (!agile_try(w, va, kind, pa, shift))
		return 0;
	if (w->fault != MMU_FAULT_NOT_PRESENT || w->fault_dim != MMU_DIM_GUEST)
		return -1;
	clear_fault(w);
	if (!w->silent)
		w->st->ctr.shadow_fills++;
	if (agile_fill(w, va, kind))
		return -1;
	return agile_try(w, va, kind, pa, shift);
}

/*
 * EPT02 = EPT12 o EPT01, composed by L0 on demand (KVM's shadow EPT): a
 * missing entry is an EPT violation exit that L0 fills from a software walk
 * of EPT12 and EPT01; the access then retries.
 */
static int ept02_fill(struct wk *w, uint64_t gpa, unsigned need)
{
	uint64_t hpa, *e;
	unsigned shift;
	bool silent = w->silent;
	int level, r;

	w->silent = true;
	r = mmu_wk_host_xlate(w, HX_3D, gpa, need, &hpa, &shift);
	w->silent = silent;
	if (r)
		return -1;
	level = shift >= 21 ? 2 : 1;
	shift = level == 2 ? 21 : 12;
	e = own_entry(&w->st->store, w->st->cur_root, gpa, level, EPT_RWX);
	if (!e)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_HOST, level);
	*e = (hpa & ADDR_MASK & ~((1ULL << shift) - 1)) | (w->last_ept_perm & EPT_RWX) |
	     (level == 2 ? EPT_PS : 0);
	return 0;
}

int mmu_wk_ept02_xlate(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa, unsigned *hs)
{
	const struct mmu_ctx *ctx = w->ctx;
	struct mmu_space own;
	struct mmu_pwc *pwc = host_pwc(w);
	bool silent;
	int r;

	if (ctx->ept02_root) {
		if (!mmu_wk_ept_walk(w, &ctx->hpa, ctx->ept02_root, gpa, MMU_DIM_HOST, pwc, w->rsvd,
				     need, HX_NONE, hpa, hs))
			return 0;
		if (w->fault != MMU_FAULT_NOT_PRESENT)
			return -1;
		clear_fault(w);
		if (!w->silent)
			w->st->ctr.shadow_fills++;
		silent = w->silent;
		w->silent = true;
		r = mmu_wk_host_xlate(w, HX_3D, gpa, need, hpa, hs);
		w->silent = silent;
		return r;
	}
	if (!w->st->cur_root)
		return set_fault(w, MMU_FAULT_BAD_PA, MMU_DIM_HOST, 4);
	own_space(w, &own);
	if (!mmu_wk_ept_walk(w, &own, w->st->cur_root, gpa, MMU_DIM_HOST, pwc, 0, need, HX_NONE,
			     hpa, hs))
		return 0;
	if (w->fault != MMU_FAULT_NOT_PRESENT && w->fault != MMU_FAULT_PROT)
		return -1;
	clear_fault(w);
	if (!w->silent)
		w->st->ctr.shadow_fills++;
	if (ept02_fill(w, gpa, need))
		return -1;
	return mmu_wk_ept_walk(w, &own, w->st->cur_root, gpa, MMU_DIM_HOST, pwc, 0, need, HX_NONE,
			       hpa, hs);
}

/* ---- own roots and invalidation ---- */

bool mmu_scheme_has_own_tables(enum mmu_scheme s)
{
	return s == MMU_X86_SHADOW || s == MMU_AGILE || s == MMU_X86_NESTED_EPT02;
}

void mmu_scheme_state_clear_tables(struct mmu_scheme_state *st)
{
	uint64_t base = st->store.base;

	mmu_pstore_free(&st->store);
	mmu_pstore_init(&st->store, base);
	st->nroots = 0;
	st->cur_root = 0;
}

void mmu_walk_select_root(struct mmu_scheme_state *st, const struct mmu_ctx *ctx)
{
	uint64_t k0, k1;

	st->cur_root = 0;
	if (!mmu_scheme_has_own_tables(st->id))
		return;
	if (st->id == MMU_X86_NESTED_EPT02) {
		if (ctx->ept02_root)
			return;
		k0 = ctx->ept12_root;
		k1 = ctx->ept_root;
	} else {
		if (st->id == MMU_X86_SHADOW && ctx->shadow_root)
			return;
		k0 = ctx->asid;
		k1 = ctx->cr3;
	}
	for (uint32_t i = 0; i < st->nroots; i++) {
		if (st->root_key[i][0] == k0 && st->root_key[i][1] == k1) {
			st->cur_root = st->root_pa[i];
			return;
		}
	}
	if (st->nroots == MMU_MAX_ROOTS)
		mmu_scheme_state_clear_tables(st);
	st->cur_root = mmu_pstore_alloc(&st->store);
	if (!st->cur_root)
		return;
	st->root_key[st->nroots][0] = k0;
	st->root_key[st->nroots][1] = k1;
	st->root_pa[st->nroots++] = st->cur_root;
}

void mmu_walk_invalidate(struct mmu_scheme_state *st, const struct mmu_ctx *ctx, uint64_t va,
			 uint64_t len)
{
	if (st->id == MMU_X86_SHADOW)
		st->ctr.shadow_invalidations++;
	if (st->id != MMU_X86_SHADOW && st->id != MMU_AGILE)
		return;
	if (len == 0 || len > (512ULL << 12)) {
		mmu_scheme_state_clear_tables(st);
		return;
	}
	mmu_walk_select_root(st, ctx);
	if (!st->cur_root)
		return;
	/* Drop the first leaf (or Agile switch) entry on the way to each page. */
	for (uint64_t a = va & ~0xfffULL; a < va + len; a += 4096) {
		int level;
		uint64_t *e = own_leaf(st, a, &level);
		if (e)
			*e = 0;
	}
}

/* ---- warm own tables (mmu_sim_prefill) ---- */

/* Bytes the own entry for addr maps (a leaf, a large leaf or an Agile switch), 0 if none. */
static uint64_t own_span(struct mmu_scheme_state *st, uint64_t addr)
{
	int level;

	return own_leaf(st, addr, &level) ? 1ULL << (12 + 9 * (level - 1)) : 0;
}

uint64_t mmu_walk_own_prefill(struct mmu_scheme_state *st, const struct mmu_ctx *ctx, uint64_t addr)
{
	struct wk w;
	uint64_t span;
	int r = -1;

	if (!st->cur_root)
		return 0;
	span = own_span(st, addr);
	if (span)
		return span;
	memset(&w, 0, sizeof(w));
	w.st = st;
	w.cfg = st->cfg;
	w.ctx = ctx;
	w.silent = true; /* the hypervisor's software walks: nothing counted, no caches */
	w.row = -1;
	w.rsvd = wk_rsvd(st->cfg);
	if (st->id == MMU_X86_SHADOW)
		r = shadow_fill(&w, addr, MMU_LOAD);
	else if (st->id == MMU_AGILE)
		r = agile_fill(&w, addr, MMU_LOAD);
	else if (st->id == MMU_X86_NESTED_EPT02)
		r = ept02_fill(&w, addr, EPT_R);
	return r ? 0 : own_span(st, addr);
}
