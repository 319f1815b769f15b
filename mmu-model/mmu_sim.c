/* SPDX-License-Identifier: MIT */
/*
 * mmu_sim.c: the simulator: runs batches of accesses through every requested
 * scheme. For equal page sizes the TLBs see the same stream whatever the walk
 * scheme, so TLBs are simulated once per group (native, virtualized, nested)
 * and only the walkers (with their walk caches and cache hierarchy) run per
 * scheme on a TLB miss. A call's work can be spread over the caller's
 * threads (mmu_sim_run_lane, below).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dmtvm_trace.h"
#include "mmu_internal.h"
#include "mmu_tlb.h"

#define NGROUPS 3

struct mmu_group_vcpu {
	struct mmu_tlb l1d, l1i, stlb;
	uint64_t asid, cr3, ept; /* context of the cached translations */
	bool valid;
};

/* A walk or data access recorded for the schemes that run it later. */
struct mmu_event {
	uint64_t addr; /* va (walk) or pa (data) */
	uint8_t type, kind, vcpu;
};
#define MMU_EV_MIN 2048	       /* events of a group's log at creation */
#define MMU_EV_MAX (2 * 65536) /* at most (2 MiB) */

/* A TLB group; its own host lines (lanes write different groups). */
struct mmu_group {
	_Alignas(64) uint32_t mask; /* active schemes of this group */
	struct mmu_group_vcpu **v;
	uint64_t accesses[3], l1_hits, l2_hits, misses, skipped;
	struct mmu_event *ev; /* this call's events (log) */
	uint32_t cap, ne;
	uint32_t cursor[MMU_NSCHEMES]; /* per scheme: events already run */
};

struct mmu_sim {
	struct mmu_config cfg;
	uint32_t mask;
	struct mmu_scheme_state st[MMU_NSCHEMES];
	struct mmu_cache cache[MMU_NSCHEMES];
	struct mmu_group grp[NGROUPS];
	struct mmu_memo memo[MMU_MAX_LANES]; /* per lane */
	/* claims of this call's tasks, begins done, lanes finished */
	_Alignas(64) atomic_uchar claimed[NGROUPS + MMU_NSCHEMES];
	atomic_uchar begun[NGROUPS];
	atomic_uint lanes_done;
	uint64_t seen;		      /* accesses run so far (warmup_refs) */
	uint64_t gctx[NGROUPS][3];    /* pwc_global: (asid, cr3, ept) the set was filled under */
	struct mmu_access *trace_buf; /* mmu_sim_run_trace's accesses (TRACE_CHUNK) */
};

static const char *const scheme_names[MMU_NSCHEMES] = {
    [MMU_X86_NATIVE] = "x86-native",
    [MMU_X86_2D] = "x86-2d",
    [MMU_X86_SHADOW] = "x86-shadow",
    [MMU_X86_NESTED_EPT02] = "x86-nested-ept02",
    [MMU_X86_3D] = "x86-3d",
    [MMU_DMT_NATIVE] = "dmt-native",
    [MMU_DMT_VIRT] = "dmt-virt",
    [MMU_PVDMT] = "pvdmt",
    [MMU_PVDMT_NESTED] = "pvdmt-nested",
    [MMU_FPT] = "fpt",
    [MMU_ECPT] = "ecpt",
    [MMU_ASAP] = "asap",
    [MMU_AGILE] = "agile",
    [MMU_FPT_NATIVE] = "fpt-native",
};

const char *mmu_scheme_name(enum mmu_scheme s)
{
	return (unsigned)s < MMU_NSCHEMES ? scheme_names[s] : "?";
}

enum mmu_setup mmu_scheme_setup(enum mmu_scheme s)
{
	return (enum mmu_setup)mmu_scheme_group(s);
}

int mmu_scheme_from_name(const char *name)
{
	for (int i = 0; i < MMU_NSCHEMES; i++)
		if (!strcmp(name, scheme_names[i]))
			return i;
	return -1;
}

