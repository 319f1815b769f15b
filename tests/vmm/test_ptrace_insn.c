/* SPDX-License-Identifier: MIT */
/*
 * test_ptrace_insn.c: Criterion tests of the ptrace platform's instruction
 * decoder (vmm/platform/ptrace_insn.c). The encodings are GNU as output
 * (`as --64`, then `objdump -d`), with the source line as the comment;
 * hand-encoded ones say so. Every buffer is an exact-size heap copy so
 * ASan (this test is built with it) catches a read past n.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "platform/ptrace_insn.h"

/* Registers for the effective-address checks: distinct, with high bits set
 * so that 32-bit truncation (67 prefix) shows. */
#define K      0xffff800000000000ULL
#define RAX    (K + 0x1000)
#define RCX    (K + 0x2000)
#define RBX    (K + 0x4000)
#define RSP    (K + 0x5000)
#define RBP    (K + 0x6000)
#define RDI    (K + 0x8000)
#define R9     (K + 0xa000)
#define R11    (K + 0xc000)
#define R12    (K + 0xd000)
#define R13    (K + 0xe000)
#define R14    (K + 0xf000)
#define R15    (K + 0x10000)
#define RSI    (K + 0x7000)
#define RDX    (K + 0x3000)
#define RIP    0xffffffff80100000ULL /* of the instruction; rip_next = RIP + len */
#define FSB    0x00007f0000000000ULL
#define GSB    0xffff888000200000ULL
#define U32(x) ((uint64_t)(uint32_t)(x))

static const uint64_t regs[16] = {RAX,	      RCX, RDX,	       RBX, RSP, RBP, RSI, RDI,
				  K + 0x9000, R9,  K + 0xb000, R11, R12, R13, R14, R15};

/* Expected register numbers are stored + 1 so that 0 (the default) means -1. */
#define G(r) ((r) + 1)
enum { AX, CX, DX, BX, SP, BP, SI, DI, R8, R9N, R10, R11N, R12N, R13N, R14N, R15N };

struct form {
	const char *text;
	const uint8_t *bytes;
	size_t n; /* the encoding's length: the expected len */
	enum ptrace_insn_op op;
	uint8_t size;
	bool port_dx;
	uint16_t port;
	uint8_t reg;
	int8_t gpr; /* G(r), 0: none */
	bool has_mem;
	struct {
		int8_t base, index; /* G(r), 0: none */
		uint8_t scale;	    /* 0: 1 */
		bool rip_rel;
		uint8_t seg;
		bool addr32;
		int64_t disp;
	} mem;
	uint64_t ea; /* with regs, RIP + n, FSB, GSB */
	uint8_t imm;
	bool rep;
};

#define X(s)	 .bytes = (const uint8_t *)(s), .n = sizeof(s) - 1
#define OP(o)	 .op = PTRACE_INSN_##o
#define MEM(...) .has_mem = true, .mem = {__VA_ARGS__}
#define FS	 PTRACE_INSN_SEG_FS
#define GS	 PTRACE_INSN_SEG_GS

