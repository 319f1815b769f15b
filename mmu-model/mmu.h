/* SPDX-License-Identifier: MIT */
/*
 * mmu.h: the public contract of libmmu, dmtvm's exact MMU model.
 *
 * A pure library (no syscalls, no global mutable state). The caller gives it
 * (1) a way to read physical memory of each address space (struct mmu_space),
 * (2) the translation context of a batch (CR3s, EPT roots, DMT registers),
 * (3) a batch of accesses (vcpu, va, size, kind). The model walks the REAL
 * page-table bytes at their REAL byte addresses under every requested scheme
 * side by side and keeps exact integer counters per scheme.
 *
 * Address spaces (all reads go through a frame callback; a NULL frame makes
 * the walk end with a fault result, never an out-of-bounds read):
 *   gpa  guest-physical memory of the guest being translated (its RAM with its
 *        page tables and TEAs). Native schemes treat it as physical memory.
 *        When nested (ept12_root != 0) this is L2's guest-physical memory.
 *   hpa  host-physical memory: guest RAM frames at their hPA AND the host's
 *        EPT / shadow tables / host TEAs. Virtualized schemes read guest
 *        table entries here, at the hPA the walk produced (as hardware does).
 *   l1   L1 guest-physical memory (nesting). Not read by the walkers: as in
 *        hardware, EPT12 entries are read at their hPA through hpa. Kept for
 *        callers and tools.
 *
 * Page-table formats: x86-64 4-level PTEs (P, RW, US, PS, NX; reserved bits
 * -> fault), EPT entries (R/W/X bits 0-2, bit 7 large page, bits 51:12 the
 * address). 4 KiB, 2 MiB and 1 GiB leaves.
 */
#ifndef MMU_H
#define MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MMU_PAGE_SHIFT 12
#define MMU_PAGE_SIZE  4096ULL

/* ---------------------------------------------------------------- memory */

/*
 * One physical address space. frame(ctx, pa) returns a pointer to the 4 KiB
 * frame that holds pa (i.e. the frame starting at pa & ~0xfff), or NULL when
 * pa is outside the memory. The pointer must stay valid during mmu_sim_run,
 * and frame() must give the same frame for a page throughout one call (the
 * model remembers the frames it was given for the rest of the call). Nor may
 * the caller's tables (page tables, EPTs, TEAs) change during a call: the
 * model remembers its software walks of them for the rest of the call.
 * Changes between calls are seen (mmu_sim_invalidate for cached ones).
 */
struct mmu_space {
	const void *(*frame)(void *ctx, uint64_t pa);
	void *ctx;
};

/* ---------------------------------------------------------------- schemes */

/* Stable names (JSON keys, --schemes=): mmu_scheme_name(). */
enum mmu_scheme {
	MMU_X86_NATIVE = 0,   /* "x86-native": 1D radix walk, 4 refs */
	MMU_X86_2D,	      /* "x86-2d": guest radix over EPT, 24 refs */
	MMU_X86_SHADOW,	      /* "x86-shadow": shadow table gVA->hPA, 4 refs + exits */
	MMU_X86_NESTED_EPT02, /* "x86-nested-ept02": L2 2D walk over EPT02, 24 */
	MMU_X86_3D,	      /* "x86-3d": L2 tables x EPT12 x EPT01, 124 */
	MMU_DMT_NATIVE,	      /* "dmt-native": 1 ref on a DMT register hit */
	MMU_DMT_VIRT,	      /* "dmt-virt": 3 refs */
	MMU_PVDMT,	      /* "pvdmt": 2 refs */
	MMU_PVDMT_NESTED,     /* "pvdmt-nested": 3 refs */
	MMU_FPT,	      /* "fpt": flattened tables, virtualized, 8 refs */
	MMU_ECPT,	      /* "ecpt": elastic cuckoo page tables, virtualized */
	MMU_ASAP,	      /* "asap": 2D walk with prefetched lower levels */
	MMU_AGILE,	      /* "agile": shadow upper levels, nested leaf, 8 */
	MMU_FPT_NATIVE,	      /* "fpt-native": flattened tables, native, 2 refs */
	MMU_NSCHEMES
};

#define MMU_SCHEME_BIT(s) (1u << (s))
#define MMU_ALL_SCHEMES	  ((1u << MMU_NSCHEMES) - 1)

