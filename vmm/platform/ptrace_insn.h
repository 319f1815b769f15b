/* SPDX-License-Identifier: MIT */
/*
 * ptrace_insn.h: the x86-64 instruction decoder of the ptrace platform. The
 * guest kernel's ring-0 code runs natively in a traced host process; each
 * privileged instruction it executes stops it with SIGSEGV (SI_KERNEL, rip at
 * the instruction) and the tracer decodes the bytes at rip with
 * ptrace_insn_decode() to emulate them. Pure, allocation-free, 64-bit mode only.
 */
#ifndef VMM_PTRACE_INSN_H
#define VMM_PTRACE_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest x86 instruction, prefixes included. */
#define PTRACE_INSN_MAX_LEN 15

enum ptrace_insn_op {
	PTRACE_INSN_UNKNOWN = 0, /* not an instruction we emulate, or truncated/invalid */
	PTRACE_INSN_OUT,	 /* E6/E7 ib, EE/EF */
	PTRACE_INSN_IN,		 /* E4/E5 ib, EC/ED */
	PTRACE_INSN_OUTS,	 /* 6E/6F, optional rep (F3) */
	PTRACE_INSN_INS,	 /* 6C/6D, optional rep (F3) */
	PTRACE_INSN_HLT,	 /* F4 */
	PTRACE_INSN_CLI,	 /* FA */
	PTRACE_INSN_STI,	 /* FB */
	PTRACE_INSN_WRMSR,	 /* 0F 30 */
	PTRACE_INSN_RDMSR,	 /* 0F 32 */
	PTRACE_INSN_MOV_TO_CR,	 /* 0F 22 /r */
	PTRACE_INSN_MOV_FROM_CR, /* 0F 20 /r */
	PTRACE_INSN_MOV_TO_DR,	 /* 0F 23 /r */
	PTRACE_INSN_MOV_FROM_DR, /* 0F 21 /r */
	PTRACE_INSN_INVLPG,	 /* 0F 01 /7, memory */
	PTRACE_INSN_LGDT,	 /* 0F 01 /2, memory */
	PTRACE_INSN_LIDT,	 /* 0F 01 /3, memory */
	PTRACE_INSN_LTR,	 /* 0F 00 /3, register or memory */
	PTRACE_INSN_LLDT,	 /* 0F 00 /2, register or memory */
	PTRACE_INSN_SWAPGS,	 /* 0F 01 F8 */
	PTRACE_INSN_IRETQ,	 /* REX.W CF */
	PTRACE_INSN_IRETD,	 /* CF (66 CF: iretw, size 2) */
	PTRACE_INSN_SYSRETQ,	 /* REX.W 0F 07 */
	PTRACE_INSN_SYSRETL,	 /* 0F 07 */
	PTRACE_INSN_INT,	 /* CD ib */
	PTRACE_INSN_INT3,	 /* CC */
	PTRACE_INSN_INTO,	 /* CE: invalid in 64-bit mode, never decoded (name only) */
	PTRACE_INSN_CLTS,	 /* 0F 06 */
	PTRACE_INSN_WBINVD,	 /* 0F 09 */
	PTRACE_INSN_INVD,	 /* 0F 08 */
	PTRACE_INSN_XSETBV,	 /* 0F 01 D1 */
	PTRACE_INSN_RDPMC,	 /* 0F 33 */
	PTRACE_INSN_LMSW,	 /* 0F 01 /6, register or memory */
	PTRACE_INSN_SYSCALL,	 /* 0F 05 (not privileged; for classifying) */
	PTRACE_INSN_SYSENTER,	 /* 0F 34 (idem) */
	PTRACE_INSN_UD2,	 /* 0F 0B */
	PTRACE_INSN_NOPS	 /* count */
};

/* struct ptrace_insn_mem.seg */
#define PTRACE_INSN_SEG_NONE 0
#define PTRACE_INSN_SEG_FS   1
#define PTRACE_INSN_SEG_GS   2

