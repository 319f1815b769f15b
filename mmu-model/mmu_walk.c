/* SPDX-License-Identifier: MIT */
/*
 * mmu_walk.c: the radix walkers and the dispatch of one translation per
 * scheme. Every scheme is a walk over real table bytes at real byte
 * addresses: x86 radix (1D, 2D over EPT, 2D over a shadow EPT02, true 3D),
 * DMT / pvDMT (native, virtualized, nested); FPT and ECPT live in
 * mmu_walk_peers.c, shadow / Agile / EPT02 in mmu_walk_own.c. Each memory
 * reference goes through the scheme's cache hierarchy and is counted by
 * (dimension, level), by where it was served and in the trajectory histogram.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_walk.h"

/* traj_step's table, [row + 1][dim][level]: row r < 4 reads guest level
 * 4 - r's table (a guest reference is Gx, a host one GxHy); row 4 is the
 * data (a host reference is UDHy); nothing else is a step. */
/* clang-format off */
#define NO_STEPS { -1, -1, -1, -1, -1 }
/* guest level x's table: its entry is Gx, the host levels' entries GxHy */
#define GUEST_ROW(x) {                                                              \
	{ -1, MMU_TRAJ_G(x), MMU_TRAJ_G(x), MMU_TRAJ_G(x), MMU_TRAJ_G(x) },         \
	{ -1, MMU_TRAJ_GH(x, 1), MMU_TRAJ_GH(x, 2), MMU_TRAJ_GH(x, 3), MMU_TRAJ_GH(x, 4) }, \
	NO_STEPS }
const int8_t mmu_wk_traj_steps[6][MMU_NDIMS][5] = {
	{ NO_STEPS, NO_STEPS, NO_STEPS }, /* row -1 */
	GUEST_ROW(4), GUEST_ROW(3), GUEST_ROW(2), GUEST_ROW(1), /* rows 0..3 */
	{ NO_STEPS, /* row 4: the data */
	  { -1, MMU_TRAJ_UDH(1), MMU_TRAJ_UDH(2), MMU_TRAJ_UDH(3), MMU_TRAJ_UDH(4) },
	  NO_STEPS },
};
#undef GUEST_ROW
#undef NO_STEPS
/* clang-format on */

/* One walk-cache lookup; with cache_fast_path a tag equal to the last one
 * this cache saw misses (the artifact's caching_device). */
static inline bool pwc_lookup(struct wk *w, struct mmu_pwc *p, uint64_t tag, uint64_t *v)
{
	if (__builtin_expect(w->cfg->cache_fast_path, 0)) {
		if (p->last == tag + 1)
			return false;
		p->last = tag + 1;
	}
	return mmu_pwc_lookup(p, tag, v);
}

/* The guest row of an entry of this level (trajectory step Gx). */
static inline void pwc_row(struct wk *w, int dim, int level)
{
	if (dim == MMU_DIM_GUEST)
		w->row = 4 - level;
}

/*
 * Probes the walk caches of one dimension, deepest level first: returns the
 * level whose table the hit names (1..3, *v = the cached entry), or 4 on a
 * miss (the walk starts at the root).
 */
static inline __attribute__((always_inline)) int pwc_probe(struct wk *w, struct mmu_pwc *pwc,
							   uint64_t addr, int dim, uint64_t *v)
{
	for (int i = 2; i >= 0; i--) {
		if (pwc_lookup(w, &pwc[i], addr >> (39 - 9 * i), v)) {
			pwc_row(w, dim, 4 - i);
			pwc_hit(w, dim, 4 - i);
			return 3 - i;
		}
	}
	return 4;
}

/*
 * The artifact's walk caches (pwc_line_tags): tags only, one per 8-byte line
 * of keys (key = addr >> level shift, tag = key >> 3: 8 sibling entries per
 * tag); all three are probed and every miss fills. Returns the hits as a
 * mask (bit i: cache i = PML4E, PDPTE, PDE).
 */
static unsigned line_probe(struct wk *w, struct mmu_pwc *pwc, uint64_t addr)
{
	bool fast = w->cfg->cache_fast_path;
	unsigned hits = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t key = (addr >> (39 - 9 * i) >> 3) + 1, v;
		if (fast && pwc[i].last == key)
			continue; /* served by memory; the tag is already there */
		pwc[i].last = key;
		if (mmu_pwc_lookup(&pwc[i], key - 1, &v))
			hits |= 1u << i;
		else
			mmu_pwc_insert(&pwc[i], key - 1, 0);
	}
	return hits;
}

