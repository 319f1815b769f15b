/* SPDX-License-Identifier: MIT */
/*
 * bfs.c: Graph500-style breadth-first search. A Kronecker (R-MAT) graph of
 * 2^scale vertices and 16 x 2^scale undirected edges (A, B, C = 0.57, 0.19,
 * 0.19, vertex labels randomly permuted as Graph500 requires) is generated and
 * turned into a CSR adjacency (outside the ROI); the ROI is N top-down BFS
 * runs from random roots of non-zero degree, each resetting the parent array
 * as Graph500's timed kernel does. -m sets the scale.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>

#define BFS_EDGEFACTOR 16
#define BFS_NONE       0xffffffffu /* scale <= 31 keeps it out of the vertex ids */

/* Bytes per vertex at the peak (edge list + CSR + offsets + parent/queue/perm). */
#define BFS_BYTES_PER_VERTEX (BFS_EDGEFACTOR * 8 + 2 * BFS_EDGEFACTOR * 4 + 8 + 4 + 4 + 4)

int main(int argc, char **argv)
{
	uint64_t mem = 384ULL << 20, roots = 48, seed = 1;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "peak bytes (sets scale = log2 vertices)", &mem, 64 * 1024, 1ULL << 46},
	    {'n', "N", "BFS runs (Graph500: 64)", &roots, 1, 1ULL << 32},
	    {'s', "SEED", "seed of the graph and the roots", &seed, 0, ~0ULL},
	};
	wl_parse_args(argc, argv, "bfs", "Graph500-style BFS on a Kronecker graph", opts,
		      sizeof(opts) / sizeof(opts[0]));

	unsigned scale = 1;
	while (scale < 31 && (2ULL << scale) * BFS_BYTES_PER_VERTEX <= mem)
		scale++;
	uint64_t nv = 1ULL << scale, ne = BFS_EDGEFACTOR * nv;
	struct wl_rng rng;
	wl_rng_seed(&rng, seed);

	/* Random relabelling (Fisher-Yates), so vertex ids carry no locality. */
	uint32_t *perm = wl_alloc("bfs", nv * 4);
	for (uint64_t i = 0; i < nv; i++)
		perm[i] = (uint32_t)i;
	for (uint64_t i = nv - 1; i > 0; i--) {
		uint64_t j = wl_below(&rng, i + 1);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* Kronecker edge list: one quadrant choice per bit. */
	uint32_t *edges = wl_alloc("bfs", ne * 8);
	for (uint64_t e = 0; e < ne; e++) {
		uint64_t u = 0, v = 0;
		for (unsigned b = 0; b < scale; b++) {
			uint64_t r = wl_rand(&rng) >> 11; /* 53 bits */
			double p = (double)r * 0x1p-53;
			if (p >= 0.57 + 0.19 + 0.19) {
				u |= 1ULL << b;
				v |= 1ULL << b;
			} else if (p >= 0.57 + 0.19) {
				u |= 1ULL << b;
			} else if (p >= 0.57) {
				v |= 1ULL << b;
			}
		}
		edges[2 * e] = perm[u];
		edges[2 * e + 1] = perm[v];
	}
	/* CSR, both directions, self loops dropped (Graph500 keeps multi-edges). */
	uint64_t *off = wl_alloc("bfs", (nv + 1) * 8);
	for (uint64_t e = 0; e < ne; e++)
		if (edges[2 * e] != edges[2 * e + 1]) {
			off[edges[2 * e] + 1]++;
			off[edges[2 * e + 1] + 1]++;
		}
	for (uint64_t i = 0; i < nv; i++)
		off[i + 1] += off[i];
	uint64_t nadj = off[nv];
	uint32_t *adj = wl_alloc("bfs", nadj * 4 + 4);
	uint32_t *fill = perm; /* reuse: perm is no longer needed */
	for (uint64_t i = 0; i < nv; i++)
		fill[i] = 0;
	for (uint64_t e = 0; e < ne; e++) {
		uint32_t u = edges[2 * e], v = edges[2 * e + 1];
		if (u == v)
			continue;
		adj[off[u] + fill[u]++] = v;
		adj[off[v] + fill[v]++] = u;
	}
	wl_free(edges, ne * 8);
	uint32_t *parent = wl_alloc("bfs", nv * 4);
	uint32_t *queue = fill;
	printf("bfs: scale %u, %llu vertices, %llu adjacency entries, %llu roots\n", scale,
	       (unsigned long long)nv, (unsigned long long)nadj, (unsigned long long)roots);

	uint64_t h = 0, traversed = 0;
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t k = 0; k < roots; k++) {
		uint32_t root;
		do
			root = (uint32_t)wl_below(&rng, nv);
		while (off[root] == off[root + 1]);
		for (uint64_t i = 0; i < nv; i++)
			parent[i] = BFS_NONE;
		uint64_t head = 0, tail = 0, psum = 0;
		parent[root] = root;
		queue[tail++] = root;
		while (head < tail) {
			uint32_t u = queue[head++];
			for (uint64_t j = off[u]; j < off[u + 1]; j++) {
				uint32_t v = adj[j];
				if (parent[v] == BFS_NONE) {
					parent[v] = u;
					psum += u;
					queue[tail++] = v;
				}
			}
			traversed += off[u + 1] - off[u];
		}
		h = wl_mix(h, root);
		h = wl_mix(h, tail);
		h = wl_mix(h, psum);
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	printf("bfs: %.1f MTEPS (adjacency entries scanned per second)\n",
	       (double)traversed * 1e3 / (double)dt);
	wl_finish("bfs", dt, h);
	return 0;
}