/* A memory operand: seg_base + base + index * scale + disp (+ rip_next if rip_rel). */
struct ptrace_insn_mem {
	int8_t base;   /* GPR 0..15 (rax rcx rdx rbx rsp rbp rsi rdi r8..r15), -1 none */
	int8_t index;  /* GPR, -1 none (SIB index 4 without REX.X = none) */
	uint8_t scale; /* 1 2 4 8 */
	bool rip_rel;
	uint8_t seg; /* PTRACE_INSN_SEG_NONE (cs/ds/es/ss: base 0), _FS or _GS from 64/65 */
	bool addr32; /* 67 prefix: the effective address is truncated to 32 bits */
	int64_t disp;
};

struct ptrace_insn {
	enum ptrace_insn_op op;
	uint8_t len;  /* total bytes, prefixes included, 1..15 */
	uint8_t size; /* operand bytes: in/out/ins/outs 1 2 4; mov cr/dr 8; lgdt/lidt 10;
		       * ltr/lldt/lmsw 2; iretq/sysretq 8, iretd/sysretl 4, iretw 2; else 0 */
	bool port_dx; /* in/out/ins/outs: port in DX (else imm8 in `port`) */
	uint16_t port;
	uint8_t reg; /* MOV_*_CR/DR: the control/debug register number 0..15 (unchecked) */
	int8_t gpr;  /* MOV_*_CR/DR, LTR/LLDT/LMSW with a register operand: the GPR, else -1 */
	bool has_mem;
	/* INVLPG/LGDT/LIDT and LTR/LLDT/LMSW with a memory operand: that operand;
	 * OUTS: the source [rsi] (fs/gs override allowed); INS: the destination [rdi].
	 * For OUTS/INS, mem.addr32 also means rcx/rsi/rdi are used as 32 bits. */
	struct ptrace_insn_mem mem;
	uint8_t imm; /* INT n */
	bool rep;    /* ins/outs with an F3 prefix */
};

/*
 * Decode one instruction at buf[0..n) (n may be < 15 at the end of a readable
 * range). Returns 0 and fills *out, or -1 (op = PTRACE_INSN_UNKNOWN, len 0)
 * when the bytes are not one of the instructions above, are truncated, or
 * exceed 15 bytes. Never reads past n (nor past 15 bytes).
 *
 * Prefixes: any number of 66 67 F2 F3 F0 2E 36 3E 26 64 65, then REX (40-4F)
 * immediately before the opcode (a REX followed by another prefix is
 * ignored, the legacy prefixes still apply; of several REX the last counts).
 * A later 64/65 overrides an earlier one; 2E 36 3E 26 are ignored (base 0 in
 * 64-bit mode). Refused (-1) rather than guessed: a lock prefix (F0) on
 * anything (#UD); F2 on ins/outs (reserved); F2/F3 on any 0F-escaped
 * instruction (F3 0F 09 is wbnoinvd); 66 on wbinvd (reserved); 66 F2 F3 on
 * 0F 01 with a register operand (swapgs, xsetbv, lmsw %reg: other
 * instructions live there). CR/DR numbers are not checked (0..15).
 */
int ptrace_insn_decode(const uint8_t *buf, size_t n, struct ptrace_insn *out);

/*
 * The effective (linear) address of a memory operand: gpr[16] in x86 order,
 * the rip of the NEXT instruction (rip + len), the fs and gs bases. With
 * addr32 the sum is truncated to 32 bits before the segment base is added.
 */
uint64_t ptrace_insn_ea(const struct ptrace_insn_mem *m, const uint64_t gpr[16], uint64_t rip_next,
			uint64_t fs_base, uint64_t gs_base);

/* A short name for messages and tests ("out", "iretq", ...); "?" out of range. */
const char *ptrace_insn_name(enum ptrace_insn_op op);

#endif