/*
 * The deepest line-tag hit whose entries on the way are present non-leaf
 * entries: their values are read silently (the caches hold no values) from
 * sp. Returns the level of the table the walk reads next (4: no usable hit),
 * with *table and *perm (x86: bit 0 RW, bit 1 NX; EPT: RWX) for it.
 */
static int line_descend(const struct mmu_space *sp, uint64_t root, uint64_t addr, unsigned hits,
			bool ept, uint64_t *table, uint64_t *perm)
{
	uint64_t t = root & ADDR_MASK, p = ept ? EPT_RWX : 1;
	int best = 4;

	for (int level = 4; level >= 2 && (hits >> (4 - level)); level--) {
		const uint8_t *f = sp && sp->frame ? sp->frame(sp->ctx, t) : NULL;
		uint64_t e;
		if (!f)
			break;
		memcpy(&e, f + ((addr >> (12 + 9 * (level - 1))) & 511) * 8, 8);
		if (!(e & (ept ? EPT_RWX : X86_P)) || (level < 4 && (e & X86_PS)))
			break;
		if (ept)
			p &= e & EPT_RWX;
		else
			p = ((p & 1) && (e & X86_RW) ? 1 : 0) | ((p & 2) || (e & X86_NX) ? 2 : 0);
		t = e & ADDR_MASK;
		if (hits & (1u << (4 - level))) {
			best = level - 1;
			*table = t;
			*perm = p;
		}
	}
	return best;
}

/* Walk-cache lookup at the start of a walk of one dimension: returns the
 * level of the first table to read and, when < 4, its address (*table, an
 * hPA from the default caches; a guest-side address from line tags, whose
 * table still needs its host walk: *cached false) and the permissions. */
static inline __attribute__((always_inline)) int
pwc_start(struct wk *w, struct mmu_pwc *pwc, const struct mmu_space *sp, uint64_t root,
	  uint64_t addr, int dim, bool ept, uint64_t *table, uint64_t *perm, bool *cached)
{
	uint64_t v;
	int level;

	if (!pwc)
		return 4;
	if (!w->cfg->pwc_line_tags) {
		level = pwc_probe(w, pwc, addr, dim, &v);
		if (level < 4) {
			*table = v & ADDR_MASK;
			*perm = v & (ept ? EPT_RWX : 3);
			*cached = true;
		}
		return level;
	}
	level = line_descend(sp, root, addr, line_probe(w, pwc, addr), ept, table, perm);
	if (level < 4) {
		pwc_row(w, dim, level + 1);
		pwc_hit(w, dim, level + 1);
		*cached = false;
	}
	return level;
}

/* The upper-level memo entry of addr's 2 MiB region (struct mmu_upmemo). */
static inline struct mmu_upmemo *upmemo_of(struct mmu_upmemo *a, uint64_t addr)
{
	uint64_t r = addr >> 21;

	return &a[(r ^ (r >> 9)) & (MMU_UPMEMO_N - 1)];
}

static inline bool upmemo_hit(const struct mmu_upmemo *u, uint64_t gen, uint64_t addr,
			      uint64_t root, uint64_t rsvd)
{
	return u->gen == gen && u->region == addr >> 21 && u->root == root && u->rsvd == rsvd;
}

/* Keeps levels 4..2 of a walk that reached its level-1 table. */
static inline void upmemo_keep(struct mmu_upmemo *u, uint64_t gen, uint64_t addr, uint64_t root,
			       uint64_t rsvd, uint64_t table, uint64_t perm, const uint64_t *rec,
			       const uint64_t *rec_t)
{
	u->gen = gen;
	u->region = addr >> 21;
	u->root = root;
	u->rsvd = rsvd;
	u->table = table;
	u->perm = perm;
	memcpy(u->rec, rec, sizeof(u->rec));
	if (rec_t)
		memcpy(u->rec_t, rec_t, sizeof(u->rec_t));
}

static int host_xlate_ept(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa,
			  unsigned *hshift);

