/* SPDX-License-Identifier: MIT */
/*
 * platform/kvm.c: the KVM platform: /dev/kvm, the VM fd, guest RAM (one
 * memslot at gPA 0), vCPU fds with their shared kvm_run pages, KVM_RUN and
 * its exits in the VMM's terms (platform.h). On the paravirtual /dev/kvm
 * of a dmtvm guest (nested_l1.h) the RAM is instead pinned
 * guest-physically contiguous in pieces of at most 1 GiB, one memslot
 * each, so L0 can back L2 with those frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nested_l1.h"
#include "platform.h"
#include "vmm.h"

static int kvm_open(struct vmm *vm, char *err, size_t errlen)
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

static int kvm_irqchip(struct vmm *vm, char *err, size_t errlen)
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

static int kvm_ram(struct vmm *vm, uint64_t mem_size, char *err, size_t errlen)
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

static int kvm_vcpu_create(struct vmm *vm, int id, char *err, size_t errlen)
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

static uint32_t kvm_tsc_khz(struct vmm *vm)
{
	/* KVM_GET_TSC_KHZ is a vCPU ioctl. */
	int r = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	return r > 0 ? (uint32_t)r : 0;
}

/* KVM_RUN until an exit, in the VMM's terms. */
static int kvm_vcpu_run(struct vmm_vcpu *v, struct vmm_exit *e, char *err, size_t errlen)
{
	struct kvm_run *run = v->run;
	memset(e, 0, offsetof(struct vmm_exit, why) + 1);
	if (ioctl(v->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			e->kind = VMM_EXIT_INTR;
			return 0;
		}
		snprintf(err, errlen, "KVM_RUN: %s", strerror(errno));
		return -1;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		e->kind = VMM_EXIT_IO;
		e->io.port = run->io.port;
		e->io.out = run->io.direction == KVM_EXIT_IO_OUT;
		e->io.size = run->io.size;
		e->io.count = run->io.count;
		/* The data lies in the shared page: bound it by the page. */
		if ((uint64_t)run->io.size * run->io.count > v->run_size - run->io.data_offset)
			e->io.count = 0;
		e->io.data = (uint8_t *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		e->kind = VMM_EXIT_MMIO;
		e->mmio.gpa = run->mmio.phys_addr;
		e->mmio.len = run->mmio.len;
		e->mmio.write = run->mmio.is_write;
		break;
	case KVM_EXIT_HLT:
		e->kind = VMM_EXIT_HLT;
		break;
	case KVM_EXIT_INTR:
		e->kind = VMM_EXIT_INTR;
		break;
	case KVM_EXIT_SHUTDOWN:
		e->kind = VMM_EXIT_SHUTDOWN;
		snprintf(e->why, sizeof(e->why), "guest triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		e->kind = VMM_EXIT_INTERNAL;
		snprintf(e->why, sizeof(e->why), "KVM internal error, suberror %u",
			 run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		e->kind = VMM_EXIT_FAIL_ENTRY;
		snprintf(e->why, sizeof(e->why), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		e->kind = VMM_EXIT_OTHER;
		snprintf(e->why, sizeof(e->why), "unexpected KVM exit reason %u", run->exit_reason);
		break;
	}
	return 0;
}

static int kvm_vcpu_state(struct vmm_vcpu *v, struct vmm_cpu_state *s)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -1;
	const uint64_t gpr[16] = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
				  r.r8,	 r.r9,	r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
	memcpy(s->gpr, gpr, sizeof(gpr));
	s->rip = r.rip;
	s->rflags = r.rflags;
	s->cs = sr.cs.selector;
	s->cr0 = sr.cr0;
	s->cr2 = sr.cr2;
	s->cr3 = sr.cr3;
	s->cr4 = sr.cr4;
	s->efer = sr.efer;
	return 0;
}

/* KVM's own walker of the vCPU's current page tables. */
static int kvm_translate(struct vmm_vcpu *v, uint64_t va, uint64_t *gpa)
{
	struct kvm_translation tr = {.linear_address = va};
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0)
		return -1;
	*gpa = tr.physical_address;
	return tr.valid != 0;
}

static int kvm_vcpu_thread_init(struct vmm_vcpu *v, char *err, size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	return 0;
}

/* KVM_TRANSLATE: --debug-translate-check asks KVM's walker. */
static const unsigned long kvm_vcpu_ioctls[] = {KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS,
						KVM_TRANSLATE};

const struct vmm_platform vmm_platform_kvm = {
    .name = "kvm",
    .open = kvm_open,
    .ram = kvm_ram,
    .irqchip = kvm_irqchip,
    .vcpu_create = kvm_vcpu_create,
    .vcpu_boot = vmm_kvm_vcpu_boot,
    .vcpu_thread_init = kvm_vcpu_thread_init,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_state = kvm_vcpu_state,
    .translate = kvm_translate,
    .tsc_khz = kvm_tsc_khz,
    .vcpu_ioctls = kvm_vcpu_ioctls,
    .n_vcpu_ioctls = sizeof(kvm_vcpu_ioctls) / sizeof(kvm_vcpu_ioctls[0]),
    .l2 = &vmm_l2_kvm,
};
