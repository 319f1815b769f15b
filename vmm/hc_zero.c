/* SPDX-License-Identifier: MIT */
/*
 * hc_zero.c: DMTVM_HC_ZERO, a bulk memset of guest RAM for the guest kernel.
 * Ring 0 is emulated on PVM-style KVM: zeroing a recycled 2 MiB frame with
 * `rep stosq` in the guest costs ~130 ms there, a host memset ~0.1 ms. Only
 * data frames are zeroed this way (the guest never passes a live page-table
 * page: the VMM's writes to those would not be seen, see ENVIRONMENT.md).
 */
#include <string.h>

#include "dmtvm_abi.h"
#include "hypercall.h"

enum vmm_hc_action vmm_hc_zero(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_zero *a = arg;
	void *p = NULL;

	/* 4 KiB multiples, non-empty, wholly inside RAM (vmm_gpa checks overflow). */
	if (a->gpa % 4096 == 0 && a->len % 4096 == 0 && a->len)
		p = vmm_gpa(vcpu->vm, a->gpa, a->len);
	if (!p) {
		a->ret = -DMTVM_EINVAL;
		return VMM_HC_RESUME;
	}
	memset(p, 0, a->len);
	a->ret = 0;
	return VMM_HC_RESUME;
}
