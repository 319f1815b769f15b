/* SPDX-License-Identifier: MIT */
/*
 * entry.S: every way into and out of the kernel.
 *
 *  _start        boot entry from the VMM (dmtvm_abi.h boot protocol)
 *  trap_vectors  exception stubs 0..31, all into trap_common -> trap()
 *  pf_entry      #PF, which is also the system call on PVM-style KVM (below)
 *  syscall_entry LSTAR: the normal (VMX/SVM) path, swapgs + sysretq
 *  enter_user    the first iretq into /init
 *  copy_user_raw user copies (and put_user_16); a fault on their stores is fixed up
 *  ucopy_stub    ring-3 half of initramfs copies: big reads, ELF loading (ucopy.c)
 *
 * Two system call paths. On VMX/SVM hardware `syscall` lands at LSTAR in
 * ring 0 (syscall_entry). On this machine's KVM (kvm_pvm) it jumps to LSTAR
 * but stays in ring 3; LSTAR sits on a supervisor-only page, so that fetch
 * faults: #PF, error 0x15, frame RIP == LSTAR, RCX/R11 = user RIP/RFLAGS,
 * frame RSP = the user stack. pf_entry turns that fault into the system call
 * and returns with iretq. Both paths build the same iret frame and run the
 * same SYSCALL_BODY. Ring 0 is emulated (~1-2 us per instruction): these
 * paths are counted in instructions.
 */
#include "kernel.h"
#include "syscall.h"
#include "ucopy.h"

/* RFLAGS bits a user may own: CF PF AF ZF SF TF DF OF AC ID (not IOPL, NT, RF, VM). */
#define USER_RFLAGS_MASK 0x240dd5
#define PERCPU_KSTACK   0 /* struct percpu (cpu.c) */
#define PERCPU_USER_RSP 8

/* link.ld checks that it links the image at dmtvm_abi.h's kernel window. */
	.globl __abi_kernel_virt_base
	.set __abi_kernel_virt_base, DMTVM_KERNEL_VIRT_BASE
.if (DMTVM_KERNEL_VIRT_BASE & 0xffffffff) != 0
	.error "pf_entry compares LSTAR's low half as its offset in the kernel window"
.endif

	.section .text.entry, "ax"
	.globl _start
_start:
	/* rdi = FDT gPA, rsi = DMTVM_BOOT_MAGIC; rsp = 0 until we set it. */
	lea boot_stack_top(%rip), %rsp
	cld
	call kmain
1:	hlt
	jmp 1b

	.text
/*
 * SYSCALL_BODY: entered with the iret frame on the stack and the user's
 * registers live. Saves exactly what C may clobber and the user expects
 * back (rdi rsi rdx r10 r8 r9), as struct syscall_args (a0..a5, nr), and
 * calls syscall_table[nr](args). rax = result; rcx/r11 are left to the tail.
 */
.macro SYSCALL_BODY
	push %rax
	push %r9
	push %r8
	push %r10
	push %rdx
	push %rsi
	push %rdi
	mov %rsp, %rdi
	cld			/* C and rep movs need DF=0, whatever SFMASK did */
	cmp $NR_SYSCALLS, %rax
	jae 8f
	/* The table is above 2 GiB: RIP-relative base (r11 is free: the user's
	   rflags are in the iret frame, rcx/r11 come back from it). */
	lea syscall_table(%rip), %r11
	call *(%r11,%rax,8)
9:	pop %rdi
	pop %rsi
	pop %rdx
	pop %r10
	pop %r8
	pop %r9
	add $8, %rsp
	.pushsection .text.unlikely, "ax"	/* out of line: the hot path falls through */
8:	call syscall_unknown
	jmp 9b
	.popsection
.endm

/* Normal path (ring 0 at LSTAR): real VMX/SVM, and the sysret self-test. */
	.balign 16
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:PERCPU_USER_RSP
	movq %gs:PERCPU_KSTACK, %rsp
	pushq $USER_DS
	pushq %gs:PERCPU_USER_RSP
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	swapgs			/* C never uses %gs: keep the user's GS base */
	SYSCALL_BODY
	popq %rcx		/* user rip */
	addq $8, %rsp
	popq %r11		/* user rflags */
	popq %rsp		/* user stack; rcx < USER_TOP: canonical */
	sysretq

