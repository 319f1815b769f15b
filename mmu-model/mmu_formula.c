/* SPDX-License-Identifier: MIT */
/*
 * mmu_formula.c: per-step outcomes of a walk (trajectory_served) and the
 * designs the artifact derives by formula from the x86 walk steps (its
 * processor, Formula.cs; DMT.md "The artifact's simulator, precisely"),
 * computed per walk and summed.
 *
 * Steps are named by x86 level (G4 = the PML4 entry, G1 = the PTE; H4 = the
 * EPT PML4 entry, H1 = the EPT leaf of a 4 KiB page), the artifact numbers
 * levels from the root (its G4 is our G1). Formula.cs's 4 KiB and 2 MiB
 * variants differ only in the leaf level, so each walk uses its own: the
 * guest leaf level gl and, per host walk, the host leaf level.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

/* Formula.cs constants: ECPT native (CWC + hash) and virtualized (NECPT fig 6). */
#define ECPT_NATIVE_CYCLES 2
#define ECPT_VIRT_CYCLES   12

static const char *const design_names[MMU_NDESIGNS] = {
    [MMU_DESIGN_X86] = "x86",	  [MMU_DESIGN_DMT] = "DMT",   [MMU_DESIGN_PVDMT] = "pvDMT",
    [MMU_DESIGN_FPT] = "FPT",	  [MMU_DESIGN_ECPT] = "ECPT", [MMU_DESIGN_ASAP] = "ASAP",
    [MMU_DESIGN_AGILE] = "Agile",
};

static const char *const step_out_names[MMU_NSTEP_OUT] = {"zero", "pwc", "l1", "l2", "llc", "dram"};

const char *mmu_design_name(unsigned d)
{
	return d < MMU_NDESIGNS ? design_names[d] : NULL;
}

int mmu_design_from_name(const char *name)
{
	for (int d = 0; d < MMU_NDESIGNS; d++)
		if (!strcmp(name, design_names[d]))
			return d;
	return -1;
}

const char *mmu_step_out_name(unsigned i)
{
	return i < MMU_NSTEP_OUT ? step_out_names[i] : NULL;
}

#define D(x) (1u << MMU_DESIGN_##x)

uint32_t mmu_formula_designs(enum mmu_scheme s)
{
	switch (s) {
	case MMU_X86_NATIVE:
		return D(X86) | D(DMT) | D(FPT) | D(ECPT) | D(ASAP);
	case MMU_X86_2D:
		return D(X86) | D(DMT) | D(PVDMT) | D(FPT) | D(ECPT) | D(ASAP) | D(AGILE);
	case MMU_X86_NESTED_EPT02:
		return D(X86) | D(PVDMT);
	default:
		return 0;
	}
}

bool mmu_scheme_1d(enum mmu_scheme s)
{
	return mmu_scheme_group(s) == 0 || s == MMU_X86_SHADOW;
}

bool mmu_scheme_has_traj(enum mmu_scheme s)
{
	return s != MMU_X86_3D && s != MMU_PVDMT_NESTED && s != MMU_ECPT;
}

/* Step indices (mmu_internal.h): GxHy, Gx, UDHy by x86 level. */
#define GH(x, y) MMU_TRAJ_GH(x, y)
#define G(x)	 MMU_TRAJ_G(x)
#define UDH(y)	 MMU_TRAJ_UDH(y)

/* Formula.cs ASAP_Prefetcher over n steps in walk order: the first two are
 * sequential, each later one is prefetched (done at the max). */
static inline uint64_t asap_chain(const uint64_t *x, int n)
{
	uint64_t done = x[0] + (n > 1 ? x[1] : 0);

	for (int i = 2; i < n; i++)
		done = done > x[i] ? done : x[i];
	return done;
}

/* Steps of levels l and l + 2 of a walk whose level-4 step is at x (FPT:
 * flattened L4+L3 and L2+L1, the upper one read at its level-(l+2) entry). */
static inline uint64_t fpt_pair(const uint64_t *x, int l)
{
	return x[4 - l] + (l + 2 <= 4 ? x[2 - l] : 0);
}

/*
 * The designs of one walk from its step cycles cy[], in cycles (nested pvDMT
 * in half cycles: its formula halves), added to f2[] x 2. gl: guest leaf
 * level; hleaf[row]: host leaf level of the walk of row (4 - x) / data (4).
 */
