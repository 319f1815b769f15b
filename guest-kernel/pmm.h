/* SPDX-License-Identifier: MIT */
/*
 * pmm.h: the physical frame allocator's interface. Frames are gPAs;
 * order 0 is a 4 KiB frame, order 9 a 2 MiB-aligned 2 MiB block (the two
 * sizes the page tables use). The next step (DMT TEAs) turns this into a
 * buddy allocator behind the same calls.
 */
#ifndef PMM_H
#define PMM_H

#include "fdt.h"

#define PMM_ORDER_4K 0
#define PMM_ORDER_2M 9

#define PMM_ZERO 1 /* the frame must read as zeroes */

void pmm_init(const struct boot_info *bi, uint64_t kernel_start, uint64_t kernel_end);
/* Returns the gPA of a 2^order-page block aligned to its size, or 0 if none. */
uint64_t pmm_alloc(unsigned order, unsigned flags);
void pmm_free(uint64_t pa, unsigned order);
/*
 * npages physically contiguous, never-used (zero) 4 KiB frames, from the
 * top of the highest range that holds them (a TEA); 0 if none. Freed one
 * frame at a time with pmm_free(pa, PMM_ORDER_4K).
 */
uint64_t pmm_alloc_contig(uint64_t npages);
uint64_t pmm_free_bytes(void);

#endif /* PMM_H */
