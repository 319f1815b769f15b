/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace.c: the ptrace platform (no /dev/kvm needed): guest RAM
 * as a memfd, per vCPU a tracer thread with two traced host processes
 * (K: the guest's ring 0, U: its ring 3; ptrace.h), and the run loop that
 * turns their stops into emulated CPU events or VMM exits. Cost model and
 * design: vmm/README.md "Platforms".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "dmtvm_abi.h"
#include "ptrace.h"
#include "ptrace_access.h"
#include "vmm.h"

static int pt_open(struct vmm *vm, char *err, size_t errlen)
{
	struct pt_vm *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "ptrace: out of memory");
		return -1;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	vm->pl = p;
	return 0;
}

static int pt_ram(struct vmm *vm, uint64_t mem_size, char *err, size_t errlen)
{
	int fd = memfd_create("dmtvm-guest-ram", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)mem_size) < 0) {
		snprintf(err, errlen, "guest RAM memfd of %llu bytes: %s",
			 (unsigned long long)mem_size, strerror(errno));
		return -1;
	}
	void *p = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu bytes of guest RAM: %s",
			 (unsigned long long)mem_size, strerror(errno));
		close(fd);
		return -1;
	}
	madvise(p, mem_size, MADV_HUGEPAGE);
	vm->ram = p;
	vm->mem_size = mem_size;
	vm->ram_fd = fd;
	return 0;
}

static int pt_irqchip(struct vmm *vm, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct pt_vm *)vm->pl)->irqchip = true;
	return 0;
}

static int pt_vcpu_create(struct vmm *vm, int id, char *err, size_t errlen)
{
	struct vmm_vcpu *v = &vm->vcpus[id];
	v->vm = vm;
	v->id = id;
	v->fd = -1;
	struct pt_vcpu *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "ptrace: out of memory");
		return -1;
	}
	c->ram_fd = vm->ram_fd;
	c->mem = (struct pt_mem){.ram = vm->ram, .ram_size = vm->mem_size};
	/* DMTVM_PTRACE_TLB_MAX: a smaller TLB, so tests reach its full flushes. */
	const char *t = getenv("DMTVM_PTRACE_TLB_MAX");
	c->tlb_max = t && atol(t) > 0 && atol(t) < PT_TLB_MAX ? (uint64_t)atol(t) : PT_TLB_MAX;
	v->pl = c;
	return 0;
}

/* The boot state of dmtvm_abi.h: 64-bit ring 0 on the VMM's boot tables. */
static int pt_vcpu_boot(struct vmm_vcpu *v, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct pt_vcpu *c = v->pl;
	c->cr0 = VMM_BOOT_CR0;
	c->cr3 = VMM_BOOT_CR3;
	c->cr4 = VMM_BOOT_CR4;
	c->efer = VMM_BOOT_EFER;
	c->gdt_base = VMM_BOOT_GDT_BASE;
	c->gdt_limit = VMM_BOOT_GDT_LIMIT;
	c->cs = 0x08;
	c->ss = 0x10;
	c->cpl = 0;
	return 0;
}

/* Pin the tracer (and so its children) to one CPU: a ptrace round trip
 * costs 14 us on one CPU and 21-93 us across two here. */
