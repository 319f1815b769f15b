/* SPDX-License-Identifier: MIT */
/*
 * trace.c: the trace system call of the workloads' runtime
 * (workloads/trace_rt.c; contract in pvdmt/dmtvm_trace.h):
 *   long syscall(0x444d, const uint64_t *recs, size_t n)
 * becomes one TRACE_FLUSH hypercall. The VMM reads the n dmtvm_trace.h
 * records at user VA recs through this address space's page tables (cr3 =
 * its PML4) and runs the MMU model while the vCPU is stopped, so the kernel
 * copies nothing and the walks see exactly the tables in force. The pages
 * are mapped: the runtime has just written every record. Returns 0, or
 * -EINVAL / -EFAULT for a bad buffer, -ENOSYS when the VMM has no model
 * (the runtime then turns tracing off cleanly).
 *
 * Flush before change: records the runtime has buffered but not flushed
 * were made on the tables in force now; walked after an unmap they would
 * miss, or hit frames of a later mapping. So the runtime registers its
 * buffer (DMTVM_TRACE_OP_REGISTER: buffer, capacity, address of its fill
 * pointer) and trace_flush_pending() hands the pending prefix to the VMM
 * before every change of live entries: first thing in vm_unmap (munmap, brk
 * shrink, MAP_FIXED, madvise(DONTNEED), mremap shrink), vm_protect
 * (mprotect), vm_move (mremap), and in execve and exit. Demand paging needs
 * no flush: a fault only adds a mapping, and every pending record's page was
 * mapped when it was recorded (records precede their access, which then
 * faults it in before the next record), so its walk is the same before and
 * after the fill. Gap: a TEA migration at fault time moves page tables (same
 * translations, other PTE addresses); records pending then are walked on the
 * new tables.
 */
#include "trace.h"
#include "console.h"
#include "hypercall.h"
#include "proc.h"

/* The one registered buffer (one process, one thread); pml4 == 0: none. */
static struct {
	uint64_t pml4; /* address space it belongs to */
	uint64_t buf, cap, fillp;
} trace_reg;
static bool trace_vmm_missing; /* TRACE_FLUSH answered -ENOSYS: stop asking */

/* One TRACE_FLUSH of n records at user va of mm: 0 or a negative errno. */
static long trace_flush(const struct mm *mm, uint64_t va, uint64_t n)
{
	struct dmtvm_hc_trace_flush hc = {
	    .va = va, .count = n, .cr3 = mm->pml4_pa, .asid = (uint64_t)init_proc.pid};
	if (n == 0)
		return 0;
	if (n > DMTVM_TRACE_FLUSH_MAX || (va & 7))
		return -EINVAL;
	if (!user_range_ok(va, n * 8))
		return -EFAULT;
	int64_t r = hypercall(DMTVM_HC_TRACE_FLUSH, &hc);
	if (r == -DMTVM_ENOSYS) {
		trace_vmm_missing = true;
		return -ENOSYS;
	}
	return r < 0 ? (long)r : 0;
}

static long trace_register(struct mm *mm, uint64_t buf, uint64_t cap, uint64_t fillp)
{
	/* A record never spans a page (8-aligned), nor does the fill word. */
	if (!cap || cap > DMTVM_TRACE_FLUSH_MAX || (buf & 7) || (fillp & 7))
		return -EINVAL;
	if (buf < PAGE_SIZE || !user_range_ok(buf, cap * 8) || !user_range_ok(fillp, 8))
		return -EFAULT;
	if (trace_vmm_missing)
		return -ENOSYS; /* as the flush would: the runtime turns tracing off */
	trace_reg.pml4 = mm->pml4_pa;
	trace_reg.buf = buf;
	trace_reg.cap = cap;
	trace_reg.fillp = fillp;
	return 0;
}

long trace_sys_flush(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	/* Page 0 never holds records: small first arguments are operations. */
	if (a->a0 == DMTVM_TRACE_OP_REGISTER)
		return trace_register(mm, a->a1, a->a2, a->a3);
	if (a->a0 == DMTVM_TRACE_OP_UNREGISTER) {
		trace_reg.pml4 = 0;
		return 0;
	}
	if (a->a0 < PAGE_SIZE)
		return -EINVAL;
	return trace_flush(mm, a->a0, a->a1);
}

void trace_flush_pending(struct mm *mm, bool end)
{
	uint64_t w;
	if (!trace_reg.pml4 || trace_reg.pml4 != mm->pml4_pa)
		return;
	if (end)
		trace_reg.pml4 = 0;
	/* The fill word is read through the current CR3: mm must be the active one. */
	if (read_cr3() != mm->pml4_pa || copy_from_user(&w, trace_reg.fillp, 8))
		return;
	if (w == 0 || w == trace_reg.buf)
		return; /* outside the ROI, or nothing pending */
	if (w < trace_reg.buf || w > trace_reg.buf + trace_reg.cap * 8 ||
	    ((w - trace_reg.buf) & 7)) {
		kprintf("dmtvm: trace fill pointer %lx outside its buffer: registration dropped\n",
			w);
		trace_reg.pml4 = 0;
		return;
	}
	if (trace_flush(mm, trace_reg.buf, (w - trace_reg.buf) / 8) == -ENOSYS)
		trace_reg.pml4 = 0;
	/* Rewind even on error: the records cannot be walked on the old tables later. */
	if (!end)
		copy_to_user(trace_reg.fillp, &trace_reg.buf, 8);
}
