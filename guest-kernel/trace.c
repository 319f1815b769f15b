/* SPDX-License-Identifier: MIT */
/*
 * trace.c: the trace system call of the workloads' runtime
 * (workloads/trace_rt.c):
 *   long syscall(0x444d, const uint64_t *recs, size_t n)
 * becomes one TRACE_FLUSH hypercall. The VMM reads the n dmtvm_trace.h
 * records at user VA recs through this address space's page tables (cr3 =
 * its PML4) and runs the MMU model while the vCPU is stopped, so the kernel
 * copies nothing and the walks see exactly the tables in force. The pages
 * are mapped: the runtime has just written every record. Returns 0, or
 * -EINVAL / -EFAULT for a bad buffer, -ENOSYS when the VMM has no model
 * (the runtime then turns tracing off cleanly).
 */
#include "trace.h"
#include "hypercall.h"
#include "proc.h"

long trace_sys_flush(struct syscall_args *a)
{
	uint64_t va = a->a0, n = a->a1;
	struct dmtvm_hc_trace_flush hc = {
	    .va = va, .count = n, .cr3 = init_proc.mm.pml4_pa, .asid = (uint64_t)init_proc.pid};
	if (n == 0)
		return 0;
	if (n > DMTVM_TRACE_FLUSH_MAX || (va & 7))
		return -EINVAL;
	if (!user_range_ok(va, n * 8))
		return -EFAULT;
	int64_t r = hypercall(DMTVM_HC_TRACE_FLUSH, &hc);
	if (r == -DMTVM_ENOSYS)
		return -ENOSYS;
	return r < 0 ? (long)r : 0;
}