static const struct form forms[] = {
    /* Port I/O. */
    {"outl %eax,(%dx)", X("\xef"), OP(OUT), .size = 4, .port_dx = true},
    {"out %eax,$0x80", X("\xe7\x80"), OP(OUT), .size = 4, .port = 0x80},
    {"outb %al,(%dx)", X("\xee"), OP(OUT), .size = 1, .port_dx = true},
    {"outw %ax,(%dx)", X("\x66\xef"), OP(OUT), .size = 2, .port_dx = true},
    {"out %al,$0x80", X("\xe6\x80"), OP(OUT), .size = 1, .port = 0x80},
    {"out %ax,$0x21", X("\x66\xe7\x21"), OP(OUT), .size = 2, .port = 0x21},
    {"in $0x61,%al", X("\xe4\x61"), OP(IN), .size = 1, .port = 0x61},
    {"in $0x71,%eax", X("\xe5\x71"), OP(IN), .size = 4, .port = 0x71},
    {"in $0x70,%ax", X("\x66\xe5\x70"), OP(IN), .size = 2, .port = 0x70},
    {"inb (%dx),%al", X("\xec"), OP(IN), .size = 1, .port_dx = true},
    {"inw (%dx),%ax", X("\x66\xed"), OP(IN), .size = 2, .port_dx = true},
    {"inl (%dx),%eax", X("\xed"), OP(IN), .size = 4, .port_dx = true},
    {"in $0xff,%al (port 255)", X("\xe4\xff"), OP(IN), .size = 1, .port = 0xff},
    /* Hand-encoded: REX.W is capped at 32 bits and wins over 66. */
    {"rex.W out %eax,(%dx)", X("\x48\xef"), OP(OUT), .size = 4, .port_dx = true},
    {"data16 rex.W out %eax,(%dx)", X("\x66\x48\xef"), OP(OUT), .size = 4, .port_dx = true},
    /* String I/O. */
    {"rep outsb %ds:(%rsi),(%dx)", X("\xf3\x6e"), OP(OUTS), .size = 1, .port_dx = true,
     MEM(.base = G(SI)), .ea = RSI, .rep = true},
    {"rep outsl %ds:(%rsi),(%dx)", X("\xf3\x6f"), OP(OUTS), .size = 4, .port_dx = true,
     MEM(.base = G(SI)), .ea = RSI, .rep = true},
    {"outsw %ds:(%rsi),(%dx)", X("\x66\x6f"), OP(OUTS), .size = 2, .port_dx = true,
     MEM(.base = G(SI)), .ea = RSI},
    {"rep insb (%dx),%es:(%rdi)", X("\xf3\x6c"), OP(INS), .size = 1, .port_dx = true,
     MEM(.base = G(DI)), .ea = RDI, .rep = true},
    {"insl (%dx),%es:(%rdi)", X("\x6d"), OP(INS), .size = 4, .port_dx = true, MEM(.base = G(DI)),
     .ea = RDI},
    {"rep insw (%dx),%es:(%rdi)", X("\x66\xf3\x6d"), OP(INS), .size = 2, .port_dx = true,
     MEM(.base = G(DI)), .ea = RDI, .rep = true},
    {"outsb %fs:(%rsi),(%dx)", X("\x64\x6e"), OP(OUTS), .size = 1, .port_dx = true,
     MEM(.base = G(SI), .seg = FS), .ea = RSI + FSB},
    {"addr32 rep outsb %ds:(%esi),(%dx)", X("\x67\xf3\x6e"), OP(OUTS), .size = 1, .port_dx = true,
     MEM(.base = G(SI), .addr32 = true), .ea = U32(RSI), .rep = true},
    {"rep outsl %gs:(%esi),(%dx)", X("\x65\x67\xf3\x6f"), OP(OUTS), .size = 4, .port_dx = true,
     MEM(.base = G(SI), .seg = GS, .addr32 = true), .ea = U32(RSI) + GSB, .rep = true},
    /* Hand-encoded: es: cannot be overridden for ins; the fs prefix is ignored. */
    {"ins with a 64 prefix", X("\x64\x6c"), OP(INS), .size = 1, .port_dx = true, MEM(.base = G(DI)),
     .ea = RDI},
    /* No operands. */
    {"hlt", X("\xf4"), OP(HLT)},
    {"cli", X("\xfa"), OP(CLI)},
    {"sti", X("\xfb"), OP(STI)},
    {"wrmsr", X("\x0f\x30"), OP(WRMSR)},
    {"rdmsr", X("\x0f\x32"), OP(RDMSR)},
    {"rdpmc", X("\x0f\x33"), OP(RDPMC)},
    {"swapgs", X("\x0f\x01\xf8"), OP(SWAPGS)},
    {"iretq", X("\x48\xcf"), OP(IRETQ), .size = 8},
    {"iretl", X("\xcf"), OP(IRETD), .size = 4},
    {"iretw", X("\x66\xcf"), OP(IRETD), .size = 2},
    {"sysretq", X("\x48\x0f\x07"), OP(SYSRETQ), .size = 8},
    {"sysretl", X("\x0f\x07"), OP(SYSRETL), .size = 4},
    {"int $0x80", X("\xcd\x80"), OP(INT), .imm = 0x80},
    {"int3", X("\xcc"), OP(INT3)},
    {"ud2", X("\x0f\x0b"), OP(UD2)},
    {"syscall", X("\x0f\x05"), OP(SYSCALL)},
    {"sysenter", X("\x0f\x34"), OP(SYSENTER)},
    {"clts", X("\x0f\x06"), OP(CLTS)},
    {"wbinvd", X("\x0f\x09"), OP(WBINVD)},
    {"invd", X("\x0f\x08"), OP(INVD)},
    {"xsetbv", X("\x0f\x01\xd1"), OP(XSETBV)},
    /* Hand-encoded: REX is ignored where it means nothing; of two the last counts. */
    {"rex.B hlt", X("\x41\xf4"), OP(HLT)},
    {"rex.B sysretl (no REX.W)", X("\x41\x0f\x07"), OP(SYSRETL), .size = 4},
    {"rex.W then data16: REX ignored, iretw", X("\x48\x66\xcf"), OP(IRETD), .size = 2},
    {"data16 rex.W iretq", X("\x66\x48\xcf"), OP(IRETQ), .size = 8},
    {"rex.W rex.B iret: last REX, iretd", X("\x48\x41\xcf"), OP(IRETD), .size = 4},
    {"rex.B swapgs", X("\x41\x0f\x01\xf8"), OP(SWAPGS)},
    /* Control and debug registers. */
    {"mov %cr3,%rax", X("\x0f\x20\xd8"), OP(MOV_FROM_CR), .size = 8, .reg = 3, .gpr = G(AX)},
    {"mov %cr3,%rcx", X("\x0f\x20\xd9"), OP(MOV_FROM_CR), .size = 8, .reg = 3, .gpr = G(CX)},
    {"mov %cr2,%rbp", X("\x0f\x20\xd5"), OP(MOV_FROM_CR), .size = 8, .reg = 2, .gpr = G(BP)},
    {"mov %rdi,%cr3", X("\x0f\x22\xdf"), OP(MOV_TO_CR), .size = 8, .reg = 3, .gpr = G(DI)},
    {"mov %rax,%cr3", X("\x0f\x22\xd8"), OP(MOV_TO_CR), .size = 8, .reg = 3, .gpr = G(AX)},
    {"mov %cr2,%rax", X("\x0f\x20\xd0"), OP(MOV_FROM_CR), .size = 8, .reg = 2, .gpr = G(AX)},
    {"mov %r9,%cr3", X("\x41\x0f\x22\xd9"), OP(MOV_TO_CR), .size = 8, .reg = 3, .gpr = G(R9N)},
    {"mov %rax,%cr8", X("\x44\x0f\x22\xc0"), OP(MOV_TO_CR), .size = 8, .reg = 8, .gpr = G(AX)},
    {"mov %cr8,%r15", X("\x45\x0f\x20\xc7"), OP(MOV_FROM_CR), .size = 8, .reg = 8, .gpr = G(R15N)},
    {"mov %cr4,%rax", X("\x0f\x20\xe0"), OP(MOV_FROM_CR), .size = 8, .reg = 4, .gpr = G(AX)},
    {"mov %rax,%cr0", X("\x0f\x22\xc0"), OP(MOV_TO_CR), .size = 8, .reg = 0, .gpr = G(AX)},
    {"mov %rax,%dr7", X("\x0f\x23\xf8"), OP(MOV_TO_DR), .size = 8, .reg = 7, .gpr = G(AX)},
    {"mov %dr6,%rbx", X("\x0f\x21\xf3"), OP(MOV_FROM_DR), .size = 8, .reg = 6, .gpr = G(BX)},
    {"mov %r10,%dr0", X("\x41\x0f\x23\xc2"), OP(MOV_TO_DR), .size = 8, .reg = 0, .gpr = G(R10)},
    /* Hand-encoded: mod 00 is still a register; REX.W changes nothing. */
    {"mov %cr3,%rax with mod 00", X("\x0f\x20\x18"), OP(MOV_FROM_CR), .size = 8, .reg = 3,
     .gpr = G(AX)},
    {"rex.WRB mov %r14,%cr11", X("\x4d\x0f\x22\xde"), OP(MOV_TO_CR), .size = 8, .reg = 11,
     .gpr = G(R14N)},
    /* invlpg */
    {"invlpg (%rdi)", X("\x0f\x01\x3f"), OP(INVLPG), MEM(.base = G(DI)), .ea = RDI},
    {"invlpg 0x10(%rax,%rcx,8)", X("\x0f\x01\x7c\xc8\x10"), OP(INVLPG),
     MEM(.base = G(AX), .index = G(CX), .scale = 8, .disp = 0x10), .ea = RAX + RCX * 8 + 0x10},
    {"invlpg (%r12)", X("\x41\x0f\x01\x3c\x24"), OP(INVLPG), MEM(.base = G(R12N)), .ea = R12},
    {"invlpg 0x0(%r13)", X("\x41\x0f\x01\x7d\x00"), OP(INVLPG), MEM(.base = G(R13N)), .ea = R13},
    {"invlpg (%r14)", X("\x41\x0f\x01\x3e"), OP(INVLPG), MEM(.base = G(R14N)), .ea = R14},
    {"invlpg -0x8(%rbp)", X("\x0f\x01\x7d\xf8"), OP(INVLPG), MEM(.base = G(BP), .disp = -8),
     .ea = RBP - 8},
    {"invlpg 0x12345678", X("\x0f\x01\x3c\x25\x78\x56\x34\x12"), OP(INVLPG),
     MEM(.disp = 0x12345678), .ea = 0x12345678},
    {"invlpg 0x100(,%r11,4)", X("\x42\x0f\x01\x3c\x9d\x00\x01\x00\x00"), OP(INVLPG),
     MEM(.index = G(R11N), .scale = 4, .disp = 0x100), .ea = R11 * 4 + 0x100},
    {"invlpg (%rsp,%r12,2)", X("\x42\x0f\x01\x3c\x64"), OP(INVLPG),
     MEM(.base = G(SP), .index = G(R12N), .scale = 2), .ea = RSP + R12 * 2},
    {"invlpg -0x80000000(%r15,%r9,1)", X("\x43\x0f\x01\xbc\x0f\x00\x00\x00\x80"), OP(INVLPG),
     MEM(.base = G(R15N), .index = G(R9N), .disp = -0x80000000LL), .ea = R15 + R9 - 0x80000000ULL},
    {"invlpg %gs:(%rax)", X("\x65\x0f\x01\x38"), OP(INVLPG), MEM(.base = G(AX), .seg = GS),
     .ea = RAX + GSB},
    {"invlpg %fs:0x8(%rbx)", X("\x64\x0f\x01\x7b\x08"), OP(INVLPG),
     MEM(.base = G(BX), .seg = FS, .disp = 8), .ea = RBX + 8 + FSB},
    {"invlpg 0x7c(%rip)", X("\x0f\x01\x3d\x7c\x00\x00\x00"), OP(INVLPG),
     MEM(.rip_rel = true, .disp = 0x7c), .ea = RIP + 7 + 0x7c},
    {"invlpg (%eax)", X("\x67\x0f\x01\x38"), OP(INVLPG), MEM(.base = G(AX), .addr32 = true),
     .ea = U32(RAX)},
    {"invlpg -0x4(%eax,%ebx,2)", X("\x67\x0f\x01\x7c\x58\xfc"), OP(INVLPG),
     MEM(.base = G(AX), .index = G(BX), .scale = 2, .addr32 = true, .disp = -4),
     .ea = U32(RAX + RBX * 2 - 4)},
    /* Hand-encoded ModRM/SIB corner cases. */
    {"invlpg 0x0(%r13) via SIB (mod 01 base 101 + REX.B)", X("\x41\x0f\x01\x7c\x25\x00"),
     OP(INVLPG), MEM(.base = G(R13N)), .ea = R13},
    {"invlpg 0x12345678 (SIB base 101 mod 00 + REX.B: no base)",
     X("\x41\x0f\x01\x3c\x25\x78\x56\x34\x12"), OP(INVLPG), MEM(.disp = 0x12345678),
     .ea = 0x12345678},
    {"invlpg -0x10(%rip) with REX.B (still rip-relative)", X("\x41\x0f\x01\x3d\xf0\xff\xff\xff"),
     OP(INVLPG), MEM(.rip_rel = true, .disp = -0x10), .ea = RIP + 8 - 0x10},
    {"invlpg 0x10(%eip)", X("\x67\x0f\x01\x3d\x10\x00\x00\x00"), OP(INVLPG),
     MEM(.rip_rel = true, .addr32 = true, .disp = 0x10), .ea = U32(RIP + 8 + 0x10)},
    {"invlpg (%r8,%r12) (REX.X index 100 is r12)", X("\x43\x0f\x01\x3c\x20"), OP(INVLPG),
     MEM(.base = G(R8), .index = G(R12N)), .ea = K + 0x9000 + R12},
    {"invlpg %gs:(%rax) after 64 (last wins), 2e ignored", X("\x64\x65\x2e\x0f\x01\x38"),
     OP(INVLPG), MEM(.base = G(AX), .seg = GS), .ea = RAX + GSB},
    /* lgdt / lidt */
    {"lgdt (%rsp)", X("\x0f\x01\x14\x24"), OP(LGDT), .size = 10, MEM(.base = G(SP)), .ea = RSP},
    {"lgdt 0x6(%rsp)", X("\x0f\x01\x54\x24\x06"), OP(LGDT), .size = 10,
     MEM(.base = G(SP), .disp = 6), .ea = RSP + 6},
    {"lgdt 0xc(%rsp)", X("\x0f\x01\x54\x24\x0c"), OP(LGDT), .size = 10,
     MEM(.base = G(SP), .disp = 12), .ea = RSP + 12},
    {"lidt 0x16(%rsp)", X("\x0f\x01\x5c\x24\x16"), OP(LIDT), .size = 10,
     MEM(.base = G(SP), .disp = 0x16), .ea = RSP + 0x16},
    {"lidt 0x58(%rip)", X("\x0f\x01\x1d\x58\x00\x00\x00"), OP(LIDT), .size = 10,
     MEM(.rip_rel = true, .disp = 0x58), .ea = RIP + 7 + 0x58},
    {"lgdt %gs:0x40", X("\x65\x0f\x01\x14\x25\x40\x00\x00\x00"), OP(LGDT), .size = 10,
     MEM(.seg = GS, .disp = 0x40), .ea = GSB + 0x40},
    /* ltr / lldt / lmsw */
    {"ltr %ax", X("\x0f\x00\xd8"), OP(LTR), .size = 2, .gpr = G(AX)},
    {"ltr %r8w", X("\x41\x0f\x00\xd8"), OP(LTR), .size = 2, .gpr = G(R8)},
    {"ltr (%rdi)", X("\x0f\x00\x1f"), OP(LTR), .size = 2, MEM(.base = G(DI)), .ea = RDI},
    {"lldt %ax", X("\x0f\x00\xd0"), OP(LLDT), .size = 2, .gpr = G(AX)},
    {"lldt 0x2(%rsi)", X("\x0f\x00\x56\x02"), OP(LLDT), .size = 2, MEM(.base = G(SI), .disp = 2),
     .ea = RSI + 2},
    {"lmsw %ax", X("\x0f\x01\xf0"), OP(LMSW), .size = 2, .gpr = G(AX)},
    {"lmsw %r11w", X("\x41\x0f\x01\xf3"), OP(LMSW), .size = 2, .gpr = G(R11N)},
    {"lmsw (%rdx)", X("\x0f\x01\x32"), OP(LMSW), .size = 2, MEM(.base = G(DX)), .ea = RDX},
    /* Hand-encoded: 14 prefixes + hlt is exactly 15 bytes. */
    {"14 x data16, hlt", X("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\xf4"),
     OP(HLT)},
    {"6 prefixes + REX.W + addr32 invlpg 0x1000(%esp): 15 bytes",
     X("\x2e\x3e\x66\x67\x26\x36\x48\x0f\x01\xbc\x24\x00\x10\x00\x00"), OP(INVLPG),
     MEM(.base = G(SP), .addr32 = true, .disp = 0x1000), .ea = U32(RSP + 0x1000)},
};

