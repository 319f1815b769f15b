/* SPDX-License-Identifier: MIT */
/*
 * nkvm.h: L0's side of paravirtual nesting (pvdmt/dmtvm_abi.h, "Nesting"):
 * the DMTVM_HC_KVM hypercall. The L1 guest kernel's /dev/kvm forwards the
 * ioctls of its programs here; L0 performs them on a real KVM VM for L2
 * created beside L1, whose memory is the L1 RAM that L1 dmtvm pinned, runs
 * L2 on the calling L1 vCPU thread and reflects each L2 exit to L1 as the
 * result of KVM_RUN. L2's measurement hypercalls (TRACE_FLUSH, DMT_REGS,
 * PT_UPDATE) are the simulator's magic instructions: L0 serves them itself
 * with the L2-level model (xlate_l2.c) and resumes L2 without L1.
 * Only builds with the model (DMTVM_HAVE_REPLAY) have it.
 */
#ifndef VMM_NKVM_H
#define VMM_NKVM_H

#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"
#include "vmm.h"

#define NKVM_MAX_SLOTS	    32	/* L2 memslots (dmtvm uses one) */
#define NKVM_MAX_VM_CREATES 256 /* L2 VMs created over one L0 run (one at a time) */
#define NKVM_NREASONS	    64	/* reflected exits by KVM exit reason (0..63) */

#ifdef DMTVM_HAVE_REPLAY
/* L2 boot time (INIT_STARTED of L2 since L0 start), 0 = not yet. */
uint64_t vmm_nkvm_l2_boot_ns(struct vmm *vm);
/* {"vms_created":..., "reflected": {...}, ...}, or null without nesting. */
void vmm_nkvm_status_json(struct vmm *vm, struct jsonw *w);
/* {"vm": bool, "slots": [{"slot","l2_gpa","size","l1_gpa"}...], "ept12_root",
 * "ept12_regs": [{"base","limit","tea","page_shift"}...]} */
void vmm_nkvm_tables_json(struct vmm *vm, struct jsonw *w);
/* One line for the end-of-run report, nothing without nesting. */
void vmm_nkvm_report(struct vmm *vm, FILE *out);
void vmm_nkvm_reset(struct vmm *vm);
#else
static inline uint64_t vmm_nkvm_l2_boot_ns(struct vmm *vm)
{
	(void)vm;
	return 0;
}
static inline void vmm_nkvm_status_json(struct vmm *vm, struct jsonw *w)
{
	(void)vm;
	jsonw_raw(w, "null");
}
static inline void vmm_nkvm_report(struct vmm *vm, FILE *out)
{
	(void)vm;
	(void)out;
}
static inline void vmm_nkvm_reset(struct vmm *vm)
{
	(void)vm;
}
#endif

#endif
