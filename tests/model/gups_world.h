/* SPDX-License-Identifier: MIT */
/*
 * gups_world.h: the large machine of the model benchmark and the golden
 * counters test: one VMA of 4 KiB or 2 MiB pages whose leaf tables form the
 * VMA's TEA, data frames scattered over guest RAM, an EPT with a host TEA
 * (virtualized context) and an L1 with EPT12 (nested context).
 */
#ifndef MODEL_GUPS_WORLD_H
#define MODEL_GUPS_WORLD_H

#include "fixture.h"

#define GW_VMA 0x7f0000000000ULL

struct gups_world {
	struct fx_mem g, l1, h, h2;
	struct fx_layer lg, ll1, lh, lh2;
	struct mmu_ctx vctx; /* virtualized (and native) schemes */
	struct mmu_ctx nctx; /* nested schemes */
	uint64_t vsize;	     /* VMA size */
	int pshift;	     /* 12 or 21 */
};

/* vsize: VMA size (power of two, >= 2 MiB; 16 GiB takes ~0.5 GiB of tables); pshift 12 or 21. */
void gups_world_build(struct gups_world *w, uint64_t vsize, int pshift);
void gups_world_free(struct gups_world *w);

#endif
