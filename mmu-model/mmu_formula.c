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

/* Step indices (mmu_traj_name): GxHy, Gx, UDHy by x86 level. */
static inline unsigned gh(int x, int y)
{
	return (unsigned)((4 - x) * 4 + (4 - y));
}
static inline unsigned g(int x)
{
	return (unsigned)(16 + 4 - x);
}
static inline unsigned udh(int y)
{
	return (unsigned)(20 + 4 - y);
}

/* Formula.cs ASAP_Prefetcher over steps in walk order: the first two are
 * sequential, each later one is prefetched (done at the max). */
static uint64_t asap_chain(const uint64_t *x, int n)
{
	uint64_t done = n > 0 ? x[0] : 0;

	if (n > 1)
		done += x[1];
	for (int i = 2; i < n; i++)
		done = done > x[i] ? done : x[i];
	return done;
}

/* ASAP over one host walk (levels 4..hl) of step row base(y). */
static uint64_t asap_host(const uint64_t *cy, unsigned (*idx)(int, int), int x, int hl)
{
	uint64_t v[4];
	int n = 0;

	for (int y = 4; y >= hl && y >= 1; y--)
		v[n++] = cy[idx(x, y)];
	return asap_chain(v, n);
}

static unsigned udh_of(int x, int y)
{
	(void)x;
	return udh(y);
}

/* Sum of the steps of levels leaf and leaf + 2 (FPT: flattened L4+L3, L2+L1). */
static uint64_t fpt_host(const uint64_t *cy, unsigned (*idx)(int, int), int x, int hl)
{
	return cy[idx(x, hl)] + (hl + 2 <= 4 ? cy[idx(x, hl + 2)] : 0);
}

static void formulas(struct mmu_steps *st, enum mmu_scheme s, const uint64_t *cy, int gl,
		     const uint8_t *hleaf)
{
	uint64_t f[MMU_NDESIGNS] = {0}, all = 0, guest = 0, data = 0;
	int hd = hleaf[4]; /* host leaf of the data walk */

	for (unsigned i = 0; i < MMU_NTRAJ; i++)
		all += cy[i];
	for (int x = 4; x >= 1; x--)
		guest += cy[g(x)];
	for (int y = 4; y >= 1; y--)
		data += cy[udh(y)];
	f[MMU_DESIGN_X86] = all;
	if (s == MMU_X86_NATIVE) {
		uint64_t v[4];
		int n = 0;
		for (int x = 4; x >= gl; x--)
			v[n++] = cy[g(x)];
		f[MMU_DESIGN_DMT] = cy[g(gl)];
		f[MMU_DESIGN_FPT] = cy[g(gl)] + (gl + 2 <= 4 ? cy[g(gl + 2)] : 0);
		f[MMU_DESIGN_ECPT] = cy[g(gl)] + ECPT_NATIVE_CYCLES;
		f[MMU_DESIGN_ASAP] = asap_chain(v, n);
	} else if (s == MMU_X86_2D) {
		uint64_t act[4];
		int n = 0;
		int hg = hleaf[4 - gl]; /* host leaf of the guest leaf table's walk */
		f[MMU_DESIGN_DMT] = cy[gh(gl, hg)] + cy[g(gl)] + cy[udh(hd)];
		f[MMU_DESIGN_PVDMT] = cy[g(gl)] + cy[udh(hd)];
		f[MMU_DESIGN_ECPT] = cy[gh(gl, hg)] + cy[g(gl)] + cy[udh(hd)] + ECPT_VIRT_CYCLES;
		f[MMU_DESIGN_AGILE] = guest + data;
		f[MMU_DESIGN_FPT] =
		    fpt_host(cy, gh, gl, hg) + cy[g(gl)] + fpt_host(cy, udh_of, 0, hd);
		if (gl + 2 <= 4)
			f[MMU_DESIGN_FPT] +=
			    fpt_host(cy, gh, gl + 2, hleaf[2 - gl]) + cy[g(gl + 2)];
		for (int x = 4; x >= gl; x--)
			act[n++] = asap_host(cy, gh, x, hleaf[4 - x]) + cy[g(x)];
		f[MMU_DESIGN_ASAP] = asap_chain(act, n) + asap_host(cy, udh_of, 0, hd);
	}
	for (unsigned d = 0; d < MMU_NDESIGNS; d++)
		st->formula2[d] += 2 * f[d];
	/* nested pvDMT: "emulate three dimension page walks", (G + UDH) / 2 * 3 */
	if (s == MMU_X86_NESTED_EPT02)
		st->formula2[MMU_DESIGN_PVDMT] += 3 * (cy[g(gl)] + cy[udh(hd)]);
}

void mmu_steps_add_walk(struct mmu_steps *st, enum mmu_scheme s, const struct mmu_config *cfg,
			const uint8_t *out, int gl, const uint8_t *hleaf)
{
	uint64_t lat[MMU_NSTEP_OUT] = {0,	    cfg->lat_pwc, cfg->lat_l1,
				       cfg->lat_l2, cfg->lat_llc, cfg->lat_dram};
	uint64_t cy[MMU_NTRAJ];
	unsigned first = mmu_scheme_1d(s) ? 16 : 0, end = mmu_scheme_1d(s) ? 20 : MMU_NTRAJ;

	st->walks++;
	for (unsigned i = 0; i < MMU_NTRAJ; i++)
		cy[i] = lat[out[i]];
	for (unsigned i = first; i < end; i++) /* 1D: the guest steps only */
		st->served[i][out[i]]++;
	if (mmu_formula_designs(s))
		formulas(st, s, cy, gl < 1 ? 1 : gl, hleaf);
}
