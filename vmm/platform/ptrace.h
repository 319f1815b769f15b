/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace.h: the ptrace platform's private state, shared by its
 * files (the design and its cost model: vmm/README.md "Platforms"):
 *   ptrace.c       the platform's operations (platform.h) and the run loop
 *   ptrace_proc.c  traced host processes: creation, stub, seccomp, injection
 *   ptrace_mmu.c   guest page-table walks and the host mappings as a TLB
 *   ptrace_cpu.c   the emulated CPU: privileged instructions, exceptions
 *   ptrace_insn.c  the instruction decoder
 * Per vCPU, two traced host processes share guest RAM (a memfd): K runs
 * the guest's ring-0 code, U its ring-3 code. Each holds only mappings
 * installed from the guest's own page tables, so U can never reach a
 * supervisor page; the one register file moves between them on every
 * ring change.
 */
#ifndef VMM_PTRACE_H
#define VMM_PTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

#include "platform.h"
#include "ptrace_insn.h"

struct vmm;
struct vmm_vcpu;

/* The platform's stub page in every child (dmtvm_abi.h: reserved slot 255). */
#define PT_STUB_VA    0x7fff00000000ULL
#define PT_STUB_SIZE  4096ULL
#define PT_BATCH_VA   (PT_STUB_VA + PT_STUB_SIZE) /* the batch table, read-only in the child */
#define PT_BATCH_SIZE 0x8000ULL
#define PT_BATCH_MAX  (PT_BATCH_SIZE / sizeof(struct pt_mmap))
#define PT_HOST_TOP   0x800000000000ULL /* end of a host process's user half */
#define PT_TLB_GRAN   (2ULL << 20)	/* the TLB tracks 2 MiB granules */
#define PT_TLB_MAX    16384		/* mappings before a full flush (max_map_count 65530) */

/* One page of a granule: gPA | PT_PROT_* (0 = not mapped). */
#define PT_PROT_R  1
#define PT_PROT_W  2
#define PT_PROT_X  4
#define PT_LEAF_2M 8  /* the translation came from a 2 MiB leaf: invlpg drops its granule */
#define PT_LEAF_1G 16 /* ... from a 1 GiB leaf: invlpg drops every granule of it */

struct pt_gran {
	uint64_t g; /* va >> 21, ~0 = empty slot */
	uint64_t page[512];
};

/* The host mappings of one traced process: a TLB keyed by 2 MiB granule. */
struct pt_tlb {
	struct pt_gran **slots; /* open addressing on g */
	size_t cap, used;
	uint64_t fills;	 /* mmaps since the last full flush */
	uint64_t kfills; /* ... of them in the kernel half (a user flush keeps those) */
};

/* One mmap of a batch (the stub's table): mmap(addr, len, prot, flags, fd, off). */
struct pt_mmap {
	uint64_t addr, len, prot, flags, fd, off;
};

/* One traced host process. */
struct pt_proc {
	pid_t pid;
	void *batch;		      /* our mapping of its batch table (PT_BATCH_SIZE) */
	struct user_regs_struct regs; /* its registers, valid while stopped */
	bool dirty;		      /* regs changed: PTRACE_SETREGS before resuming */
	struct pt_tlb tlb;
	const char *name; /* "kernel" or "user" */
};

/* Guest-physical memory as a traced process maps it: gPA -> offset in the
 * guest RAM memfd. L1 (a VM of its own): the identity over [0, size). L2
 * (nesting, ptrace_nested.c): its memslots onto the L1 frames that back it. */
struct pt_mem {
	uint8_t *ram;			 /* the tracer's mapping of the memfd */
	uint64_t ram_size;		 /* of the memfd */
	const struct vmm_memslot *slots; /* l1_gpa: the memfd offset */
	unsigned nslots;		 /* 0: identity */
};
/* [gpa, gpa + len) in one piece of memory: 0 and *off, or -1 (outside RAM). */
int pt_mem_off(const struct pt_mem *m, uint64_t gpa, uint64_t len, uint64_t *off);
void *pt_mem_ptr(const struct pt_mem *m, uint64_t gpa, uint64_t len);

/* Platform counters (vmm/README.md; `dmtvm ctl status`). */
struct pt_stats {
	uint64_t syscalls, faults, fills, flushes, emulated, injected, exceptions, batches;
};

struct pt_vcpu {
	struct pt_proc k, u;
	int cpl; /* 0: K runs, 3: U runs */
	/* The emulated CPU state that is not in the host registers. */
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t tr_sel, cs, ss;
	uint64_t tr_base;
	uint64_t star, lstar, cstar, sfmask, fs_base, gs_base, kgs_base, tsc_aux;
	bool intf; /* RFLAGS.IF as the guest sees it */
	/* A port access handed to the VMM, completed at the next run. */
	struct {
		bool pending, in;
		uint8_t size, len;
		uint8_t data[8];
	} io;
	int ram_fd;	  /* guest RAM's fd number, in us and in the children */
	uint64_t tlb_max; /* fills before a full flush (PT_TLB_MAX; DMTVM_PTRACE_TLB_MAX) */
	struct pt_mem mem;
	bool started;
	struct pt_stats st;
	/* Spare processes for an L2 VM (ptrace_nested.c), spawned with these. */
	struct pt_proc l2k, l2u;
};