/* mmu_wk_host_xlate with the common case (HX_EPT) called directly. */
static inline __attribute__((always_inline)) int
host_xlate_t(struct wk *w, enum hx hx, uint64_t gpa, unsigned need, uint64_t *hpa, unsigned *hshift)
{
	if (hx == HX_EPT)
		return host_xlate_ept(w, gpa, need, hpa, hshift);
	return mmu_wk_host_xlate(w, hx, gpa, need, hpa, hshift);
}

/*
 * One EPT-format radix walk of gpa from root. Tables are read in sp at their
 * address, or, when thx != HX_NONE, their address is first translated by thx
 * (EPT12 tables live in L1-physical memory and are read at their hPA).
 * pwc: [3] walk caches of this dimension, or NULL. up: a software walk that
 * uses the lane's upper-level memo (w->st->memo->eup for the host EPT, mup
 * for EPT12 over EPT01).
 * One body, inlined into each caller below so that the compiler specialises
 * it for a constant thx (the host walk: HX_NONE) and up.
 */
static inline __attribute__((always_inline)) int
ept_walk_t(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t gpa, int dim,
	   struct mmu_pwc *pwc, uint64_t rsvd, unsigned need, enum hx thx, bool up, uint64_t *out,
	   unsigned *shift)
{
	uint64_t table = root & ADDR_MASK, e = 0;
	uint64_t perm = EPT_RWX;
	bool from_pwc = false, line = pwc && w->cfg->pwc_line_tags;
	int level = pwc_start(w, pwc, thx == HX_NONE ? sp : &w->ctx->l1, root, gpa, dim, true,
			      &table, &perm, &from_pwc);
	struct mmu_upmemo *um =
	    up ? upmemo_of(thx == HX_NONE ? w->st->memo->eup : w->st->memo->mup, gpa) : NULL;

	if (up && upmemo_hit(um, w->st->memo->gen, gpa, root, rsvd)) {
		level = 1;
		table = um->table;
		perm = um->perm;
		memcpy(&w->rec_h[2], um->rec, sizeof(um->rec));
	}

	for (;; level--) {
		uint64_t ta = table;
		unsigned idx = (unsigned)(gpa >> (12 + 9 * (level - 1))) & 511;

		if (thx != HX_NONE && !from_pwc) {
			unsigned hs;
			if (host_xlate_t(w, thx, table, EPT_R, &ta, &hs))
				return -1;
		}
		if (pwc && level < 4 && !from_pwc && !line)
			mmu_pwc_insert(&pwc[3 - level], gpa >> (12 + 9 * level), ta | perm);
		from_pwc = false;
		w->rec_h[level] = ta + idx * 8;
		if (rd(w, thx != HX_NONE ? &w->ctx->hpa : sp, ta + idx * 8, dim, level, &e))
			return -1;
		if (mmu_wk_ept_check(w, e, level, rsvd, dim))
			return -1;
		perm &= e & EPT_RWX;
		if (level == 1 || (level < 4 && (e & EPT_PS)))
			break;
		table = e & ADDR_MASK;
		if (up && level == 2)
			upmemo_keep(um, w->st->memo->gen, gpa, root, rsvd, table, perm,
				    &w->rec_h[2], NULL);
	}
	w->leaf_level_h = level;
	if (w->row >= 0 && !w->silent)
		set_host_leaf(w, level);
	w->last_ept_perm = perm;
	if ((perm & need) != need)
		return set_fault(w, MMU_FAULT_PROT, dim, level);
	*out = leaf_addr(e, level, gpa);
	*shift = 12 + 9 * (unsigned)(level - 1);
	return 0;
}

/* A software walk the memo did not answer (mmu_wk_ept_walk): walks, and
 * keeps the outputs in the memo entry of the page. */
static int ept_walk_memo_fill(struct wk *w, uint64_t root, uint64_t gpa, int dim, uint64_t rsvd,
			      unsigned need, uint64_t *out, unsigned *shift)
{
	struct mmu_memo *memo = w->st->memo;
	struct mmu_swmemo *m = mmu_swmemo_of(memo, gpa);
	uint64_t mask;
	int r = ept_walk_t(w, &w->ctx->hpa, root, gpa, dim, NULL, rsvd, need, HX_NONE, true, out,
			   shift);

	if (r)
		return r;
	m->gen = memo->gen;
	m->gpn = gpa >> 12;
	m->root = root;
	m->rsvd = rsvd;
	m->level = (uint32_t)w->leaf_level_h;
	m->perm = (uint32_t)w->last_ept_perm;
	mask = (1ULL << (12 + 9 * (m->level - 1))) - 1;
	m->base = *out & ~mask;
	memcpy(&m->rec_h[1], &w->rec_h[1], 4 * sizeof(w->rec_h[1]));
	return 0;
}

