/* SPDX-License-Identifier: MIT */
/*
 * vma.h: VMA discovery for replay. A trace carries no mmap calls, so replay
 * reads the trace twice: the first pass collects the 2 MiB chunks each
 * address space touches, and vma_cluster() turns them into VMAs: touched
 * chunks separated by at most `gap` bytes of untouched address space join
 * one VMA (Linux merges adjacent anonymous mappings the same way; a heap
 * or a big array is one VMA), a larger gap starts a new VMA.
 */
#ifndef REPLAY_VMA_H
#define REPLAY_VMA_H

#include <stddef.h>
#include <stdint.h>

#include "simos.h"
#include "u64map.h"

#define VMA_CHUNK_SHIFT 21

/*
 * Clusters the chunk numbers (va >> 21) stored as keys of set into VMAs.
 * Returns the number of VMAs (*out malloc'ed, sorted), or -1 when out of
 * memory. The VMA end is the end of its last chunk (UINT64_MAX for the
 * topmost chunk of the address space, whose end would wrap).
 */
int vma_cluster(const struct u64map *set, uint64_t gap, struct simos_vma **out);

#endif /* REPLAY_VMA_H */