/* An exact-size heap copy: ASan reports any read past n. */
static uint8_t *copy(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	memcpy(p, b, n);
	return p;
}

static int decode_exact(const uint8_t *b, size_t n, struct ptrace_insn *in)
{
	uint8_t *p = copy(b, n);
	int rc = ptrace_insn_decode(p, n, in);
	free(p);
	return rc;
}

static void check_form(const struct form *f)
{
	struct ptrace_insn in;
	const char *t = f->text;

	memset(&in, 0xa5, sizeof(in));
	cr_assert_eq(decode_exact(f->bytes, f->n, &in), 0, "%s: refused", t);
	cr_expect_eq(in.op, f->op, "%s: op %s, expected %s", t, ptrace_insn_name(in.op),
		     ptrace_insn_name(f->op));
	cr_expect_eq(in.len, f->n, "%s: len %u, expected %zu", t, in.len, f->n);
	cr_expect_eq(in.size, f->size, "%s: size %u, expected %u", t, in.size, f->size);
	cr_expect_eq(in.port_dx, f->port_dx, "%s: port_dx", t);
	cr_expect_eq(in.port, f->port, "%s: port %#x", t, in.port);
	if (f->op == PTRACE_INSN_MOV_TO_CR || f->op == PTRACE_INSN_MOV_FROM_CR ||
	    f->op == PTRACE_INSN_MOV_TO_DR || f->op == PTRACE_INSN_MOV_FROM_DR)
		cr_expect_eq(in.reg, f->reg, "%s: reg %u, expected %u", t, in.reg, f->reg);
	cr_expect_eq(in.gpr, f->gpr - 1, "%s: gpr %d, expected %d", t, in.gpr, f->gpr - 1);
	cr_expect_eq(in.imm, f->imm, "%s: imm", t);
	cr_expect_eq(in.rep, f->rep, "%s: rep", t);
	cr_expect_eq(in.has_mem, f->has_mem, "%s: has_mem", t);
	if (f->has_mem) {
		const struct ptrace_insn_mem *m = &in.mem;
		cr_expect_eq(m->base, f->mem.base - 1, "%s: base %d", t, m->base);
		cr_expect_eq(m->index, f->mem.index - 1, "%s: index %d", t, m->index);
		cr_expect_eq(m->scale, f->mem.scale ? f->mem.scale : 1, "%s: scale %u", t,
			     m->scale);
		cr_expect_eq(m->rip_rel, f->mem.rip_rel, "%s: rip_rel", t);
		cr_expect_eq(m->seg, f->mem.seg, "%s: seg %u", t, m->seg);
		cr_expect_eq(m->addr32, f->mem.addr32, "%s: addr32", t);
		cr_expect_eq(m->disp, f->mem.disp, "%s: disp %lld", t, (long long)m->disp);
		uint64_t ea = ptrace_insn_ea(m, regs, RIP + in.len, FSB, GSB);
		cr_expect_eq(ea, f->ea, "%s: ea %#llx, expected %#llx", t, (unsigned long long)ea,
			     (unsigned long long)f->ea);
	}

	/* Trailing bytes are not consumed. */
	uint8_t pad[PTRACE_INSN_MAX_LEN + 8];
	memset(pad, 0x90, sizeof(pad));
	memcpy(pad, f->bytes, f->n);
	struct ptrace_insn again;
	cr_expect_eq(ptrace_insn_decode(pad, sizeof(pad), &again), 0, "%s: with padding", t);
	cr_expect_eq(again.len, f->n, "%s: len %u with padding", t, again.len);
	cr_expect_eq(again.op, f->op, "%s: op with padding", t);

	/* Every truncation is refused, and leaves op UNKNOWN. */
	for (size_t k = 0; k < f->n; k++) {
		struct ptrace_insn tr;
		memset(&tr, 0xa5, sizeof(tr));
		cr_expect_eq(decode_exact(f->bytes, k, &tr), -1, "%s: accepted %zu of %zu bytes", t,
			     k, f->n);
		cr_expect_eq(tr.op, PTRACE_INSN_UNKNOWN, "%s: truncated op", t);
		cr_expect_eq(tr.len, 0, "%s: truncated len", t);
	}
}