static void pin(int id)
{
	/*
	 * vCPU 0 stays where the scheduler put it (so that several dmtvm
	 * runs at once spread over the CPUs); further vCPUs go round from it.
	 */
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int here = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(n > 0 ? (int)(((here > 0 ? here : 0) + id) % n) : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int pt_vcpu_thread_init(struct vmm_vcpu *v, char *err, size_t errlen)
{
	struct vmm *vm = v->vm;
	struct pt_vcpu *c = v->pl;
	pin(v->id);
	if (v->id > 0)
		return 0; /* an AP: waits for INIT/SIPI (pt_vcpu_run), no process yet */
	if (pt_proc_spawn(&c->k, c->ram_fd, "kernel", err, errlen) < 0 ||
	    pt_proc_spawn(&c->u, c->ram_fd, "user", err, errlen) < 0)
		return -1;

	struct user_regs_struct *r = &c->k.regs;
	uint64_t cs = r->cs, ss = r->ss;
	memset(r, 0, sizeof(*r));
	r->cs = cs;
	r->ss = ss;
	r->rip = vm->entry;
	r->rdi = vm->fdt_gpa;
	r->rsi = DMTVM_BOOT_MAGIC;
	r->eflags = 0x202;
	r->orig_rax = ~0ULL;
	c->k.dirty = true;
	c->u.regs.orig_rax = ~0ULL;
	return 0;
}

/* hlt with an interrupt controller: the vCPU sleeps until the run ends. */
__attribute__((noreturn)) static void sleep_halted(void)
{
	/* Woken by nothing: the main thread ends the run (--timeout, another vCPU). */
	struct timespec ts = {1, 0};
	for (;;)
		nanosleep(&ts, NULL);
}

/*
 * Whether the access that faulted at va writes: the host says only where,
 * so the instruction at rip is decoded (ptrace_access.c). An instruction
 * with two memory operands (movs, push from memory) wrote if va is in its
 * destination. *acc is cleared when the instruction is not known (a read).
 */
static bool fault_writes(struct pt_vcpu *c, const struct user_regs_struct *r, uint64_t va,
			 struct ptrace_access *acc)
{
	uint8_t buf[15];
	if (ptrace_access_decode(buf, pt_fetch(c, r->rip, buf), acc) < 0)
		return false;
	if (acc->stack_write && va >= r->rsp - 64 && va < r->rsp)
		return true;		   /* push, call: the stack slot */
	if (acc->rdi_write && acc->read) { /* movs: which operand faulted */
		uint64_t sz = acc->size ? acc->size : 8;
		return va + sz > r->rdi && va < r->rdi + sz;
	}
	return acc->write;
}

/*
 * Run the vCPU's processes until an exit the VMM must see (ptrace.h): the
 * platform's core, for a VM's own vCPUs and for an L2 (ptrace_nested.c).
 */
int pt_run(struct pt_vcpu *c, struct vmm_exit *e, char *err, size_t errlen)
{
	memset(e, 0, offsetof(struct vmm_exit, why) + 1);
	pt_io_complete(c);
	for (;;) {
		struct pt_proc *p = pt_cur(c);
		int sig;
		siginfo_t si;
		if (pt_proc_run(p, &sig, &si, err, errlen) < 0)
			return -1;
		enum pt_step s = PT_STEP_GO;
		/*
		 * A SIGSEGV of the kernel process at a privileged instruction is
		 * emulated at once: whether the host trapped the instruction or a
		 * page it touches, emulating it is what the CPU would do next,
		 * and one PTRACE_GETSIGINFO fewer on every system call return.
		 */
		if (sig == SIGSEGV && c->cpl == 0 && pt_privileged_fast(c, e, &s)) {
			if (s == PT_STEP_ERROR)
				return -1;
			if (s == PT_STEP_EXIT)
				return 0;
			continue;
		}
		if (sig != (SIGTRAP | 0x80))
			pt_proc_siginfo(p, &si);
		if (sig == (SIGTRAP | 0x80)) {
			/*
			 * A system call entry in guest code: never run on the host.
			 * `syscall` goes to the guest kernel; int $0x80 and
			 * sysenter (the host's other entries) are what they are
			 * to a 64-bit guest without those gates: a #GP.
			 */
			uint8_t insn[2] = {0x0f, 0x05};
			pt_kread(c, p->regs.rip - 2, insn, 2);
			if (insn[0] == 0xcd)
				s = pt_exception(c, 13, true, ((uint64_t)insn[1] << 3) | 2, e);
			else if (insn[0] != 0x0f || insn[1] != 0x05)
				s = pt_exception(c, 13, true, 0, e);
			else if (c->cpl == 3)
				s = pt_syscall(c, e);
			else
				s = pt_exception(c, 6, false, 0, e);
		} else if (sig == SIGSEGV && si.si_code == SI_KERNEL) {
			s = pt_privileged(c, e);
		} else if (sig == SIGSEGV) {
			uint64_t va = (uint64_t)si.si_addr, error = 0, gpa = 0;
			c->st.faults++;
			struct ptrace_access acc = {0};
			/* A fetch: at rip, or the rest of an instruction that crosses a page. */
			uint64_t rip = p->regs.rip;
			bool fetch = va == rip || (va == (rip | 4095) + 1 && va - rip < 15);
			/*
			 * Most faults are TLB misses the tables allow, which the
			 * access's kind does not change (a write to a page mapped
			 * read-only faults again, as a protection fault): decode the
			 * instruction only when the guest will see the fault.
			 */
			bool write = false;
			int r = pt_tlb_fault(c, p, c->cpl, va, fetch, false, &error, &gpa);
			if (r > 0 && !fetch && (write = fault_writes(c, &p->regs, va, &acc)) &&
			    r == 1)
				r = pt_tlb_fault(c, p, c->cpl, va, fetch, true, &error, &gpa);
			if (r < 0) {
				snprintf(err, errlen, "ptrace: cannot map guest memory at %#llx",
					 (unsigned long long)va);
				return -1;
			}
			if (r == 1) {
				c->cr2 = va;
				s = pt_exception(c, 14, true, error, e);
			} else if (r == 2) {
				e->kind = VMM_EXIT_MMIO;
				e->mmio.gpa = gpa;
				e->mmio.len = fetch ? 0 : acc.size;
				e->mmio.write = write;
				s = PT_STEP_EXIT;
			}
		} else if (sig == SIGTRAP) {
			s = pt_exception(c, 3, false, 0, e); /* int3: rip is past it */
		} else if (sig == SIGILL) {
			s = pt_exception(c, 6, false, 0, e);
		} else if (sig == SIGFPE) {
			bool de = si.si_code == FPE_INTDIV || si.si_code == FPE_INTOVF;
			s = pt_exception(c, de ? 0 : 19, false, 0, e);
		} else if (sig == SIGBUS && si.si_code == BUS_ADRALN) {
			s = pt_exception(c, 17, true, 0, e); /* #AC */
		} else if (sig == SIGBUS) {
			s = pt_exception(c, 12, true, 0, e); /* #SS: a bad stack access */
		} else if (sig == SIGSYS) {
			/* A call that really reached the host (a vsyscall): refused, a #GP. */
			s = pt_exception(c, 13, true, 0, e);
		}
		/* Any other stop (SIGSTOP, SIGCHLD, ...) is the host's: resume. */
		if (s == PT_STEP_ERROR)
			return -1;
		if (s == PT_STEP_EXIT)
			return 0;
	}
}

static int pt_vcpu_run(struct vmm_vcpu *v, struct vmm_exit *e, char *err, size_t errlen)
{
	struct vmm *vm = v->vm;
	struct pt_vcpu *c = v->pl;
	memset(e, 0, offsetof(struct vmm_exit, why) + 1);
	if (v->id > 0) {
		/*
		 * An application processor sits in wait-for-SIPI, as under KVM;
		 * this platform has no emulated LAPIC to deliver INIT/SIPI yet,
		 * so it waits for the end of the run (no dmtvm guest starts APs).
		 */
		sleep_halted();
	}
	if (pt_run(c, e, err, errlen) < 0)
		return -1;
	if (e->kind == VMM_EXIT_HLT && ((struct pt_vm *)vm->pl)->irqchip)
		sleep_halted(); /* as KVM's LAPIC: hlt with interrupts off never wakes */
	return 0;
}

/*
 * An L0 may host an L2 (nkvm.c), which needs two more processes; spawning
 * one costs 2-7 ms here, so the main thread makes them while the guest
 * boots (the vCPU thread cannot fork under its filter).
 */
static void pt_background(struct vmm *vm)
{
	struct pt_vm *p = vm->pl;
	pid_t a = 0, b = 0;
#ifdef DMTVM_HAVE_REPLAY
	char err[160];
	a = pt_proc_spawn_stopped(vm->ram_fd, &p->spare_batch[0], err, sizeof(err));
	b = a > 0 ? pt_proc_spawn_stopped(vm->ram_fd, &p->spare_batch[1], err, sizeof(err)) : 0;
#endif
	pthread_mutex_lock(&p->lock);
	p->spare[0] = a > 0 ? a : 0;
	p->spare[1] = b > 0 ? b : 0;
	p->spares_done = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int pt_take_spares(struct vmm *vm, struct pt_vcpu *c, char *err, size_t errlen)
{
	struct pt_vm *p = vm->pl;
	if (c->l2k.pid)
		return 0;
	pthread_mutex_lock(&p->lock);
	while (!p->spares_done)
		pthread_cond_wait(&p->cond, &p->lock);
	pid_t a = p->spare[0], b = p->spare[1];
	p->spare[0] = p->spare[1] = 0;
	pthread_mutex_unlock(&p->lock);
	if (!a || !b) {
		snprintf(err, errlen, "no spare processes for an L2");
		return -1;
	}
	if (pt_proc_adopt(&c->l2k, a, p->spare_batch[0], "L2 kernel", err, errlen) < 0 ||
	    pt_proc_adopt(&c->l2u, b, p->spare_batch[1], "L2 user", err, errlen) < 0)
		return -1;
	return 0;
}

static int pt_vcpu_state(struct vmm_vcpu *v, struct vmm_cpu_state *s)
{
	struct pt_vcpu *c = v->pl;
	if (!c)
		return -1;
	const struct user_regs_struct *r = &pt_cur(c)->regs;
	pt_gprs(r, s->gpr);
	s->rip = r->rip;
	s->rflags = (r->eflags & ~0x200ULL) | (c->intf ? 0x200 : 0);
	s->cs = c->cs;
	s->cr0 = c->cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->cr3;
	s->cr4 = c->cr4;
	s->efer = c->efer;
	return 0;
}

/* What the host resolved for the traced process that runs now (its TLB). */
static int pt_translate(struct vmm_vcpu *v, uint64_t va, uint64_t *gpa)
{
	struct pt_vcpu *c = v->pl;
	if (pt_tlb_lookup(&c->u, va, gpa) || pt_tlb_lookup(&c->k, va, gpa))
		return 1;
	/* Not in the TLB: the platform's own walker (ptrace_mmu.c, not the model's). */
	struct pt_walk w;
	if (pt_walk(&c->mem, c->cr3, va, &w) < 0)
		return 0;
	*gpa = w.gpa;
	return 1;
}

/* The host's TSC rate (rdtsc is not trapped): 2 ms against CLOCK_MONOTONIC_RAW. */
static uint32_t pt_tsc_khz(struct vmm *vm)
{
	(void)vm;
	struct timespec a, b;
	unsigned lo, hi;
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t t0 = ((uint64_t)hi << 32) | lo, ns;
	do {
		clock_gettime(CLOCK_MONOTONIC_RAW, &b);
		ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ULL + (uint64_t)b.tv_nsec -
		     (uint64_t)a.tv_nsec;
	} while (ns < 2000000);
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t t1 = ((uint64_t)hi << 32) | lo;
	return (uint32_t)((t1 - t0) * 1000000ULL / ns / 1000);
}

static int pt_counters(struct vmm *vm, const char **names, uint64_t *vals, int max)
{
	static const char *const n[] = {"syscalls",    "page_faults",	 "tlb_fills", "tlb_batches",
					"tlb_flushes", "emulated_insns", "exceptions"};
	uint64_t v[7] = {0};
	for (int i = 0; i < vm->nvcpus; i++) {
		const struct pt_vcpu *c = vm->vcpus[i].pl;
		if (!c)
			continue;
		v[0] += c->st.syscalls;
		v[1] += c->st.faults;
		v[2] += c->st.fills;
		v[3] += c->st.batches;
		v[4] += c->st.flushes;
		v[5] += c->st.emulated;
		v[6] += c->st.exceptions;
	}
	int k = max < 7 ? max : 7;
	for (int i = 0; i < k; i++) {
		names[i] = n[i];
		vals[i] = v[i];
	}
	return k;
}

static const int pt_vcpu_syscalls[] = {
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(waitid),
    SCMP_SYS(nanosleep),
};

const struct vmm_platform vmm_platform_ptrace = {
    .name = "ptrace",
    .open = pt_open,
    .ram = pt_ram,
    .irqchip = pt_irqchip,
    .vcpu_create = pt_vcpu_create,
    .vcpu_boot = pt_vcpu_boot,
    .vcpu_thread_init = pt_vcpu_thread_init,
    .background = pt_background,
    .vcpu_run = pt_vcpu_run,
    .vcpu_state = pt_vcpu_state,
    .translate = pt_translate,
    .tsc_khz = pt_tsc_khz,
    .counters = pt_counters,
    .vcpu_syscalls = pt_vcpu_syscalls,
    .n_vcpu_syscalls = sizeof(pt_vcpu_syscalls) / sizeof(pt_vcpu_syscalls[0]),
    .l2 = &vmm_l2_ptrace,
};
