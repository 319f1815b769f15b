/* SPDX-License-Identifier: MIT */
/*
 * fixture.h: hand-built physical memories and page tables for the MMU model
 * tests and tools/bench-model.c: sparse frame memories, layered host spaces
 * (guest RAM visible at an hPA offset), x86 and EPT table builders.
 */
#ifndef MODEL_FIXTURE_H
#define MODEL_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu.h"

/* A sparse physical memory of 4 KiB frames: one flat reservation (as a VMM's
 * guest RAM is one mapping, on transparent huge pages) plus a bitmap of the
 * frames in use; frames not in use read as NULL (outside memory). */
struct fx_mem {
	uint8_t *base;
	uint64_t *used; /* bitmap, 1 bit per frame */
	uint64_t nframes;
	uint64_t next; /* bump allocator for table frames */
};

/* A space: own frames, plus a child memory visible at [child_base, +child_size). */
struct fx_layer {
	struct fx_mem *own;
	struct fx_layer *child;
	uint64_t child_base, child_size;
};

void fx_init(struct fx_mem *m, uint64_t size, uint64_t alloc_base);
void fx_free(struct fx_mem *m);
uint64_t fx_alloc(struct fx_mem *m);
uint64_t *fx_entry(struct fx_mem *m, uint64_t pa);  /* NULL if not allocated */
const void *fx_frame(void *ctx, uint64_t pa);	    /* ctx: struct fx_mem */
const void *fx_layer_frame(void *ctx, uint64_t pa); /* ctx: struct fx_layer */

#define FX_X86_TABLE (0x1ULL | 0x2ULL | 0x4ULL) /* P RW US */
#define FX_X86_LEAF  (0x1ULL | 0x2ULL | 0x4ULL)
#define FX_EPT_RWX   0x7ULL

/* Maps va -> pa with a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB), creating
 * tables from m's bump allocator. ept selects the EPT format. */
void fx_map(struct fx_mem *m, uint64_t root, uint64_t va, uint64_t pa, int level, bool ept);
/* The entry for va at level (walking existing tables), or NULL. */
uint64_t *fx_walk_entry(struct fx_mem *m, uint64_t root, uint64_t va, int level, bool ept);

/*
 * EPT mapping gPA [0, size) -> gPA + off with leaves at level (1 or 2).
 * Allocates root, then the upper tables, then all leaf tables contiguously
 * in gPA order, so they form one host TEA. Returns the root; *tea gets the
 * first leaf table.
 */
uint64_t fx_ept_linear(struct fx_mem *m, uint64_t size, uint64_t off, int level, uint64_t *tea);

#endif