Test(ptrace_insn, gnu_as_forms)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		check_form(&forms[i]);
}

/*
 * Every privileged (or classified) instruction in the built guest kernels,
 * from `objdump -d` of guest-kernel/dmtvm-kernel.elf, guest-kernel/launcher
 * and tests/vmm/testguest/testguest.
 */
Test(ptrace_insn, guest_kernel_forms)
{
	static const struct {
		const char *text;
		const uint8_t *bytes;
		size_t n;
		enum ptrace_insn_op op;
	} k[] = {
	    {"0f 00 d8  ltr %ax", X("\x0f\x00\xd8"), OP(LTR)},
	    {"0f 01 54 24 0c  lgdt 0xc(%rsp)", X("\x0f\x01\x54\x24\x0c"), OP(LGDT)},
	    {"0f 01 5c 24 16  lidt 0x16(%rsp)", X("\x0f\x01\x5c\x24\x16"), OP(LIDT)},
	    {"0f 01 f8  swapgs", X("\x0f\x01\xf8"), OP(SWAPGS)},
	    {"0f 20 d5  mov %cr2,%rbp", X("\x0f\x20\xd5"), OP(MOV_FROM_CR)},
	    {"0f 20 d8  mov %cr3,%rax", X("\x0f\x20\xd8"), OP(MOV_FROM_CR)},
	    {"0f 20 d9  mov %cr3,%rcx", X("\x0f\x20\xd9"), OP(MOV_FROM_CR)},
	    {"0f 22 d8  mov %rax,%cr3", X("\x0f\x22\xd8"), OP(MOV_TO_CR)},
	    {"0f 30  wrmsr", X("\x0f\x30"), OP(WRMSR)},
	    {"41 0f 01 3e  invlpg (%r14)", X("\x41\x0f\x01\x3e"), OP(INVLPG)},
	    {"48 0f 07  sysretq", X("\x48\x0f\x07"), OP(SYSRETQ)},
	    {"48 cf  iretq", X("\x48\xcf"), OP(IRETQ)},
	    {"ef  out %eax,(%dx)", X("\xef"), OP(OUT)},
	    {"ee  out %al,(%dx)", X("\xee"), OP(OUT)},
	    {"e6 80  out %al,$0x80", X("\xe6\x80"), OP(OUT)},
	    {"e4 61  in $0x61,%al", X("\xe4\x61"), OP(IN)},
	    {"f4  hlt", X("\xf4"), OP(HLT)},
	    {"fa  cli", X("\xfa"), OP(CLI)},
	    {"0f 05  syscall", X("\x0f\x05"), OP(SYSCALL)},
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct ptrace_insn in;
		cr_expect_eq(decode_exact(k[i].bytes, k[i].n, &in), 0, "%s: refused", k[i].text);
		cr_expect_eq(in.op, k[i].op, "%s: op %s", k[i].text, ptrace_insn_name(in.op));
		cr_expect_eq(in.len, k[i].n, "%s: len %u", k[i].text, in.len);
	}
}

