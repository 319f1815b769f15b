/* SPDX-License-Identifier: MIT */
/*
 * xsbench.c: an XSBench-like macroscopic cross-section lookup kernel (the
 * hot loop of Monte Carlo neutron transport, after Tramm et al.'s XSBench,
 * unionized-grid variant). Each lookup draws an energy and a material,
 * binary-searches the unionized energy grid, then for every nuclide of the
 * material reads two neighbouring points of that nuclide's grid through the
 * index grid and interpolates five cross sections. Inputs are synthetic (as
 * in XSBench); the index grid (isotopes^2 x gridpoints x 4 bytes) dominates
 * the footprint, and -m sets the gridpoints to fit it.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>
#include <stdlib.h>

#define XS_MATERIALS 12

struct xs_point {
	double energy;
	double xs[5]; /* total, elastic, absorption, fission, nu-fission */
};

/* XSBench's nuclide counts per material (68 isotopes) and material frequencies. */
static const unsigned xs_base_nucs[XS_MATERIALS] = {34, 5, 4, 4, 27, 21, 21, 21, 21, 21, 9, 9};
static const double xs_mat_prob[XS_MATERIALS] = {0.140, 0.052, 0.275, 0.134, 0.154, 0.064,
						 0.066, 0.055, 0.008, 0.015, 0.025, 0.012};

static int xs_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	uint64_t mem = 256ULL << 20, lookups = 4ULL << 20, isotopes = 68, seed = 1;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "bytes of the grids (sets gridpoints per nuclide)", &mem, 1 << 16,
	     1ULL << 46},
	    {'n', "N", "cross-section lookups", &lookups, 1, 1ULL << 50},
	    {'i', "N", "isotopes (XSBench small: 68, large: 355)", &isotopes, 4, 4096},
	    {'s', "SEED", "seed of the inputs and lookups", &seed, 0, ~0ULL},
	};
	wl_parse_args(argc, argv, "xsbench", "XSBench-like cross-section lookups", opts,
		      sizeof(opts) / sizeof(opts[0]));

	uint64_t ni = isotopes;
	/* Per gridpoint of each nuclide: ni index entries + one union energy + one point. */
	uint64_t ng = mem / (ni * (ni * 4 + 8 + sizeof(struct xs_point)));
	if (ng < 4)
		wl_die("xsbench", "-m too small for 4 gridpoints per nuclide");
	uint64_t nu = ni * ng; /* unionized grid length */
	struct wl_rng rng;
	wl_rng_seed(&rng, seed);

	/* Nuclide grids: sorted energies in (0, 1) from cumulative random steps. */
	struct xs_point *grid = wl_alloc("xsbench", ni * ng * sizeof(struct xs_point));
	for (uint64_t n = 0; n < ni; n++) {
		struct xs_point *g = &grid[n * ng];
		double e = 0;
		for (uint64_t p = 0; p < ng; p++) {
			e += 0.5 + wl_unit(&rng);
			g[p].energy = e;
			for (int k = 0; k < 5; k++)
				g[p].xs[k] = wl_unit(&rng);
		}
		for (uint64_t p = 0; p < ng; p++)
			g[p].energy /= e + 0.5;
	}
	/* Unionized grid: all energies, sorted; index[u][n] = last point of n <= energy u. */
	double *uenergy = wl_alloc("xsbench", nu * sizeof(double));
	for (uint64_t i = 0; i < nu; i++)
		uenergy[i] = grid[i].energy;
	qsort(uenergy, nu, sizeof(double), xs_cmp_double);
	int32_t *index = wl_alloc("xsbench", nu * ni * sizeof(int32_t));
	uint64_t *cursor = wl_alloc("xsbench", ni * sizeof(uint64_t));
	for (uint64_t u = 0; u < nu; u++) {
		for (uint64_t n = 0; n < ni; n++) {
			const struct xs_point *g = &grid[n * ng];
			while (cursor[n] + 1 < ng && g[cursor[n] + 1].energy <= uenergy[u])
				cursor[n]++;
			index[u * ni + n] = (int32_t)cursor[n];
		}
	}
	/* Materials: nuclide lists (material 0, the fuel, takes the first ones) and densities. */
	unsigned nnucs[XS_MATERIALS];
	uint32_t *mat_nuc[XS_MATERIALS];
	double *mat_conc[XS_MATERIALS];
	for (int m = 0; m < XS_MATERIALS; m++) {
		uint64_t k = xs_base_nucs[m] * ni / 68;
		nnucs[m] = (unsigned)(k < 1 ? 1 : k > ni ? ni : k);
		mat_nuc[m] = malloc(nnucs[m] * sizeof(uint32_t));
		mat_conc[m] = malloc(nnucs[m] * sizeof(double));
		if (!mat_nuc[m] || !mat_conc[m])
			wl_die("xsbench", "out of memory for materials");
		for (unsigned j = 0; j < nnucs[m]; j++) {
			mat_nuc[m][j] = m == 0 ? j : (uint32_t)wl_below(&rng, ni);
			mat_conc[m][j] = wl_unit(&rng);
		}
	}
	printf("xsbench: %llu isotopes, %llu gridpoints each, unionized grid %llu, %llu lookups\n",
	       (unsigned long long)ni, (unsigned long long)ng, (unsigned long long)nu,
	       (unsigned long long)lookups);

	uint64_t h = 0;
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t q = 0; q < lookups; q++) {
		double e = wl_unit(&rng), pick = wl_unit(&rng), acc = 0;
		int m = XS_MATERIALS - 1;
		for (int k = 0; k < XS_MATERIALS - 1; k++) {
			acc += xs_mat_prob[k];
			if (pick < acc) {
				m = k;
				break;
			}
		}
		uint64_t lo = 0, hi = nu - 1; /* last union energy <= e */
		while (hi - lo > 1) {
			uint64_t mid = (lo + hi) / 2;
			if (uenergy[mid] > e)
				hi = mid;
			else
				lo = mid;
		}
		double macro[5] = {0, 0, 0, 0, 0};
		for (unsigned j = 0; j < nnucs[m]; j++) {
			uint32_t n = mat_nuc[m][j];
			uint64_t p = (uint64_t)index[lo * ni + n];
			if (p > ng - 2)
				p = ng - 2;
			const struct xs_point *a = &grid[n * ng + p], *b = a + 1;
			double f = (b->energy - e) / (b->energy - a->energy);
			for (int k = 0; k < 5; k++)
				macro[k] += mat_conc[m][j] * (b->xs[k] - f * (b->xs[k] - a->xs[k]));
		}
		/* XSBench verifies with the index of the largest cross section. */
		int best = 0;
		for (int k = 1; k < 5; k++)
			if (macro[k] > macro[best])
				best = k;
		union {
			double d;
			uint64_t u;
		} bits = {.d = macro[best]}; /* not memcpy: no libc calls in the ROI */
		h = wl_mix(h, bits.u ^ ((uint64_t)best + 5 * (uint64_t)m));
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	printf("xsbench: %.3f Mlookups/s\n", (double)lookups * 1e3 / (double)dt);
	wl_finish("xsbench", dt, h);
	return 0;
}
