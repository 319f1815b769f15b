/* SPDX-License-Identifier: MIT */
/*
 * ptrace_access.h: the memory-access classifier of the ptrace platform. Guest
 * code runs natively in a traced host process; when it faults on memory the
 * tracer learns the faulting address (si_addr) but not whether the access was
 * a read or a write, nor its size. ptrace_access_decode() decodes the
 * instruction at rip and says which: the W bit of the guest's #PF error code,
 * and "read/write of N bytes" for an MMIO exit. Pure, allocation-free, 64-bit
 * mode only, self-contained (it shares nothing with ptrace_insn.c).
 */
#ifndef VMM_PTRACE_ACCESS_H
#define VMM_PTRACE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest x86 instruction, prefixes included. */
#define PTRACE_ACCESS_MAX_LEN 15

/*
 * The memory access of one instruction. An instruction may touch two places:
 * its memory operand (ModRM or moffs; for string instructions [rsi] and
 * [rdi]) and the stack (push, pop, call, ret, enter, leave). The fault
 * address tells which one faulted:
 *   - push/call (stack_write) store to [rsp - size, rsp): a fault there is a
 *     write; push/call with a memory operand (FF /6, FF /2) READ that operand
 *     (read = true, write = false);
 *   - pop/ret/leave (stack_read) load from [rsp, rsp + size) ([rbp] for
 *     leave): a read; pop r/m (8F /0) also WRITES its operand (write = true);
 *   - movs reads [rsi] and writes [rdi] (read and write); cmps reads both.
 * Otherwise read/write describe the one memory operand: a read-modify-write
 * instruction (add to memory, xchg, cmpxchg, inc, shifts, ...) has both.
 *
 * On success at least one of read, write, stack_read, stack_write is set:
 * instructions that access no memory (lea, nop r/m, prefetch, register
 * forms) are refused, like unknown ones.
 */
struct ptrace_access {
	bool write;	  /* writes memory other than a push's stack slot (RMW counts) */
	bool read;	  /* reads memory: the operand, [rsi]/[rdi], or the stack (pop, ret) */
	bool stack_write; /* pushes: push, call, enter, pushf (a write at rsp - size) */
	bool stack_read;  /* pops: pop, ret, leave, popf, enter with level > 1 (read is set too) */
	bool rdi_write;	  /* the write is at [rdi] (stos, movs, ins): movs reads [rsi] too */
	/* Bytes accessed at the faulting operand (at each of them for movs/cmps,
	 * the slot for push/pop): 1 2 4 8 16 32; 10 for the x87 80-bit forms
	 * and sgdt/lgdt/sidt/lidt; 0 when unknown or larger than 32 (fxsave,
	 * xsave, fnsave, fldenv ...). */
	uint8_t size;
	uint8_t len; /* instruction length, prefixes included, 1..15 */
};

/*
 * Classify the memory access of the instruction at buf[0..n) (64-bit mode).
 * Returns 0 and fills *out, or -1 (and *out all zero) when the instruction is
 * not recognised, accesses no memory, is truncated or longer than 15 bytes:
 * the caller then assumes a read. Never reads past n (nor past 15 bytes).
 *
 * Prefixes: any number of 66 67 F2 F3 F0 2E 36 3E 26 64 65, then REX (40-4F)
 * immediately before the opcode (a REX followed by another prefix is
 * ignored); REX.W gives 8-byte operands and wins over 66 (2 bytes). VEX (C4,
 * C5) after 66, F2, F3, F0 or REX is refused (#UD), as are EVEX (62), XOP,
 * 3DNow!, far pointers, lock on anything but a read-modify-write of memory,
 * 66 on near branches (Intel and AMD disagree) and any ModRM form whose only
 * memory operand is a register (mod 3), except for the implicit stack and
 * [rdi] accesses (push %rax, call *%rax, pop %rax, maskmovq). Not checked:
 * VEX.vvvv and VEX.W where a form requires fixed values, and the F2/F3 of
 * integer instructions that ignore them: a form that raises #UD never reaches
 * the tracer as a memory fault.
 *
 * Covered: the integer instructions with a memory operand (mov, movzx,
 * movsx, movsxd, the ALU ops and their groups, test, not, neg, mul, div,
 * inc, dec, shifts, xchg, cmpxchg, cmpxchg8b/16b, xadd, bt*, setcc, cmovcc,
 * shld/shrd, imul, bsf/bsr/popcnt/lzcnt/tzcnt, movbe, crc32, adcx/adox, mov
 * to/from a segment register, xlat, the descriptor-table loads and stores);
 * the stack (push, pop, call, ret, enter, leave, pushf, popf, push/pop
 * fs/gs); the string instructions (movs, stos, lods, cmps, scas, ins, outs,
 * with rep); the x87 memory forms; SSE to SSE4.2 (0F, 0F 38, 0F 3A: loads,
 * stores, arithmetic), fxsave/fxrstor, ldmxcsr/stmxcsr, xsave, xsavec,
 * xsaveopt, xrstor; VEX maps 0F, 0F 38 and 0F 3A (AVX, AVX2, F16C, FMA,
 * BMI1/2; sizes 16/32 by VEX.L) except the gathers.
 */
int ptrace_access_decode(const uint8_t *buf, size_t n, struct ptrace_access *out);

#endif
