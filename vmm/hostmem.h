/* SPDX-License-Identifier: MIT */
/*
 * hostmem.h: the modelled host-physical address space of one VM: where each
 * guest RAM frame sits in host-physical memory (placement: contiguous or
 * fragmented by a seed, 4 KiB or 2 MiB host pages), dmtvm's own table pages
 * (EPT, host TEAs), the real EPT (gPA -> hPA) and pvDMT TEAs backed by
 * host-contiguous frames (ALLOC_TEA). The tables are built by hostmm's
 * simhv/pgtable (one EPT builder for the whole project); this file owns the
 * placement policy and the two mmu_space frame callbacks the model reads
 * through. Not thread-safe: the caller (xlate.c) serializes.
 *
 * Host-physical map: guest RAM region at VMM_HOSTMEM_RAM_BASE (64 GiB, so a
 * gPA mistaken for an hPA shows), mem_size long (contiguous) or 2 x mem_size
 * with holes (fragmented); dmtvm's own pages (tables, host TEA, pvDMT
 * backing) from the next GiB boundary up.
 */
#ifndef VMM_HOSTMEM_H
#define VMM_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "physmem.h"
#include "simhv.h"
#include "u64map.h"

#define VMM_HOSTMEM_RAM_BASE (1ULL << 36)
#define VMM_HOSTMEM_MAX_TEAS 4096

struct vmm_hostmem_params {
	uint64_t mem_size;   /* guest RAM, multiple of 2 MiB */
	unsigned page_shift; /* host page: 12 or 21 */
	bool fragmented;
	uint64_t seed;
	bool host_tea; /* EPT leaf tables in a host TEA (dmt, pvdmt) */
};

struct vmm_pv_tea {
	uint64_t id, gpa, len, hpa;
	bool moved; /* its chunks were re-backed (not contiguous before) */
};

struct vmm_hostmem {
	struct vmm_hostmem_params p;
	const uint8_t *ram;   /* guest RAM as dmtvm maps it */
	uint64_t nchunks;     /* guest chunks (host pages) */
	uint64_t ram_span;    /* host RAM region length */
	uint32_t *home;	      /* guest chunk -> host slot of its first placement */
	uint64_t *cur;	      /* guest chunk -> current hPA */
	uint32_t *slot;	      /* host slot -> guest chunk + 1, 0 = free */
	struct physmem host;  /* dmtvm's own pages */
	struct u64map pv_rev; /* pvDMT host chunk -> guest chunk (~0: released) */
	struct simhv hv;
	char err[256];
	uint64_t build_ns;
	struct vmm_pv_tea teas[VMM_HOSTMEM_MAX_TEAS];
	unsigned nteas;
	uint64_t pv_moved_chunks;
};

/* Places all of RAM and builds the EPT. 0, or -1 with a message in err. */
int vmm_hostmem_init(struct vmm_hostmem *hm, const struct vmm_hostmem_params *p, const uint8_t *ram,
		     char *err, size_t errlen);
void vmm_hostmem_free(struct vmm_hostmem *hm);

/* mmu_space frame callback for host-physical memory; ctx is the hostmem. */
const void *vmm_hostmem_hpa_frame(void *ctx, uint64_t hpa);
/* Current hPA of a guest-physical address (inside RAM). */
uint64_t vmm_hostmem_hpa(const struct vmm_hostmem *hm, uint64_t gpa);

/*
 * pvDMT: back [gpa, gpa + len) (page-aligned, inside RAM, checked by the
 * caller) with host-contiguous frames; *hpa = its host-physical base.
 * Returns 0, or -DMTVM_EINVAL (overlaps a TEA, or would split one),
 * -DMTVM_ENOMEM (too many TEAs, host space exhausted).
 */
int vmm_hostmem_alloc_tea(struct vmm_hostmem *hm, uint64_t id, uint64_t gpa, uint64_t len,
			  uint64_t *hpa);
/* Releases the TEA at exactly [gpa, gpa + len): 0 or -DMTVM_EINVAL. */
int vmm_hostmem_free_tea(struct vmm_hostmem *hm, uint64_t gpa, uint64_t len);
/* The TEA holding [gpa, gpa + len), or NULL. */
const struct vmm_pv_tea *vmm_hostmem_find_tea(const struct vmm_hostmem *hm, uint64_t gpa,
					      uint64_t len);

#endif
