/* SPDX-License-Identifier: MIT */
/*
 * xlate_internal.h: the translation state of a VM, shared by xlate.c (the
 * model, reports) and hc_xlate.c (the hypercalls that feed it).
 */
#ifndef VMM_XLATE_INTERNAL_H
#define VMM_XLATE_INTERNAL_H

#include <pthread.h>

#include "dmtvm_abi.h"
#include "hostmem.h"
#include "mmu.h"
#include "xlate.h"

#define XLATE_MAX_SPACES 4096
#define XLATE_MAX_SIMS	 2 /* model threads: the vCPU thread + one worker */

struct xlate_worker;

/*
 * A level's model, its schemes split over n instances run side by side on
 * each flush (sims[0] on the calling vCPU thread, sims[1] on the worker
 * thread): schemes share no state (each has its own TLBs, walk caches and
 * caches), so the counters are those of one instance.
 */
struct xlate_sims {
	struct mmu_sim *sims[XLATE_MAX_SIMS];
	unsigned n;
};
struct xlate_l2;

/* A guest address space's DMT registers (DMT_REGS), looked up by cr3. */
struct xlate_as {
	uint64_t cr3, asid;
	unsigned nregs;
	struct dmtvm_dmt_reg regs[DMTVM_DMT_REGS_MAX];
};

enum xlate_roi { ROI_NONE, ROI_IN, ROI_OUT };

struct vmm_xlate {
	pthread_mutex_t lock;
	const uint8_t *ram;
	uint64_t mem_size;
	bool virt;     /* a hypervisor in the model: EPT, host spaces */
	bool host_tea; /* dmt, pvdmt: EPT leaves in a host TEA */
	struct vmm_hostmem_params hp;
	struct vmm_hostmem hm;
	bool hm_ready;
	struct mmu_config cfg;
	struct xlate_sims model;     /* this guest's (L1's) accesses */
	struct xlate_worker *worker; /* runs sims[1] of a level's model */
	struct mmu_ctx ctx;	     /* of the current call */
	struct xlate_as *as;
	unsigned nas, cap_as;
	uint64_t *buf; /* records of the current flush */
	size_t buf_cap;
	enum xlate_roi roi;
	/* statistics */
	uint64_t records, flushes, simulated, pt_updates, model_ns;
	uint64_t first_ns, progress_ns, progress_records;
	/* --trace-out */
	int trace_fd;
	bool trace_asid_valid;
	uint64_t trace_asid;
	/* address spaces with records in the trace file (their invalidations
	 * matter to a replay); past 16 of them every invalidation is written */
	uint64_t trace_spaces[16];
	unsigned trace_nspaces;
	/* --debug-translate-check */
	unsigned check_n;
	uint64_t kvm_checked, kvm_mismatches, kvm_skipped, ept_checked, ept_mismatches;
	/* Nesting: the L2-level model (xlate_l2.c), created at L2's first
	 * measurement hypercall; its schemes are the nested ones. */
	struct xlate_l2 *l2;
	uint32_t l2_mask;
};

/* Builds host memory and the EPT on first use: 0, or -1 (message printed). */
int xlate_ensure_host(struct vmm_xlate *x);
/* mmu_space frame callback of this VM's guest-physical memory (ctx: x). */
const void *xlate_l1_frame(void *ctx, uint64_t gpa);
/* The host part of a context: hostmem, EPT (EPT01 when nested), host TEA. */
void xlate_host_ctx(struct vmm_xlate *x, struct mmu_ctx *c);
/* xlate_l2.c: zero the L2 level's counters (lock held). */
void xlate_l2_reset_counters(struct vmm_xlate *x);
/* Fills x->ctx for address space (cr3, asid). */
void xlate_build_ctx(struct vmm_xlate *x, uint64_t cr3, uint64_t asid);
struct xlate_as *xlate_find_as(struct vmm_xlate *x, uint64_t cr3);
/* TRACE_FLUSH body, lock held: records are in x->buf. */
void xlate_run(struct vmm_xlate *x, struct vmm_vcpu *vcpu, size_t n, uint64_t cr3, uint64_t asid);
/* mmu_sim_invalidate on every instance of the model, under x->ctx. */
void xlate_invalidate(struct vmm_xlate *x, uint64_t va, uint64_t len);
/* The model of scheme mask: split over two instances when the worker exists
 * and mask has two or more schemes. 0, or -1 with a message in err. */