/*
 * #PF: either the PVM system call (frame RIP == LSTAR from ring 3) or a fault.
 * LSTAR (in the kernel window, 0x7f00001xxxxx) fits no 32-bit immediate and
 * no register is free before we know: compare the frame RIP's halves. The
 * low half is LSTAR's offset in the window (its base's low 32 bits are 0).
 */
	.balign 16
pf_entry:
	cmpl $(syscall_entry - DMTVM_KERNEL_VIRT_BASE), 8(%rsp)
	jne 1f
	cmpl $(DMTVM_KERNEL_VIRT_BASE >> 32), 12(%rsp)
	jne 1f
	testb $3, 16(%rsp)
	jz 1f
	/* Frame rflags := the user's (r11), minus what a user may not own. */
	and $USER_RFLAGS_MASK, %r11	/* bit 1 reads as 1 whatever iretq gets */
	mov %r11, 24(%rsp)
	/* A user jumping to LSTAR controls rcx: iretq to a non-canonical rip
	   would fault in ring 0, and nothing at or above USER_TOP is user
	   code. Treat a rcx >= USER_TOP as a plain #PF. */
	movabs $DMTVM_USER_TOP, %r11
	cmp %r11, %rcx
	jae 1f
	add $8, %rsp		/* drop the error code: now an iret frame */
	mov %rcx, (%rsp)
	movq $USER_CS, 8(%rsp)
	movq $USER_DS, 32(%rsp)
	SYSCALL_BODY
	mov (%rsp), %rcx	/* as after sysret: rcx = rip, r11 = rflags */
	mov 16(%rsp), %r11
	iretq
1:	pushq $14
	jmp trap_common

trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/* Exception stubs, 16 bytes apart so trap.c computes their addresses. */
.macro VEC n
	.balign 16
.if \n == 14
	jmp pf_entry
.elseif \n == 8 || (\n >= 10 && \n <= 13) || \n == 17 || \n == 21 || \n == 29 || \n == 30
	pushq $\n
	jmp trap_common
.else
	pushq $0
	pushq $\n
	jmp trap_common
.endif
.endm

	.balign 16
	.globl trap_vectors
trap_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	VEC \n
	.endr

/* void enter_user(uint64_t rip, uint64_t rsp): first entry into ring 3. */
	.globl enter_user
enter_user:
	pushq $USER_DS
	pushq %rsi
	pushq $0x2		/* IF=0: this kernel takes no interrupts */
	pushq $USER_CS
	pushq %rdi
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	iretq

/*
 * long copy_user_raw(void *dst, const void *src, size_t n): the caller has
 * checked the user range; a #PF on either string instruction is
 * demand-paged or turned into -EFAULT by trap() (a rep instruction
 * restarts where it stopped). 8 bytes per iteration, each charged like an
 * instruction (~1.5 us): see string.S; large initramfs reads go through
 * ucopy.c instead.
 */
	.globl copy_user_raw, copy_user_insn, copy_user_insn2, copy_user_fault
copy_user_raw:
	mov %rdx, %rcx
	shr $3, %rcx
	cld
copy_user_insn:
	rep movsq
	mov %edx, %ecx
	and $7, %ecx
copy_user_insn2:
	rep movsb
	xor %eax, %eax
	ret
copy_user_fault:
	mov $-14, %rax
	ret

/*
 * long put_user_16(uint64_t udst, uint64_t lo, uint64_t hi): a 16-byte
 * result (a timespec) as two stores, 4 instructions where copy_user_raw
 * takes ~11 (a rep counts per iteration); the caller has checked the
 * range, faults are handled as copy_user_raw's.
 */
	.globl put_user_16, put_user_insn, put_user_insn2
put_user_16:
put_user_insn:
	mov %rsi, (%rdi)