uint32_t mmu_scheme_mask_parse(const char *list, char *err, size_t errlen)
{
	uint32_t mask = 0;
	const char *p = list;

	if (!strcmp(list, "all"))
		return MMU_ALL_SCHEMES;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char name[32];
		int s;

		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, errlen, "bad scheme list '%s'", list);
			return 0;
		}
		memcpy(name, p, n);
		name[n] = 0;
		s = mmu_scheme_from_name(name);
		if (s < 0) {
			snprintf(err, errlen,
				 "unknown scheme '%s' (expected e.g. x86-native, "
				 "x86-2d, dmt-virt, pvdmt, or all)",
				 name);
			return 0;
		}
		mask |= MMU_SCHEME_BIT(s);
		p = c ? c + 1 : p + n;
	}
	if (!mask)
		snprintf(err, errlen, "empty scheme list");
	return mask;
}

static uint64_t store_base(enum mmu_scheme s)
{
	return s == MMU_AGILE		   ? MMU_PRIV_AGILE_BASE
	       : s == MMU_X86_NESTED_EPT02 ? MMU_PRIV_EPT02_BASE
					   : MMU_PRIV_SHADOW_BASE;
}

struct mmu_sim *mmu_sim_create(const struct mmu_config *cfg, uint32_t mask, char *err,
			       size_t errlen)
{
	struct mmu_sim *sim;

	if (mmu_config_check(cfg, err, errlen))
		return NULL;
	mask &= MMU_ALL_SCHEMES;
	sim = aligned_alloc(64, (sizeof(*sim) + 63) & ~(size_t)63);
	if (!sim)
		goto oom;
	memset(sim, 0, sizeof(*sim));
	sim->cfg = *cfg;
	sim->mask = mask;
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		struct mmu_scheme_state *st = &sim->st[s];
		st->id = (enum mmu_scheme)s;
		st->cfg = &sim->cfg;
		st->memo = &sim->memo[0];
		mmu_pstore_init(&st->store, store_base(st->id));
		if (!(mask & MMU_SCHEME_BIT(s)))
			continue;
		if (s == MMU_ASAP && (mask & MMU_SCHEME_BIT(MMU_X86_2D))) {
			/* x86-2d's walks count it (struct mmu_scheme_state) */
			sim->st[MMU_X86_2D].twin = st;
			if (mmu_scheme_has_traj(st->id) && !(st->traj = mmu_traj_new(st->id, cfg)))
				goto oom;
			continue;
		}
		sim->grp[mmu_scheme_group(st->id)].mask |= MMU_SCHEME_BIT(s);
		if (mmu_cache_init(&sim->cache[s], cfg))
			goto oom;
		st->cache = &sim->cache[s];
		st->vpwc = calloc(cfg->max_vcpus, sizeof(*st->vpwc));
		if (!st->vpwc)
			goto oom;
		if (mmu_scheme_has_traj(st->id) && !(st->traj = mmu_traj_new(st->id, cfg)))
			goto oom;
	}
	for (int g = 0; g < NGROUPS; g++) {
		if (!sim->grp[g].mask)
			continue;
		sim->grp[g].v = calloc(cfg->max_vcpus, sizeof(*sim->grp[g].v));
		sim->grp[g].ev = malloc(MMU_EV_MIN * sizeof(*sim->grp[g].ev));
		if (!sim->grp[g].v || !sim->grp[g].ev)
			goto oom;
		sim->grp[g].cap = MMU_EV_MIN;
	}
	return sim;
oom:
	snprintf(err, errlen, "out of memory creating the MMU model");
	mmu_sim_destroy(sim);
	return NULL;
}

static void free_gv(struct mmu_group_vcpu *gv)
{
	mmu_tlb_free(&gv->l1d);
	mmu_tlb_free(&gv->l1i);
	mmu_tlb_free(&gv->stlb);
	free(gv);
}

void mmu_sim_destroy(struct mmu_sim *sim)
{
	if (!sim)
		return;
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		struct mmu_scheme_state *st = &sim->st[s];
		if (st->vpwc) {
			for (unsigned v = 0; v < sim->cfg.max_vcpus; v++) {
				if (st->vpwc[v] && st->vpwc[v]->has_ntlb)
					mmu_tlb_free(&st->vpwc[v]->ntlb);
				free(st->vpwc[v]);
			}
			free(st->vpwc);
		}
		mmu_pstore_free(&st->store);
		free(st->traj);
		mmu_cache_free(&sim->cache[s]);
	}
	free(sim->trace_buf);
	for (int g = 0; g < NGROUPS; g++) {
		free(sim->grp[g].ev);
		if (!sim->grp[g].v)
			continue;
		for (unsigned v = 0; v < sim->cfg.max_vcpus; v++)
			if (sim->grp[g].v[v])
				free_gv(sim->grp[g].v[v]);
		free(sim->grp[g].v);
	}
	free(sim);
}

