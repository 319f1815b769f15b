/* SPDX-License-Identifier: MIT */
/*
 * hypercall.c: the dispatcher. `outl %eax, %dx` with dx in
 * [DMTVM_HC_PORT_BASE, DMTVM_HC_PORT_MAX] and eax = gPA of the argument
 * structure. The guest is untrusted: the gPA must be 8-byte aligned and the
 * whole structure inside RAM, else the guest is shut down (we cannot even
 * report an error to it); known numbers with bad fields get -DMTVM_E* in
 * ret; unassigned numbers get -DMTVM_ENOSYS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmtvm_abi.h"
#include "hypercall.h"
#ifndef DMTVM_HAVE_REPLAY
#include "nested_l1.h"
#endif

static const struct vmm_hc_handler handlers[DMTVM_HC_MAX + 1] = {
    [DMTVM_HC_CONSOLE] = {"console", sizeof(struct dmtvm_hc_console), vmm_hc_console},
    [DMTVM_HC_EXIT] = {"exit", sizeof(struct dmtvm_hc_exit), vmm_hc_exit},
    [DMTVM_HC_PANIC] = {"panic", sizeof(struct dmtvm_hc_panic), vmm_hc_panic},
    [DMTVM_HC_INIT_STARTED] = {"init_started", sizeof(struct dmtvm_hc_ret), vmm_hc_init_started},
    [DMTVM_HC_TIME] = {"time", sizeof(struct dmtvm_hc_time), vmm_hc_time},
    [DMTVM_HC_ZERO] = {"zero", sizeof(struct dmtvm_hc_zero), vmm_hc_zero},
#ifdef DMTVM_HAVE_REPLAY
    /* Builds without the model (dmtvm-static) leave these unassigned: ENOSYS. */
    [DMTVM_HC_TRACE_FLUSH] = {"trace_flush", sizeof(struct dmtvm_hc_trace_flush),
			      vmm_hc_trace_flush},
    [DMTVM_HC_DMT_REGS] = {"dmt_regs", sizeof(struct dmtvm_hc_dmt_regs), vmm_hc_dmt_regs},
    [DMTVM_HC_PT_UPDATE] = {"pt_update", sizeof(struct dmtvm_hc_pt_update), vmm_hc_pt_update},
    [DMTVM_HC_ALLOC_TEA] = {"alloc_tea", sizeof(struct dmtvm_hc_alloc_tea), vmm_hc_alloc_tea},
    /* L0 of a nest: L1's /dev/kvm ioctls (nkvm.c). */
    [DMTVM_HC_KVM] = {"kvm", sizeof(struct dmtvm_hc_kvm), vmm_hc_kvm},
#else
    /* As an L1 hypervisor, L2's pvDMT requests go to L0 (nested_l1.c); else ENOSYS. */
    [DMTVM_HC_ALLOC_TEA] = {"alloc_tea", sizeof(struct dmtvm_hc_alloc_tea), vmm_l1_hc_alloc_tea},
#endif
};

const char *vmm_hypercall_name(unsigned nr)
{
	return nr <= DMTVM_HC_MAX ? handlers[nr].name : NULL;
}

int vmm_hypercall(struct vmm_vcpu *vcpu, uint16_t port, uint32_t gpa)
{
	struct vmm *vm = vcpu->vm;
	unsigned nr = port - DMTVM_HC_PORT_BASE;
	const struct vmm_hc_handler *h = nr <= DMTVM_HC_MAX ? &handlers[nr] : NULL;
	size_t size = h && h->fn ? h->arg_size : sizeof(struct dmtvm_hc_ret);
	/* Big enough for every argument structure; 8-byte aligned for the casts. */
	uint64_t arg[16];
	_Static_assert(sizeof(struct dmtvm_hc_panic) <= sizeof(arg), "arg buffer");

	uint8_t *g = (gpa % 8 == 0) ? vmm_gpa(vm, gpa, size) : NULL;
	if (!g) {
		fprintf(
		    stderr,
		    "%s: guest hypercall %u (port %#x) with bad argument gPA %#x (needs %zu "
		    "bytes, 8-byte aligned, inside %llu bytes of RAM): shutting the guest down\n",
		    vmm_level_tag(), nr, port, gpa, size, (unsigned long long)vm->mem_size);
		vmm_stop(vm, DMTVM_EXIT_GUEST_PANIC);
		return -1;
	}
	if (nr < 64)
		atomic_fetch_add_explicit(&vm->hypercalls[nr], 1, memory_order_relaxed);
	memcpy(arg, g, size);
	enum vmm_hc_action a = VMM_HC_RESUME;
	if (h && h->fn)
		a = h->fn(vcpu, arg);
	else
		((struct dmtvm_hc_ret *)arg)->ret = -DMTVM_ENOSYS;
	memcpy(g, arg, size);
	return a == VMM_HC_RESUME ? 0 : -1;
}
