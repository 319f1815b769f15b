/* SPDX-License-Identifier: MIT */
/*
 * pmm.h: the physical frame allocator's interface. Frames are gPAs;
 * order 0 is a 4 KiB frame, order 9 a 2 MiB-aligned 2 MiB block (the two
 * sizes the page tables use); fresh RAM as ranges, freed blocks in a
 * buddy system (pmm.c).
 */
#ifndef PMM_H
#define PMM_H

#include "fdt.h"

#define PMM_ORDER_4K 0
#define PMM_ORDER_2M 9

#define PMM_ZERO 1 /* the frame must read as zeroes */

/* dmtvm.frag=SEED:PERCENT (0: off), applied by pmm_init. */
extern uint64_t pmm_frag_seed;
extern unsigned pmm_frag_percent;

void pmm_init(const struct boot_info *bi, uint64_t kernel_start, uint64_t kernel_end);
/* Returns the gPA of a 2^order-page block aligned to its size, or 0 if none. */
uint64_t pmm_alloc(unsigned order, unsigned flags);
void pmm_free(uint64_t pa, unsigned order);
/* Free npages contiguous 4 KiB frames at pa (any alignment): a few buddy blocks. */
void pmm_free_run(uint64_t pa, uint64_t npages);
/*
 * npages physically contiguous zero 4 KiB frames (a TEA): never-used ones
 * from the top of the highest range that holds them, else a freed buddy
 * block (zeroed); 0 if none. Freed one frame at a time with
 * pmm_free(pa, PMM_ORDER_4K).
 */
uint64_t pmm_alloc_contig(uint64_t npages);
/*
 * Claim exactly the npages 4 KiB frames at pa if and only if all of them
 * are free (fresh RAM or freed buddy blocks); they then read as zero (a TEA
 * growing into its physically adjacent frames). False: nothing changed.
 */
bool pmm_claim(uint64_t pa, uint64_t npages);
uint64_t pmm_free_bytes(void);

/* Allocations served by merged freed memory (the buddy system), since boot. */
struct pmm_stats {
	uint64_t runs_freed;	  /* pmm_alloc_contig runs (TEAs, whole-table fills) */
	uint64_t blocks_2m_freed; /* 2 MiB blocks */
};
extern struct pmm_stats pmm_stats;

#endif /* PMM_H */
