/* SPDX-License-Identifier: MIT */
/*
 * hypercall.h: the guest side of the dmtvm hypercall ABI (dmtvm_abi.h).
 *
 * A hypercall is one `outl` of the argument structure's gPA to the call's
 * port: vmcall hangs on this machine's KVM and port I/O from ring 3 may #GP,
 * so only ring 0 calls. The VMM writes `ret` before the vCPU resumes.
 */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include "kernel.h"

static inline int64_t hypercall(unsigned nr, void *arg)
{
	uint32_t gpa = (uint32_t)kva_to_phys(arg);
	__asm__ volatile("outl %0, %w1" ::"a"(gpa), "Nd"((uint16_t)DMTVM_HC_PORT(nr)) : "memory");
	return *(volatile int64_t *)arg;
}

/*
 * The same for an argument structure in the kernel image (a static, or the
 * kernel stack, which is boot_stack in .bss): its gPA is one subtraction,
 * and as DMTVM_KERNEL_VIRT_BASE's low 32 bits are 0 it is just the low half
 * of the address (one RIP-relative lea for a static), where kva_to_phys
 * needs a compare and two constants (~5 emulated instructions). For the hot
 * paths (KVM_RUN, TIME).
 */
_Static_assert((DMTVM_KERNEL_VIRT_BASE & 0xffffffffULL) == 0, "kernel window 4 GiB aligned");
static inline int64_t hypercall_kimg(unsigned nr, void *arg)
{
	uint32_t gpa = (uint32_t)((uint64_t)arg - DMTVM_KERNEL_VIRT_BASE);
	__asm__ volatile("outl %0, %w1" ::"a"(gpa), "Nd"((uint16_t)DMTVM_HC_PORT(nr)) : "memory");
	return *(volatile int64_t *)arg;
}

#endif /* HYPERCALL_H */