struct pt_vm {
	bool irqchip; /* --lapic: hlt waits (for ever: no interrupts yet) */
	/* Spare bare processes for an L2 (ptrace_nested.c), spawned by the main
	 * thread while the guest boots, adopted by the L1 vCPU thread. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool spares_done;
	pid_t spare[2];
	void *spare_batch[2];
};

/* ptrace.c: the spare processes for an L2 into c->l2k/l2u (once). */
int pt_take_spares(struct vmm *vm, struct pt_vcpu *c, char *err, size_t errlen);
/* ptrace.c: run until an exit the VMM must see: 0 and *e, or -1 + err. */
int pt_run(struct pt_vcpu *c, struct vmm_exit *e, char *err, size_t errlen);

/* ptrace_proc.c */
int pt_proc_spawn(struct pt_proc *p, int ram_fd, const char *name, char *err, size_t errlen);
/* A bare child that stops itself, for any thread to adopt (seize) later: its pid. */
pid_t pt_proc_spawn_stopped(int ram_fd, void **batch, char *err, size_t errlen);
int pt_proc_adopt(struct pt_proc *p, pid_t pid, void *batch, const char *name, char *err,
		  size_t errlen);
/* The n mmaps of m in one stop (the stub's batch loop): 0, or the failed one's -errno. */
long pt_proc_inject_mmaps(struct pt_proc *p, const struct pt_mmap *m, unsigned n);
/* Resume with PTRACE_SYSEMU and wait for the next stop: 0, or -1 + err when
 * the process died. *sig is the stop signal (SIGTRAP | 0x80: a system call). */
int pt_proc_run(struct pt_proc *p, int *sig, siginfo_t *si, char *err, size_t errlen);
/* The siginfo of the stop p is in (after pt_proc_run). */
void pt_proc_siginfo(struct pt_proc *p, siginfo_t *si);
/* Run one system call in the process (the platform's own): its result. */
long pt_proc_inject(struct pt_proc *p, long nr, long a0, long a1, long a2, long a3, long a4,
		    long a5);

/* ptrace_mmu.c */
struct pt_walk {
	uint64_t gpa;	 /* of va */
	uint64_t size;	 /* leaf page size: 4 KiB, 2 MiB, 1 GiB */
	uint64_t *leaf;	 /* the leaf entry in guest RAM */
	bool w, u, x;	 /* rights over all levels */
	bool uw, uu, ux; /* rights of the levels above the leaf */
};
/* Walk the guest's tables at cr3: 0 and *w, or -1 (not present, bad table gPA). */
int pt_walk(const struct pt_mem *m, uint64_t cr3, uint64_t va, struct pt_walk *w);
/* Read/write guest-virtual memory as the kernel sees it (cr3): 0 or -1. */
int pt_kread(struct pt_vcpu *c, uint64_t va, void *buf, size_t n);
int pt_kwrite(struct pt_vcpu *c, uint64_t va, const void *buf, size_t n);
/*
 * A host fault at va in p (cpl of p): install the guest's mapping (0), or
 * say the guest must see a #PF with *error (1), or the gPA lies outside RAM
 * (2, *gpa set: an MMIO exit).
 */
int pt_tlb_fault(struct pt_vcpu *c, struct pt_proc *p, int cpl, uint64_t va, bool fetch, bool write,
		 uint64_t *error, uint64_t *gpa);
void pt_tlb_flush(struct pt_vcpu *c, struct pt_proc *p, bool user_only);
void pt_tlb_invlpg(struct pt_vcpu *c, uint64_t va);
/* What p's host mappings resolve va to: 1 and *gpa, or 0. */
int pt_tlb_lookup(struct pt_proc *p, uint64_t va, uint64_t *gpa);

/* ptrace_cpu.c */
enum pt_step { PT_STEP_GO, PT_STEP_EXIT, PT_STEP_ERROR };
/* Deliver exception vec to the guest kernel from the running process. */
enum pt_step pt_exception(struct pt_vcpu *c, unsigned vec, bool has_err, uint64_t err,
			  struct vmm_exit *e);
/* The system call of U, delivered as the kernel expects it. */
enum pt_step pt_syscall(struct pt_vcpu *c, struct vmm_exit *e);
/* A privileged instruction (SIGSEGV SI_KERNEL) in the running process. */
enum pt_step pt_privileged(struct pt_vcpu *c, struct vmm_exit *e);
/* K stopped by SIGSEGV at a privileged instruction it may run: emulate it
 * without asking for the siginfo (ptrace_cpu.c); false: not one. */
bool pt_privileged_fast(struct pt_vcpu *c, struct vmm_exit *e, enum pt_step *s);
/* The instruction bytes at rip as the kernel sees them (up to 15): how many. */
size_t pt_fetch(struct pt_vcpu *c, uint64_t rip, uint8_t buf[15]);
/* The general registers in x86 order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15). */
void pt_gprs(const struct user_regs_struct *r, uint64_t g[16]);
/* Pending in/out of the previous exit. */
void pt_io_complete(struct pt_vcpu *c);
/* Current process and its registers. */
static inline struct pt_proc *pt_cur(struct pt_vcpu *c)
{
	return c->cpl ? &c->u : &c->k;
}

#endif /* VMM_PTRACE_H */
