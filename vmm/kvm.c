/* SPDX-License-Identifier: MIT */
/*
 * kvm.c: the KVM side of a VM: /dev/kvm, the VM fd, guest RAM (one memslot
 * at gPA 0) and vCPU fds with their shared kvm_run pages. On the
 * paravirtual /dev/kvm of a dmtvm guest (nested_l1.h) the RAM is instead
 * pinned guest-physically contiguous in pieces of at most 1 GiB, one
 * memslot each, so L0 can back L2 with those frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nested_l1.h"
#include "vmm.h"

int vmm_kvm_open(struct vmm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
		return -1;
	}
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm API version %d, expected %d", api, KVM_API_VERSION);
		return -1;
	}
	vmm_l1_detect(vm);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/*
	 * Real-mode helpers VMX wants before the first vCPU; harmless in long
	 * mode and on KVMs without VMX, so failures are ignored.
	 */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	uint64_t idmap = 0xfffbc000ULL;
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	return 0;
}

int vmm_kvm_irqchip(struct vmm *vm, char *err, size_t errlen)
{
	/*
	 * In-kernel LAPIC: timers for the guest, and hlt stays in the kernel.
	 * Created after the RAM memslot: with an irqchip present, adding a
	 * memslot waits for an SRCU grace period (~7 ms measured here,
	 * against ~0.1 ms in this order).
	 */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int vmm_kvm_ram(struct vmm *vm, uint64_t mem_size, char *err, size_t errlen)
{
	/* MAP_NORESERVE: only touched pages cost; THP makes first touch ~15x cheaper. */
	void *p = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu bytes of guest RAM: %s",
			 (unsigned long long)mem_size, strerror(errno));
		return -1;
	}
	madvise(p, mem_size, MADV_HUGEPAGE);
	vm->ram = p;
	vm->mem_size = mem_size;
	if (vm->l1)
		return vmm_l1_ram(vm, err, errlen); /* pinned pieces, a memslot each */
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = mem_size,
	    .userspace_addr = (uintptr_t)p,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION (%llu bytes): %s",
			 (unsigned long long)mem_size, strerror(errno));
		return -1;
	}
	return 0;
}

int vmm_kvm_vcpu(struct vmm *vm, int id, char *err, size_t errlen)
{
	struct vmm_vcpu *v = &vm->vcpus[id];
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %d: %s", id, strerror(errno));
		return -1;
	}
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %d", sz);
		return -1;
	}
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		snprintf(err, errlen, "mmap kvm_run: %s", strerror(errno));
		return -1;
	}
	return 0;
}

uint32_t vmm_kvm_tsc_khz(struct vmm *vm)
{
	/* KVM_GET_TSC_KHZ is a vCPU ioctl. */
	int r = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	return r > 0 ? (uint32_t)r : 0;
}

const char *vmm_exit_kind_name(enum vmm_exit_kind k)
{
	static const char *const names[VMM_EXIT_NKINDS] = {
	    [VMM_EXIT_IO] = "io",
	    [VMM_EXIT_MMIO] = "mmio",
	    [VMM_EXIT_HLT] = "hlt",
	    [VMM_EXIT_INTR] = "intr",
	    [VMM_EXIT_SHUTDOWN] = "shutdown",
	    [VMM_EXIT_INTERNAL] = "internal_error",
	    [VMM_EXIT_FAIL_ENTRY] = "fail_entry",
	    [VMM_EXIT_OTHER] = "other",
	};
	return (unsigned)k < VMM_EXIT_NKINDS ? names[k] : "?";
}
