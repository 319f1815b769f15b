/* SPDX-License-Identifier: MIT */
/*
 * mmu_walk.h: the walkers' shared state (struct wk: one walk in progress)
 * and their building blocks: counting a reference, reading an entry, the
 * x86 / EPT radix walks and the gPA -> hPA translations (not installed).
 */
#ifndef MMU_WALK_H
#define MMU_WALK_H

#include <string.h>

#include "mmu_internal.h"
#include "mmu_tlb.h"

#define ADDR_MASK 0x000ffffffffff000ULL
#define X86_P	  0x1ULL
#define X86_RW	  0x2ULL
#define X86_US	  0x4ULL
#define X86_PS	  0x80ULL
#define X86_NX	  (1ULL << 63)
#define EPT_R	  0x1ULL
#define EPT_W	  0x2ULL
#define EPT_X	  0x4ULL
#define EPT_RWX	  0x7ULL
#define EPT_PS	  0x80ULL
/* An ignored bit of our own Agile-paging entries: "switch to the guest's
 * table at this hPA" (the point where Agile paging goes from shadow to nested). */
#define AGILE_SWITCH (1ULL << 9)

/* How a guest-physical address is turned into a host-physical one. */
enum hx {
	HX_NONE,    /* native: the address is already physical */
	HX_EPT,	    /* EPT (EPT01) radix walk */
	HX_EPT_DMT, /* host DMT registers -> host TEA entry, else EPT radix */
	HX_EPT02,   /* shadow EPT02 (caller-kept or composed on demand) */
	HX_3D,	    /* EPT12 radix (tables translated by EPT01), then EPT01 */
	HX_3D_DMT,  /* EPT12 TEA (host-contiguous or via host DMT), then host DMT */
	HX_FPT,	    /* flattened EPT: L4+L3 and L2+L1 entries */
};

struct wk {
	struct mmu_scheme_state *st;
	const struct mmu_config *cfg;
	const struct mmu_ctx *ctx;
	struct mmu_vpwc *vp; /* NULL: no walk caches */
	bool silent;	     /* software walk (fills): no counting, no caches */
	bool overlap;	     /* refs now being issued are overlapped (ECPT's probes) */
	/* ASAP's cycles are summed beside the walk's own (asap_cycles): refs of
	 * guest levels 2 and 1 (asap_pf) are prefetched, only their slowest
	 * counts (asap_ov_max). The asap scheme books them; x86-2d does for its
	 * twin (struct mmu_scheme_state). */
	bool asap;
	bool asap_pf;
	bool no_traj;
	int row; /* trajectory row: 0..3 = guest level 4..1, 4 = data; -1 none */
	uint32_t refs, pwc_hits;
	uint64_t cycles, ov_max;
	uint64_t asap_cycles, asap_ov_max;
	int fault, fault_dim, fault_level;
	uint64_t rsvd; /* reserved bits 51:phys_bits in real memory */
	/* outputs of the last x86 / EPT walk (for fills and FPT) */
	bool last_rw, last_nx;
	uint64_t last_ept_perm;
	uint64_t rec[5];   /* x86: entry address (untranslated) per level */
	uint64_t rec_t[5]; /* x86: table address as read (translated) per level */
	int leaf_level;
	uint64_t leaf_gpa;
	uint64_t rec_h[5];
	int leaf_level_h;
	/* this walk's trajectory key (mmu_formula.c): the outcome of each step
	 * (enum mmu_step_out, 3 bits), the guest leaf level and the leaf level
	 * of each host walk (rows 0..3: guest level 4..1 tables, 4: data) */
	uint64_t tk[2];
};

/* Reserved physical-address bits of entries (bits phys_bits..51). */
static inline uint64_t wk_rsvd(const struct mmu_config *cfg)
{
	return ((1ULL << 52) - 1) & ~((1ULL << cfg->phys_bits) - 1);
}

/* Records the outcome of a trajectory step in the walk's key. */
static inline void set_step(struct wk *w, int step, unsigned code)
{
	unsigned sh = MMU_TK_STEP_SHIFT(step);
	uint64_t *k = &w->tk[step >> 4];

	*k = (*k & ~(7ULL << sh)) | (uint64_t)code << sh;
}

