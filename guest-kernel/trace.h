/* SPDX-License-Identifier: MIT */
/* trace.h: the workloads' trace system call -> TRACE_FLUSH hypercall (trace.c). */
#ifndef TRACE_H
#define TRACE_H

#include "syscall.h"

/* System call number used by workloads/trace_rt.c (far above Linux's table). */
#define DMTVM_SYS_TRACE_FLUSH 0x444d

long trace_sys_flush(struct syscall_args *a);

#endif /* TRACE_H */
