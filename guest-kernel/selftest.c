/* SPDX-License-Identifier: MIT */
/*
 * selftest.c: self-tests of paths this machine never takes by itself.
 *
 * syscall-sysret: on this KVM a ring-3 `syscall` never reaches LSTAR in
 * ring 0 (see entry.S), so the normal path (swapgs, stack switch, frame,
 * SYSCALL_BODY, sysretq) would go untested. The test enters it from ring 0
 * with the registers a ring-3 getpid would have (selftest_sysret_enter),
 * lets sysretq drop to ring 3 in selftest_tramp (copied to a user page),
 * which checks the result, rcx and the preserved registers, and reports
 * through DMTVM_SYS_SELFTEST. Success prints a line and starts /init
 * normally; failure panics (exit 125).
 */
#include "selftest.h"
#include "console.h"
#include "pmm.h"
#include "proc.h"

enum selftest selftest;

extern char selftest_tramp[], selftest_tramp_end[];
void selftest_sysret_enter(uint64_t user_rip, uint64_t user_rsp) __attribute__((noreturn));

void selftest_ring0_fault(void)
{
	*(volatile uint64_t *)0xdead0000ULL = 1; /* user space, unmapped in the boot tables */
	panic("selftest ring0-fault: no fault");
}

void selftest_sysret_run(void)
{
	struct mm *mm = &init_proc.mm;
	uint64_t pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO);
	uint64_t va = USER_STACK_TOP - USER_STACK_SIZE - 2 * PAGE_SIZE;
	if (!pa || vma_insert(&mm->vmas, va, va + PAGE_SIZE, VMA_READ | VMA_EXEC, VMA_ANON) ||
	    vm_map_4k(mm, va, pa, VMA_READ | VMA_EXEC))
		panic("selftest syscall-sysret: out of memory");
	memcpy(phys_to_virt(pa), selftest_tramp, selftest_tramp_end - selftest_tramp);
	/* A scratch stack below /init's initial one (already mapped, the top 2 MiB). */
	selftest_sysret_enter(va, ALIGN_DOWN(init_proc.sp - 4096, 16));
}

long selftest_sysret_done(uint64_t failed)
{
	struct mm *mm = &init_proc.mm;
	uint64_t va = USER_STACK_TOP - USER_STACK_SIZE - 2 * PAGE_SIZE;
	if (failed)
		panic("selftest syscall-sysret: FAIL (result or registers wrong after sysretq)");
	kprintf("dmtvm: selftest syscall-sysret: ok\n");
	selftest = SELFTEST_NONE;
	vma_remove(&mm->vmas, va, va + PAGE_SIZE);
	vm_unmap(mm, va, va + PAGE_SIZE);
	proc_start_init();
}