int mmu_wk_ept_walk_full(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t gpa,
			 int dim, struct mmu_pwc *pwc, uint64_t rsvd, unsigned need, enum hx thx,
			 uint64_t *out, unsigned *shift)
{
	if (wk_memo_walk(w, sp, pwc, thx))
		return ept_walk_memo_fill(w, root, gpa, dim, rsvd, need, out, shift);
	if (thx == HX_EPT && wk_soft(w, pwc)) /* EPT12 in software */
		return ept_walk_t(w, sp, root, gpa, dim, NULL, rsvd, need, HX_EPT, true, out,
				  shift);
	if (thx == HX_NONE) /* the same body, specialised for the one-dimensional walk */
		return ept_walk_t(w, sp, root, gpa, dim, pwc, rsvd, need, HX_NONE, false, out,
				  shift);
	return ept_walk_t(w, sp, root, gpa, dim, pwc, rsvd, need, thx, false, out, shift);
}

/* gPA -> hPA by the host EPT (HX_EPT): the nested TLB, else the EPT walk. */
static int host_xlate_ept(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa,
			  unsigned *hshift)
{
	const struct mmu_ctx *ctx = w->ctx;
	bool ntlb;
	int r;

	if (w->silent) /* a software walk: the memo may answer it */
		return mmu_wk_ept_walk(w, &ctx->hpa, ctx->ept_root, gpa, MMU_DIM_HOST, NULL,
				       w->rsvd, need, HX_NONE, hpa, hshift);
	ntlb = w->vp && w->vp->has_ntlb && host_walk_cached(w);
	if (ntlb) {
		uint64_t base;
		unsigned s = mmu_tlb_lookup(&w->vp->ntlb, gpa, true, &base);
		if (s) {
			pwc_hit(w, MMU_DIM_HOST, 1);
			*hpa = base | (gpa & ((1ULL << s) - 1));
			*hshift = s;
			return 0;
		}
	}
	r = ept_walk_t(w, &ctx->hpa, ctx->ept_root, gpa, MMU_DIM_HOST, host_pwc(w), w->rsvd, need,
		       HX_NONE, false, hpa, hshift);
	if (!r && ntlb) {
		unsigned s = *hshift > 21 ? 21 : *hshift; /* the nested TLB holds 4K and 2M */
		mmu_tlb_insert(&w->vp->ntlb, gpa, s, *hpa & ~((1ULL << s) - 1));
	}
	return r;
}

/*
 * One x86 radix walk of va from root. Table addresses are physical in sp
 * (hx == HX_NONE) or guest-physical, each translated by hx and read in the
 * host space (the 2D / 3D walk). The data address is translated by hx too.
 * up: a software 2D walk (HX_EPT) that uses the lane's upper-level memo
 * (w->st->memo->xup). One body, inlined below for the native (HX_NONE), 2D
 * (HX_EPT) and software 2D walks.
 */
