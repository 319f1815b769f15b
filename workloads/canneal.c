/* SPDX-License-Identifier: MIT */
/*
 * canneal.c: canneal-like simulated annealing of a chip netlist (after
 * PARSEC's canneal, single-threaded). Elements sit on a W x W grid, one per
 * location; each is wired to CN_FANOUT others (mostly nearby in the netlist
 * order, some anywhere). A step picks two random locations and evaluates the
 * change of the Manhattan wire length if their elements swapped, accepting
 * improvements always and worsenings with probability exp(-delta / T); T
 * falls geometrically. Every step chases pointers to ~2 x CN_FANOUT random
 * elements: TLB-hostile like the original. exp() is musl's (untraced in
 * the traced build); it runs only for worsening moves.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <math.h>
#include <stdio.h>

#define CN_FANOUT 6
#define CN_TEMPS  32 /* temperature steps over the run */

struct cn_elem {
	uint32_t x, y;		 /* location */
	uint32_t net[CN_FANOUT]; /* connected elements */
};

/* Not llabs(): with -fno-builtin that is a libc call, untraced in the ROI. */
static inline int64_t cn_dist(uint32_t a, uint32_t b)
{
	return a > b ? (int64_t)(a - b) : (int64_t)(b - a);
}

static inline int64_t cn_wire(const struct cn_elem *el, const struct cn_elem *e, uint32_t x,
			      uint32_t y, uint32_t skip)
{
	int64_t len = 0;
	for (int k = 0; k < CN_FANOUT; k++) {
		uint32_t o = e->net[k];
		if (o == skip)
			continue; /* the swap partner moves too: their mutual wire is unchanged */
		len += cn_dist(el[o].x, x) + cn_dist(el[o].y, y);
	}
	return len;
}

int main(int argc, char **argv)
{
	uint64_t mem = 256ULL << 20, steps = 12ULL << 20, seed = 1;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "bytes of netlist + grid (sets the element count)", &mem, 4096,
	     1ULL << 46},
	    {'n', "N", "swap evaluations", &steps, 1, 1ULL << 50},
	    {'s', "SEED", "seed of the netlist and the moves", &seed, 0, ~0ULL},
	};
	wl_parse_args(argc, argv, "canneal", "canneal-like simulated annealing of a netlist", opts,
		      sizeof(opts) / sizeof(opts[0]));

	uint64_t w = 2;
	while ((w + 1) * (w + 1) * (sizeof(struct cn_elem) + 4) <= mem && w < 65535)
		w++;
	uint64_t n = w * w;
	struct cn_elem *el = wl_alloc("canneal", n * sizeof(struct cn_elem));
	uint32_t *grid = wl_alloc("canneal", n * 4); /* location -> element */
	struct wl_rng rng;
	wl_rng_seed(&rng, seed);

	/* Random initial placement; nets: 3/4 within +-64 in netlist order, 1/4 anywhere. */
	for (uint64_t i = 0; i < n; i++)
		grid[i] = (uint32_t)i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = wl_below(&rng, i + 1);
		uint32_t t = grid[i];
		grid[i] = grid[j];
		grid[j] = t;
	}
	for (uint64_t l = 0; l < n; l++) {
		el[grid[l]].x = (uint32_t)(l % w);
		el[grid[l]].y = (uint32_t)(l / w);
	}
	for (uint64_t i = 0; i < n; i++)
		for (int k = 0; k < CN_FANOUT; k++) {
			uint64_t r = wl_rand(&rng), o;
			if ((r & 3) != 0)
				o = (i + n + ((r >> 2) % 129) - 64) % n;
			else
				o = (r >> 2) % n;
			el[i].net[k] = (uint32_t)(o == i ? (i + 1) % n : o);
		}
	printf("canneal: %llu elements on a %llux%llu grid, %llu steps\n", (unsigned long long)n,
	       (unsigned long long)w, (unsigned long long)w, (unsigned long long)steps);

	double temp = (double)w / 4;
	uint64_t per_temp = steps / CN_TEMPS + 1, accepted = 0;
	int64_t gain = 0;
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t s = 0; s < steps; s++) {
		if (s && s % per_temp == 0)
			temp *= 0.8;
		uint64_t la = wl_below(&rng, n), lb = wl_below(&rng, n);
		uint32_t a = grid[la], b = grid[lb];
		if (a == b)
			continue;
		struct cn_elem *ea = &el[a], *eb = &el[b];
		int64_t delta = cn_wire(el, ea, eb->x, eb->y, b) -
				cn_wire(el, ea, ea->x, ea->y, b) +
				cn_wire(el, eb, ea->x, ea->y, a) - cn_wire(el, eb, eb->x, eb->y, a);
		if (delta > 0 && wl_unit(&rng) >= exp(-(double)delta / temp))
			continue;
		uint32_t x = ea->x, y = ea->y;
		ea->x = eb->x;
		ea->y = eb->y;
		eb->x = x;
		eb->y = y;
		grid[la] = b;
		grid[lb] = a;
		accepted++;
		gain -= delta;
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	uint64_t h = wl_mix(wl_mix(0, accepted), (uint64_t)gain);
	for (uint64_t l = 0; l < n; l++)
		h = wl_mix(h, grid[l]);
	printf("canneal: %llu swaps accepted, wire length reduced by %lld\n",
	       (unsigned long long)accepted, (long long)gain);
	wl_finish("canneal", dt, h);
	return 0;
}