const char *mmu_scheme_name(enum mmu_scheme s);
/* Returns the scheme for a stable name, or -1. */
int mmu_scheme_from_name(const char *name);
/* The setup a scheme models: which contexts it runs on (mmu_ctx). */
enum mmu_setup { MMU_SETUP_NATIVE = 0, MMU_SETUP_VIRT = 1, MMU_SETUP_NESTED = 2 };
enum mmu_setup mmu_scheme_setup(enum mmu_scheme s);
/* Parses "x86-native,dmt-virt" or "all" into a mask; 0 and err on error. */
uint32_t mmu_scheme_mask_parse(const char *list, char *err, size_t errlen);

/* ---------------------------------------------------------------- config */

/*
 * Geometry and latencies. Defaults (mmu_config_default) are the artifact's
 * machine (DMT.md). Every field is settable by its key name, which is the
 * field name: e.g. "stlb_entries = 1536", "lat_dram = 200".
 */
struct mmu_config {
	/* TLBs (entries must be ways * power of two) */
	uint32_t l1d_tlb_entries, l1d_tlb_ways; /* 64 / 4 */
	uint32_t l1i_tlb_entries, l1i_tlb_ways; /* 128 / 8 */
	uint32_t stlb_entries, stlb_ways;	/* 1536 / 12 (4 KiB and 2 MiB) */
	bool tlb_2m;				/* 2 MiB entries in TLBs: 1 */
	/* page-walk caches per level, per dimension (guest, host, EPT12) */
	uint32_t pwc_pml4e, pwc_pdpte, pwc_pde; /* 2 / 4 / 32; 0 = off */
	bool pwc;				/* master switch: 1 */
	uint32_t ntlb_entries, ntlb_ways;	/* nested TLB gPA->hPA: 0 (off) / 4 */
	/* cache hierarchy (per scheme): sizes in bytes */
	uint32_t line_size;			     /* 64 */
	uint32_t l1_size, l1_ways, l2_size, l2_ways; /* 32 KiB/8, 1 MiB/16 */
	uint32_t llc_size, llc_ways;		     /* 22 MiB / 11 */
	bool cache_data; /* data accesses also go through the caches: 0 (README) */
	/* latencies in cycles */
	uint32_t lat_pwc, lat_l1, lat_l2, lat_llc, lat_dram; /* 1 4 14 54 200 */
	uint32_t dmt_regs;				     /* DMT registers per level: 16 */
	uint32_t ecpt_ways;				     /* ECPT cuckoo ways: 3 */
	uint32_t max_vcpus;				     /* 64 */
	uint32_t phys_bits; /* MAXPHYADDR: entry bits 51:phys_bits are reserved: 46 */
	/* page-walk cache associativity (the artifact's 1 / 4 / 4) */
	uint32_t pwc_pml4e_ways, pwc_pdpte_ways, pwc_pde_ways;
	/* The artifact's simulator, one behaviour per key (DMT.md; all off by
	 * default; presets/artifact.conf turns them on):
	 * pwc_line_tags: walk caches hold tags only, tag = (addr >> level shift)
	 *   >> 3 (one entry covers 8 sibling entries); all three are probed and
	 *   filled on every walk, the deepest hit wins and stands for the entry of
	 *   its level (the next table's host walk is still made): 0
	 * pwc_global: one set of walk caches per scheme for all vCPUs: 0
	 * pwc_data_walk: the data gPA -> hPA walk (UDH) uses the host walk
	 *   caches and the nested TLB: 1
	 * cache_fast_path: a request whose line (tag) equals the last one that
	 *   cache level (or walk cache) saw is served by memory: 0
	 * warmup_refs: accesses before this many are simulated, not counted: 0 */
	bool pwc_line_tags, pwc_global, pwc_data_walk, cache_fast_path;
	uint32_t warmup_refs;
	bool own_tables_warm; /* mmu_sim_prefill fills shadow / Agile / EPT02 tables: 1 */
};

void mmu_config_default(struct mmu_config *cfg);
/*
 * Parses a number (decimal, or 0x hex) with an optional K/M/G/T suffix
 * (powers of 1024), as config values and size options take them. Returns 0,
 * or -1 on a malformed number, a sign, trailing characters or overflow.
 */