static void clear_vpwc(struct mmu_vpwc *v)
{
	for (int d = 0; d < MMU_NDIMS; d++)
		for (int l = 0; l < 3; l++)
			mmu_pwc_clear(&v->pwc[d][l]);
	if (v->has_ntlb)
		mmu_tlb_clear(&v->ntlb);
}

/* Empties vcpu's walk caches in the schemes of group g (with pwc_global the
 * one set all vCPUs share). */
static void clear_vpwcs(struct mmu_sim *sim, int g, unsigned vcpu)
{
	if (sim->cfg.pwc_global)
		vcpu = 0;
	for (int s = 0; s < MMU_NSCHEMES; s++)
		if ((sim->grp[g].mask & MMU_SCHEME_BIT(s)) && sim->st[s].vpwc &&
		    sim->st[s].vpwc[vcpu])
			clear_vpwc(sim->st[s].vpwc[vcpu]);
}

static void flush_tlbs(struct mmu_group_vcpu *gv)
{
	if (gv) {
		mmu_tlb_clear(&gv->l1d);
		mmu_tlb_clear(&gv->l1i);
		mmu_tlb_clear(&gv->stlb);
	}
}

/* A CR3 switch without PCID: the vCPU's TLBs and walk caches are flushed. */
static void flush_vcpu(struct mmu_sim *sim, int g, unsigned vcpu)
{
	flush_tlbs(sim->grp[g].v[vcpu]);
	clear_vpwcs(sim, g, vcpu);
}

/* A vCPU switches to (asid, cr3, ept): its TLBs are flushed; walk caches
 * shared by all vCPUs (pwc_global) only when the context differs from the
 * one they were filled under (vCPUs of one address space share them). */
static void switch_vcpu(struct mmu_sim *sim, int g, unsigned vcpu, uint64_t asid, uint64_t cr3,
			uint64_t ept)
{
	uint64_t *gc = sim->gctx[g];

	if (!sim->cfg.pwc_global) {
		flush_vcpu(sim, g, vcpu);
		return;
	}
	if (gc[0] != asid || gc[1] != cr3 || gc[2] != ept) {
		clear_vpwcs(sim, g, vcpu);
		gc[0] = asid;
		gc[1] = cr3;
		gc[2] = ept;
	}
	flush_tlbs(sim->grp[g].v[vcpu]);
}

void mmu_sim_reset_counters(struct mmu_sim *sim)
{
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		memset(&sim->st[s].ctr, 0, sizeof(sim->st[s].ctr));
		if (sim->st[s].traj)
			mmu_traj_clear(sim->st[s].traj);
	}
	for (int g = 0; g < NGROUPS; g++) {
		struct mmu_group *gr = &sim->grp[g];
		memset(gr->accesses, 0, sizeof(gr->accesses));
		gr->l1_hits = gr->l2_hits = gr->misses = gr->skipped = 0;
	}
}

void mmu_sim_reset(struct mmu_sim *sim)
{
	mmu_sim_reset_counters(sim);
	sim->seen = 0;
	for (int g = 0; g < NGROUPS; g++)
		if (sim->grp[g].v)
			for (unsigned v = 0; v < sim->cfg.max_vcpus; v++)
				flush_vcpu(sim, g, v);
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		if (!(sim->mask & MMU_SCHEME_BIT(s)))
			continue;
		if (sim->st[s].cache)
			mmu_cache_clear(&sim->cache[s]);
		mmu_scheme_state_clear_tables(&sim->st[s]);
	}
}

static struct mmu_group_vcpu *get_gv(struct mmu_sim *sim, int g, unsigned vcpu)
{
	struct mmu_group_vcpu *gv = sim->grp[g].v[vcpu];
	const struct mmu_config *c = &sim->cfg;