static void expect_refused(const char *text, const uint8_t *b, size_t n)
{
	struct ptrace_insn in;
	memset(&in, 0xa5, sizeof(in));
	int rc = decode_exact(b, n, &in);
	cr_expect_eq(rc, -1, "%s: accepted as %s, len %u", text, ptrace_insn_name(in.op), in.len);
	cr_expect_eq(in.op, PTRACE_INSN_UNKNOWN, "%s: op", text);
	cr_expect_eq(in.len, 0, "%s: len", text);
	cr_expect_eq(in.gpr, -1, "%s: gpr", text);
	cr_expect_eq(in.has_mem, false, "%s: has_mem", text);
}

Test(ptrace_insn, refuses_others)
{
	static const struct {
		const char *text;
		const uint8_t *bytes;
		size_t n;
	} bad[] = {
	    /* Ordinary instructions (GNU as). */
	    {"mov %rax,%rbx", X("\x48\x89\xc3")},
	    {"add %rbx,%rax", X("\x48\x01\xd8")},
	    {"nop", X("\x90")},
	    {"nopl 0x0(%rax,%rax,1)", X("\x0f\x1f\x44\x00\x00")},
	    {"call .+5", X("\xe8\x00\x00\x00\x00")},
	    {"ret", X("\xc3")},
	    {"rdtsc", X("\x0f\x31")},
	    {"cpuid", X("\x0f\xa2")},
	    {"rep stos %rax,%es:(%rdi)", X("\xf3\x48\xab")},
	    {"push %gs:0x8", X("\x65\xff\x34\x25\x08\x00\x00\x00")},
	    {"pause", X("\xf3\x90")},
	    {"sysexit", X("\x0f\x35")},
	    {"ud1 (%rax),%eax", X("\x0f\xb9\x00")},
	    /* 0F 01 / 0F 00 neighbours. */
	    {"rdtscp", X("\x0f\x01\xf9")},
	    {"xgetbv", X("\x0f\x01\xd0")},
	    {"monitor", X("\x0f\x01\xc8")},
	    {"vmcall", X("\x0f\x01\xc1")},
	    {"vmrun (0f 01 d8: lidt with mod 3)", X("\x0f\x01\xd8")},
	    {"enclu (0f 01 d7: lgdt with mod 3)", X("\x0f\x01\xd7")},
	    {"0f 01 ff: invlpg with mod 3", X("\x0f\x01\xff")},
	    {"0f 01 fb: invlpg with mod 3", X("\x0f\x01\xfb")},
	    {"sgdt (%rsp)", X("\x0f\x01\x04\x24")},
	    {"sidt (%rsp)", X("\x0f\x01\x0c\x24")},
	    {"smsw (%rax)", X("\x0f\x01\x20")},
	    {"smsw %eax", X("\x0f\x01\xe0")},
	    {"sldt %eax", X("\x0f\x00\xc0")},
	    {"str %eax", X("\x0f\x00\xc8")},
	    {"verr (%rax)", X("\x0f\x00\x20")},
	    {"verw (%rax)", X("\x0f\x00\x28")},
	    {"into (invalid in 64-bit mode)", X("\xce")},
	    /* Prefixes that change or void the instruction (hand-encoded). */
	    {"wbnoinvd (f3 0f 09)", X("\xf3\x0f\x09")},
	    {"data16 wbinvd (reserved)", X("\x66\x0f\x09")},
	    {"repnz outsb (reserved)", X("\xf2\x6e")},
	    {"data16 swapgs", X("\x66\x0f\x01\xf8")},
	    {"repz swapgs", X("\xf3\x0f\x01\xf8")},
	    {"repz mov %cr3,%rax", X("\xf3\x0f\x20\xd8")},
	    {"lock invlpg (%rax)", X("\xf0\x0f\x01\x38")},
	    {"lock hlt", X("\xf0\xf4")},
	    {"lock out %eax,(%dx)", X("\xf0\xef")},
	    {"lock mov %cr0,%rax (AMD's cr8 alias)", X("\xf0\x0f\x20\xc0")},
	    {"lock mov %rax,%cr3", X("\xf0\x0f\x22\xd8")},
	    {"lock rex.W iretq", X("\xf0\x48\xcf")},
	    {"rex.W lock iret", X("\x48\xf0\xcf")},
	    {"lock wrmsr", X("\xf0\x0f\x30")},
	    /* Too long. */
	    {"15 x data16, hlt (16 bytes)",
	     X("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\xf4")},
	    {"14 x data16, wrmsr (16 bytes)",
	     X("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x0f\x30")},
	    {"11 prefixes, invlpg 0x12345678 (19 bytes)",
	     X("\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x65\x0f\x01\x3c\x25\x78\x56\x34\x12")},
	    {"7 prefixes + REX.W + invlpg 0x1000(%esp) (16 bytes)",
	     X("\x2e\x3e\x66\x67\x26\x36\x3e\x48\x0f\x01\xbc\x24\x00\x10\x00\x00")},
	    {"16 x REX, hlt",
	     X("\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\xf4")},
	    /* Nothing or only prefixes. */
	    {"empty", X("")},
	    {"66 67 f3 48", X("\x66\x67\xf3\x48")},
	    {"0f", X("\x0f")},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i].text, bad[i].bytes, bad[i].n);
	/* A NULL buffer is refused too. */
	struct ptrace_insn in;
	cr_expect_eq(ptrace_insn_decode(NULL, 0, &in), -1);
	cr_expect_eq(in.op, PTRACE_INSN_UNKNOWN);
}

