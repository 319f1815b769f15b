/* SPDX-License-Identifier: MIT */
/* proc.h: the one process, /init: exec from the initramfs, start, exit (proc.c). */
#ifndef PROC_H
#define PROC_H

#include "elf.h"
#include "fdt.h"
#include "file.h"

/*
 * The initial stack: [USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP), 2 MiB
 * below USER_TOP (0x7dffffe00000; 2 MiB aligned: the top block is one 2 MiB
 * page).
 */
#define USER_STACK_TOP	(USER_TOP - (2ULL << 20))
#define USER_STACK_SIZE (8ULL << 20)
/* mmap without a hint searches downwards from here (64 GiB below USER_TOP: 0x7df000000000). */
#define USER_MMAP_TOP (USER_TOP - (64ULL << 30))
_Static_assert(USER_STACK_TOP == 0x7dffffe00000ULL && USER_MMAP_TOP == 0x7df000000000ULL &&
		   USER_MMAP_TOP < USER_STACK_TOP - USER_STACK_SIZE && USER_MMAP_TOP > ELF_LOAD_TOP,
	       "user layout");

struct proc {
	int pid;
	const char *path; /* of the current image (AT_EXECFN) */
	struct mm mm;
	struct fdtable fds;
	uint64_t entry, sp; /* where /init starts */
	struct elf_info elf;
};

extern struct proc init_proc;

/* Load /init from the initramfs and build its stack; 0 or a negative errno (reported). */
int proc_exec_init(const struct boot_info *bi);
struct syscall_args;
/* execve(2) of an initramfs file; returns only on failure (negative errno). */
long proc_sys_execve(struct syscall_args *a);
/* INIT_STARTED hypercall, then iretq into /init. */
__attribute__((noreturn)) void proc_start_init(void);
/*
 * Start the image exec loaded: its deferred file copies first (ucopy.c,
 * which calls this again when they are done), then INIT_STARTED if this
 * is the first image, then iretq to its entry.
 */
__attribute__((noreturn)) void proc_enter_image(void);
/* /init is gone: EXIT hypercall with a Linux wait status byte (code, or 128+signal). */
__attribute__((noreturn)) void proc_exit(int status);
/* Kill /init with a signal's default action (status 128 + sig). */
__attribute__((noreturn)) void proc_kill(int sig);

#endif /* PROC_H */
