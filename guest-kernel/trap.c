/* SPDX-License-Identifier: MIT */
/*
 * trap.c: what happens on an exception.
 *
 * From ring 3: a #PF is first offered to demand paging; anything else
 * kills /init with the signal Linux would send, after a one-line report
 * in Linux's words ("init[1]: segfault at ...").
 * From ring 0: a #PF on copy_user_raw's instruction is a user copy (demand
 * paging or -EFAULT); any other ring-0 exception is a kernel bug and ends
 * the VM with the PANIC hypercall (the VMM exits 125).
 * (The PVM system call also arrives as a #PF; entry.S takes it first.)
 */
#include "trap.h"
#include "console.h"
#include "hypercall.h"
#include "proc.h"
#include "ucopy.h"

#define SIGILL	4
#define SIGTRAP 5
#define SIGBUS	7
#define SIGFPE	8
#define SIGKILL 9
#define SIGSEGV 11

static const char *const trap_names[32] = {
    [0] = "divide error",
    [1] = "debug",
    [3] = "int3",
    [4] = "overflow",
    [5] = "bounds",
    [6] = "invalid opcode",
    [7] = "device not available",
    [10] = "invalid TSS",
    [11] = "segment not present",
    [12] = "stack segment",
    [13] = "general protection fault",
    [16] = "coprocessor error",
    [17] = "alignment check",
    [19] = "simd exception",
};

static int signal_of(uint64_t vector)
{
	switch (vector) {
	case 0:
	case 16:
	case 19:
		return SIGFPE;
	case 1:
	case 3:
		return SIGTRAP;
	case 6:
		return SIGILL;
	case 11:
	case 12:
	case 17:
		return SIGBUS;
	default:
		return SIGSEGV;
	}
}

__attribute__((noreturn)) static void kernel_fault(struct trapframe *tf, uint64_t cr2)
{
	struct dmtvm_hc_panic hc = {
	    .vector = tf->vector,
	    .error_code = tf->error,
	    .rip = tf->rip,
	    .cr2 = cr2,
	    .rsp = tf->rsp,
	};
	hypercall(DMTVM_HC_PANIC, &hc);
	for (;;)
		__asm__ volatile("hlt");
}

void panic(const char *msg)
{
	struct dmtvm_hc_panic hc = {
	    .vector = ~0ULL,
	    .rip = (uint64_t)__builtin_return_address(0),
	    .msg_gpa = kva_to_phys(msg),
	    .msg_len = strlen(msg),
	};
	hypercall(DMTVM_HC_PANIC, &hc);
	for (;;)
		__asm__ volatile("hlt");
}

void trap(struct trapframe *tf)
{
	uint64_t cr2 = tf->vector == 14 ? read_cr2() : 0;
	struct mm *mm = &init_proc.mm;

	if (!(tf->cs & 3)) {
		if (tf->vector == 14 &&
		    (tf->rip == (uint64_t)copy_user_insn || tf->rip == (uint64_t)copy_user_insn2 ||
		     tf->rip == (uint64_t)put_user_insn || tf->rip == (uint64_t)put_user_insn2)) {
			if (cr2 < USER_TOP && vm_fault(mm, cr2, tf->error) == 0)
				return;
			tf->rip = (uint64_t)copy_user_fault;
			return;
		}
		kernel_fault(tf, cr2);
	}

	if (tf->vector == 14) {
		int r = cr2 < USER_TOP ? vm_fault(mm, cr2, tf->error) : -EFAULT;
		if (r == 0 || ucopy_fault(tf)) /* the ring-3 copy of a read: -EFAULT */
			return;
		if (r == -ENOMEM) {
			kprintf("Out of memory: killed process 1 (init) at %lx\n", cr2);
			proc_kill(SIGKILL);
		}
		kprintf("init[1]: segfault at %lx ip %016lx sp %016lx error %lx\n", cr2, tf->rip,
			tf->rsp, tf->error);
		proc_kill(SIGSEGV);
	}
	if (ucopy_fault(tf))
		return;
	const char *name =
	    tf->vector < 32 && trap_names[tf->vector] ? trap_names[tf->vector] : "trap";
	kprintf("traps: init[1] %s ip:%lx sp:%lx error:%lx\n", name, tf->rip, tf->rsp, tf->error);
	proc_kill(signal_of(tf->vector));
}
