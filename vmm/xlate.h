/* SPDX-License-Identifier: MIT */
/*
 * xlate.h: the host side of translation in a dmtvm run: the MMU model
 * (mmu-model/) fed by the guest's TRACE_FLUSH hypercalls, the modelled host
 * memory and EPT (hostmem.h), the guest's DMT registers per address space,
 * pvDMT TEAs, the --trace-out file and the model's reports. One lock
 * serializes vCPU threads (the model runs while the calling vCPU is
 * stopped) and the control thread (counters, tables).
 *
 * Builds without the model (dmtvm-static, for nesting) have no xlate: the
 * translation hypercalls are then unassigned (-DMTVM_ENOSYS).
 */
#ifndef VMM_XLATE_H
#define VMM_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"

struct vmm;
struct vmm_vcpu;
struct vmm_xlate;

/* Options of `dmtvm run` that shape the model and the host side. */
struct vmm_xlate_opts {
	const char *mode;    /* native|ept|spt|dmt|pvdmt */
	unsigned host_shift; /* 12 or 21 */
	bool fragmented;     /* --host-layout=fragmented[:SEED] */
	uint64_t seed;	     /* default 1 */
	const char *schemes; /* --schemes=LIST, NULL = the mode's */
	const char *preset;  /* --model-preset NAME (before config and sets) */
	const char *config;  /* --model-config FILE */
	const char **sets;   /* --model-set key=value ... */
	int nsets;
	const char *trace_out;	  /* --trace-out FILE */
	unsigned check_translate; /* --debug-translate-check=N VAs per flush */
};

#ifdef DMTVM_HAVE_REPLAY
/* Checks options, creates the model, opens the trace file. 0 or -1 + err. */
int vmm_xlate_create(struct vmm *vm, const struct vmm_xlate_opts *o, char *err, size_t errlen);
/* The hypercall handlers are declared in hypercall.h. */
/* Records traced so far (0 without a model). */
uint64_t vmm_xlate_records(struct vmm *vm);
/* The model's dmtvm.counters/1 document on one line (malloc'd), or NULL. */
char *vmm_xlate_counters_json(struct vmm *vm);
/* `tables`: EPT, host TEAs, guest DMT registers, pvDMT TEAs; build: build
 * the EPT first if no hypercall did yet. */
void vmm_xlate_tables_json(struct vmm *vm, struct jsonw *w, bool build);
/* End of run: the model's table (or nothing when no records were traced),
 * and the KVM_TRANSLATE check summary. */
void vmm_xlate_report_table(struct vmm *vm, FILE *out);
void vmm_xlate_check_json(struct vmm *vm, struct jsonw *w);
void vmm_xlate_reset(struct vmm *vm);

/*
 * Nesting (nkvm.h): the L2 level of the model. L2's accesses are walked in
 * 3D: L2's tables (L2 gPA, read through the memslots), L1's EPT12 (L1 gPA)
 * and L0's EPT01 (this VM's hostmem), under the nested schemes, with their
 * own counters. view: what L0 knows of L2 at the time of the call.
 */
struct vmm_memslot;
struct dmtvm_ept12_reg;
struct dmtvm_hc_trace_flush;
struct dmtvm_hc_dmt_regs;
struct dmtvm_hc_pt_update;
struct vmm_xlate_l2_view {
	const struct vmm_memslot *slots;
	unsigned nslots;
	uint64_t ept12_root; /* L1 gPA of the EPT12 PML4; 0 = not registered */
	unsigned n_ept12;
	const struct dmtvm_ept12_reg *ept12;
};
/* L2's TRACE_FLUSH, DMT_REGS, PT_UPDATE (arguments copied out of L2 RAM):
 * each sets a->ret as the L1-level handler would. */
void vmm_xlate_l2_trace_flush(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			      struct dmtvm_hc_trace_flush *a);
void vmm_xlate_l2_dmt_regs(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			   struct dmtvm_hc_dmt_regs *a);
void vmm_xlate_l2_pt_update(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			    struct dmtvm_hc_pt_update *a);
/* The L2 VM is gone: its address spaces (DMT registers) go, counters stay. */
void vmm_xlate_l2_forget(struct vmm *vm);
/* L2's dmtvm.counters/1 document on one line (malloc'd), NULL without L2. */
char *vmm_xlate_l2_counters_json(struct vmm *vm);
/* End of run: the L2 table ("L2" in its title), nothing without records. */
void vmm_xlate_l2_report_table(struct vmm *vm, FILE *out);
#else
static inline uint64_t vmm_xlate_records(struct vmm *vm)
{
	(void)vm;
	return 0;
}
static inline char *vmm_xlate_counters_json(struct vmm *vm)
{
	(void)vm;
	return NULL;
}
static inline void vmm_xlate_tables_json(struct vmm *vm, struct jsonw *w, bool build)
{
	(void)vm;
	(void)build;
	jsonw_raw(w, "{\"model\":false}");
}
static inline void vmm_xlate_report_table(struct vmm *vm, FILE *out)
{
	(void)vm;
	(void)out;
}
static inline void vmm_xlate_check_json(struct vmm *vm, struct jsonw *w)
{
	(void)vm;
	jsonw_raw(w, "null");
}
static inline void vmm_xlate_reset(struct vmm *vm)
{
	(void)vm;
}
static inline char *vmm_xlate_l2_counters_json(struct vmm *vm)
{
	(void)vm;
	return NULL;
}
static inline void vmm_xlate_l2_report_table(struct vmm *vm, FILE *out)
{
	(void)vm;
	(void)out;
}
#endif

#endif