static inline __attribute__((always_inline)) int
x86_walk_t(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t va, enum hx hx,
	   int dim, struct mmu_pwc *pwc, uint64_t rsvd, enum mmu_kind kind, bool up, uint64_t *out,
	   unsigned *shift)
{
	uint64_t table = root & ADDR_MASK, e = 0, perm = 1, gpa;
	bool rw, nx, from_pwc = false, line = pwc && w->cfg->pwc_line_tags;
	int level = pwc_start(w, pwc, hx == HX_NONE ? sp : &w->ctx->gpa, root, va, dim, false,
			      &table, &perm, &from_pwc);
	unsigned gshift, hshift = 30;
	struct mmu_upmemo *um = up ? upmemo_of(w->st->memo->xup, va) : NULL;

	if (up && upmemo_hit(um, w->st->memo->gen, va, root, rsvd)) {
		level = 1;
		table = um->table;
		perm = um->perm;
		memcpy(&w->rec[2], um->rec, sizeof(um->rec));
		memcpy(&w->rec_t[2], um->rec_t, sizeof(um->rec_t));
	}

	rw = perm & 1;
	nx = perm & 2;
	for (;; level--) {
		uint64_t ta = table;
		unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 511;

		w->row = 4 - level;
		w->asap_pf = level <= 2;
		if (hx != HX_NONE && !from_pwc) {
			unsigned hs;
			if (host_xlate_t(w, hx, table, EPT_R, &ta, &hs))
				return -1;
		}
		if (pwc && level < 4 && !from_pwc && !line)
			mmu_pwc_insert(&pwc[3 - level], va >> (12 + 9 * level),
				       ta | (rw ? 1 : 0) | (nx ? 2 : 0));
		from_pwc = false;
		w->rec[level] = table + idx * 8;
		w->rec_t[level] = ta;
		if (rd(w, hx != HX_NONE ? &w->ctx->hpa : sp, ta + idx * 8, dim, level, &e))
			return -1;
		if (mmu_wk_x86_check(w, e, level, rsvd, dim))
			return -1;
		rw = rw && (e & X86_RW);
		nx = nx || (e & X86_NX);
		if (x86_leaf(e, level))
			break;
		table = e & ADDR_MASK;
		if (up && level == 2)
			upmemo_keep(um, w->st->memo->gen, va, root, rsvd, table,
				    (rw ? 1 : 0) | (nx ? 2 : 0), &w->rec[2], &w->rec_t[2]);
	}
	w->asap_pf = false;
	w->leaf_level = level;
	w->last_rw = rw;
	w->last_nx = nx;
	if ((kind == MMU_STORE && !rw) || (kind == MMU_FETCH && nx))
		return set_fault(w, MMU_FAULT_PROT, dim, level);
	gpa = leaf_addr(e, level, va);
	w->leaf_gpa = gpa;
	gshift = 12 + 9 * (unsigned)(level - 1);
	if (hx != HX_NONE) {
		w->row = 4;
		if (host_xlate_t(w, hx, gpa, need_ept(kind), out, &hshift))
			return -1;
	} else {
		*out = gpa;
	}
	*shift = gshift < hshift ? gshift : hshift;
	return 0;
}

int mmu_wk_x86_walk(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t va,
		    enum hx hx, int dim, struct mmu_pwc *pwc, uint64_t rsvd, enum mmu_kind kind,
		    uint64_t *out, unsigned *shift)
{
	if (hx == HX_NONE)
		return x86_walk_t(w, sp, root, va, HX_NONE, dim, pwc, rsvd, kind, false, out,
				  shift);
	if (hx == HX_EPT && wk_soft(w, pwc))
		return x86_walk_t(w, sp, root, va, HX_EPT, dim, NULL, rsvd, kind, true, out, shift);
	if (hx == HX_EPT)
		return x86_walk_t(w, sp, root, va, HX_EPT, dim, pwc, rsvd, kind, false, out, shift);
	return x86_walk_t(w, sp, root, va, hx, dim, pwc, rsvd, kind, false, out, shift);
}

static const struct mmu_dmt_reg *find_reg(const struct mmu_dmt_reg *regs, uint32_t n, uint32_t max,
					  uint64_t addr)
{
	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		if (addr >= regs[i].base && addr < regs[i].limit &&
		    (regs[i].page_shift == 12 || regs[i].page_shift == 21))
			return &regs[i];
	return NULL;
}

/* A host-level DMT lookup: gPA -> EPT leaf in a host TEA. 1 on a miss or an
 * unusable entry (the caller falls back to the radix walk), 0 on a hit. */
static int host_tea(struct wk *w, const struct mmu_dmt_reg *regs, uint32_t n, uint64_t gpa,
		    unsigned need, int dim, bool tea_is_hpa, enum hx tea_hx, uint64_t *hpa,
		    unsigned *hshift)
{
	struct mmu_counters *c = &w->st->ctr;
	const struct mmu_dmt_reg *r = find_reg(regs, n, w->cfg->dmt_regs, gpa);
	uint64_t idx, ea, e;
	int level;

	if (!r) {
		if (!w->silent) {
			c->dmt_misses++;
			c->dmt_fallbacks++;
		}
		return 1;
	}
	idx = (gpa - r->base) >> r->page_shift;
	level = r->page_shift == 21 ? 2 : 1;
	if (tea_is_hpa) {
		ea = r->tea + idx * 8;
	} else if (r->tea_hpa) {
		ea = r->tea_hpa + idx * 8; /* host-contiguous TEA (pvDMT) */
	} else {
		unsigned hs;
		if (mmu_wk_host_xlate(w, tea_hx, r->tea + idx * 8, EPT_R, &ea, &hs)) {
			clear_fault(w);
			goto fallback;
		}
	}
	if (rd(w, &w->ctx->hpa, ea, dim, level, &e) ||
	    mmu_wk_ept_check(w, e, level, w->rsvd, dim) || (level == 2 && !(e & EPT_PS)) ||
	    ((e & need) != need)) {
		clear_fault(w);
		goto fallback;
	}
	if (!w->silent)
		c->dmt_hits++;
	*hpa = leaf_addr(e, level, gpa);
	*hshift = r->page_shift;
	return 0;
fallback:
	if (!w->silent)
		c->dmt_fallbacks++;
	return 1;
}

