/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c: one thread per vCPU running the platform's vCPU and sorting its
 * exits (platform/platform.h). Any
 * exit the guest protocol does not explain (triple fault, emulation
 * failure, MMIO outside RAM) prints the registers and ends the run with
 * DMTVM_EXIT_GUEST_PANIC: a guest can stop itself, never crash dmtvm.
 * As an L1 hypervisor, these are L2's exits reflected by L0, and the
 * messages say "dmtvm (L1)" so the outer user knows which level failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmtvm_abi.h"
#include "vmm_seccomp.h"
#include "vmm.h"

static void count(struct vmm *vm, enum vmm_exit_kind k)
{
	atomic_fetch_add_explicit(&vm->exits[k], 1, memory_order_relaxed);
}

/* The registers, for a guest that stopped in a way the protocol does not explain. */
static void dump(struct vmm_vcpu *vcpu)
{
	struct vmm_cpu_state s;
	const char *t = vmm_level_tag();
	if (vcpu->vm->platform->vcpu_state(vcpu, &s) < 0) {
		fprintf(stderr, "%s: vcpu %d: cannot read registers: %s\n", t, vcpu->id,
			strerror(errno));
		return;
	}
	const uint64_t *g = s.gpr;
	fprintf(stderr,
		"%s: vcpu %d: rip %#llx rsp %#llx rflags %#llx cs %#x cr0 %#llx cr2 %#llx "
		"cr3 %#llx cr4 %#llx efer %#llx\n"
		"%s:   rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx rbp %#llx\n"
		"%s:   r8 %#llx r9 %#llx r10 %#llx r11 %#llx r12 %#llx r13 %#llx r14 %#llx "
		"r15 %#llx\n",
		t, vcpu->id, (unsigned long long)s.rip, (unsigned long long)g[4],
		(unsigned long long)s.rflags, s.cs, (unsigned long long)s.cr0,
		(unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		(unsigned long long)s.efer, t, (unsigned long long)g[0], (unsigned long long)g[3],
		(unsigned long long)g[1], (unsigned long long)g[2], (unsigned long long)g[6],
		(unsigned long long)g[7], (unsigned long long)g[5], t, (unsigned long long)g[8],
		(unsigned long long)g[9], (unsigned long long)g[10], (unsigned long long)g[11],
		(unsigned long long)g[12], (unsigned long long)g[13], (unsigned long long)g[14],
		(unsigned long long)g[15]);
}

static int guest_fault(struct vmm_vcpu *vcpu, const char *what)
{
	fprintf(stderr, "%s: vcpu %d: %s\n", vmm_level_tag(), vcpu->id, what);
	dump(vcpu);
	vmm_stop(vcpu->vm, DMTVM_EXIT_GUEST_PANIC);
	return -1;
}

static int handle_io(struct vmm_vcpu *vcpu, const struct vmm_exit *e)
{
	uint16_t port = e->io.port;
	if (port < DMTVM_HC_PORT_BASE || port > DMTVM_HC_PORT_MAX) {
		/* Not ours (e.g. a legacy probe): writes vanish, reads float high. */
		if (!e->io.out)
			memset(e->io.data, 0xff, (size_t)e->io.size * e->io.count);
		return 0;
	}
	if (!e->io.out || e->io.size != 4 || e->io.count != 1) {
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "bad hypercall access to port %#x (%s, size %u, count %u; needs one outl)",
			 port, e->io.out ? "out" : "in", e->io.size, e->io.count);
		return guest_fault(vcpu, msg);
	}
	uint32_t gpa;
	memcpy(&gpa, e->io.data, 4);
	return vmm_hypercall(vcpu, port, gpa);
}

static int handle_exit(struct vmm_vcpu *vcpu, const struct vmm_exit *e)
{
	struct vmm *vm = vcpu->vm;
	char msg[200];
	count(vm, e->kind);
	switch (e->kind) {
	case VMM_EXIT_IO:
		return handle_io(vcpu, e);
	case VMM_EXIT_MMIO:
		if (e->mmio.len)
			snprintf(msg, sizeof(msg), "guest %s of %u bytes at gPA %#llx outside RAM",
				 e->mmio.write ? "write" : "read", e->mmio.len,
				 (unsigned long long)e->mmio.gpa);
		else
			snprintf(msg, sizeof(msg), "guest access at gPA %#llx outside RAM",
				 (unsigned long long)e->mmio.gpa);
		return guest_fault(vcpu, msg);
	case VMM_EXIT_HLT:
		/* Only without an interrupt controller: nothing could ever wake the vCPU. */
		return guest_fault(vcpu,
				   "guest halted with no interrupt source (hlt without --lapic)");
	case VMM_EXIT_INTR:
		return 0;
	default:
		return guest_fault(vcpu, e->why);
	}
}

/*
 * Run the vCPU until the run ends (an exit that stops it, vmm_stop, or a
 * platform error). The same loop serves a vCPU thread and the
 * single-threaded run (run.c: one vCPU on the main thread, as in an L1
 * guest with no clone).
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
	struct vmm_exit e;
	char err[256];
	for (;;) {
		if (vm->platform->vcpu_run(vcpu, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: vcpu %d: %s\n", vmm_level_tag(), vcpu->id, err);
			vmm_stop(vm, DMTVM_EXIT_VMM_ERROR);
			return;
		}
		if (handle_exit(vcpu, &e) < 0)
			return;
	}
}

void *vmm_vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	struct vmm *vm = vcpu->vm;
	char err[256];
	if (vm->platform->vcpu_thread_init(vcpu, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: vcpu %d: %s\n", vmm_level_tag(), vcpu->id, err);
		vmm_stop(vm, DMTVM_EXIT_VMM_ERROR);
		return NULL;
	}
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
