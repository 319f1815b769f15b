/* SPDX-License-Identifier: MIT */
/*
 * mmu_internal.h: data types shared by libmmu's modules (not installed):
 * the cache hierarchy, set-associative TLBs, page-walk caches, the model's
 * own table memory (shadow tables, EPT02) and the per-scheme state.
 */
#ifndef MMU_INTERNAL_H
#define MMU_INTERNAL_H

#include "mmu.h"

/* ---- cache hierarchy (mmu_cache.c): L1, L2, LLC, LRU, line tags ---- */
struct mmu_cache_level {
	/* sets * stride tags, unordered (MRU first when mru_array); 0 = empty,
	 * else (line >> set bits) + 1, in the narrowest of 16 (tags16), 32
	 * (tags32) and 64 bits (tags) that has held every tag so far. */
	uint16_t *tags16;
	uint32_t *tags32;
	uint64_t *tags;
	uint64_t *order; /* per set: LRU order, 4-bit way numbers, MRU in bits 3:0;
			    NULL when the order word is in the set (or mru_array) */
	uint32_t ways, stride, set_mask, set_shift;
	/* set s's order word is at obase + (s << oshift) bytes; its tags start
	 * at pf_tags + s * pf_stride bytes (for mmu_cache_prefetch); the ways'
	 * match bits, LRU nibble shift and order-word mask (mmu_lru.h) */
	uint64_t *obase, omask;
	uint32_t oshift, full, vshift;
	const char *pf_tags;
	uint32_t pf_stride;
	bool mru_array; /* > 16 ways: 64-bit tags kept MRU first, no order word */
};

struct mmu_cache {
	struct mmu_cache_level lv[3];
	uint32_t line_shift;
	uint32_t lat[4]; /* L1, L2, LLC, DRAM */
	/* cache_fast_path (the artifact's caching_device): the last line each
	 * level saw; a request for it again is served by memory (DRAM). */
	bool fast_path;
	uint64_t last[3];
};

int mmu_cache_init(struct mmu_cache *c, const struct mmu_config *cfg);
void mmu_cache_free(struct mmu_cache *c);
void mmu_cache_clear(struct mmu_cache *c);
/* Looks up pa and fills it into every level; returns the level that served it
 * (MMU_SRV_L1 .. MMU_SRV_DRAM; with fast_path, a level asked for the line it
 * saw last answers DRAM, as the artifact's simulator does). */
int mmu_cache_access(struct mmu_cache *c, uint64_t pa);
/* Starts loading the L2 and LLC sets of pa (they are far apart in host
 * memory): call it as early as the address is known. Inline, and without
 * the cache's address folding: a fold keeps a level's set index (or, on a
 * level of 64-bit tags, may name another set: a prefetch is only a hint). */
static inline void mmu_cache_prefetch(const struct mmu_cache *c, uint64_t pa)
{
	uint64_t line = pa >> c->line_shift;

	for (int i = 1; i < 3; i++) {
		const struct mmu_cache_level *l = &c->lv[i];
		uint64_t s = line & l->set_mask;
		__builtin_prefetch(l->pf_tags + s * l->pf_stride);
		if (l->order) /* not in the set */
			__builtin_prefetch(l->order + s);
	}
}

/* ---- set-associative TLB (mmu_tlb.c), also the nested TLB ---- */
struct mmu_tlb_entry {
	uint64_t key, val; /* key 0 = empty */
};
struct mmu_tlb {
	struct mmu_tlb_entry *e; /* sets * ways, MRU first; a 4-way set is one host line */
	uint32_t ways, set_mask;
	uint32_t n[2]; /* 4 KiB / 2 MiB entries held (a size with none is not probed) */
};

int mmu_tlb_init(struct mmu_tlb *t, uint32_t entries, uint32_t ways);
void mmu_tlb_free(struct mmu_tlb *t);
void mmu_tlb_clear(struct mmu_tlb *t);
/* mmu_tlb_lookup and mmu_tlb_insert_missed: inline, in mmu_tlb.h */
void mmu_tlb_insert(struct mmu_tlb *t, uint64_t addr, unsigned shift, uint64_t base);
void mmu_tlb_flush_page(struct mmu_tlb *t, uint64_t addr);

