/* SPDX-License-Identifier: MIT */
/*
 * platform.h: how guest instructions execute, behind one interface (the
 * shape of gVisor's platforms and of cloud-hypervisor's `hypervisor`
 * crate). The VMM above never knows which platform runs the guest:
 *   kvm.c      /dev/kvm: the guest runs in a KVM VM (VMX/SVM or kvm_pvm)
 *   ptrace*.c  no KVM: guest code runs natively in traced host processes,
 *              privileged instructions trapped and emulated (vmm/README.md)
 * Only the KVM platform's files issue KVM ioctls. A platform owns the VM,
 * guest RAM, the vCPUs and their registers; the VMM owns the boot image,
 * the hypercalls, the model and the report.
 */
#ifndef VMM_PLATFORM_H
#define VMM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmm;
struct vmm_vcpu;

/* Exit reasons counted per VM (the exits a platform returns to the VMM). */
enum vmm_exit_kind {
	VMM_EXIT_IO,	   /* port I/O (hypercalls and others) */
	VMM_EXIT_MMIO,	   /* access to a gPA outside RAM */
	VMM_EXIT_HLT,	   /* hlt with nothing that could wake the vCPU */
	VMM_EXIT_INTR,	   /* the run was interrupted (a signal); resume */
	VMM_EXIT_SHUTDOWN, /* triple fault */
	VMM_EXIT_INTERNAL, /* the platform could not go on (emulation failure) */
	VMM_EXIT_FAIL_ENTRY,
	VMM_EXIT_OTHER,
	VMM_EXIT_NKINDS
};

/* One exit, as the VMM handles it whatever the platform. */
struct vmm_exit {
	enum vmm_exit_kind kind;
	struct {
		uint16_t port;
		bool out;
		uint8_t size;
		uint32_t count;
		uint8_t *data; /* size * count bytes: out's data, or where in's goes */
	} io;
	struct {
		uint64_t gpa;
		uint32_t len; /* 0: unknown */
		bool write;
	} mmio;
	char why[160]; /* INTERNAL, FAIL_ENTRY, OTHER: the platform's explanation */
};

/* The architectural state a register dump and the model need. */
struct vmm_cpu_state {
	uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (x86 order) */
	uint64_t rip, rflags;
	uint16_t cs;
	uint64_t cr0, cr2, cr3, cr4, efer;
};

struct vmm_platform {
	const char *name; /* "kvm", "ptrace" */
	/* The platform itself; -1 + err when it cannot be had here. */
	int (*open)(struct vmm *vm, char *err, size_t errlen);
	/* Guest RAM at gPA 0 (vm->ram, vm->mem_size). */
	int (*ram)(struct vmm *vm, uint64_t mem_size, char *err, size_t errlen);
	/* Interrupt controller for SMP and guest timers (--lapic, --vcpus > 1). */
	int (*irqchip)(struct vmm *vm, char *err, size_t errlen);
	int (*vcpu_create)(struct vmm *vm, int id, char *err, size_t errlen);
	/* Boot state of dmtvm_abi.h (vCPU 0), or wait-for-SIPI (the others). */
	int (*vcpu_boot)(struct vmm_vcpu *v, char *err, size_t errlen);
	/* On the thread that will run the vCPU, before its seccomp filter. */
	int (*vcpu_thread_init)(struct vmm_vcpu *v, char *err, size_t errlen);
	/*
	 * On the main thread once the vCPU threads exist, before its seccomp
	 * filter (or before the vCPU's, single-threaded): setup that can
	 * overlap the boot. May be NULL.
	 */
	void (*background)(struct vmm *vm);
	/* Run until an exit: 0 and *e, or -1 + err (the platform failed). */
	int (*vcpu_run)(struct vmm_vcpu *v, struct vmm_exit *e, char *err, size_t errlen);
	int (*vcpu_state)(struct vmm_vcpu *v, struct vmm_cpu_state *s);
	/*
	 * The platform's own view of va under the vCPU's current page tables
	 * (KVM_TRANSLATE; on ptrace, what the host resolved for the traced
	 * child): 1 and *gpa, 0 not mapped, -1 no view (the check is skipped).
	 */
	int (*translate)(struct vmm_vcpu *v, uint64_t va, uint64_t *gpa);
	uint32_t (*tsc_khz)(struct vmm *vm);
	/* The platform's own counters, summed over vCPUs: how many, names and
	 * values in names[]/vals[] (at most max). May be NULL. */
	int (*counters)(struct vmm *vm, const char **names, uint64_t *vals, int max);
	/* Extra system calls / ioctls the vCPU thread's seccomp filter allows. */
	const int *vcpu_syscalls;
	size_t n_vcpu_syscalls;
	const unsigned long *vcpu_ioctls;
	size_t n_vcpu_ioctls;
	const struct vmm_l2_ops *l2; /* L0's side of nesting (nkvm.c) */
};