/* n limits the read even when the bytes after it would complete the instruction. */
Test(ptrace_insn, respects_n)
{
	static const uint8_t b[] = {0x0f, 0x01, 0x3c, 0x25, 0x78, 0x56, 0x34, 0x12};
	struct ptrace_insn in;
	for (size_t k = 0; k < sizeof(b); k++)
		cr_expect_eq(ptrace_insn_decode(b, k, &in), -1, "accepted with n = %zu", k);
	cr_expect_eq(ptrace_insn_decode(b, sizeof(b), &in), 0);
	cr_expect_eq(in.len, sizeof(b));
}

/*
 * Every 1- and 2-byte buffer, and every 3-byte buffer starting with 0F or a
 * prefix: success means 1 <= len <= n, a consistent result (op known, gpr and
 * mem registers in range), the same result from exactly len bytes, and
 * refusal of len - 1 bytes. Exact-size heap buffers: ASan sees overreads.
 */
static void sweep_one(const uint8_t *b, size_t n, unsigned *ok)
{
	struct ptrace_insn in, again;
	if (ptrace_insn_decode(b, n, &in) < 0) {
		if (in.op != PTRACE_INSN_UNKNOWN || in.len != 0)
			cr_assert_fail("%02x %02x %02x (n %zu): refused but op %d len %u", b[0],
				       n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n, in.op, in.len);
		return;
	}
	++*ok;
	if (in.len == 0 || in.len > n || in.op == PTRACE_INSN_UNKNOWN ||
	    in.op >= PTRACE_INSN_NOPS || in.gpr < -1 || in.gpr > 15 || in.mem.base < -1 ||
	    in.mem.base > 15 || in.mem.index < -1 || in.mem.index > 15 ||
	    (in.has_mem && in.gpr != -1))
		cr_assert_fail("%02x %02x %02x (n %zu): op %d len %u gpr %d base %d index %d", b[0],
			       n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n, in.op, in.len, in.gpr,
			       in.mem.base, in.mem.index);
	if (in.len < n) {
		if (ptrace_insn_decode(b, in.len, &again) < 0 || memcmp(&in, &again, sizeof(in)))
			cr_assert_fail("%02x %02x %02x: differs with n = len %u", b[0], b[1],
				       n > 2 ? b[2] : 0, in.len);
	}
	if (ptrace_insn_decode(b, in.len - 1u, &again) == 0)
		cr_assert_fail("%02x: accepted with len - 1 bytes", b[0]);
}