int xlate_sims_create(const struct vmm_xlate *x, struct xlate_sims *m, uint32_t mask, char *err,
		      size_t errlen);
/* Runs a flush's records through every instance (lock held); returns the ROI state after. */
enum xlate_roi xlate_sims_run(struct vmm_xlate *x, const struct xlate_sims *m,
			      const struct mmu_ctx *ctx, const uint64_t *recs, size_t n,
			      enum xlate_roi roi, uint64_t *simulated);
void xlate_sims_invalidate(const struct xlate_sims *m, const struct mmu_ctx *ctx, uint64_t va,
			   uint64_t len);
void xlate_sims_reset(const struct xlate_sims *m);
/* The counters of every scheme, gathered from the instance that runs it:
 * as a dmtvm.counters/1 JSON document with per-step outcomes, or as the
 * end-of-run table. */
void xlate_sims_json(const struct xlate_sims *m, FILE *f);
void xlate_sims_table(const struct xlate_sims *m, FILE *out);
/* A guest DMT register in the model's form (tea_hpa: the level's to set). */
void xlate_guest_reg(const struct dmtvm_dmt_reg *r, struct mmu_dmt_reg *g);
/* Copies count trace records at guest-virtual va through the tables at cr3
 * in space sp (the guest's own page tables) into *buf (grown as needed).
 * 0, -DMTVM_EFAULT (unmapped) or -DMTVM_ENOMEM. */
int xlate_read_virt(struct vmm_xlate *x, const struct mmu_space *sp, uint64_t cr3, uint64_t va,
		    uint64_t count, uint64_t **buf, size_t *cap);
/* TRACE_FLUSH's argument checks, with cr3_err the level's verdict on a->cr3:
 * -DMTVM_EINVAL, cr3_err, -DMTVM_EFAULT (records' range), or 0. */
int xlate_flush_check(const struct dmtvm_hc_trace_flush *a, int cr3_err);
/* A DMT register's form (page shift, flags, aligned VA range, TEA alignment):
 * 0 with *bytes = its TEA's size, or -DMTVM_EINVAL. Where the TEA lies is
 * the level's check. */
int xlate_reg_shape(const struct dmtvm_dmt_reg *r, uint64_t *bytes);
/* --trace-out: appends n records of address space asid (an ASID record
 * first when it changes); a write error closes the file with a message. */
void xlate_trace_out(struct vmm_xlate *x, const uint64_t *recs, size_t n, uint64_t asid);
/* --trace-out: the guest's PT_UPDATE of [va, va + len) (len 0: all) as the
 * control records 4 + 5 (dmtvm_trace.h), so a replay drops the same TLB
 * entries as the run's model. */
void xlate_trace_invalidate(struct vmm_xlate *x, uint64_t va, uint64_t len, uint64_t asid);
/* Closes a memstream (opened on *bufp, *lenp) holding a JSON document and
 * returns its buffer flattened to one line (newlines -> spaces), or NULL. */
char *xlate_one_line(FILE *f, char **bufp, size_t *lenp);
/* Guest-virtual -> guest-physical with the model's native walker; 0 or -1. */
int xlate_gva(struct vmm_xlate *x, uint64_t cr3, uint64_t va, uint64_t *gpa);
/* The same over any guest-physical space (L2's, for nesting). */
int xlate_gva_in(struct vmm_xlate *x, const struct mmu_space *sp, uint64_t cr3, uint64_t va,
		 uint64_t *gpa);
/* Runs n records through sim with the ROI rules from state roi; returns the
 * state after them and adds the records simulated to *simulated. */
enum xlate_roi xlate_run_records(struct mmu_sim *sim, const struct mmu_ctx *ctx,
				 const uint64_t *recs, size_t n, enum xlate_roi roi,
				 uint64_t *simulated);

/* hc_xlate.c: the argument checks, shared by L1's and L2's hypercalls. */
bool xlate_va_range_ok(uint64_t va, uint64_t len);
bool xlate_regs_overlap(const struct dmtvm_dmt_reg *r, uint64_t n);
/* Replaces the registers of (cr3, asid) in the set (n == 0 removes it). */
int xlate_set_regs(struct xlate_as **set, unsigned *nas, unsigned *cap, uint64_t cr3, uint64_t asid,
		   const struct dmtvm_dmt_reg *regs, uint64_t n);
struct xlate_as *xlate_find_as_in(struct xlate_as *set, unsigned nas, uint64_t cr3);

#endif
