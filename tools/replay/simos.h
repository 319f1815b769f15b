/* SPDX-License-Identifier: MIT */
/*
 * simos.h: the guest half of simos, a small OS policy that builds REAL
 * x86-64 page tables in a simulated guest-physical memory as a trace goes:
 *   - address spaces by trace ASID, each with its CR3 (a PML4 frame);
 *   - VMAs given up front (replay discovers them in a first pass over the
 *     trace: touched 2 MiB chunks clustered by gaps, see vma.h);
 *   - first-touch data frames (4 KiB, or 2 MiB with THP);
 *   - DMT TEAs, the artifact's policy (DMT.md): a VMA >= tea_min bytes gets
 *     a TEA holding all its leaf-table pages contiguously in VA order,
 *     created at its first leaf-table allocation, at most tea_max per
 *     address space, else ordinary table pages (counted as fallbacks);
 *   - for each hypervisor below (simhv), every guest frame backed on first
 *     use and every TEA backed host-contiguously (pvDMT).
 */
#ifndef REPLAY_SIMOS_H
#define REPLAY_SIMOS_H

#include <stdbool.h>
#include <stdint.h>

#include "physmem.h"
#include "simhv.h"

#define SIMOS_MAX_HV   2  /* hypervisors directly below the guest (worlds) */
#define SIMOS_MAX_TEAS 64 /* hard cap; the policy limit is tea_max */

struct simos_vma {
	uint64_t start, end;
	int tea;      /* index in the address space's teas, or -1 */
	bool refused; /* eligible, but no TEA (limit reached or shared table) */
};

struct simos_tea {
	uint64_t vma_start, vma_end; /* VA covered (the DMT register's range) */
	uint64_t va_base;	     /* vma_start rounded down to a table's span */
	uint64_t gpa;		     /* TEA base (guest-physical) */
	uint64_t pages;
	uint64_t hpa[SIMOS_MAX_HV]; /* pvDMT: host-contiguous base per world */
	uint32_t page_shift;	    /* leaf size: 12 or 21 */
};

struct simos_as {
	uint64_t asid;
	uint64_t cr3;
	struct simos_vma *vmas; /* sorted, disjoint */
	unsigned nvmas;
	struct simos_tea teas[SIMOS_MAX_TEAS];
	unsigned nteas;
	struct u64map mapped; /* va >> leaf shift -> data gPA */
	uint64_t last_page;   /* fast path: last page found mapped */
};

struct simos_params {
	bool thp;	    /* 2 MiB data pages (and PD-level TEAs) */
	uint64_t tea_min;   /* bytes; 64 MiB */
	unsigned tea_max;   /* per address space; 16 */
	uint64_t guest_mem; /* guest-physical span */
};

struct simos_stats {
	uint64_t data_pages;	  /* 4 KiB or 2 MiB */
	uint64_t table_pages[5];  /* by level; [4] PML4s */
	uint64_t tea_table_pages; /* leaf tables placed in TEAs */
	uint64_t teas, tea_pages; /* TEAs created, pages reserved */
	uint64_t tea_fallbacks;	  /* leaf tables of eligible VMAs without a TEA */
	uint64_t vmas_refused;	  /* eligible VMAs refused a TEA */
	uint64_t new_mappings;
};

struct simos {
	struct physmem mem; /* guest-physical */
	struct simos_params p;
	struct simhv *hv[SIMOS_MAX_HV];
	unsigned nhv;
	struct simos_as *as;
	unsigned nas;
	struct simos_stats st;
	char *err;
	unsigned errlen;
};

/* Guest memory is [1 MiB, guest_mem): frame 0 stays unused (0 = absent). */
int simos_init(struct simos *os, const struct simos_params *p, char *err, unsigned errlen);
void simos_free(struct simos *os);
/* Attaches a hypervisor whose guest memory is os->mem (before any space). */
int simos_attach_hv(struct simos *os, struct simhv *hv);

/* Adds an address space with its VMAs (copied and sorted; disjoint). */
struct simos_as *simos_add_as(struct simos *os, uint64_t asid, const struct simos_vma *vmas,
			      unsigned nvmas);
struct simos_as *simos_find_as(struct simos *os, uint64_t asid);

/*
 * Maps the page holding va if it is not mapped yet (data frame, tables,
 * TEA, backing below). Returns 1 when it created a mapping, 0 when va was
 * mapped, -1 on error (message in err): va outside every VMA, memory full.
 */
int simos_touch(struct simos *os, struct simos_as *as, uint64_t va);

/* Leaf page shift of data pages: 12, or 21 with THP. */
static inline unsigned simos_page_shift(const struct simos *os)
{
	return os->p.thp ? 21 : 12;
}

#endif /* REPLAY_SIMOS_H */