/* ---- page-walk cache: one small set-associative LRU array per level ---- */
struct mmu_pwc {
	uint32_t n;	   /* entries; 0 = off */
	uint32_t ways;	   /* per set */
	uint32_t set_mask; /* sets - 1 */
	uint64_t key[64];  /* per set, MRU first: tag + 1; 0 = empty */
	uint64_t val[64];
	uint64_t last; /* tag + 1 of the last lookup (cache_fast_path); 0 = none */
};

void mmu_pwc_init(struct mmu_pwc *p, uint32_t entries, uint32_t ways);

/* Sets keep their entries MRU first; a hit moves to the front, an insert
 * enters at the front (dropping the LRU entry, or the same key). */
static inline bool mmu_pwc_lookup(struct mmu_pwc *p, uint64_t tag, uint64_t *val)
{
	uint64_t key = tag + 1;
	uint64_t *k, *v;

	if (!p->n)
		return false;
	k = p->key + (tag & p->set_mask) * p->ways;
	v = p->val + (tag & p->set_mask) * p->ways;
	for (uint32_t i = 0; i < p->ways; i++) {
		if (k[i] == key) {
			uint64_t x = v[i];
			for (; i > 0; i--) {
				k[i] = k[i - 1];
				v[i] = v[i - 1];
			}
			k[0] = key;
			v[0] = x;
			*val = x;
			return true;
		}
	}
	return false;
}

static inline void mmu_pwc_insert(struct mmu_pwc *p, uint64_t tag, uint64_t val)
{
	uint64_t key = tag + 1;
	uint64_t *k, *v;
	uint32_t i;

	if (!p->n)
		return;
	k = p->key + (tag & p->set_mask) * p->ways;
	v = p->val + (tag & p->set_mask) * p->ways;
	for (i = 0; i < p->ways - 1; i++)
		if (k[i] == key)
			break;
	for (; i > 0; i--) {
		k[i] = k[i - 1];
		v[i] = v[i - 1];
	}
	k[0] = key;
	v[0] = val;
}

void mmu_pwc_clear(struct mmu_pwc *p);

/* Walk caches of one vCPU for one scheme: [dim][0 = PML4E, 1 = PDPTE, 2 = PDE]. */
struct mmu_vpwc {
	struct mmu_pwc pwc[MMU_NDIMS][3];
	struct mmu_tlb ntlb; /* gPA -> hPA, when ntlb_entries > 0 */
	bool has_ntlb;
};

/* ---- the model's own table memory (shadow tables, agile, EPT02) ---- */
struct mmu_pstore {
	uint8_t **frames;
	uint32_t n, cap;
	uint64_t base; /* physical base of this store's frames (above phys_bits) */
};

void mmu_pstore_init(struct mmu_pstore *s, uint64_t base);
void mmu_pstore_free(struct mmu_pstore *s);
/* Allocates a zeroed frame; returns its address or 0 when out of memory. */
uint64_t mmu_pstore_alloc(struct mmu_pstore *s);
/* The frame of pa, or NULL (inline: the walks of own tables ask per reference). */
static inline uint8_t *mmu_pstore_frame_of(const struct mmu_pstore *s, uint64_t pa)
{
	uint64_t idx = (pa - s->base) >> 12;

	return pa >= s->base && idx < s->n ? s->frames[idx] : NULL;
}
/* The same as a struct mmu_space frame callback (ctx: the store). */
const void *mmu_pstore_frame(void *ctx, uint64_t pa);
uint64_t *mmu_pstore_entry(struct mmu_pstore *s, uint64_t pa);

#define MMU_PRIV_BASE	     (1ULL << 51)
#define MMU_PRIV_SHADOW_BASE (MMU_PRIV_BASE)
#define MMU_PRIV_AGILE_BASE  (MMU_PRIV_BASE + (1ULL << 48))
#define MMU_PRIV_EPT02_BASE  (MMU_PRIV_BASE + (2ULL << 48))
#define MMU_PRIV_ECPT_G_BASE (MMU_PRIV_BASE + (3ULL << 48))
#define MMU_PRIV_ECPT_H_BASE (MMU_PRIV_BASE + (4ULL << 48))

/* ---- memo of software EPT walks (mmu_walk.c) ---- */
/* The results of software (silent, uncounted) EPT walks in the hpa space,
 * the hypervisor's and the FPT / ECPT models' translations, for the same
 * generation: the table bytes do not change during one mmu_sim_run. Only
 * walks that succeeded are kept. */
