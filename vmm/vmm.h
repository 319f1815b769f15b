/* SPDX-License-Identifier: MIT */
/*
 * vmm.h: the VM-wide state of one dmtvm run (struct vmm) and the small
 * interfaces between the VMM's files. One concern per file:
 *   platform/      how guest code runs: kvm.c, ptrace*.c (platform.h)
 *   cpu_x86_64.c   registers, GDT, boot tables
 *   kernel_elf.c   kernel ELF checks      image.c       guest.img reader
 *   boot_fdt.c     device tree            vcpu.c        run loop, exits
 *   hypercall.c    dispatcher table       console.c, hc_lifecycle.c  handlers
 *   ctl*.c         control socket         json.c, jsonw.c  JSON reader, writer
 *   vmm_seccomp.c  filters                status.c, report.c  statistics, report
 *   run.c          `dmtvm run`            main.c        commands
 *   xlate.c, hc_xlate.c  the MMU model, its hypercalls; hostmem.c  host memory, EPT
 *   nested_l1.c    dmtvm as an L1 hypervisor; ept12.c  its EPT12 for L2
 *   nkvm.c         L0 side of nesting (DMTVM_HC_KVM); xlate_l2.c  the L2 model
 */
#ifndef VMM_H
#define VMM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmtvm_abi.h"
#include "platform/platform.h"

#define VMM_MAX_VCPUS 64

struct vmm_vcpu {
	struct vmm *vm;
	int id;
	void *pl; /* the platform's per-vCPU state (ptrace) */
	int fd;	  /* KVM: the vCPU fd and its shared kvm_run page */
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
};

struct vmm {
	/* Set up once, read-only while the guest runs. */
	const struct vmm_platform *platform; /* platform/platform.h */
	void *pl;			     /* the platform's VM-wide state (ptrace) */
	int ram_fd;			     /* guest RAM's memfd (ptrace), else -1 */
	int kvm_fd;
	int vm_fd;
	uint8_t *ram;
	uint64_t mem_size;
	int nvcpus;
	struct vmm_vcpu vcpus[VMM_MAX_VCPUS];
	const char *mode;
	bool seccomp;
	const char *seccomp_probe; /* hidden debug option: "socket" or "execve" */
	uint64_t entry;
	uint64_t fdt_gpa;
	struct vmm_xlate *xlate; /* the MMU model (xlate.h); NULL without one */
	uint64_t console_limit;	 /* bytes of guest console output kept; 0 = no limit */
	struct vmm_l1 *l1;	 /* nested_l1.c: set when this dmtvm is an L1 hypervisor */
	/* nkvm.c: L0's side of nesting (the L2 VM), created at L1's first KVM hypercall. */
	_Atomic(struct vmm_nkvm *) nkvm;

	/* Statistics, updated by vCPU threads, read by the control thread. */
	_Atomic uint64_t exits[VMM_EXIT_NKINDS];
	_Atomic uint64_t hypercalls[64];
	_Atomic uint64_t boot_ns;	/* INIT_STARTED time since process start, 0 = not yet */
	_Atomic uint64_t start_ns;	/* first KVM_RUN, since process start */
	_Atomic uint64_t console_bytes; /* guest console output so far */

	/* Start gate: vCPUs enter KVM_RUN once every thread has its filter. */
	pthread_cond_t start_cond;
	bool started;

	/* Termination: the first vmm_stop() wins, the main thread exits. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopped;
	int exit_status;
};

/* time.c: nanoseconds since process start (taken in a constructor). */
uint64_t vmm_now_ns(void);
uint64_t vmm_process_start_monotonic_ns(void);
/* Wall clock (ns since the epoch) at now_ns = vmm_now_ns(). */
uint64_t vmm_realtime_ns(uint64_t now_ns);

/* run.c: ask the main thread to end the run with this exit status. */
void vmm_stop(struct vmm *vm, int status);

/* Guest RAM access, bounds- and overflow-checked: NULL when
 * [gpa, gpa + len) is not wholly inside RAM. */
static inline void *vmm_gpa(const struct vmm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

/* cpu_x86_64.c */
uint64_t vmm_cpu_boot_tables_size(uint64_t mem_size);
int vmm_cpu_build_boot_tables(struct vmm *vm, char *err, size_t errlen);
/*
 * The boot state dmtvm_abi.h promises, whichever platform sets it: 64-bit
 * ring 0 (CR0 PE MP ET NE WP PG, CR4 PAE OSFXSR OSXMMEXCPT, EFER SCE LME
 * LMA NXE) on the VMM's boot tables, the boot GDT through the direct map.
 */
#define VMM_BOOT_CR0	   0x80050033ULL
#define VMM_BOOT_CR4	   0x620ULL
#define VMM_BOOT_EFER	   0xd01ULL
#define VMM_BOOT_CR3	   DMTVM_BOOT_PT_GPA /* the boot PML4 */
#define VMM_BOOT_GDT_BASE  (DMTVM_DIRECT_MAP_BASE + DMTVM_BOOT_GDT_GPA)
#define VMM_BOOT_GDT_LIMIT (3 * 8 - 1)

/* platform/kvm_cpu.c: the boot state on KVM (vCPU 0), or wait-for-SIPI. */
int vmm_kvm_vcpu_boot(struct vmm_vcpu *vcpu, char *err, size_t errlen);

/* vcpu.c */
void *vmm_vcpu_thread(void *arg);
void vmm_vcpu_loop(struct vmm_vcpu *vcpu); /* KVM_RUN until the run ends */

/* hc_lifecycle.c: "dmtvm", or "dmtvm (L1)" once nested_l1.c found the
 * paravirtual /dev/kvm of a dmtvm guest: the prefix of messages that name
 * the level, so the outer user knows which level failed. */
const char *vmm_level_tag(void);
void vmm_set_level(int level); /* 0: on real KVM, 1: an L1 hypervisor */

/* hypercall.c: handle an `out` to a hypercall port; returns 0 to resume. */
int vmm_hypercall(struct vmm_vcpu *vcpu, uint16_t port, uint32_t gpa);

#endif /* VMM_H */
