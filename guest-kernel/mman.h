/* SPDX-License-Identifier: MIT */
/* mman.h: mprotect, madvise and mremap (mman.c), called from syscall_table. */
#ifndef MMAN_H
#define MMAN_H

#include "syscall.h"

long mman_sys_mprotect(struct syscall_args *a);
long mman_sys_madvise(struct syscall_args *a);
long mman_sys_mremap(struct syscall_args *a);

#endif /* MMAN_H */
