/* SPDX-License-Identifier: MIT */
/*
 * tea.h: DMT Translation Entry Areas of an address space (tea.c): the
 * artifact's policy (DMT.md) done right. An anonymous VMA of at least
 * tea_min bytes gets one TEA, a physically contiguous run of frames holding
 * ALL the last-level page-table pages of the VMA in VA order:
 *   slot i maps VA [base + i * 2 MiB, + 2 MiB), so
 *   PTE address of va = pa + ((va - base) >> 12) * 8.
 * With THP the leaves are PMD entries: the TEA holds the VMA's PD pages
 * (page_shift 21): slot i maps [base + i * 1 GiB, + 1 GiB),
 *   PMD entry address of va = pa + ((va - base) >> 21) * 8.
 * The set of TEAs of an mm is what its DMT registers hold (DMT_REGS
 * hypercall); in --mode=pvdmt each TEA's range is first made
 * host-contiguous with ALLOC_TEA.
 */
#ifndef TEA_H
#define TEA_H

#include "kernel.h"

#define TEA_MAX DMTVM_DMT_REGS_MAX

struct tea {
	uint64_t base, limit; /* VA covered, 2 MiB aligned */
	uint64_t pa;	      /* gPA of slot 0 */
	uint64_t id;	      /* ALLOC_TEA id (pvDMT) */
	uint32_t npages;      /* slots: (limit - base) >> (shift + 9) */
	uint32_t flags;	      /* DMTVM_DMT_REG_PV when host-contiguous */
	uint32_t shift;	      /* leaf page_shift: 12 (PT pages) or 21 (PD pages) */
};

struct tea_set {
	unsigned n;
	struct tea t[TEA_MAX];
};

/* Policy knobs (kernel command line: dmtvm.tea_min=SIZE, dmtvm.tea_max=N, dmtvm.tea=off). */
extern uint64_t tea_min_bytes; /* default 64 MiB */
extern unsigned tea_max;       /* TEAs per address space, default 16 (<= TEA_MAX) */
extern bool tea_enabled;
extern bool tea_pvdmt; /* /chosen/dmtvm,mode is pvdmt: ask ALLOC_TEA */

/* Counters since boot (reported by the tea self-test). */
struct tea_stats {
	uint64_t created, table_pages, migrated;
	uint64_t replaced; /* TEAs absorbed by a bigger one (VMA growth or merge) */
	/* Table pages that got an ordinary frame although their VMA qualified: */
	uint64_t fallback_regs;	  /* no register left */
	uint64_t fallback_memory; /* no contiguous run of fresh frames */
	uint64_t fallback_pv;	  /* ALLOC_TEA refused (not ENOSYS) */
	uint64_t pv_granted;
	/* A VMA grew past its TEA at the high end (DMT.md: "the TEA doubles"): */
	uint64_t grown_in_place; /* took the physically adjacent frames, no table moved */
	uint64_t grown_migrated; /* adjacent frames taken: a new area, all tables moved */
	uint64_t regs_refused;	 /* DMT_REGS answered an error other than ENOSYS */
};
extern struct tea_stats tea_stats;

struct mm;
struct vma;
/*
 * gPA for the table page of level shift (12: the PT of va's 2 MiB block;
 * 21: the PD of its 1 GiB block) when va belongs to a TEA of that level
 * (created here, lazily, if va's VMA qualifies), else 0: the caller then
 * allocates an ordinary page. A new slot reads as zero.
 */
uint64_t tea_table_page(struct mm *mm, uint64_t va, unsigned shift);
/* THP fault in v: give a qualifying VMA its PMD-level TEA (its PD pages usually exist). */
void tea_thp_fault(struct mm *mm, const struct vma *v, uint64_t va);
/* True if the frame pa is a slot of one of mm's TEAs. */
bool tea_owns(const struct mm *mm, uint64_t pa);
/* Drop every TEA of mm: frames freed, pvDMT ranges returned, registers cleared. */
void tea_release_all(struct mm *mm);
/* Self-test: every table of each TEA is its slot; sampled leaf entries lie at pa + index * 8. */
void tea_check(struct mm *mm);

#endif /* TEA_H */
