/* SPDX-License-Identifier: MIT */
/*
 * file.h: the process's file descriptors (file.c): the console (fds 0, 1,
 * 2), read-only files of the initramfs, and the paravirtual /dev/kvm's
 * system, VM and vCPU fds (kvmdev.c). One open file per fd (no dup), so a
 * descriptor's offset and flags live in its slot.
 */
#ifndef FILE_H
#define FILE_H

#include "syscall.h"

#define FILE_MAX 64 /* fds per process: open beyond it is -EMFILE */

enum file_kind {
	FILE_NONE = 0,
	FILE_CONSOLE, /* stdin reads EOF, writes go to the CONSOLE hypercall */
	FILE_INITRD,  /* a file or directory of the initramfs, read-only */
	FILE_KVM,     /* /dev/kvm and its VM / vCPU fds: target says which */
};

struct file {
	uint8_t kind;
	bool cloexec;
	uint32_t oflags; /* O_ACCMODE and status flags (F_GETFL) */
	uint32_t mode;	 /* st_mode */
	const uint8_t *data;
	uint64_t size, pos, ino;
	uint64_t target; /* FILE_KVM: DMTVM_KVM_TARGET_* */
};

struct fdtable {
	struct file f[FILE_MAX];
};

/* The initramfs the files come from (proc.c sets it at boot). */
void file_set_initrd(const void *start, uint64_t len);
/* Fresh table: 0, 1, 2 on the console. */
void file_table_init(struct fdtable *t);
/* The open file of fd, or NULL. */
struct file *file_get(struct fdtable *t, uint64_t fd);
/* Reserve the lowest free fd (kind set by the caller); fd or -EMFILE. */
long file_alloc(struct fdtable *t);
/* Close fd; 0 or -EBADF. A KVM fd tells kvmdev.c (DMTVM_KVM_CLOSE on the last one). */
long file_close(struct fdtable *t, uint64_t fd);
/* execve: close O_CLOEXEC fds and every KVM fd (their VM used the old image's memory). */
void file_exec(struct fdtable *t);
/* exit: close everything. */
void file_close_all(struct fdtable *t);
/* Copy n bytes of an initramfs file from offset off into the kernel buffer dst (zero past EOF). */
void file_copy_out(const struct file *f, uint64_t off, void *dst, uint64_t n);

/* The system calls (syscall_table). */
long file_sys_read(struct syscall_args *a);
long file_sys_readv(struct syscall_args *a);
long file_sys_pread64(struct syscall_args *a);
long file_sys_open(struct syscall_args *a);
long file_sys_openat(struct syscall_args *a);
long file_sys_close(struct syscall_args *a);
long file_sys_lseek(struct syscall_args *a);
long file_sys_stat(struct syscall_args *a); /* stat and lstat: no symlinks here */
long file_sys_fstat(struct syscall_args *a);
long file_sys_newfstatat(struct syscall_args *a);
long file_sys_fcntl(struct syscall_args *a);
long file_sys_poll(struct syscall_args *a);
long file_sys_ioctl(struct syscall_args *a);
long file_sys_access(struct syscall_args *a);
long file_sys_readlink(struct syscall_args *a);
long file_sys_readlinkat(struct syscall_args *a);
long file_sys_getcwd(struct syscall_args *a);

/* The fd table the system calls use (init_proc's; tests point it elsewhere). */
extern struct fdtable *file_current;

#endif /* FILE_H */