static void formulas(uint64_t *f2, enum mmu_scheme s, const uint64_t *cy, uint64_t all, int gl,
		     const uint8_t *hleaf)
{
	int hd = hleaf[4], hg = hleaf[4 - gl];

	f2[MMU_DESIGN_X86] += 2 * all;
	if (s == MMU_X86_NATIVE) {
		f2[MMU_DESIGN_DMT] += 2 * cy[G(gl)];
		f2[MMU_DESIGN_FPT] += 2 * fpt_pair(cy + G(4), gl);
		f2[MMU_DESIGN_ECPT] += 2 * (cy[G(gl)] + ECPT_NATIVE_CYCLES);
		f2[MMU_DESIGN_ASAP] += 2 * asap_chain(cy + G(4), 5 - gl);
	} else if (s == MMU_X86_2D) {
		uint64_t act[4], fpt = fpt_pair(cy + GH(gl, 4), hg) + cy[G(gl)];
		for (int x = 4; x >= gl; x--)
			act[4 - x] = asap_chain(cy + GH(x, 4), 5 - hleaf[4 - x]) + cy[G(x)];
		if (gl + 2 <= 4)
			fpt += fpt_pair(cy + GH(gl + 2, 4), hleaf[2 - gl]) + cy[G(gl + 2)];
		f2[MMU_DESIGN_DMT] += 2 * (cy[GH(gl, hg)] + cy[G(gl)] + cy[UDH(hd)]);
		f2[MMU_DESIGN_PVDMT] += 2 * (cy[G(gl)] + cy[UDH(hd)]);
		f2[MMU_DESIGN_ECPT] +=
		    2 * (cy[GH(gl, hg)] + cy[G(gl)] + cy[UDH(hd)] + ECPT_VIRT_CYCLES);
		f2[MMU_DESIGN_AGILE] += 2 * (cy[G(4)] + cy[G(3)] + cy[G(2)] + cy[G(1)] +
					     cy[UDH(4)] + cy[UDH(3)] + cy[UDH(2)] + cy[UDH(1)]);
		f2[MMU_DESIGN_FPT] += 2 * (fpt + fpt_pair(cy + UDH(4), hd));
		f2[MMU_DESIGN_ASAP] +=
		    2 * (asap_chain(act, 5 - gl) + asap_chain(cy + UDH(4), 5 - hd));
	} else {
		/* nested pvDMT: "emulate three dimension page walks", (G + UDH) / 2 * 3 */
		f2[MMU_DESIGN_PVDMT] += 3 * (cy[G(gl)] + cy[UDH(hd)]);
	}
}

struct mmu_traj *mmu_traj_new(enum mmu_scheme id, const struct mmu_config *cfg)
{
	struct mmu_traj *t = calloc(1, sizeof(*t));
	const uint32_t lat[MMU_NSTEP_OUT] = {0,		  cfg->lat_pwc, cfg->lat_l1,
					     cfg->lat_l2, cfg->lat_llc, cfg->lat_dram};

	if (!t)
		return NULL;
	t->id = id;
	memcpy(t->lat, lat, sizeof(lat));
	t->designs = mmu_formula_designs(id);
	t->step_first = mmu_scheme_1d(id) ? G(4) : 0;
	t->step_end = mmu_scheme_1d(id) ? G(1) + 1 : MMU_NTRAJ;
	return t;
}

void mmu_traj_clear(struct mmu_traj *t)
{
	memset(&t->steps, 0, sizeof(t->steps));
	memset(t->slot, 0, sizeof(t->slot));
	t->used = 0;
}

/* Adds n walks of one trajectory to the steps and the formula sums. */
static void add_walks(struct mmu_traj *t, uint64_t k0, uint64_t k1, uint64_t n)
{
	uint64_t cy[MMU_NTRAJ], f2[MMU_NDESIGNS] = {0}, all = 0;
	uint8_t hleaf[5];
	int gl = (int)((k0 >> 48) & 3) + 1;

	for (unsigned i = 0; i < MMU_NTRAJ; i++) {
		unsigned o = (unsigned)((i < 16 ? k0 : k1) >> MMU_TK_STEP_SHIFT(i)) & 7;
		if (i >= t->step_first && i < t->step_end)
			t->steps.served[i][o] += n;
		all += cy[i] = t->lat[o];
	}
	for (unsigned r = 0; r < 5; r++)
		hleaf[r] = (uint8_t)(((k0 >> MMU_TK_HLEAF_SHIFT(r)) & 3) + 1);
	t->steps.walks += n;
	if (!t->designs)
		return;
	formulas(f2, t->id, cy, all, gl, hleaf);
	for (unsigned d = 0; d < MMU_NDESIGNS; d++)
		t->steps.formula2[d] += f2[d] * n;
}

void mmu_traj_flush(struct mmu_traj *t)
{
	for (unsigned i = 0; i < MMU_TRAJ_SLOTS; i++) {
		struct mmu_traj_slot *s = &t->slot[i];
		if (s->n > s->flushed) {
			add_walks(t, s->k0, s->k1, s->n - s->flushed);
			s->flushed = s->n;
		}
	}
}

void mmu_traj_add_slow(struct mmu_traj *t, uint64_t k0, uint64_t k1)
{
	uint64_t h = (k0 * 0x9E3779B97F4A7C15ULL ^ k1 * 0xC2B2AE3D27D4EB4FULL) >> 53;

	for (;; h++) {
		struct mmu_traj_slot *s = &t->slot[h & (MMU_TRAJ_SLOTS - 1)];
		if (s->k0 == k0 && s->k1 == k1) {
			s->n++;
			return;
		}
		if (s->k0)
			continue;
		if (t->used >= MMU_TRAJ_SLOTS / 4 * 3) {
			/* full: fold the tally into the steps and start over */
			struct mmu_steps keep;
			mmu_traj_flush(t);
			keep = t->steps;
			mmu_traj_clear(t);
			t->steps = keep;
			mmu_traj_add_slow(t, k0, k1);
			return;
		}
		*s = (struct mmu_traj_slot){k0, k1, 1, 0};
		t->used++;
		return;
	}
}