/* Records the leaf level of the host walk of the current row. */
static inline void set_host_leaf(struct wk *w, int level)
{
	unsigned sh = MMU_TK_HLEAF_SHIFT(w->row);

	w->tk[0] = (w->tk[0] & ~(3ULL << sh)) | (uint64_t)(level - 1) << sh;
}

static inline int set_fault(struct wk *w, int code, int dim, int level)
{
	if (!w->fault) {
		w->fault = code;
		w->fault_dim = dim;
		w->fault_level = level;
	}
	return -1;
}

static inline void clear_fault(struct wk *w)
{
	w->fault = 0;
	w->fault_dim = 0;
	w->fault_level = 0;
}

static inline void add_cycles(struct wk *w, uint64_t lat)
{
	if (w->overlap) {
		if (lat > w->ov_max)
			w->ov_max = lat;
	} else {
		w->cycles += lat;
	}
	if (w->asap) {
		if (w->asap_pf) {
			if (lat > w->asap_ov_max)
				w->asap_ov_max = lat;
		} else {
			w->asap_cycles += lat;
		}
	}
}

/* The trajectory step of a reference of (dim, level) in the current row, or
 * -1 (GxHy = row * 4 + 4 - y, Gx = 16 + row, UDHy = 20 + 4 - y): a table
 * indexed [row + 1][dim][level] (mmu_walk.c), as it runs for every reference. */
extern const int8_t mmu_wk_traj_steps[6][MMU_NDIMS][5];

static inline int traj_step(const struct wk *w, int dim, int level)
{
	if (w->no_traj)
		return -1;
	return mmu_wk_traj_steps[w->row + 1][dim][level];
}

/* Counts one walk reference to pa (the read itself is done by rd()). rd()
 * and cnt() run for every reference: always inline (a call and its
 * register saves cost more than half of what they do). */
static inline __attribute__((always_inline)) void cnt(struct wk *w, uint64_t pa, int dim, int level)
{
	struct mmu_counters *c;
	struct mmu_cache *cache;
	int srv, step;

	if (w->silent)
		return;
	c = &w->st->ctr;
	cache = w->st->cache;
	srv = cache ? mmu_cache_access(cache, pa) : MMU_SRV_DRAM;
	w->refs++;
	c->refs_dim_level[dim][level]++;
	c->served[srv]++;
	add_cycles(w, cache ? cache->lat[srv - MMU_SRV_L1] : w->cfg->lat_dram);
	if ((step = traj_step(w, dim, level)) >= 0) {
		c->traj[step]++;
		set_step(w, step, (unsigned)(MMU_STEP_PWC + srv));
	}
}

/* A walk-cache (or nested-TLB) hit standing for the entry of (dim, level). */
static inline void pwc_hit(struct wk *w, int dim, int level)
{
	int step;

	if (w->silent)
		return;
	w->pwc_hits++;
	w->st->ctr.served[MMU_SRV_PWC]++;
	add_cycles(w, w->cfg->lat_pwc);
	if ((step = traj_step(w, dim, level)) >= 0)
		set_step(w, step, MMU_STEP_PWC);
}

/* The frame of page in sp (NULL: none), remembered for this call in the
 * lane's memo. Not the model's own tables: a scheme may free and reuse them
 * within a call. */
static inline const uint8_t *frame_of(struct wk *w, const struct mmu_space *sp, uint64_t page)
{
	struct mmu_memo *m = w->st->memo;
	struct mmu_fmemo *e;
	const uint8_t *f;

	if (!sp || !sp->frame)
		return NULL;
	if (sp->frame == mmu_pstore_frame)
		return mmu_pstore_frame_of(sp->ctx, page);
	if (!m)
		return sp->frame(sp->ctx, page);
	/* hashed: a 2D walk reads a table at gPA X at hPA X + offset */
	e = &m->fm[((page ^ (uintptr_t)sp) * 0x9E3779B97F4A7C15ULL) >> 56];
	if (e->gen == m->gen && e->page == page && e->sp == sp)
		return e->f;
	f = sp->frame(sp->ctx, page);
	if (f)
		*e = (struct mmu_fmemo){sp, page, m->gen, f};
	return f;
}