	if (gv)
		return gv;
	gv = calloc(1, sizeof(*gv));
	if (!gv)
		return NULL;
	if (mmu_tlb_init(&gv->l1d, c->l1d_tlb_entries, c->l1d_tlb_ways) ||
	    mmu_tlb_init(&gv->l1i, c->l1i_tlb_entries, c->l1i_tlb_ways) ||
	    mmu_tlb_init(&gv->stlb, c->stlb_entries, c->stlb_ways)) {
		free_gv(gv);
		return NULL;
	}
	sim->grp[g].v[vcpu] = gv;
	return gv;
}

static void sync_counters(struct mmu_sim *sim)
{
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		struct mmu_group *gr;
		struct mmu_counters *c = &sim->st[s].ctr;
		if (!(sim->mask & MMU_SCHEME_BIT(s)))
			continue;
		gr = &sim->grp[mmu_scheme_group((enum mmu_scheme)s)];
		memcpy(c->accesses, gr->accesses, sizeof(c->accesses));
		c->tlb_l1_hits = gr->l1_hits;
		c->tlb_l2_hits = gr->l2_hits;
		c->tlb_misses = gr->misses;
		c->skipped = gr->skipped;
	}
	if (sim->st[MMU_X86_2D].twin) { /* asap: x86-2d's counters, its own cycles */
		struct mmu_counters *c = &sim->st[MMU_ASAP].ctr;
		uint64_t cycles = c->walk_cycles;
		*c = sim->st[MMU_X86_2D].ctr;
		c->walk_cycles = cycles;
	}
}

/*
 * Scheme-major walking. The group's TLBs need, on a miss, the translation of
 * the first scheme (in mask order) that does not fault; the other schemes'
 * walks only change their own state (walk caches, caches, tables,
 * counters). So a group's "begin" runs the TLBs and those first walks in
 * access order and records the rest as events (walk / data access); each
 * scheme then runs its events in order, one scheme after the other, keeping
 * its tag arrays hot in the host's caches. A scheme that must walk early
 * (the ones before it faulted) first catches up on its own events, so every
 * scheme sees exactly its original sequence. A group's event log holds one
 * call's events (up to MMU_EV_MAX); when it is full, every scheme catches up
 * and the log starts again.
 *
 * Lanes: the begins and the schemes' catch-ups are tasks, claimed by the
 * lanes (the caller's threads, mmu_sim_run_lane) in a fixed order; a
 * scheme's task waits for its group's begin. A task writes only its group's
 * (begin) or its scheme's (catch-up) state, and each lane has its own
 * software-walk memo, so the counters do not depend on the lanes.
 */
enum { EV_WALK, EV_DATA };

static void run_event(struct mmu_sim *sim, int sc, const struct mmu_ctx *ctx,
		      const struct mmu_event *ev, struct mmu_walk_result *res)
{
	const struct mmu_config *cfg = &sim->cfg;
	int srv;

	if (ev->type == EV_WALK) {
		mmu_walk_scheme(&sim->st[sc], ctx, ev->vcpu, ev->addr, (enum mmu_kind)ev->kind,
				res);
		return;
	}
	srv = mmu_cache_access(&sim->cache[sc], ev->addr);
	sim->st[sc].ctr.data_cycles +=
	    srv == MMU_SRV_DRAM ? cfg->lat_dram : sim->cache[sc].lat[srv - 1];
}

/* Runs scheme sc's recorded events of group gr up to (not including) event end. */
static void catch_up(struct mmu_sim *sim, int sc, const struct mmu_ctx *ctx, struct mmu_group *gr,
		     uint32_t end)
{
	const struct mmu_event *ev = gr->ev;

	for (uint32_t e = gr->cursor[sc]; e < end; e++)
		run_event(sim, sc, ctx, &ev[e], NULL); /* only the counters change */
	if (gr->cursor[sc] < end)
		gr->cursor[sc] = end;
}

static void catch_up_all(struct mmu_sim *sim, struct mmu_group *gr, const struct mmu_ctx *ctx,
			 uint32_t end)
{
	for (int sc = 0; sc < MMU_NSCHEMES; sc++)
		if (gr->mask & MMU_SCHEME_BIT(sc))
			catch_up(sim, sc, ctx, gr, end);
}