int mmu_parse_size(const char *s, uint64_t *out);
/* Sets one key; returns 0, or -1 with a one-line message in err. */
int mmu_config_set(struct mmu_config *cfg, const char *key, const char *value, char *err,
		   size_t errlen);
/* Checks cross-field constraints (powers of two, ways divide entries). */
int mmu_config_check(const struct mmu_config *cfg, char *err, size_t errlen);
/*
 * Parses `key = value` lines (# comments, blank lines) from text. Errors name
 * the line number and content: "line 3: 'l1_ways = x': bad number 'x'".
 */
int mmu_config_parse(struct mmu_config *cfg, const char *text, char *err, size_t errlen);
int mmu_config_load(struct mmu_config *cfg, const char *path, char *err, size_t errlen);
/* Writes the config as a JSON object (all keys). */
void mmu_config_json(const struct mmu_config *cfg, FILE *out);
/*
 * Presets shipped with the model (mmu-model/presets/NAME.conf, built into the
 * library): "artifact" = the artifact's simulator (DMT.md). Applies the
 * preset's keys on top of cfg; 0, or -1 naming the known presets in err.
 */
int mmu_config_preset(struct mmu_config *cfg, const char *name, char *err, size_t errlen);
/* Preset names by index (NULL past the last), for --help listings. */
const char *mmu_config_preset_name(unsigned i);
/* Number of keys and key name by index (for --help listings). */
unsigned mmu_config_nkeys(void);
const char *mmu_config_key(unsigned i);

/* ---------------------------------------------------------------- context */

#define MMU_MAX_DMT_REGS 64

/*
 * One DMT register. Guest level: VA [base, limit) has its leaf entries in the
 * TEA at tea (a gPA in the gpa space); entry address =
 * tea + ((va - base) >> page_shift) * 8. page_shift 12 (PTEs) or 21 (PDEs).
 * tea_hpa: pvDMT: the same TEA's hPA (the TEA is host-contiguous); 0 = none.
 * Host level: gPA [base, limit) has its EPT leaf entries in the host TEA at
 * tea (an hPA). EPT12 level: L2 gPA [base, limit) -> EPT12 leaves at tea
 * (an L1 gPA), tea_hpa its hPA when host-contiguous (pvDMT nested).
 */
struct mmu_dmt_reg {
	uint64_t base;
	uint64_t limit;
	uint64_t tea;
	uint64_t tea_hpa;
	uint32_t page_shift;
	uint32_t flags; /* reserved, 0 */
};

/*
 * The translation context of a batch: the state of the modelled CPU while
 * these accesses ran. Zero fields mean "absent": schemes that need an absent
 * part are not run for the batch (their counters count it in `skipped`).
 */
struct mmu_ctx {
	struct mmu_space gpa, hpa, l1;
	uint64_t cr3;	      /* guest CR3: gPA of the PML4 (flag bits ignored) */
	uint64_t native_cr3;  /* native setup: PML4 in gpa space; 0 = cr3 */
	uint64_t ept_root;    /* hPA of the EPT PML4 (EPT01 when nested); 0 = native only */
	uint64_t shadow_root; /* caller-kept shadow PML4 (gVA->hPA) in hpa; 0 = model keeps one */
	uint64_t ept12_root;  /* nested: EPT12 PML4 (L1 gPA); 0 = not nested */
	uint64_t ept02_root;  /* nested: caller-kept EPT02 in hpa; 0 = model composes one */
	uint64_t asid;	      /* address-space id: TLBs are flushed when (asid, cr3) changes */
	uint32_t n_guest_regs, n_host_regs, n_ept12_regs;
	struct mmu_dmt_reg guest_regs[MMU_MAX_DMT_REGS]; /* VA -> guest TEA */
	struct mmu_dmt_reg host_regs[MMU_MAX_DMT_REGS];	 /* gPA (L1 gPA if nested) -> host TEA */
	struct mmu_dmt_reg ept12_regs[MMU_MAX_DMT_REGS]; /* L2 gPA -> EPT12 TEA */
};

/* ---------------------------------------------------------------- accesses */

enum mmu_kind { MMU_LOAD = 0, MMU_STORE = 1, MMU_FETCH = 2 };

/* One access. An access that crosses a page boundary is translated for its
 * first byte only (the trace writer splits wide accesses). */
