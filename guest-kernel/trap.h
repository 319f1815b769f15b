/* SPDX-License-Identifier: MIT */
/* trap.h: the exception frame and its handler (trap.c). */
#ifndef TRAP_H
#define TRAP_H

#include "kernel.h"

/* Pushed by trap_common (entry.S) below the CPU's iret frame. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* the CPU's frame */
};

void trap(struct trapframe *tf);

#endif /* TRAP_H */