/* Reads the 8-byte entry at pa from sp; a missing frame is a fault. */
static inline __attribute__((always_inline)) int rd(struct wk *w, const struct mmu_space *sp,
						    uint64_t pa, int dim, int level, uint64_t *out)
{
	const uint8_t *f;

	if (!w->silent && w->st->cache)
		mmu_cache_prefetch(w->st->cache, pa);
	f = frame_of(w, sp, pa & ~0xfffULL);
	if (!f)
		return set_fault(w, MMU_FAULT_BAD_PA, dim, level);
	/* Start the host's load of the entry, then model the cache lookup
	 * while it is in flight: the two are independent memory misses. */
	__builtin_prefetch(f + (pa & 0xff8));
	cnt(w, pa, dim, level);
	memcpy(out, f + (pa & 0xff8), 8);
	return 0;
}

static inline bool x86_leaf(uint64_t e, int level)
{
	return level == 1 || (level < 4 && (e & X86_PS));
}

static inline uint64_t leaf_addr(uint64_t e, int level, uint64_t addr)
{
	unsigned shift = 12 + 9 * (unsigned)(level - 1);
	uint64_t m = (1ULL << shift) - 1;

	return (e & ADDR_MASK & ~m) | (addr & m);
}

static inline unsigned need_ept(enum mmu_kind kind)
{
	return kind == MMU_STORE ? EPT_W : kind == MMU_FETCH ? EPT_X : EPT_R;
}

static inline struct mmu_pwc *vpwc(struct wk *w, int dim)
{
	return w->vp && !w->silent ? w->vp->pwc[dim] : NULL;
}

/* Does this host walk use the walk caches and the nested TLB? Not the data
 * gPA -> hPA walk (row 4) when pwc_data_walk is off (the artifact). */
static inline bool host_walk_cached(const struct wk *w)
{
	return w->row != 4 || w->cfg->pwc_data_walk;
}

static inline struct mmu_pwc *host_pwc(struct wk *w)
{
	return host_walk_cached(w) ? vpwc(w, MMU_DIM_HOST) : NULL;
}

/* An entry's present and reserved bits (a fault if it has none or any). */
static inline int mmu_wk_x86_check(struct wk *w, uint64_t e, int level, uint64_t rsvd, int dim)
{
	uint64_t r = rsvd;

	if (!(e & X86_P))
		return set_fault(w, MMU_FAULT_NOT_PRESENT, dim, level);
	if (level == 4)
		r |= X86_PS;
	else if (level == 3 && (e & X86_PS))
		r |= 0x3fffe000ULL; /* bits 29:13 of a 1 GiB leaf */
	else if (level == 2 && (e & X86_PS))
		r |= 0x1fe000ULL; /* bits 20:13 of a 2 MiB leaf */
	if (e & r)
		return set_fault(w, MMU_FAULT_RESERVED, dim, level);
	return 0;
}

static inline int mmu_wk_ept_check(struct wk *w, uint64_t e, int level, uint64_t rsvd, int dim)
{
	uint64_t r = rsvd;

	if (!(e & EPT_RWX))
		return set_fault(w, MMU_FAULT_NOT_PRESENT, dim, level);
	if ((e & (EPT_R | EPT_W)) == EPT_W) /* write without read: misconfiguration */
		return set_fault(w, MMU_FAULT_RESERVED, dim, level);
	if (level == 4)
		r |= 0xf8ULL; /* bits 7:3 */
	else if (level == 3 && (e & EPT_PS))
		r |= 0x3ffff000ULL;
	else if (level == 2 && (e & EPT_PS))
		r |= 0x1ff000ULL;
	else if (level > 1)
		r |= 0x78ULL; /* bits 6:3 of a non-leaf entry */
	if (e & r)
		return set_fault(w, MMU_FAULT_RESERVED, dim, level);
	return 0;
}

/* A software walk (no counting, no walk caches) with the lane's memos of
 * this mmu_sim_run (struct mmu_memo) at hand. */
static inline bool wk_soft(const struct wk *w, const struct mmu_pwc *pwc)
{
	return w->silent && !pwc && w->st->memo;
}