struct mmu_access {
	uint64_t va;
	uint32_t size;
	uint8_t kind; /* enum mmu_kind */
	uint8_t vcpu; /* < cfg.max_vcpus */
	uint16_t pad;
};

/* ---------------------------------------------------------------- walks */

/* Walk dimensions (for refs by dimension and level). */
enum mmu_dim {
	MMU_DIM_GUEST = 0, /* guest (or native) tables, also TEAs and FPT/ECPT */
	MMU_DIM_HOST,	   /* EPT / EPT01 / EPT02 / shadow tables / host TEAs */
	MMU_DIM_MID,	   /* EPT12 (nested only) */
	MMU_NDIMS
};

/* Where a walk reference was served. */
enum mmu_served {
	MMU_SRV_PWC = 0, /* page-walk cache (or nested TLB) hit */
	MMU_SRV_L1,
	MMU_SRV_L2,
	MMU_SRV_LLC,
	MMU_SRV_DRAM,
	MMU_NSERVED
};

/* Trajectory buckets: G<g>H<h> = host level h ref while translating guest level g
 * table's gPA; G<g> = guest level g entry; UDH<h> = host level h ref for the
 * data gPA. Index: GxHy = (4-x)*4 + (4-y), Gx = 16 + (4-x), UDHy = 20 + (4-y). */
#define MMU_NTRAJ 24
const char *mmu_traj_name(unsigned i);

/*
 * Per-step outcomes (trajectory_served): for every walk that completed, the
 * outcome of each of the 24 trajectory steps: ZERO (not made: skipped above
 * a walk-cache hit, or not part of this walk), PWC (the walk-cache hit that
 * stands for that entry), or the cache level that served its reference (the
 * last one, when a step is referenced twice, e.g. a DMT fallback).
 */
enum mmu_step_out {
	MMU_STEP_ZERO = 0,
	MMU_STEP_PWC,
	MMU_STEP_L1,
	MMU_STEP_L2,
	MMU_STEP_LLC,
	MMU_STEP_DRAM,
	MMU_NSTEP_OUT
};
const char *mmu_step_out_name(unsigned i); /* "zero", "pwc", "l1", "l2", "llc", "dram" */

/*
 * Designs by formula (the artifact's processor, Formula.cs), computed per
 * walk from the x86 baseline's step cycles and summed: on x86-native x86,
 * DMT, FPT, ECPT, ASAP; on x86-2d all seven; on x86-nested-ept02 x86 and
 * pvDMT (nested). Stable names: mmu_design_name().
 */
enum mmu_design {
	MMU_DESIGN_X86 = 0, /* "x86": the radix walk itself */
	MMU_DESIGN_DMT,	    /* "DMT" */
	MMU_DESIGN_PVDMT,   /* "pvDMT" */
	MMU_DESIGN_FPT,	    /* "FPT" */
	MMU_DESIGN_ECPT,    /* "ECPT" */
	MMU_DESIGN_ASAP,    /* "ASAP" */
	MMU_DESIGN_AGILE,   /* "Agile" */
	MMU_NDESIGNS
};
const char *mmu_design_name(unsigned d);
int mmu_design_from_name(const char *name);

/* Per-scheme step outcomes and formula sums (kept beside struct
 * mmu_counters, whose layout the golden counters fix). */
struct mmu_steps {
	uint64_t walks;				   /* completed walks with a trajectory */
	uint64_t served[MMU_NTRAJ][MMU_NSTEP_OUT]; /* walks by step and outcome */
	uint64_t formula2[MMU_NDESIGNS];	   /* 2 x sum of cycles per walk */
};

/* Bit mask (1 << design) of the designs computed on scheme s (0: none). */
uint32_t mmu_formula_designs(enum mmu_scheme s);
/* Does scheme s walk in one dimension (steps G4..G1 only)? */
bool mmu_scheme_1d(enum mmu_scheme s);
/* Does scheme s record a trajectory (not x86-3d, pvdmt-nested, ecpt)? */
bool mmu_scheme_has_traj(enum mmu_scheme s);