Test(ptrace_insn, exhaustive_sweep, .timeout = 120)
{
	static const uint8_t lead[] = {0x0f, 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26,
				       0x64, 0x65, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
				       0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f};
	uint8_t *b1 = malloc(1), *b2 = malloc(2), *b3 = malloc(3);
	unsigned ok1 = 0, ok2 = 0, ok3 = 0;
	cr_assert(b1 && b2 && b3);
	for (unsigned x = 0; x < 256; x++) {
		b1[0] = (uint8_t)x;
		sweep_one(b1, 1, &ok1);
		for (unsigned y = 0; y < 256; y++) {
			b2[0] = (uint8_t)x;
			b2[1] = (uint8_t)y;
			sweep_one(b2, 2, &ok2);
		}
	}
	for (size_t l = 0; l < sizeof(lead); l++)
		for (unsigned y = 0; y < 65536; y++) {
			b3[0] = lead[l];
			b3[1] = (uint8_t)(y >> 8);
			b3[2] = (uint8_t)y;
			sweep_one(b3, 3, &ok3);
		}
	free(b1);
	free(b2);
	free(b3);
	/* The one-byte instructions: ec-ef, 6c-6f, f4 fa fb cf cc. */
	cr_expect_eq(ok1, 13, "one-byte instructions decoded: %u", ok1);
	cr_expect_gt(ok2, 15 * 256);
	cr_expect_gt(ok3, 0);
}

