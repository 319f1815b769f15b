/* SPDX-License-Identifier: MIT */
/*
 * simhv.h: the hypervisor half of simos: backs a guest's physical memory
 * with frames of a host memory on first use and maps it in a REAL EPT
 * (gPA -> hPA) kept in that host memory. Its policies, as DMT.md:
 *   - DMT: every EPT leaf-table page lives in one host TEA, in gPA order,
 *     described by one host DMT register covering gPA [0, guest_span);
 *   - pvDMT: simhv_back_contig() backs a guest TEA with host-contiguous
 *     frames (the artifact's ALLOC_TEA hypercall), forwarding the request
 *     to the hypervisor below when nested, as the artifact does.
 * Stacked: an L1 hypervisor's host memory is L1 guest memory, itself backed
 * by the L0 hypervisor (`below`); every L1 frame it uses is backed there.
 */
#ifndef HOSTMM_SIMHV_H
#define HOSTMM_SIMHV_H

#include <stdint.h>

#include "physmem.h"

struct simhv {
	const char *name; /* "EPT01", "EPT12" */
	struct physmem *guest, *host;
	struct simhv *below;
	unsigned page_shift; /* EPT leaf size: 12 or 21 */
	uint64_t guest_span; /* gPA [0, guest_span) may be backed */
	uint64_t ept_root;
	uint64_t tea_base, tea_pages, tea_hpa; /* host TEA of EPT leaf tables */
	struct u64map backed;		       /* guest chunk -> host chunk */
	/* Optional policy hooks (a VMM with its own host placement sets them
	 * after simhv_init; simos leaves them 0): */
	int (*place)(void *ctx, uint64_t gpa, uint64_t *hpa); /* host chunk of a guest chunk */
	void *place_ctx;
	int ordinary_leaves; /* EPT leaf tables in ordinary frames, not the host TEA */
	char *err;	     /* caller's error buffer */
	unsigned errlen;
	/* statistics */
	uint64_t ept_tables[5]; /* by level; [4] the root */
	uint64_t chunks_backed;
	uint64_t pv_teas, pv_tea_bytes;
};

/* Returns 0, or -1 with a message in err (which must outlive hv). */
int simhv_init(struct simhv *hv, const char *name, struct physmem *guest, struct physmem *host,
	       struct simhv *below, unsigned page_shift, uint64_t guest_span, char *err,
	       unsigned errlen);
void simhv_free(struct simhv *hv);

/* Backs the page-size chunks covering guest [gpa, gpa + len); 0 or -1. */
int simhv_ensure(struct simhv *hv, uint64_t gpa, uint64_t len);
/*
 * pvDMT: backs guest [gpa, gpa + len) (chunk-aligned, not yet backed)
 * with contiguous frames down to the bottom memory; *hpa = its base there.
 */
int simhv_back_contig(struct simhv *hv, uint64_t gpa, uint64_t len, uint64_t *hpa);

/*
 * Moves the backing of the (already backed) guest chunk holding gpa to the
 * host chunk at hpa: rewrites its EPT leaf. The old host chunk is the
 * caller's to reuse. 0 or -1.
 */
int simhv_rebind(struct simhv *hv, uint64_t gpa, uint64_t hpa);

/* The host DMT register: gPA [0, guest_span) -> EPT leaves in the host TEA. */
void simhv_dmt_reg(const struct simhv *hv, uint64_t *base, uint64_t *limit, uint64_t *tea,
		   uint64_t *tea_hpa, uint32_t *page_shift);

#endif /* HOSTMM_SIMHV_H */