/* Fault results of a translation. */
enum mmu_fault {
	MMU_OK = 0,
	MMU_FAULT_NOT_PRESENT, /* P=0 (x86) / R=W=X=0 (EPT) */
	MMU_FAULT_RESERVED,    /* reserved bit set */
	MMU_FAULT_BAD_PA,      /* entry address outside memory (frame == NULL) */
	MMU_FAULT_PROT,	       /* permission (write to RO, fetch from NX, ...) */
};

/* Result of one stand-alone walk (mmu_translate, for tests and tools). */
struct mmu_walk_result {
	int fault;	     /* enum mmu_fault */
	int fault_dim;	     /* enum mmu_dim where it faulted */
	int fault_level;     /* 4..1 level of the faulting entry */
	uint64_t pa;	     /* final physical address (hPA, or PA natively) */
	uint32_t page_shift; /* 12, 21 or 30 */
	uint32_t refs;	     /* memory references (not counting PWC hits) */
	uint32_t pwc_hits;
	uint64_t cycles;
	bool dmt_hit;  /* DMT register hit (DMT schemes) */
	bool fallback; /* register miss / TEA entry not present -> radix */
};

/* ---------------------------------------------------------------- counters */

#define MMU_HIST_REFS 128 /* refs-per-walk histogram buckets 0..127 (last: >=127) */

struct mmu_counters {
	uint64_t accesses[3]; /* by kind */
	uint64_t skipped;     /* accesses of batches where the scheme did not apply */
	uint64_t tlb_l1_hits; /* L1 dTLB / iTLB hits */
	uint64_t tlb_l2_hits; /* STLB hits */
	uint64_t tlb_misses;
	uint64_t walks;
	uint64_t faults;
	uint64_t refs;			       /* walk memory refs, total */
	uint64_t refs_hist[MMU_HIST_REFS];     /* walks by refs per walk */
	uint64_t refs_dim_level[MMU_NDIMS][5]; /* [dim][level 1..4; 0 = other] */
	uint64_t served[MMU_NSERVED];	       /* PWC hits + refs by level served */
	uint64_t walk_cycles;
	uint64_t dmt_hits, dmt_misses, dmt_fallbacks;
	uint64_t shadow_fills, shadow_invalidations; /* VM exits of shadow / EPT02 */
	uint64_t traj[MMU_NTRAJ];
	uint64_t data_cycles; /* cycles of data accesses in the cache model (cache_data) */
};

/* ---------------------------------------------------------------- simulator */

struct mmu_sim;

/* NULL on bad config (message in err) or out of memory. */
struct mmu_sim *mmu_sim_create(const struct mmu_config *cfg, uint32_t scheme_mask, char *err,
			       size_t errlen);
void mmu_sim_destroy(struct mmu_sim *sim);
/* Zeroes counters and empties TLBs, PWCs, caches and model-kept tables. */
void mmu_sim_reset(struct mmu_sim *sim);
/* Zeroes counters only (warm state kept): region-of-interest start. */
void mmu_sim_reset_counters(struct mmu_sim *sim);

/*
 * Region-of-interest start (with own_tables_warm = 1, the default): fills the
 * tables the model keeps (x86-shadow's shadow table, agile's shadow part,
 * x86-nested-ept02's EPT02) for every translation in ctx's guest tables, as
 * a hypervisor that ran the program's set-up phase has them; nothing is
 * counted. Schemes whose context is absent, or whose table the caller keeps
 * (shadow_root, ept02_root), are left alone. Call after
 * mmu_sim_reset_counters at ROI begin; dmtvm run and dmtvm replay do.
 */
void mmu_sim_prefill(struct mmu_sim *sim, const struct mmu_ctx *ctx);

/* Runs a batch of accesses under ctx through every scheme of the mask. */
void mmu_sim_run(struct mmu_sim *sim, const struct mmu_ctx *ctx, const struct mmu_access *acc,
		 size_t n);
/*
 * The same run spread over the caller's threads (libmmu creates none):
 * nlanes threads each call mmu_sim_run_lane with the same arguments and
 * lanes 0 .. nlanes-1 (nlanes <= MMU_MAX_LANES); the run is done when all
 * have returned, and the caller orders it before the next call on sim (e.g.
 * by joining). The TLB groups' begins and the schemes' walks are tasks the
 * lanes claim; a scheme's state is written by one lane at a time, so the
 * counters are exactly those of mmu_sim_run. The frame callbacks are called
 * from all lanes at once. A lane may wait (spin) for a begin on another.
 * The warm-up (warmup_refs) is mmu_sim_run's: while mmu_sim_warming, run
 * batches with mmu_sim_run (it zeroes the counters where the warm-up ends).
 */