/* Room for one call's events (2 per access at most), if memory allows. */
static void grow_log(struct mmu_group *gr, size_t n)
{
	size_t want = 2 * n + 2;
	struct mmu_event *ev;

	if (want > MMU_EV_MAX)
		want = MMU_EV_MAX;
	if (want <= gr->cap)
		return;
	ev = realloc(gr->ev, want * sizeof(*ev));
	if (!ev)
		return; /* the log just fills (and is caught up) more often */
	gr->ev = ev;
	gr->cap = (uint32_t)want;
}

/* Room for an access's events (2 at most) in group gr's log: when it is
 * full, every scheme catches up and the log starts again. */
static inline void log_room(struct mmu_sim *sim, struct mmu_group *gr, const struct mmu_ctx *ctx)
{
	if (gr->ne + 2 > gr->cap) {
		catch_up_all(sim, gr, ctx, gr->ne);
		gr->ne = 0;
		memset(gr->cursor, 0, sizeof(gr->cursor));
	}
}

/* Group g's TLBs and the walks they need; records the other walks. */
static void begin_group(struct mmu_sim *sim, int g, const struct mmu_ctx *ctx,
			const struct mmu_access *acc, size_t n, struct mmu_memo *memo)
{
	struct mmu_group *gr = &sim->grp[g];
	const struct mmu_config *cfg = &sim->cfg;
	uint64_t key = g == 0 && ctx->native_cr3 ? ctx->native_cr3 : ctx->cr3;
	/* a new EPT (or EPT12) root also invalidates cached translations */
	uint64_t ept = g == 0 ? 0 : ctx->ept_root ^ (ctx->ept12_root << 1) ^ ctx->shadow_root;
	struct mmu_walk_result res;
	/* the vCPU state last found current: it stays so for the rest of the
	 * call (the context is the call's, and only a switch changes it) */
	const struct mmu_group_vcpu *cur = NULL;
	/* Per L1 TLB (dTLB, iTLB): the 4 KiB page and vCPU number of the last
	 * access that hit or filled it in this call (page | vcpu: a vCPU
	 * number is below 4096; ~0 matches none), and the 4 KiB frame it
	 * translates to (whatever the entry's page size, the same page's frame
	 * for any access to it). The entry is then its set's
	 * MRU one, and no other access changed that L1 TLB since (a miss that
	 * faults changes nothing; any other lookup of it becomes the new
	 * memo). So another access to that page is an L1 hit that changes no
	 * TLB state: counted without a lookup (fast[], added at the end). */
	uint64_t mru[2] = {~0ULL, ~0ULL}, mru_frame[2] = {0, 0};
	uint64_t fast[MMU_FETCH + 1] = {0, 0, 0};
	const bool no_data = !cfg->cache_data;

	gr->ne = 0;
	memset(gr->cursor, 0, sizeof(gr->cursor));
	if (!mmu_scheme_applies((enum mmu_scheme)__builtin_ctz(gr->mask), ctx)) {
		gr->skipped += n;
		return;
	}
	for (int s = 0; s < MMU_NSCHEMES; s++)
		if (gr->mask & MMU_SCHEME_BIT(s)) {
			sim->st[s].memo = memo;
			mmu_walk_select_root(&sim->st[s], ctx);
		}
	grow_log(gr, n);
	for (size_t i = 0; i < n; i++) {
		const struct mmu_access *a = &acc[i];
		enum mmu_kind kind = a->kind <= MMU_FETCH ? (enum mmu_kind)a->kind : MMU_LOAD;
		uint64_t base = 0, pa = 0, va = a->va, page_vcpu = (va & ~0xfffULL) | a->vcpu;
		unsigned vcpu, s;
		struct mmu_group_vcpu *gv;
		struct mmu_tlb *l1;
		bool have = true;

		if (page_vcpu == mru[kind == MMU_FETCH]) {
			fast[kind]++;
			if (no_data)
				continue;
			log_room(sim, gr, ctx);
			pa = mru_frame[kind == MMU_FETCH] | (va & 0xfff);
			gr->ev[gr->ne++] = (struct mmu_event){pa, EV_DATA, 0, 0};
			continue;
		}
		vcpu = a->vcpu < cfg->max_vcpus ? a->vcpu : cfg->max_vcpus - 1;
		if (!(gv = get_gv(sim, g, vcpu)))
			continue;
		log_room(sim, gr, ctx);
		if (gv != cur &&
		    (!gv->valid || gv->asid != ctx->asid || gv->cr3 != key || gv->ept != ept)) {
			/* the flush empties walk caches: earlier walks go first */
			catch_up_all(sim, gr, ctx, gr->ne);
			switch_vcpu(sim, g, vcpu, ctx->asid, key, ept);
			gv->valid = true;
			gv->asid = ctx->asid;
			gv->cr3 = key;
			gv->ept = ept;
		}
		cur = gv;
		gr->accesses[kind]++;
		l1 = kind == MMU_FETCH ? &gv->l1i : &gv->l1d;
		if ((s = mmu_tlb_lookup(l1, va, cfg->tlb_2m, &base))) {
			gr->l1_hits++;
			pa = base | (va & ((1ULL << s) - 1));
		} else if ((s = mmu_tlb_lookup(&gv->stlb, va, cfg->tlb_2m, &base))) {
			gr->l2_hits++;
			mmu_tlb_insert_missed(l1, va, s, base);
			pa = base | (va & ((1ULL << s) - 1));
		} else {
			uint32_t e = gr->ne++;
			gr->misses++;
			have = false;
			gr->ev[e] = (struct mmu_event){va, EV_WALK, (uint8_t)kind, (uint8_t)vcpu};
			for (uint32_t m = gr->mask; m && !have; m &= m - 1) {
				int sc = __builtin_ctz(m);
				if (gr->cursor[sc] < e)
					catch_up(sim, sc, ctx, gr, e);
				run_event(sim, sc, ctx, &gr->ev[e], &res);
				gr->cursor[sc] = e + 1;
				if (!res.fault) {
					have = true;
					pa = res.pa;
					s = res.page_shift >= 21 && cfg->tlb_2m ? 21 : 12;
				}
			}
			if (have) {
				base = pa & ~((1ULL << s) - 1);
				mmu_tlb_insert_missed(&gv->stlb, va, s, base);
				mmu_tlb_insert_missed(l1, va, s, base);
			}
		}
		if (have) {
			mru[kind == MMU_FETCH] = page_vcpu;
			mru_frame[kind == MMU_FETCH] = pa & ~0xfffULL;
		}
		if (cfg->cache_data && have)
			gr->ev[gr->ne++] = (struct mmu_event){pa, EV_DATA, 0, 0};
	}
	for (int k = 0; k <= MMU_FETCH; k++) {
		gr->accesses[k] += fast[k];
		gr->l1_hits += fast[k];
	}
}

