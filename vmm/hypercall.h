/* SPDX-License-Identifier: MIT */
/*
 * hypercall.h: the hypercall dispatcher's table. Each handler gets a private
 * copy of the guest's argument structure (already checked to lie in RAM and
 * to be aligned); the dispatcher writes the copy back afterwards, so a
 * handler only fills in ret and its out fields.
 */
#ifndef VMM_HYPERCALL_H
#define VMM_HYPERCALL_H

#include "vmm.h"

enum vmm_hc_action { VMM_HC_RESUME, VMM_HC_STOP };

struct vmm_hc_handler {
	const char *name;
	size_t arg_size;
	enum vmm_hc_action (*fn)(struct vmm_vcpu *vcpu, void *arg);
};

const char *vmm_hypercall_name(unsigned nr); /* NULL for unassigned numbers */

/* console.c */
enum vmm_hc_action vmm_hc_console(struct vmm_vcpu *vcpu, void *arg);
void vmm_console_write(int fd, const void *buf, size_t len);

/* hc_lifecycle.c: EXIT, PANIC, INIT_STARTED, TIME. */
enum vmm_hc_action vmm_hc_exit(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_panic(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_init_started(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_time(struct vmm_vcpu *vcpu, void *arg);

/* hc_zero.c: ZERO (bulk memset of guest RAM). */
enum vmm_hc_action vmm_hc_zero(struct vmm_vcpu *vcpu, void *arg);

#ifdef DMTVM_HAVE_REPLAY
/* xlate.c: TRACE_FLUSH, DMT_REGS, PT_UPDATE, ALLOC_TEA (the MMU model). */
enum vmm_hc_action vmm_hc_trace_flush(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_dmt_regs(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_pt_update(struct vmm_vcpu *vcpu, void *arg);
enum vmm_hc_action vmm_hc_alloc_tea(struct vmm_vcpu *vcpu, void *arg);
/* nkvm.c: KVM (a /dev/kvm ioctl of L1 for its L2 VM: nesting). */
enum vmm_hc_action vmm_hc_kvm(struct vmm_vcpu *vcpu, void *arg);
#endif

#endif
