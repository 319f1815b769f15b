/* SPDX-License-Identifier: MIT */
/*
 * pgtable.h: 4-level radix tables in REAL x86-64 PTE format (guest page
 * tables) and REAL EPT format (gPA -> hPA), written into a struct physmem.
 * Who places each new table page (an ordinary frame, or a TEA slot) is the
 * caller's choice, through the alloc callback.
 */
#ifndef HOSTMM_PGTABLE_H
#define HOSTMM_PGTABLE_H

#include <stdint.h>

#include "physmem.h"

enum pt_format {
	PT_X86, /* P|RW|US|A(|D|PS) */
	PT_EPT, /* R|W|X, WB memory type on leaves (|PS) */
};

/* x86-64 entry bits */
#define PTE_P	 0x1ULL
#define PTE_RW	 0x2ULL
#define PTE_US	 0x4ULL
#define PTE_A	 0x20ULL
#define PTE_D	 0x40ULL
#define PTE_PS	 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL
/* EPT entry bits */
#define EPT_RWX	  0x7ULL
#define EPT_MT_WB (6ULL << 3)
#define EPT_PS	  0x80ULL

/* Level of a table: 4 = PML4 ... 1 = PT. Entries of level L map 1 << pt_shift(L). */
static inline unsigned pt_shift(int level)
{
	return 12 + 9 * (unsigned)(level - 1);
}

/*
 * Places a new level-`level` table page (the one that will hold entries
 * of level `level` covering va). Returns 0 with *pa set, or -1.
 */
typedef int (*pt_alloc_fn)(void *ctx, int level, uint64_t va, uint64_t *pa);

/*
 * Maps va -> pa with a leaf entry at leaf_level (1: 4 KiB, 2: 2 MiB).
 * Returns 1 when a leaf was written, 0 when va was already mapped, -1 on
 * error (allocation failure, or a conflicting larger leaf).
 */
int pt_map(struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va, uint64_t pa,
	   int leaf_level, pt_alloc_fn alloc, void *ctx);

/*
 * Rewrites the existing leaf entry of va at leaf_level to point at pa (a
 * hypervisor moving the backing of a guest page, e.g. pvDMT). Returns 0, or
 * -1 when va has no leaf at that level.
 */
int pt_set_leaf(struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va, uint64_t pa,
		int leaf_level);

/* Software walk: returns 0 with *pa set, or -1 when unmapped. For tests. */
int pt_lookup(const struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va,
	      uint64_t *pa);

#endif /* HOSTMM_PGTABLE_H */