/* The tasks of a call, in claim order: the begins (largest group first),
 * then the schemes' catch-ups, costliest first (the per-scheme
 * rates); a group's first scheme walked in the begin, so it goes last. */
struct mmu_task {
	int8_t group, scheme; /* scheme -1: the group's begin */
};

static unsigned make_tasks(const struct mmu_sim *sim, struct mmu_task *t)
{
	static const int8_t groups[NGROUPS] = {1, 2, 0};
	static const int8_t by_cost[MMU_NSCHEMES] = {
	    MMU_ECPT,  MMU_X86_3D,     MMU_FPT,	       MMU_X86_NESTED_EPT02, MMU_X86_2D,
	    MMU_ASAP,  MMU_AGILE,      MMU_X86_SHADOW, MMU_PVDMT_NESTED,     MMU_DMT_VIRT,
	    MMU_PVDMT, MMU_FPT_NATIVE, MMU_X86_NATIVE, MMU_DMT_NATIVE};
	unsigned k = 0;

	for (int i = 0; i < NGROUPS; i++)
		if (sim->grp[groups[i]].mask)
			t[k++] = (struct mmu_task){groups[i], -1};
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < MMU_NSCHEMES; i++) {
			int s = by_cost[i], g = mmu_scheme_group((enum mmu_scheme)s);
			bool first = __builtin_ctz(sim->grp[g].mask | 1u << 31) == s;
			if ((sim->grp[g].mask & MMU_SCHEME_BIT(s)) && first == (pass == 1))
				t[k++] = (struct mmu_task){(int8_t)g, (int8_t)s};
		}
	return k;
}