#define MMU_MAX_LANES 8
void mmu_sim_run_lane(struct mmu_sim *sim, const struct mmu_ctx *ctx, const struct mmu_access *acc,
		      size_t n, unsigned lane, unsigned nlanes);
/* Fewer than warmup_refs accesses have run through sim (since mmu_sim_reset). */
bool mmu_sim_warming(const struct mmu_sim *sim);
/* Same for raw dmtvm_trace.h records (control records are ignored). */
void mmu_sim_run_trace(struct mmu_sim *sim, const struct mmu_ctx *ctx, const uint64_t *recs,
		       size_t n);

/*
 * The guest changed its page tables for VA [va, va+len) of address space
 * (asid, cr3) (invlpg, or a write-protect trap in shadow paging): TLB entries
 * and model-kept shadow entries for it are dropped; each call counts one
 * shadow invalidation exit for the shadow-based schemes. len = 0: all.
 */
void mmu_sim_invalidate(struct mmu_sim *sim, const struct mmu_ctx *ctx, uint64_t va, uint64_t len);

const struct mmu_counters *mmu_sim_counters(const struct mmu_sim *sim, enum mmu_scheme s);
const struct mmu_steps *mmu_sim_steps(const struct mmu_sim *sim, enum mmu_scheme s);
uint32_t mmu_sim_schemes(const struct mmu_sim *sim);
const struct mmu_config *mmu_sim_config(const struct mmu_sim *sim);

/*
 * One stand-alone, uncached walk (no TLB, no PWC, cold caches are NOT
 * modelled: every ref counts DRAM latency) of va under scheme s. For tests
 * and for tools that want a single translation.
 */
void mmu_translate(const struct mmu_config *cfg, const struct mmu_ctx *ctx, enum mmu_scheme s,
		   uint64_t va, enum mmu_kind kind, struct mmu_walk_result *res);

/* ---------------------------------------------------------------- reports */

#define MMU_COUNTERS_SCHEMA "dmtvm.counters/1"

/* {"schema": "dmtvm.counters/1", "config": {...}, "schemes": {NAME: {...}}} */
void mmu_report_json(const struct mmu_sim *sim, FILE *out);
/* One row per scheme: accesses, TLB miss rate, walks, avg refs/walk, avg
 * walk cycles, walk speedup vs the x86 baseline (x86-native for native
 * schemes, x86-2d for virtualized, x86-nested-ept02 for nested). */
void mmu_report_table(const struct mmu_sim *sim, FILE *out);

/* The same writers from bare counters (e.g. to merge several sims into one
 * report): counters[MMU_NSCHEMES], schemes in mask. */
void mmu_report_json_counters(const struct mmu_config *cfg, const struct mmu_counters *counters,
			      uint32_t mask, FILE *out);
/* The same with each scheme's step outcomes and formula designs
 * (steps[MMU_NSCHEMES]: "trajectory_walks", "trajectory_served", "formula",
 * "formula_cycles2"); steps NULL: as mmu_report_json_counters. */
void mmu_report_json_steps(const struct mmu_config *cfg, const struct mmu_counters *counters,
			   const struct mmu_steps *steps, uint32_t mask, FILE *out);
void mmu_report_table_counters(const struct mmu_config *cfg, const struct mmu_counters *counters,
			       uint32_t mask, FILE *out);

/*
 * Reads a counters JSON document written by mmu_report_json back into
 * counters[MMU_NSCHEMES] (absent schemes zeroed) and *mask (schemes present).
 * Returns 0, or -1 with a message naming the offset in err.
 */
int mmu_report_json_read(const char *text, struct mmu_counters *counters, uint32_t *mask, char *err,
			 size_t errlen);
/* The same, also reading the step outcomes and formula sums into
 * steps[MMU_NSCHEMES] (zeroed first; NULL: not read). */
int mmu_report_json_read_steps(const char *text, struct mmu_counters *counters,
			       struct mmu_steps *steps, uint32_t *mask, char *err, size_t errlen);

#endif /* MMU_H */
