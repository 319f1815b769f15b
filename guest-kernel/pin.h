/* SPDX-License-Identifier: MIT */
/*
 * pin.h: pinning anonymous memory onto guest-physically contiguous frames
 * (pin.c), for the paravirtual /dev/kvm: L0 maps an L1 dmtvm's guest RAM
 * as one L1 gPA range, and EPT12 holds real L1 gPAs.
 */
#ifndef PIN_H
#define PIN_H

#include "vm.h"

#define PIN_MAX (1ULL << 30) /* largest range pinned in one call */

/*
 * Pin [uaddr, uaddr + len) of mm: page-aligned, inside ONE anonymous
 * private VMA, at most PIN_MAX. Its pages (present ones copied) move onto
 * one run of contiguous frames and the range becomes its own VMA, marked
 * VMA_PINNED: never demand-paged again, never partly unmapped, kept until
 * munmap (refused while L0 holds a VM) or exit. Idempotent: a range inside
 * a pinned VMA returns its gPA at once. *gpa = the gPA of uaddr.
 * 0, -EINVAL (alignment, size, VMA kind), -EFAULT (not mapped, not one
 * VMA), -ENOMEM (no such run of frames, or VMA table full).
 */
long pin_range(struct mm *mm, uint64_t uaddr, uint64_t len, uint64_t *gpa);
/* True if the gPAs [gpa, gpa + len) lie in one pinned VMA of mm. */
bool pin_contains(struct mm *mm, uint64_t gpa, uint64_t len);
/*
 * munmap/mremap/madvise of [start, end) may drop frames: 0 if that leaves
 * every pinned VMA whole, -EINVAL if it cuts into one, -EBUSY if it would
 * free one while L0 may still map it (a live VM).
 */
long pin_check_unmap(struct mm *mm, uint64_t start, uint64_t end);

#endif /* PIN_H */
