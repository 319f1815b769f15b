/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c: one thread per vCPU running KVM_RUN and sorting its exits. Any
 * exit the guest protocol does not explain (triple fault, emulation
 * failure, MMIO outside RAM) prints the registers and ends the run with
 * DMTVM_EXIT_GUEST_PANIC: a guest can stop itself, never crash dmtvm.
 * As an L1 hypervisor, these are L2's exits reflected by L0, and the
 * messages say "dmtvm (L1)" so the outer user knows which level failed.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dmtvm_abi.h"
#include "vmm_seccomp.h"
#include "vmm.h"

static void count(struct vmm *vm, enum vmm_exit_kind k)
{
	atomic_fetch_add_explicit(&vm->exits[k], 1, memory_order_relaxed);
}

static int guest_fault(struct vmm_vcpu *vcpu, const char *what)
{
	fprintf(stderr, "%s: vcpu %d: %s\n", vmm_level_tag(), vcpu->id, what);
	vmm_cpu_dump(vcpu);
	vmm_stop(vcpu->vm, DMTVM_EXIT_GUEST_PANIC);
	return -1;
}

static int handle_io(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint16_t port = run->io.port;
	if (port < DMTVM_HC_PORT_BASE || port > DMTVM_HC_PORT_MAX) {
		/* Not ours (e.g. a legacy probe): writes vanish, reads float high. */
		if (run->io.direction == KVM_EXIT_IO_IN &&
		    (uint64_t)run->io.size * run->io.count <= vcpu->run_size - run->io.data_offset)
			memset(data, 0xff, (size_t)run->io.size * run->io.count);
		return 0;
	}
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1) {
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "bad hypercall access to port %#x (%s, size %u, count %u; needs one outl)",
			 port, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.size,
			 run->io.count);
		return guest_fault(vcpu, msg);
	}
	uint32_t gpa;
	memcpy(&gpa, data, 4);
	return vmm_hypercall(vcpu, port, gpa);
}

static int handle_exit(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmm *vm = vcpu->vm;
	char msg[160];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		count(vm, VMM_EXIT_IO);
		return handle_io(vcpu);
	case KVM_EXIT_MMIO:
		count(vm, VMM_EXIT_MMIO);
		snprintf(msg, sizeof(msg), "guest %s of %u bytes at gPA %#llx outside RAM",
			 run->mmio.is_write ? "write" : "read", run->mmio.len,
			 (unsigned long long)run->mmio.phys_addr);
		return guest_fault(vcpu, msg);
	case KVM_EXIT_HLT:
		count(vm, VMM_EXIT_HLT);
		/* Only without an in-kernel LAPIC: nothing could ever wake the vCPU. */
		return guest_fault(vcpu,
				   "guest halted with no interrupt source (hlt without --lapic)");
	case KVM_EXIT_INTR:
		count(vm, VMM_EXIT_INTR);
		return 0;
	case KVM_EXIT_SHUTDOWN:
		count(vm, VMM_EXIT_SHUTDOWN);
		return guest_fault(vcpu, "guest triple fault (KVM_EXIT_SHUTDOWN)");
	case KVM_EXIT_INTERNAL_ERROR:
		count(vm, VMM_EXIT_INTERNAL);
		snprintf(msg, sizeof(msg), "KVM internal error, suberror %u",
			 run->internal.suberror);
		return guest_fault(vcpu, msg);
	case KVM_EXIT_FAIL_ENTRY:
		count(vm, VMM_EXIT_FAIL_ENTRY);
		snprintf(msg, sizeof(msg), "VM entry failed, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return guest_fault(vcpu, msg);
	default:
		count(vm, VMM_EXIT_OTHER);
		snprintf(msg, sizeof(msg), "unexpected KVM exit reason %u", run->exit_reason);
		return guest_fault(vcpu, msg);
	}
}

/*
 * KVM_RUN until the run ends (an exit that stops it, vmm_stop, or a KVM
 * error). The same loop serves a vCPU thread and the single-threaded run
 * (run.c: one vCPU on the main thread, as in an L1 guest with no clone).
 */
void vmm_vcpu_loop(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	/* "socket" and "execve" probe the vCPU thread; ctl- and model- the others. */
	if (vm->seccomp_probe && vcpu->id == 0 && !strchr(vm->seccomp_probe, '-'))
		vmm_seccomp_probe(vm->seccomp_probe);
	if (vcpu->id == 0) {
		uint64_t zero = 0;
		atomic_compare_exchange_strong(&vm->start_ns, &zero, vmm_now_ns());
	}
	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				count(vm, VMM_EXIT_INTR);
				continue;
			}
			fprintf(stderr, "%s: vcpu %d: KVM_RUN: %s\n", vmm_level_tag(), vcpu->id,
				strerror(errno));
			vmm_stop(vm, DMTVM_EXIT_VMM_ERROR);
			return;
		}
		if (handle_exit(vcpu) < 0)
			return;
	}
}

void *vmm_vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	struct vmm *vm = vcpu->vm;
	char err[256];
	if (vm->seccomp && vmm_seccomp_vcpu(vm, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm: %s\n", err);
		vmm_stop(vm, DMTVM_EXIT_VMM_ERROR);
		return NULL;
	}
	pthread_mutex_lock(&vm->lock);
	while (!vm->started)
		pthread_cond_wait(&vm->start_cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	vmm_vcpu_loop(vcpu);
	return NULL;
}