Test(ptrace_insn, names)
{
	for (int i = 0; i < PTRACE_INSN_NOPS; i++) {
		const char *a = ptrace_insn_name((enum ptrace_insn_op)i);
		cr_assert(a && strcmp(a, "?") != 0, "op %d has no name", i);
		for (int j = 0; j < i; j++)
			cr_expect_str_neq(a, ptrace_insn_name((enum ptrace_insn_op)j), "ops %d, %d",
					  i, j);
	}
	cr_expect_str_eq(ptrace_insn_name(PTRACE_INSN_OUT), "out");
	cr_expect_str_eq(ptrace_insn_name(PTRACE_INSN_IRETQ), "iretq");
	cr_expect_str_eq(ptrace_insn_name(PTRACE_INSN_INVLPG), "invlpg");
	cr_expect_str_eq(ptrace_insn_name(PTRACE_INSN_UNKNOWN), "unknown");
	cr_expect_str_eq(ptrace_insn_name(PTRACE_INSN_NOPS), "?");
	cr_expect_str_eq(ptrace_insn_name((enum ptrace_insn_op) - 1), "?");
}

/* The effective address wraps modulo 2^64, and addr32 truncates before the segment base. */
Test(ptrace_insn, ea_arithmetic)
{
	uint64_t g[16] = {0};
	g[0] = 0xffffffffffffff00ULL;
	g[1] = 0x10;
	struct ptrace_insn_mem m = {.base = 0, .index = 1, .scale = 8, .disp = 0x80};
	cr_expect_eq(ptrace_insn_ea(&m, g, 0, 0, 0), 0);
	m.addr32 = true;
	m.seg = PTRACE_INSN_SEG_FS;
	g[0] = 0x1ffffff00ULL;
	cr_expect_eq(ptrace_insn_ea(&m, g, 0, 0x5000000000ULL, 0), 0x5000000000ULL);
	struct ptrace_insn_mem none = {.base = -1, .index = -1, .scale = 1, .disp = -1};
	cr_expect_eq(ptrace_insn_ea(&none, g, 0, 0, 0), ~0ULL);
	none.rip_rel = true;
	cr_expect_eq(ptrace_insn_ea(&none, g, 0x1000, 0, 0), 0xfff);
}
