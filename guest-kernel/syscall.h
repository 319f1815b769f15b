/* SPDX-License-Identifier: MIT */
/* syscall.h: the system call table's calling convention (syscall.c, entry.S). */
#ifndef SYSCALL_H
#define SYSCALL_H

#include "kernel.h"

#define NR_SYSCALLS 336 /* table size */

/* Kernel-private call used by the sysret self-test's ring-3 half (selftest.c). */
#define DMTVM_SYS_SELFTEST 0x4453 /* 0x444d is the trace ring (workloads) */

#ifndef __ASSEMBLER__
/* The user's argument registers as SYSCALL_BODY (entry.S) pushes them. */
struct syscall_args {
	uint64_t a0, a1, a2, a3, a4, a5; /* rdi rsi rdx r10 r8 r9 */
	uint64_t nr;			 /* rax */
};

typedef long (*syscall_fn)(struct syscall_args *a);
extern const syscall_fn syscall_table[NR_SYSCALLS];
long syscall_unknown(struct syscall_args *a);

#endif /* __ASSEMBLER__ */
#endif /* SYSCALL_H */