#define MMU_SWMEMO_N 1024
struct mmu_swmemo {
	uint64_t gpn, root, rsvd, gen;
	uint64_t base;	   /* the leaf's page base (hPA) */
	uint64_t rec_h[5]; /* entry addresses, levels 4..level */
	uint32_t level, perm;
};
/* The frames of the caller's spaces the walks read, by page: a callback
 * per reference costs more than the reference's table read. */
#define MMU_FMEMO_N 256 /* mmu_walk.h's frame_of() hashes to 8 bits */
struct mmu_fmemo {
	const struct mmu_space *sp;
	uint64_t page, gen;
	const uint8_t *f;
};

/* The upper levels of software walks (mmu_walk.c), by 2 MiB region: the
 * level-1 table that present non-leaf entries at levels 4..2 lead to, so a
 * later software walk in the region reads only its level-1 entry. Three
 * kinds: the EPT walks the software-walk memo fills (eup), the EPT12 walks
 * over EPT01 (mup) and the 2D x86 walks over the host EPT (xup). Same
 * generation rule as the memo above. */
#define MMU_UPMEMO_N 512
struct mmu_upmemo {
	uint64_t region, root, rsvd, gen;
	uint64_t table;	   /* the level-1 table (EPT: hPA; EPT12: L1 gPA; x86: gPA) */
	uint64_t perm;	   /* EPT: RWX so far; x86: bit 0 RW, bit 1 NX so far */
	uint64_t rec[3];   /* levels 2..4: entry addresses (EPT: rec_h; x86: rec) */
	uint64_t rec_t[3]; /* x86 levels 2..4: the tables' hPAs (rec_t) */
};

struct mmu_memo {
	uint64_t gen; /* one per mmu_sim_run call */
	struct mmu_swmemo sw[MMU_SWMEMO_N];
	struct mmu_fmemo fm[MMU_FMEMO_N];
	struct mmu_upmemo eup[MMU_UPMEMO_N], mup[MMU_UPMEMO_N], xup[MMU_UPMEMO_N];
};

#define MMU_MAX_ROOTS 64

/* Per-scheme state: its walk caches per vCPU, its cache hierarchy, its own
 * tables and its counters. */
struct mmu_scheme_state {
	_Alignas(64) enum mmu_scheme id; /* own host lines: lanes write different schemes */
	const struct mmu_config *cfg;
	struct mmu_cache *cache; /* NULL: uncached (every ref costs lat_dram) */
	struct mmu_memo *memo;	 /* the sim's software-walk memo; NULL: none */
	struct mmu_vpwc **vpwc;	 /* [max_vcpus], lazily allocated; NULL = no PWCs */
	struct mmu_pstore store; /* shadow / agile / EPT02 tables */
	uint32_t nroots;
	uint64_t root_key[MMU_MAX_ROOTS][2]; /* (asid, cr3) or (ept12, ept01) */
	uint64_t root_pa[MMU_MAX_ROOTS];
	uint64_t cur_root; /* own root for the current batch (0 = none yet) */
	struct mmu_counters ctr;
	struct mmu_traj *traj; /* trajectory tally (mmu_formula.c); NULL: none */
	/* x86-2d's twin: asap, when the sim has both. ASAP's walk is x86-2d's
	 * walk (the same references, walk caches and caches) with levels 2 and
	 * 1 overlapped: x86-2d's walks also count asap's cycles and trajectory,
	 * and asap's other counters are x86-2d's (mmu_sim.c). NULL: none. */
	struct mmu_scheme_state *twin;
};

/*
 * Trajectory keys: k0 = steps 0..15 (3 bits each, enum mmu_step_out), the
 * guest leaf level - 1 (bits 49:48), the host leaf level - 1 of rows 0..4
 * (2 bits each from bit 50), bit 63 set; k1 = steps 16..23.
 */
/* Step indices (mmu_traj_name) by x86 level: GxHy (guest level x's table,
 * host level y), Gx (guest level x's entry), UDHy (the data's host level y). */
#define MMU_TRAJ_GH(x, y)	((4 - (x)) * 4 + (4 - (y)))
#define MMU_TRAJ_G(x)		(16 + 4 - (x))
#define MMU_TRAJ_UDH(y)		(20 + 4 - (y))
#define MMU_TK_STEP_SHIFT(step) (3u * ((unsigned)(step)&15))
#define MMU_TK_GLEAF(level)	((uint64_t)((level) > 0 ? (level)-1 : 0) << 48)
#define MMU_TK_HLEAF_SHIFT(row) (50u + 2u * (unsigned)(row))
#define MMU_TK_USED		(1ULL << 63)