void mmu_sim_run_lane(struct mmu_sim *sim, const struct mmu_ctx *ctx, const struct mmu_access *acc,
		      size_t n, unsigned lane, unsigned nlanes)
{
	struct mmu_task task[NGROUPS + MMU_NSCHEMES];
	unsigned ntasks = make_tasks(sim, task);
	/* a lane beyond the memos walks without one (same counters, slower) */
	struct mmu_memo *memo = lane < MMU_MAX_LANES ? &sim->memo[lane] : NULL;

	if (memo)
		memo->gen++; /* tables may have changed since the last call */
	for (;;) {
		int t = -1;
		bool left = false;
		for (unsigned i = 0; i < ntasks && t < 0; i++) {
			if (atomic_load_explicit(&sim->claimed[i], memory_order_relaxed))
				continue;
			left = true;
			if (task[i].scheme >= 0 &&
			    !atomic_load_explicit(&sim->begun[task[i].group], memory_order_acquire))
				continue;
			if (!atomic_exchange_explicit(&sim->claimed[i], 1, memory_order_acq_rel))
				t = (int)i;
		}
		if (t < 0) {
			if (!left)
				break;
			__builtin_ia32_pause(); /* a begin runs on another lane */
			continue;
		}
		if (task[t].scheme < 0) {
			begin_group(sim, task[t].group, ctx, acc, n, memo);
			atomic_store_explicit(&sim->begun[task[t].group], 1, memory_order_release);
		} else {
			struct mmu_group *gr = &sim->grp[task[t].group];
			sim->st[task[t].scheme].memo = memo;
			catch_up(sim, task[t].scheme, ctx, gr, gr->ne);
		}
	}
	/* the last lane out publishes the counters and resets the claims */
	if (atomic_fetch_add_explicit(&sim->lanes_done, 1, memory_order_acq_rel) + 1 >=
	    (nlanes ? nlanes : 1)) {
		for (unsigned i = 0; i < ntasks; i++)
			atomic_store_explicit(&sim->claimed[i], 0, memory_order_relaxed);
		for (int g = 0; g < NGROUPS; g++)
			atomic_store_explicit(&sim->begun[g], 0, memory_order_relaxed);
		atomic_store_explicit(&sim->lanes_done, 0, memory_order_relaxed);
		sim->seen += n;
		sync_counters(sim);
	}
}

bool mmu_sim_warming(const struct mmu_sim *sim)
{
	return sim->seen < sim->cfg.warmup_refs;
}

static void run_batch(struct mmu_sim *sim, const struct mmu_ctx *ctx, const struct mmu_access *acc,
		      size_t n)
{
	mmu_sim_run_lane(sim, ctx, acc, n, 0, 1);
}

/* Accesses before warmup_refs warm the TLBs and caches but are not counted
 * (the artifact's warm-up): counters are zeroed after each warm-up batch. */
void mmu_sim_run(struct mmu_sim *sim, const struct mmu_ctx *ctx, const struct mmu_access *acc,
		 size_t n)
{
	if (mmu_sim_warming(sim)) {
		size_t k =
		    sim->cfg.warmup_refs - sim->seen < n ? sim->cfg.warmup_refs - sim->seen : n;
		run_batch(sim, ctx, acc, k);
		mmu_sim_reset_counters(sim);
		acc += k;
		n -= k;
		if (!n)
			return;
	}
	run_batch(sim, ctx, acc, n);
}

/* Accesses per mmu_sim_run call of a trace, as dmtvm replay's default
 * batch: with many schemes in one simulator, long scheme-major runs keep
 * each scheme's tag arrays in the host's caches (bench-model -a -b). */
#define TRACE_CHUNK 65536