extern const struct vmm_platform vmm_platform_kvm;
extern const struct vmm_platform vmm_platform_ptrace;

/*
 * --platform=auto|kvm|ptrace: auto takes KVM when /dev/kvm opens, else
 * ptrace (one NOTE line on stderr). Sets vm->platform and opens it.
 */
int vmm_platform_open(struct vmm *vm, const char *which, char *err, size_t errlen);

const char *vmm_exit_kind_name(enum vmm_exit_kind k);

/*
 * L0's side of nesting (nkvm.c): one L2 VM on this platform, run on the L1
 * vCPU thread that asks, its RAM the L1 frames behind its memslots. Each
 * operation has KVM's semantics (-errno on error): on KVM it is KVM
 * (kvm_nested.c), on ptrace a second emulated vCPU (ptrace_nested.c).
 */
/* One L2 memslot: L2 gPA [l2_gpa, + size) is L1 gPA [l1_gpa, + size). */
struct vmm_memslot {
	uint32_t slot;
	uint64_t l2_gpa, size, l1_gpa;
};

/* L2 gPA -> L1 gPA through the memslots: 0, or -1 when not in one slot. */
static inline int vmm_memslot_find(const struct vmm_memslot *slots, unsigned nslots,
				   uint64_t l2_gpa, uint64_t len, uint64_t *l1_gpa)
{
	for (unsigned i = 0; i < nslots; i++) {
		const struct vmm_memslot *s = &slots[i];
		if (l2_gpa >= s->l2_gpa && l2_gpa - s->l2_gpa < s->size &&
		    len <= s->size - (l2_gpa - s->l2_gpa)) {
			*l1_gpa = s->l1_gpa + (l2_gpa - s->l2_gpa);
			return 0;
		}
	}
	return -1;
}

struct vmm_l2vm;
struct vmm_l2_ops {
	int (*create)(struct vmm_vcpu *l1, struct vmm_l2vm **l2);
	void (*destroy)(struct vmm_l2vm *l2);
	/* vCPU id and its kvm_run area (*run, *size bytes). */
	int (*vcpu_create)(struct vmm *vm, struct vmm_l2vm *l2, int id, void **run, size_t *size);
	void (*vcpu_destroy)(struct vmm_l2vm *l2, int id);
	/* A memslot changed: the KVM region with a host address, and all
	 * slots now. */
	int (*set_region)(struct vmm_l2vm *l2, const void *host_region,
			  const struct vmm_memslot *slots, unsigned n);
	/* Any other allowed ioctl: of the system (l2 NULL), the VM (vcpu -1)
	 * or a vCPU; arg is the argument buffer, or NULL and iarg. */
	long (*ioctl)(struct vmm *vm, struct vmm_l2vm *l2, int vcpu, unsigned long cmd, void *arg,
		      unsigned long iarg);
	/* KVM_RUN of vcpu: its exit is in its kvm_run area. */
	long (*run)(struct vmm_l2vm *l2, int vcpu);
};
extern const struct vmm_l2_ops vmm_l2_kvm, vmm_l2_ptrace;

#endif /* VMM_PLATFORM_H */
