/* SPDX-License-Identifier: MIT */
/*
 * physmem.h: a simulated physical address space for simos: sparse 4 KiB
 * frames materialized on demand (only frames that hold tables get bytes;
 * data frames are addresses only), a bump allocator with alignment, and a
 * reverse link to the memory it backs (host frames backing guest frames),
 * so a frame lookup at a host address finds the guest frame's bytes, as
 * hardware reading a guest PTE at its hPA does.
 */
#ifndef HOSTMM_PHYSMEM_H
#define HOSTMM_PHYSMEM_H

#include <stdint.h>

#include "u64map.h"

#define PM_PAGE	     4096ULL
#define PM_MAX_HOLES 64

struct physmem {
	const char *name;
	struct u64map frames; /* pfn -> uint8_t * */
	uint64_t base, limit; /* allocatable range */
	uint64_t bump;
	struct {
		uint64_t start, end;
	} holes[PM_MAX_HOLES]; /* alignment gaps reused by 4 KiB allocations */
	int nholes;
	uint8_t **slabs;
	uint64_t nslabs, slab_used;
	/* Reverse link: chunks of this memory that back chunks of `upper`. */
	const struct physmem *upper;
	struct u64map rev; /* (pa >> rev_shift) -> upper (pa >> rev_shift) */
	unsigned rev_shift;
	/* statistics */
	uint64_t bytes_allocated;
	uint64_t frames_materialized;
};

void physmem_init(struct physmem *pm, const char *name, uint64_t base, uint64_t limit);
void physmem_free(struct physmem *pm);

/* Reserves [pa, pa + bytes) aligned to align; returns 0, or -1 when full. */
int physmem_alloc(struct physmem *pm, uint64_t bytes, uint64_t align, uint64_t *pa);
/* The frame holding pa (own, or via the reverse link), or NULL. */
uint8_t *physmem_frame(const struct physmem *pm, uint64_t pa);
/* The own frame holding pa, zero-filled and created if absent; NULL on OOM. */
uint8_t *physmem_materialize(struct physmem *pm, uint64_t pa);
/* Records that [pa, pa + 1 << shift) here backs upper's [upper_pa, ...)
 * (nothing when this memory has no upper memory). */
int physmem_link(struct physmem *pm, uint64_t pa, uint64_t upper_pa);
/* Sets the reverse-link granularity and memory (once, before any link). */
void physmem_set_upper(struct physmem *pm, const struct physmem *upper, unsigned shift);

/* struct mmu_space frame callback: ctx is a const struct physmem *. */
const void *physmem_frame_cb(void *ctx, uint64_t pa);

#endif /* HOSTMM_PHYSMEM_H */
