/* SPDX-License-Identifier: MIT */
/*
 * vma.h: virtual memory areas of a process: sorted, non-overlapping
 * [start, end) ranges with protection and kind. Page tables follow VMAs
 * (vm.c), never the other way round. The next step (mprotect, mremap, THP,
 * DMT TEAs, which are per VMA) builds on this interface.
 */
#ifndef VMA_H
#define VMA_H

#include "kernel.h"

/* Protection bits: Linux PROT_* values. */
#define VMA_READ  1
#define VMA_WRITE 2
#define VMA_EXEC  4

/* Kinds; VMAs of different kinds never merge. */
#define VMA_ANON   0x01 /* demand-zero anonymous memory (mmap) */
#define VMA_IMAGE  0x02 /* an ELF segment (file part populated at exec) */
#define VMA_HEAP   0x04 /* brk area */
#define VMA_STACK  0x08 /* the initial stack */
#define VMA_PINNED 0x10 /* with VMA_ANON: on contiguous frames for /dev/kvm (pin.c) */
#define VMA_KVMRUN 0x20 /* a vCPU's run area, shared with the kernel (kvmdev.c) */

#define VMA_MAX 128

struct vma {
	uint64_t start, end;
	uint32_t prot;
	uint32_t flags;
};

struct vma_list {
	unsigned n;
	struct vma v[VMA_MAX];
};

/* The VMA containing addr, or NULL. */
struct vma *vma_find(struct vma_list *l, uint64_t addr);
/* True if any VMA intersects [start, end). */
bool vma_overlaps(const struct vma_list *l, uint64_t start, uint64_t end);
/* Add [start, end) (page aligned, free); merges with equal neighbours. 0 / -EEXIST / -ENOMEM. */
int vma_insert(struct vma_list *l, uint64_t start, uint64_t end, uint32_t prot, uint32_t flags);
/* Remove [start, end) from every VMA, splitting as needed. 0 / -ENOMEM (too many VMAs). */
int vma_remove(struct vma_list *l, uint64_t start, uint64_t end);
/*
 * Set the protection of [start, end) (page aligned), splitting VMAs at the
 * edges and merging equal neighbours. 0, -ENOMEM (a page of the range is
 * unmapped, or too many VMAs; nothing changed then).
 */
int vma_protect(struct vma_list *l, uint64_t start, uint64_t end, uint32_t prot);
/* Highest free gap of len bytes (aligned to align) inside [lo, hi), or 0. */
uint64_t vma_find_gap(const struct vma_list *l, uint64_t len, uint64_t align, uint64_t lo,
		      uint64_t hi);

#endif /* VMA_H */