void mmu_sim_run_trace(struct mmu_sim *sim, const struct mmu_ctx *ctx, const uint64_t *recs,
		       size_t n)
{
	struct mmu_access small[256], *buf = sim->trace_buf;
	size_t cap = TRACE_CHUNK, k = 0;

	if (!buf && n > 256)
		buf = sim->trace_buf = malloc(TRACE_CHUNK * sizeof(*buf));
	if (!buf) { /* a short trace, or no memory: short calls */
		buf = small;
		cap = 256;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned kind = dmtvm_trace_kind(recs[i]);
		if (kind == DMTVM_TRACE_CONTROL)
			continue;
		buf[k].va = dmtvm_trace_va(recs[i]);
		buf[k].size = dmtvm_trace_size(recs[i]);
		buf[k].kind = (uint8_t)kind;
		buf[k].vcpu = (uint8_t)dmtvm_trace_vcpu(recs[i]);
		buf[k].pad = 0;
		if (++k == cap) {
			mmu_sim_run(sim, ctx, buf, k);
			k = 0;
		}
	}
	if (k)
		mmu_sim_run(sim, ctx, buf, k);
}

void mmu_sim_prefill(struct mmu_sim *sim, const struct mmu_ctx *ctx)
{
	if (!sim->cfg.own_tables_warm)
		return;
	for (unsigned l = 0; l < MMU_MAX_LANES; l++)
		sim->memo[l].gen++; /* the tables may have changed since the last run */
	for (int s = 0; s < MMU_NSCHEMES; s++)
		if ((sim->mask & MMU_SCHEME_BIT(s)) &&
		    mmu_scheme_has_own_tables((enum mmu_scheme)s) &&
		    mmu_scheme_applies((enum mmu_scheme)s, ctx))
			mmu_prefill_scheme(&sim->st[s], ctx);
}

void mmu_sim_invalidate(struct mmu_sim *sim, const struct mmu_ctx *ctx, uint64_t va, uint64_t len)
{
	bool all = len == 0 || len > (64ULL << 12);

	for (int g = 0; g < NGROUPS; g++) {
		if (!sim->grp[g].v)
			continue;
		for (unsigned v = 0; v < sim->cfg.max_vcpus; v++) {
			struct mmu_group_vcpu *gv = sim->grp[g].v[v];
			if (!gv)
				continue;
			if (all) {
				flush_vcpu(sim, g, v);
				continue;
			}
			for (uint64_t a = va & ~0xfffULL; a < va + len; a += 4096) {
				mmu_tlb_flush_page(&gv->l1d, a);
				mmu_tlb_flush_page(&gv->l1i, a);
				mmu_tlb_flush_page(&gv->stlb, a);
			}
			/* invlpg also drops paging-structure caches */
			clear_vpwcs(sim, g, v);
		}
	}
	for (int s = 0; s < MMU_NSCHEMES; s++)
		if (sim->mask & MMU_SCHEME_BIT(s))
			mmu_walk_invalidate(&sim->st[s], ctx, va, len);
}

const struct mmu_counters *mmu_sim_counters(const struct mmu_sim *sim, enum mmu_scheme s)
{
	return (unsigned)s < MMU_NSCHEMES ? &sim->st[s].ctr : NULL;
}

const struct mmu_steps *mmu_sim_steps(const struct mmu_sim *sim, enum mmu_scheme s)
{
	static const struct mmu_steps none;
	struct mmu_traj *t = (unsigned)s < MMU_NSCHEMES ? sim->st[s].traj : NULL;

	if (!t)
		return (unsigned)s < MMU_NSCHEMES ? &none : NULL;
	mmu_traj_flush(t); /* the tally is the sim's own state, not its config */
	return &t->steps;
}

uint32_t mmu_sim_schemes(const struct mmu_sim *sim)
{
	return sim->mask;
}

const struct mmu_config *mmu_sim_config(const struct mmu_sim *sim)
{
	return &sim->cfg;
}

void mmu_translate(const struct mmu_config *cfg, const struct mmu_ctx *ctx, enum mmu_scheme s,
		   uint64_t va, enum mmu_kind kind, struct mmu_walk_result *res)
{
	struct mmu_scheme_state st;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	if ((unsigned)s >= MMU_NSCHEMES) {
		res->fault = MMU_FAULT_BAD_PA;
		return;
	}
	st.id = s;
	st.cfg = cfg;
	mmu_pstore_init(&st.store, store_base(s));
	mmu_walk_select_root(&st, ctx);
	mmu_walk_scheme(&st, ctx, 0, va, kind, res);
	mmu_pstore_free(&st.store);
}