int mmu_wk_host_xlate(struct wk *w, enum hx hx, uint64_t gpa, unsigned need, uint64_t *hpa,
		      unsigned *hshift)
{
	const struct mmu_ctx *ctx = w->ctx;
	uint64_t l1;
	unsigned s1, s2;

	switch (hx) {
	case HX_NONE:
		*hpa = gpa;
		*hshift = 30;
		return 0;
	case HX_EPT:
		return host_xlate_ept(w, gpa, need, hpa, hshift);
	case HX_EPT_DMT:
		if (!host_tea(w, ctx->host_regs, ctx->n_host_regs, gpa, need, MMU_DIM_HOST, true,
			      HX_NONE, hpa, hshift))
			return 0;
		return host_xlate_ept(w, gpa, need, hpa, hshift);
	case HX_EPT02:
		return mmu_wk_ept02_xlate(w, gpa, need, hpa, hshift);
	case HX_3D:
		if (mmu_wk_ept_walk(w, NULL, ctx->ept12_root, gpa, MMU_DIM_MID,
				    vpwc(w, MMU_DIM_MID), w->rsvd, need, HX_EPT, &l1, &s1))
			return -1;
		if (host_xlate_ept(w, l1, need, hpa, &s2))
			return -1;
		*hshift = s1 < s2 ? s1 : s2;
		return 0;
	case HX_3D_DMT:
		if (host_tea(w, ctx->ept12_regs, ctx->n_ept12_regs, gpa, need, MMU_DIM_MID, false,
			     HX_EPT_DMT, &l1, &s1) &&
		    mmu_wk_ept_walk(w, NULL, ctx->ept12_root, gpa, MMU_DIM_MID,
				    vpwc(w, MMU_DIM_MID), w->rsvd, need, HX_EPT_DMT, &l1, &s1))
			return -1;
		if (mmu_wk_host_xlate(w, HX_EPT_DMT, l1, need, hpa, &s2))
			return -1;
		*hshift = s1 < s2 ? s1 : s2;
		return 0;
	case HX_FPT:
		return mmu_wk_fpt_ept(w, gpa, need, hpa, hshift);
	}
	return -1;
}

/* ---- DMT: one register lookup, one TEA entry ---- */

int mmu_wk_dmt_walk(struct wk *w, uint64_t va, enum hx hx, bool pv, enum mmu_kind kind,
		    uint64_t *pa, unsigned *shift, bool *hit, bool *fallback)
{
	const struct mmu_ctx *ctx = w->ctx;
	struct mmu_counters *c = &w->st->ctr;
	const struct mmu_dmt_reg *r =
	    find_reg(ctx->guest_regs, ctx->n_guest_regs, w->cfg->dmt_regs, va);
	const struct mmu_space *sp = hx == HX_NONE ? &ctx->gpa : &ctx->hpa;
	uint64_t root = hx == HX_NONE && ctx->native_cr3 ? ctx->native_cr3 : ctx->cr3;
	uint64_t idx, ea, e, gpa;
	unsigned hs = 30;
	int level;

	if (!r) {
		c->dmt_misses++;
		goto fallback;
	}
	idx = (va - r->base) >> r->page_shift;
	level = r->page_shift == 21 ? 2 : 1;
	w->row = 4 - level;
	ea = r->tea + idx * 8;
	if (hx != HX_NONE) {
		if (pv && r->tea_hpa) {
			ea = r->tea_hpa + idx * 8; /* pvDMT: host-contiguous TEA */
		} else if (mmu_wk_host_xlate(w, hx, ea, EPT_R, &ea, &hs)) {
			clear_fault(w);
			goto fallback;
		}
	}
	if (rd(w, sp, ea, MMU_DIM_GUEST, level, &e) ||
	    mmu_wk_x86_check(w, e, level, w->rsvd, MMU_DIM_GUEST) ||
	    (level == 2 && !(e & X86_PS)) || (kind == MMU_STORE && !(e & X86_RW)) ||
	    (kind == MMU_FETCH && (e & X86_NX))) {
		clear_fault(w);
		goto fallback;
	}
	c->dmt_hits++;
	*hit = true;
	gpa = leaf_addr(e, level, va);
	*shift = r->page_shift;
	if (hx == HX_NONE) {
		*pa = gpa;
		return 0;
	}
	w->row = 4;
	if (mmu_wk_host_xlate(w, hx, gpa, need_ept(kind), pa, &hs))
		return -1;
	if (hs < *shift)
		*shift = hs;
	return 0;
fallback:
	c->dmt_fallbacks++;
	*fallback = true;
	return mmu_wk_x86_walk(w, sp, root, va, hx, MMU_DIM_GUEST, vpwc(w, MMU_DIM_GUEST), w->rsvd,
			       kind, pa, shift);
}

