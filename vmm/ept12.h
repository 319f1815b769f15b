/* SPDX-License-Identifier: MIT */
/*
 * ept12.h: the EPT that dmtvm builds for its guest when it is itself a
 * guest (an L1 hypervisor): EPT12 maps L2 gPA [0, mem) onto the L1 gPAs of
 * the pinned, guest-physically contiguous RAM that backs L2, in real EPT
 * format, inside a pool of L1 memory (itself pinned and contiguous). All
 * leaf tables sit at the start of the pool in L2-gPA order: one TEA, so one
 * EPT12 DMT register describes them (DMT.md), as a DMT hypervisor places
 * its EPT leaves. L0 reads the tables at their L1 gPAs (the model's 3D walk).
 *
 * Pool layout (4 KiB pages): [leaf tables = the TEA][PD pages, 4 KiB leaves
 * only][PDPT][PML4]. With 4 KiB leaves the TEA holds the PTEs (page_shift
 * 12); with 2 MiB leaves it holds the PDEs (page_shift 21).
 */
#ifndef VMM_EPT12_H
#define VMM_EPT12_H

#include <stddef.h>
#include <stdint.h>

#define EPT12_MAX_MEM (512ULL << 30) /* one PDPT */

struct ept12_layout {
	uint64_t mem;	     /* L2 RAM size: L2 gPA [0, mem) is mapped */
	unsigned leaf_shift; /* 12 (4 KiB leaves, default) or 21 (2 MiB) */
	uint64_t tea_pages;  /* leaf tables, at pool offset 0 */
	uint64_t pd_pages;   /* non-leaf PD pages (0 with 2 MiB leaves) */
	uint64_t pdpt_off;   /* pool offsets in bytes */
	uint64_t pml4_off;
	uint64_t size; /* pool bytes */
};

/* Fills *l for mem (a multiple of 2 MiB, at most EPT12_MAX_MEM); -1 with a
 * message otherwise. */
int ept12_layout(uint64_t mem, unsigned leaf_shift, struct ept12_layout *l, char *err,
		 size_t errlen);

/*
 * Writes every table into pool (l->size bytes, whose first byte is L1 gPA
 * pool_gpa): L2 gPA g maps to L1 gPA ram_gpa + g, R/W/X, write-back.
 * ram_gpa must be 4 KiB aligned (2 MiB aligned with 2 MiB leaves).
 */
void ept12_build(const struct ept12_layout *l, void *pool, uint64_t pool_gpa, uint64_t ram_gpa);

/* One piece of L2 RAM: L2 gPA [l2_gpa, + size) is L1 gPA [l1_gpa, + size). */
struct ept12_piece {
	uint64_t l2_gpa, size, l1_gpa;
};

/*
 * As ept12_build for L2 RAM pinned in n pieces: p[] in L2-gPA order, back
 * to back from L2 gPA 0 to l->mem, each size and l1_gpa a multiple of the
 * leaf size (checked by ept12_pieces_ok). The table layout is unchanged:
 * the leaves stay ONE TEA in L2-gPA order, only their targets differ.
 */
void ept12_build_pieces(const struct ept12_layout *l, void *pool, uint64_t pool_gpa,
			const struct ept12_piece *p, unsigned n);
/* 0 if p[0..n) fit l as ept12_build_pieces needs; -1 with a message otherwise. */
int ept12_pieces_ok(const struct ept12_layout *l, const struct ept12_piece *p, unsigned n,
		    char *err, size_t errlen);

#endif