/* Is this EPT walk a software walk of the host EPT, which the memo of
 * this mmu_sim_run answers? */
static inline bool wk_memo_walk(const struct wk *w, const struct mmu_space *sp,
				const struct mmu_pwc *pwc, enum hx thx)
{
	return wk_soft(w, pwc) && thx == HX_NONE && sp == &w->ctx->hpa;
}

static inline struct mmu_swmemo *mmu_swmemo_of(struct mmu_memo *memo, uint64_t gpa)
{
	uint64_t gpn = gpa >> 12;

	return &memo->sw[(gpn ^ (gpn >> 10)) & (MMU_SWMEMO_N - 1)];
}

/* The EPT walk, or the memo's fill on a miss (mmu_walk.c). */
int mmu_wk_ept_walk_full(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t gpa,
			 int dim, struct mmu_pwc *pwc, uint64_t rsvd, unsigned need, enum hx thx,
			 uint64_t *out, unsigned *shift);

/*
 * One EPT-format radix walk of gpa from root (mmu_walk.c's ept_walk). A
 * software walk of the host EPT is answered from the memo of this
 * mmu_sim_run when the same page was walked before: the outputs (result,
 * rec_h, leaf_level_h, last_ept_perm, a PROT fault) are exactly those of
 * the walk. Inline: the software walks are most often answered there.
 */
static inline int mmu_wk_ept_walk(struct wk *w, const struct mmu_space *sp, uint64_t root,
				  uint64_t gpa, int dim, struct mmu_pwc *pwc, uint64_t rsvd,
				  unsigned need, enum hx thx, uint64_t *out, unsigned *shift)
{
	if (wk_memo_walk(w, sp, pwc, thx)) {
		const struct mmu_memo *memo = w->st->memo;
		const struct mmu_swmemo *m = mmu_swmemo_of(w->st->memo, gpa);
		if (m->gen == memo->gen && m->gpn == gpa >> 12 && m->root == root &&
		    m->rsvd == rsvd) {
			/* levels below the leaf's are copied too: nobody reads them */
			memcpy(&w->rec_h[1], &m->rec_h[1], 4 * sizeof(w->rec_h[1]));
			w->leaf_level_h = (int)m->level;
			w->last_ept_perm = m->perm;
			if ((m->perm & need) != need)
				return set_fault(w, MMU_FAULT_PROT, dim, (int)m->level);
			*shift = 12 + 9 * (m->level - 1);
			*out = m->base | (gpa & ((1ULL << *shift) - 1));
			return 0;
		}
	}
	return mmu_wk_ept_walk_full(w, sp, root, gpa, dim, pwc, rsvd, need, thx, out, shift);
}
int mmu_wk_x86_walk(struct wk *w, const struct mmu_space *sp, uint64_t root, uint64_t va,
		    enum hx hx, int dim, struct mmu_pwc *pwc, uint64_t rsvd, enum mmu_kind kind,
		    uint64_t *out, unsigned *shift);
int mmu_wk_host_xlate(struct wk *w, enum hx hx, uint64_t gpa, unsigned need, uint64_t *hpa,
		      unsigned *hshift);
int mmu_wk_dmt_walk(struct wk *w, uint64_t va, enum hx hx, bool pv, enum mmu_kind kind,
		    uint64_t *pa, unsigned *shift, bool *hit, bool *fallback);

/* mmu_walk_peers.c: FPT and ECPT */
int mmu_wk_fpt_ept(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa, unsigned *hs);
int mmu_wk_fpt_walk(struct wk *w, uint64_t va, bool virt, enum mmu_kind kind, uint64_t *pa,
		    unsigned *shift);
int mmu_wk_ecpt_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift);

/* mmu_walk_own.c: tables the model keeps (shadow, Agile, EPT02) */
int mmu_wk_shadow_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa,
		       unsigned *shift);
int mmu_wk_agile_walk(struct wk *w, uint64_t va, enum mmu_kind kind, uint64_t *pa, unsigned *shift);
int mmu_wk_ept02_xlate(struct wk *w, uint64_t gpa, unsigned need, uint64_t *hpa, unsigned *hs);

#endif /* MMU_WALK_H */
