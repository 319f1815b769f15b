/* SPDX-License-Identifier: MIT */
/*
 * world.h: the test machine: a guest with hand-built x86 tables, a host with
 * EPT tables (host TEA), and optionally an L1 between them (nesting).
 */
#ifndef MODEL_WORLD_H
#define MODEL_WORLD_H

#include "fixture.h"

#define W_GSIZE	 (64ULL << 20)	   /* guest (L2) RAM */
#define W_L1SIZE (512ULL << 20)	   /* L1 RAM when nested */
#define W_HSIZE	 (4ULL << 30)	   /* host-physical space */
#define W_OFF	 (1ULL << 30)	   /* guest RAM (or L1 RAM) at hPA = gPA + W_OFF */
#define W_OFF12	 (256ULL << 20)	   /* L2 RAM at L1 gPA = L2 gPA + W_OFF12 */
#define W_VA4K	 0x7f0000000000ULL /* 4 MiB VMA, 4 KiB pages, has a TEA */
#define W_DATA4K 0x2000000ULL	   /* its data at gPA 32 MiB */
#define W_VA2M	 0x7f4000000000ULL /* 4 MiB VMA, 2 MiB pages */
#define W_DATA2M 0x3000000ULL

struct world {
	struct fx_mem g, l1, h;
	struct fx_layer lg, ll1, lh;
	struct mmu_ctx ctx;
	uint64_t gtea, htea;
	bool nested;
};

/* ept_level: 1 (4 KiB host pages) or 2 (2 MiB). */
void world_build(struct world *w, int ept_level, bool nested);
void world_free(struct world *w);
/* The guest entry for va at level (to break it in tests). */
uint64_t *world_gentry(struct world *w, uint64_t va, int level);

#endif