/*
 * The trajectory tally of a scheme, like the artifact's processor: walks
 * counted per distinct trajectory (per walk a hash probe), their step
 * outcomes and formula designs added to steps when read (mmu_traj_flush).
 */
#define MMU_TRAJ_SLOTS 2048
struct mmu_traj_slot {
	uint64_t k0, k1, n, flushed;
};
struct mmu_traj {
	enum mmu_scheme id;
	uint32_t used;
	uint32_t designs, step_first, step_end; /* 1D schemes: the guest steps */
	uint32_t lat[MMU_NSTEP_OUT];		/* cycles per step outcome */
	struct mmu_steps steps;			/* walks flushed so far */
	struct mmu_traj_slot slot[MMU_TRAJ_SLOTS];
};

/* mmu_formula.c */
struct mmu_traj *mmu_traj_new(enum mmu_scheme id, const struct mmu_config *cfg);
void mmu_traj_add_slow(struct mmu_traj *t, uint64_t k0, uint64_t k1);
/* Adds the walks counted since the last flush to t->steps. */
void mmu_traj_flush(struct mmu_traj *t);
/* Forgets every walk (counters reset). */
void mmu_traj_clear(struct mmu_traj *t);

/* Counts one completed walk with trajectory key (k0 without MMU_TK_USED, k1). */
static inline void mmu_traj_add(struct mmu_traj *t, uint64_t k0, uint64_t k1)
{
	uint64_t h;
	struct mmu_traj_slot *s;

	k0 |= MMU_TK_USED;
	h = (k0 * 0x9E3779B97F4A7C15ULL ^ k1 * 0xC2B2AE3D27D4EB4FULL) >> 53;
	s = &t->slot[h & (MMU_TRAJ_SLOTS - 1)];
	if (__builtin_expect(s->k0 == k0 && s->k1 == k1, 1))
		s->n++;
	else
		mmu_traj_add_slow(t, k0, k1);
}

/* mmu_walk.c: one translation of va under st's scheme, counting into st. */
void mmu_walk_scheme(struct mmu_scheme_state *st, const struct mmu_ctx *ctx, unsigned vcpu,
		     uint64_t va, enum mmu_kind kind, struct mmu_walk_result *res);
/* Selects st->cur_root for (ctx), creating an empty own root if needed. */
void mmu_walk_select_root(struct mmu_scheme_state *st, const struct mmu_ctx *ctx);
/* Drops own shadow entries for [va, va + len) (len 0: all). */
void mmu_walk_invalidate(struct mmu_scheme_state *st, const struct mmu_ctx *ctx, uint64_t va,
			 uint64_t len);
void mmu_scheme_state_clear_tables(struct mmu_scheme_state *st);
/* Does the scheme keep own tables (shadow, Agile, EPT02) when the caller keeps none? */
bool mmu_scheme_has_own_tables(enum mmu_scheme s);
/*
 * mmu_walk_own.c: fills st's own table for addr (shadow, Agile: a guest VA;
 * EPT02: a guest-physical address) as the hypervisor's on-demand fill does,
 * silently; st->cur_root must be selected. Returns the bytes the entry maps
 * (what is already there counts), or 0 when addr has no translation.
 */
uint64_t mmu_walk_own_prefill(struct mmu_scheme_state *st, const struct mmu_ctx *ctx,
			      uint64_t addr);
/* mmu_prefill.c: fills st's own table for every translation of ctx's guest tables. */
void mmu_prefill_scheme(struct mmu_scheme_state *st, const struct mmu_ctx *ctx);

/* TLB group of a scheme: 0 native, 1 virtualized, 2 nested. */
int mmu_scheme_group(enum mmu_scheme s);
/* Does the scheme apply to this context? */
bool mmu_scheme_applies(enum mmu_scheme s, const struct mmu_ctx *ctx);

/* mmu_presets.c (generated from presets/NAME.conf): {name, text}, ends {0}. */
struct mmu_preset {
	const char *name, *text;
};
extern const struct mmu_preset mmu_presets[];

/* mmu_report.c: JSON names shared by the writer and the reader. */
struct mmu_field {
	const char *name;
	size_t off;
};
extern const struct mmu_field mmu_fields[]; /* ends with {NULL, 0} */
const char *mmu_served_name(unsigned i);
const char *mmu_dim_name(unsigned i);

#endif /* MMU_INTERNAL_H */