/* ---- scheme dispatch ---- */

static struct mmu_vpwc *get_vpwc(struct mmu_scheme_state *st, unsigned vcpu)
{
	const struct mmu_config *cfg = st->cfg;
	struct mmu_vpwc *v;

	if (!st->vpwc)
		return NULL;
	if (cfg->pwc_global)
		vcpu = 0; /* the artifact's walk caches are shared by all cores */
	v = st->vpwc[vcpu];
	if (v)
		return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	for (int d = 0; d < MMU_NDIMS; d++) {
		mmu_pwc_init(&v->pwc[d][0], cfg->pwc ? cfg->pwc_pml4e : 0, cfg->pwc_pml4e_ways);
		mmu_pwc_init(&v->pwc[d][1], cfg->pwc ? cfg->pwc_pdpte : 0, cfg->pwc_pdpte_ways);
		mmu_pwc_init(&v->pwc[d][2], cfg->pwc ? cfg->pwc_pde : 0, cfg->pwc_pde_ways);
	}
	if (cfg->ntlb_entries && !mmu_tlb_init(&v->ntlb, cfg->ntlb_entries, cfg->ntlb_ways))
		v->has_ntlb = true;
	st->vpwc[vcpu] = v;
	return v;
}

void mmu_walk_scheme(struct mmu_scheme_state *st, const struct mmu_ctx *ctx, unsigned vcpu,
		     uint64_t va, enum mmu_kind kind, struct mmu_walk_result *res)
{
	struct wk w;
	struct mmu_counters *c = &st->ctr;
	uint64_t pa = 0;
	unsigned shift = 12;
	bool hit = false, fb = false;
	struct mmu_pwc *pg;
	int r = -1;

	/* Field by field: this is the per-walk hot path, and the record
	 * arrays at the end of struct wk are written before they are read. */
	w.st = st;
	w.cfg = st->cfg;
	w.ctx = ctx;
	w.vp = get_vpwc(st, vcpu);
	w.silent = w.asap = w.asap_pf = w.overlap = w.no_traj = false;
	w.row = -1;
	w.refs = w.pwc_hits = 0;
	w.cycles = w.ov_max = w.asap_cycles = w.asap_ov_max = 0;
	w.fault = w.fault_dim = w.fault_level = 0;
	w.rsvd = wk_rsvd(st->cfg);
	w.leaf_level = w.leaf_level_h = 0;
	w.leaf_gpa = 0;
	w.tk[0] = w.tk[1] = 0;
	pg = vpwc(&w, MMU_DIM_GUEST);

	switch (st->id) {
	case MMU_X86_NATIVE:
		r = mmu_wk_x86_walk(&w, &ctx->gpa, ctx->native_cr3 ? ctx->native_cr3 : ctx->cr3, va,
				    HX_NONE, MMU_DIM_GUEST, pg, w.rsvd, kind, &pa, &shift);
		break;
	case MMU_X86_2D:
	case MMU_ASAP:
		w.asap = st->id == MMU_ASAP || st->twin;
		r = mmu_wk_x86_walk(&w, NULL, ctx->cr3, va, HX_EPT, MMU_DIM_GUEST, pg, w.rsvd, kind,
				    &pa, &shift);
		if (st->id == MMU_ASAP)
			w.cycles = w.asap_cycles + w.asap_ov_max;
		break;
	case MMU_X86_SHADOW:
		r = mmu_wk_shadow_walk(&w, va, kind, &pa, &shift);
		break;
	case MMU_X86_NESTED_EPT02:
		r = mmu_wk_x86_walk(&w, NULL, ctx->cr3, va, HX_EPT02, MMU_DIM_GUEST, pg, w.rsvd,
				    kind, &pa, &shift);
		break;
	case MMU_X86_3D:
		w.no_traj = true;
		r = mmu_wk_x86_walk(&w, NULL, ctx->cr3, va, HX_3D, MMU_DIM_GUEST, pg, w.rsvd, kind,
				    &pa, &shift);
		break;
	case MMU_DMT_NATIVE:
		r = mmu_wk_dmt_walk(&w, va, HX_NONE, false, kind, &pa, &shift, &hit, &fb);
		break;
	case MMU_DMT_VIRT:
		r = mmu_wk_dmt_walk(&w, va, HX_EPT_DMT, false, kind, &pa, &shift, &hit, &fb);
		break;
	case MMU_PVDMT:
		r = mmu_wk_dmt_walk(&w, va, HX_EPT_DMT, true, kind, &pa, &shift, &hit, &fb);
		break;
	case MMU_PVDMT_NESTED:
		w.no_traj = true;
		r = mmu_wk_dmt_walk(&w, va, HX_3D_DMT, true, kind, &pa, &shift, &hit, &fb);
		break;
	case MMU_FPT:
		r = mmu_wk_fpt_walk(&w, va, true, kind, &pa, &shift);
		break;
	case MMU_FPT_NATIVE:
		r = mmu_wk_fpt_walk(&w, va, false, kind, &pa, &shift);
		break;
	case MMU_ECPT:
		r = mmu_wk_ecpt_walk(&w, va, kind, &pa, &shift);
		break;
	case MMU_AGILE:
		r = mmu_wk_agile_walk(&w, va, kind, &pa, &shift);
		break;
	case MMU_NSCHEMES:
		break;
	}
	c->walks++;
	c->refs += w.refs;
	c->refs_hist[w.refs < MMU_HIST_REFS ? w.refs : MMU_HIST_REFS - 1]++;
	c->walk_cycles += w.cycles;
	if (r) {
		c->faults++;
		if (!w.fault)
			w.fault = MMU_FAULT_BAD_PA;
	} else if (!w.no_traj && st->traj) {
		mmu_traj_add(st->traj, w.tk[0] | MMU_TK_GLEAF(w.leaf_level), w.tk[1]);
	}
	if (st->twin) { /* asap's own: its cycles and trajectory */
		st->twin->ctr.walk_cycles += w.asap_cycles + w.asap_ov_max;
		if (!r && st->twin->traj)
			mmu_traj_add(st->twin->traj, w.tk[0] | MMU_TK_GLEAF(w.leaf_level), w.tk[1]);
	}
	if (res) {
		memset(res, 0, sizeof(*res));
		res->fault = r ? w.fault : MMU_OK;
		res->fault_dim = w.fault_dim;
		res->fault_level = w.fault_level;
		res->pa = r ? 0 : pa;
		res->page_shift = shift;
		res->refs = w.refs;
		res->pwc_hits = w.pwc_hits;
		res->cycles = w.cycles;
		res->dmt_hit = hit;
		res->fallback = fb;
	}
}

int mmu_scheme_group(enum mmu_scheme s)
{
	switch (s) {
	case MMU_X86_NATIVE:
	case MMU_DMT_NATIVE:
	case MMU_FPT_NATIVE:
		return 0;
	case MMU_X86_NESTED_EPT02:
	case MMU_X86_3D:
	case MMU_PVDMT_NESTED:
		return 2;
	default:
		return 1;
	}
}

bool mmu_scheme_applies(enum mmu_scheme s, const struct mmu_ctx *ctx)
{
	switch (mmu_scheme_group(s)) {
	case 0:
		return ctx->gpa.frame && (ctx->native_cr3 || ctx->cr3);
	case 1:
		return ctx->hpa.frame && ctx->ept_root && !ctx->ept12_root;
	default:
		return ctx->hpa.frame && ctx->ept_root && ctx->ept12_root;
	}
}