put_user_insn2:
	mov %rdx, 8(%rdi)
	xor %eax, %eax
	ret

/*
 * void selftest_sysret_enter(uint64_t user_rip, uint64_t user_rsp):
 * enter the normal syscall path from ring 0 exactly as a ring-3 `syscall`
 * of getpid would on VMX (rcx = return rip, r11 = rflags, user rsp), with
 * magic values in every register the ABI preserves. sysretq lands in
 * selftest_tramp (copied to a user page), which checks them.
 */
	.globl selftest_sysret_enter
selftest_sysret_enter:
	mov %rdi, %rcx
	mov %rsi, %rsp
	mov $0x2, %r11d
	movabs $0x1111111111111111, %rdi
	movabs $0x2222222222222222, %rsi
	movabs $0x3333333333333333, %rdx
	movabs $0x4444444444444444, %r10
	movabs $0x5555555555555555, %r8
	movabs $0x6666666666666666, %r9
	movabs $0x7777777777777777, %rbx
	movabs $0x8888888888888888, %rbp
	movabs $0x9999999999999999, %r12
	movabs $0xaaaaaaaaaaaaaaaa, %r13
	movabs $0xbbbbbbbbbbbbbbbb, %r14
	movabs $0xcccccccccccccccc, %r15
	mov $39, %eax		/* SYS_getpid */
	jmp syscall_entry

/*
 * Ring-3 half of the self-test (position independent: copied to a user
 * page). Checks rax == 1 (getpid), rcx == its own address, every preserved
 * register, then reports with the private DMTVM_SYS_SELFTEST call, which
 * goes through whichever syscall path this CPU takes.
 */
.macro CHK val, reg
	movabs $\val, %rax
	cmp %rax, \reg
	jne 1f
.endm
	.section .rodata
	.globl selftest_tramp, selftest_tramp_end
selftest_tramp:
	cmp $1, %rax
	jne 1f
	lea selftest_tramp(%rip), %rax
	cmp %rax, %rcx
	jne 1f
	CHK 0x1111111111111111, %rdi
	CHK 0x2222222222222222, %rsi
	CHK 0x3333333333333333, %rdx
	CHK 0x4444444444444444, %r10
	CHK 0x5555555555555555, %r8
	CHK 0x6666666666666666, %r9
	CHK 0x7777777777777777, %rbx
	CHK 0x8888888888888888, %rbp
	CHK 0x9999999999999999, %r12
	CHK 0xaaaaaaaaaaaaaaaa, %r13
	CHK 0xbbbbbbbbbbbbbbbb, %r14
	CHK 0xcccccccccccccccc, %r15
	jmp 3f
1:	mov $1, %edi
	jmp 2f
3:	xor %edi, %edi
2:	mov $DMTVM_SYS_SELFTEST, %eax
	syscall
	ud2
selftest_tramp_end:

/*
 * Ring-3 half of the initramfs copies (ucopy.c; copied to offset 0 of a
 * page mapped into user space): runs the descriptors {dst, src, len}
 * at UCOPY_DESC_OFF of that page until len 0, then makes the private
 * DMTVM_SYS_UCOPY_DONE call. Ring 3 runs natively here, ring 0 is emulated
 * per iteration. A fault on a user buffer is demand-paged or ends the
 * read with -EFAULT (trap.c). Clobbers rax rcx rdx rsi rdi r11.
 */
	.section .rodata
	.globl ucopy_stub, ucopy_stub_ret, ucopy_stub_end
ucopy_stub:
	cld
	lea ucopy_stub + UCOPY_DESC_OFF(%rip), %rdx
1:	mov 16(%rdx), %rcx
	jrcxz 2f
	mov (%rdx), %rdi
	mov 8(%rdx), %rsi
	rep movsb
	add $24, %rdx
	jmp 1b
2:	mov $DMTVM_SYS_UCOPY_DONE, %eax
	syscall
ucopy_stub_ret:
	ud2
ucopy_stub_end:

	.bss
	.balign 16
	.globl boot_stack_top
boot_stack:
	.skip 16384
boot_stack_top:
