/* SPDX-License-Identifier: MIT */
/*
 * trace.h: the workloads' trace system call -> TRACE_FLUSH hypercall, and
 * the flush of a registered runtime buffer before the tables change (trace.c).
 */
#ifndef TRACE_H
#define TRACE_H

#include "dmtvm_trace.h"
#include "syscall.h"
#include "vm.h"

/* System call number used by workloads/trace_rt.c (far above Linux's table). */
#define DMTVM_SYS_TRACE_FLUSH DMTVM_TRACE_SYSCALL

long trace_sys_flush(struct syscall_args *a);

/*
 * Hand the records pending in mm's registered trace buffer to the VMM and
 * rewind the runtime's fill pointer. Call it BEFORE a live mapping of mm
 * changes (unmap, exit, execve), with mm active; end = true also drops the
 * registration (exit, execve: the buffer's address space ends).
 */
void trace_flush_pending(struct mm *mm, bool end);

#endif /* TRACE_H */
