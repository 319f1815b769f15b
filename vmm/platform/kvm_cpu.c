/* SPDX-License-Identifier: MIT */
/*
 * platform/kvm_cpu.c: the KVM platform's vCPU at boot: CPUID from
 * KVM_GET_SUPPORTED_CPUID, and the register state dmtvm_abi.h promises
 * (vmm.h VMM_BOOT_*) through KVM_SET_SREGS/REGS/FPU; application
 * processors wait for INIT/SIPI.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dmtvm_abi.h"
#include "vmm.h"

static int set_cpuid(struct vmm_vcpu *vcpu, char *err, size_t errlen)
{
	int n = 128;
	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->nent = n;
		if (ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
			free(c);
			if (errno == E2BIG && n < 4096) {
				n *= 2;
				continue;
			}
			snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -1;
		}
		int r = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
		free(c);
		if (r < 0) {
			snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
}

int vmm_kvm_vcpu_boot(struct vmm_vcpu *vcpu, char *err, size_t errlen)
{
	struct vmm *vm = vcpu->vm;
	if (set_cpuid(vcpu, err, errlen) < 0)
		return -1;

	if (vcpu->id != 0) {
		/* Application processors wait for INIT/SIPI from the guest. */
		struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_UNINITIALIZED};
		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
			snprintf(err, errlen, "KVM_SET_MP_STATE vcpu %d: %s", vcpu->id,
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	struct kvm_sregs s;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	struct kvm_segment code = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = 0x08,
	    .type = 11,
	    .present = 1,
	    .dpl = 0,
	    .db = 0,
	    .s = 1,
	    .l = 1,
	    .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	/* TR must be a usable busy 64-bit TSS for VM entry; the kernel loads its own. */
	struct kvm_segment tr = {.base = 0, .limit = 0x67, .selector = 0, .type = 11, .present = 1};
	s.tr = tr;
	struct kvm_segment ldt = {.selector = 0, .type = 2, .present = 1, .limit = 0xffff};
	s.ldt = ldt;
	/* Descriptor-table bases are linear addresses: use the direct map. */
	s.gdt.base = VMM_BOOT_GDT_BASE;
	s.gdt.limit = VMM_BOOT_GDT_LIMIT;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = VMM_BOOT_CR0;
	s.cr3 = VMM_BOOT_CR3;
	s.cr4 = VMM_BOOT_CR4;
	s.efer = VMM_BOOT_EFER;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}

	struct kvm_regs r = {0};
	r.rip = vm->entry;
	r.rflags = 0x2;
	r.rdi = vm->fdt_gpa;
	r.rsi = DMTVM_BOOT_MAGIC;
	r.rsp = 0;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}

	struct kvm_fpu fpu = {0};
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		snprintf(err, errlen, "KVM_SET_FPU: %s", strerror(errno));
		return -1;
	}
	return 0;
}
