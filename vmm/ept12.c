/* SPDX-License-Identifier: MIT */
/*
 * ept12.c: the EPT12 builder (ept12.h). A direct fill of a flat pool rather
 * than hostmm/pgtable.c's pt_map: pt_map writes into a sparse struct
 * physmem and places each table through a callback, while EPT12 is a fixed,
 * fully populated tree whose every table address is known in advance (the
 * TEA needs the leaves contiguous in L2-gPA order), so index arithmetic
 * over the pool is all it takes. The entry format (bits) is pgtable.h's.
 */
#include <stdio.h>
#include <string.h>

#include "ept12.h"
#include "pgtable.h"

#define PAGE 4096ULL

int ept12_layout(uint64_t mem, unsigned leaf_shift, struct ept12_layout *l, char *err,
		 size_t errlen)
{
	if (leaf_shift != 12 && leaf_shift != 21) {
		snprintf(err, errlen, "EPT12 leaf size 1 << %u: expected 4 KiB or 2 MiB",
			 leaf_shift);
		return -1;
	}
	if (mem == 0 || mem % (2ULL << 20) || mem > EPT12_MAX_MEM) {
		snprintf(
		    err, errlen,
		    "EPT12 for %llu bytes of L2 RAM: need a multiple of 2 MiB, at most 512 GiB",
		    (unsigned long long)mem);
		return -1;
	}
	uint64_t pds = (mem + (1ULL << 30) - 1) >> 30;
	*l = (struct ept12_layout){.mem = mem, .leaf_shift = leaf_shift};
	l->tea_pages = leaf_shift == 12 ? mem >> 21 : pds;
	l->pd_pages = leaf_shift == 12 ? pds : 0;
	l->pdpt_off = (l->tea_pages + l->pd_pages) * PAGE;
	l->pml4_off = l->pdpt_off + PAGE;
	l->size = l->pml4_off + PAGE;
	return 0;
}

int ept12_pieces_ok(const struct ept12_layout *l, const struct ept12_piece *p, unsigned n,
		    char *err, size_t errlen)
{
	uint64_t mask = (1ULL << l->leaf_shift) - 1, next = 0;
	for (unsigned i = 0; i < n; i++) {
		if (p[i].l2_gpa != next || !p[i].size || ((p[i].size | p[i].l1_gpa) & mask)) {
			snprintf(err, errlen,
				 "EPT12 piece %u (L2 gPA %#llx, %#llx bytes at L1 gPA %#llx): "
				 "expected L2 gPA %#llx and a multiple of %llu KiB",
				 i, (unsigned long long)p[i].l2_gpa, (unsigned long long)p[i].size,
				 (unsigned long long)p[i].l1_gpa, (unsigned long long)next,
				 (unsigned long long)(mask + 1) >> 10);
			return -1;
		}
		next += p[i].size;
	}
	if (next != l->mem) {
		snprintf(err, errlen, "EPT12 pieces cover %#llx bytes of L2 RAM, expected %#llx",
			 (unsigned long long)next, (unsigned long long)l->mem);
		return -1;
	}
	return 0;
}

void ept12_build(const struct ept12_layout *l, void *pool, uint64_t pool_gpa, uint64_t ram_gpa)
{
	struct ept12_piece one = {.l2_gpa = 0, .size = l->mem, .l1_gpa = ram_gpa};
	ept12_build_pieces(l, pool, pool_gpa, &one, 1);
}

void ept12_build_pieces(const struct ept12_layout *l, void *pool, uint64_t pool_gpa,
			const struct ept12_piece *p, unsigned n)
{
	uint64_t *e = pool;
	memset(pool, 0, l->size);
	/* Leaves: entry i of the TEA maps L2 gPA i << leaf_shift, into its piece. */
	uint64_t leaf = EPT_RWX | EPT_MT_WB | (l->leaf_shift == 21 ? EPT_PS : 0);
	for (unsigned k = 0; k < n; k++) {
		uint64_t first = p[k].l2_gpa >> l->leaf_shift, cnt = p[k].size >> l->leaf_shift;
		for (uint64_t i = 0; i < cnt; i++)
			e[first + i] = (p[k].l1_gpa + (i << l->leaf_shift)) | leaf;
	}
	/* 4 KiB leaves: PD entry j points at leaf table j. */
	uint64_t *pd = e + l->tea_pages * 512;
	if (l->leaf_shift == 12)
		for (uint64_t j = 0; j < l->tea_pages; j++)
			pd[j] = (pool_gpa + j * PAGE) | EPT_RWX;
	/* PDPT entry k points at PD page k (the TEA itself with 2 MiB leaves). */
	uint64_t pd_base = l->leaf_shift == 12 ? pool_gpa + l->tea_pages * PAGE : pool_gpa;
	uint64_t npd = l->leaf_shift == 12 ? l->pd_pages : l->tea_pages;
	uint64_t *pdpt = e + l->pdpt_off / 8;
	for (uint64_t k = 0; k < npd; k++)
		pdpt[k] = (pd_base + k * PAGE) | EPT_RWX;
	e[l->pml4_off / 8] = (pool_gpa + l->pdpt_off) | EPT_RWX;
}
