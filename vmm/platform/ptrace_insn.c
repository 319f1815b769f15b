/* SPDX-License-Identifier: MIT */
/*
 * ptrace_insn.c: the ptrace platform's decoder of the privileged x86-64
 * instructions a guest kernel executes (see ptrace_insn.h): prefixes, REX,
 * ModRM/SIB/displacement in 64-bit mode, the effective address of a memory
 * operand, and the names for messages. No allocation, no global state; it
 * reads at most min(n, 15) bytes of its input.
 */
#include <string.h>

#include "ptrace_insn.h"
#include "x86_cursor.h"

static const char *const names[PTRACE_INSN_NOPS] = {
    [PTRACE_INSN_UNKNOWN] = "unknown",
    [PTRACE_INSN_OUT] = "out",
    [PTRACE_INSN_IN] = "in",
    [PTRACE_INSN_OUTS] = "outs",
    [PTRACE_INSN_INS] = "ins",
    [PTRACE_INSN_HLT] = "hlt",
    [PTRACE_INSN_CLI] = "cli",
    [PTRACE_INSN_STI] = "sti",
    [PTRACE_INSN_WRMSR] = "wrmsr",
    [PTRACE_INSN_RDMSR] = "rdmsr",
    [PTRACE_INSN_MOV_TO_CR] = "mov to cr",
    [PTRACE_INSN_MOV_FROM_CR] = "mov from cr",
    [PTRACE_INSN_MOV_TO_DR] = "mov to dr",
    [PTRACE_INSN_MOV_FROM_DR] = "mov from dr",
    [PTRACE_INSN_INVLPG] = "invlpg",
    [PTRACE_INSN_LGDT] = "lgdt",
    [PTRACE_INSN_LIDT] = "lidt",
    [PTRACE_INSN_LTR] = "ltr",
    [PTRACE_INSN_LLDT] = "lldt",
    [PTRACE_INSN_SWAPGS] = "swapgs",
    [PTRACE_INSN_IRETQ] = "iretq",
    [PTRACE_INSN_IRETD] = "iretd",
    [PTRACE_INSN_SYSRETQ] = "sysretq",
    [PTRACE_INSN_SYSRETL] = "sysretl",
    [PTRACE_INSN_INT] = "int",
    [PTRACE_INSN_INT3] = "int3",
    [PTRACE_INSN_INTO] = "into",
    [PTRACE_INSN_CLTS] = "clts",
    [PTRACE_INSN_WBINVD] = "wbinvd",
    [PTRACE_INSN_INVD] = "invd",
    [PTRACE_INSN_XSETBV] = "xsetbv",
    [PTRACE_INSN_RDPMC] = "rdpmc",
    [PTRACE_INSN_LMSW] = "lmsw",
    [PTRACE_INSN_SYSCALL] = "syscall",
    [PTRACE_INSN_SYSENTER] = "sysenter",
    [PTRACE_INSN_UD2] = "ud2",
};

const char *ptrace_insn_name(enum ptrace_insn_op op)
{
	return (unsigned)op < PTRACE_INSN_NOPS && names[op] ? names[op] : "?";
}

static int get_disp(struct x86_cursor *c, unsigned bytes, int64_t *v)
{
	if (c->lim - c->pos < bytes)
		return -1;
	if (bytes == 1) {
		*v = (int8_t)c->buf[c->pos];
	} else {
		uint32_t u = (uint32_t)c->buf[c->pos] | (uint32_t)c->buf[c->pos + 1] << 8 |
			     (uint32_t)c->buf[c->pos + 2] << 16 |
			     (uint32_t)c->buf[c->pos + 3] << 24;
		*v = (int32_t)u;
	}
	c->pos += bytes;
	return 0;
}

/* The prefixes seen before the opcode. */
static uint8_t seg_of(const struct x86_prefixes *p)
{
	return p->seg == 0x64	? PTRACE_INSN_SEG_FS
	       : p->seg == 0x65 ? PTRACE_INSN_SEG_GS
				: PTRACE_INSN_SEG_NONE;
}

/*
 * The r/m operand of a ModRM byte: a register (out->gpr) or a memory
 * operand (out->has_mem, out->mem), consuming SIB and displacement bytes.
 */
static int decode_rm(struct x86_cursor *c, const struct x86_prefixes *p, uint8_t modrm,
		     struct ptrace_insn *out)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	struct ptrace_insn_mem *m = &out->mem;

	if (mod == 3) {
		out->gpr = (int8_t)(rm | (p->rex & REX_B ? 8 : 0));
		return 0;
	}
	out->has_mem = true;
	m->seg = seg_of(p);
	m->addr32 = p->addr32;
	unsigned disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		uint8_t sib;
		if (x86_get8(c, &sib) < 0)
			return -1;
		unsigned idx = ((sib >> 3) & 7) | (p->rex & REX_X ? 8 : 0);
		unsigned base = sib & 7;
		m->scale = (uint8_t)(1u << (sib >> 6));
		m->index = idx == 4 ? -1 : (int8_t)idx;
		if (base == 5 && mod == 0) {
			/* No base (even with REX.B): disp32 alone. */
			disp_bytes = 4;
		} else {
			m->base = (int8_t)(base | (p->rex & REX_B ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) {
		/* RIP-relative (even with REX.B). */
		m->rip_rel = true;
		disp_bytes = 4;
	} else {
		m->base = (int8_t)(rm | (p->rex & REX_B ? 8 : 0));
	}
	if (disp_bytes && get_disp(c, disp_bytes, &m->disp) < 0)
		return -1;
	return 0;
}

/* Port I/O: in/out with imm8 or DX, ins/outs. */
static int decode_io(struct x86_cursor *c, const struct x86_prefixes *p, uint8_t op,
		     struct ptrace_insn *out)
{
	bool byte = !(op & 1);
	/* REX.W wins over 66 and is capped at 32 bits (as QEMU's mo_b_d32). */
	out->size = byte ? 1 : (p->opsize && !(p->rex & REX_W)) ? 2 : 4;
	if (op >= 0xe4 && op <= 0xe7) {
		uint8_t imm;
		if (x86_get8(c, &imm) < 0)
			return -1;
		out->op = op & 2 ? PTRACE_INSN_OUT : PTRACE_INSN_IN;
		out->port = imm;
		return 0;
	}
	out->port_dx = true;
	if (op >= 0xec) {
		out->op = op & 2 ? PTRACE_INSN_OUT : PTRACE_INSN_IN;
		return 0;
	}
	/* 6C-6F: ins to es:[rdi] (no override), outs from ds:[rsi] (fs/gs allowed). */
	if (p->repne)
		return -1;
	out->rep = p->rep;
	out->has_mem = true;
	out->mem.addr32 = p->addr32;
	if (op & 2) {
		out->op = PTRACE_INSN_OUTS;
		out->mem.base = 6;
		out->mem.seg = seg_of(p);
	} else {
		out->op = PTRACE_INSN_INS;
		out->mem.base = 7;
	}
	return 0;
}

/* 0F 00 and 0F 01: the descriptor-table group and its register forms. */
static int decode_grp(struct x86_cursor *c, const struct x86_prefixes *p, uint8_t op2,
		      struct ptrace_insn *out)
{
	uint8_t modrm;
	if (x86_get8(c, &modrm) < 0)
		return -1;
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7;

	if (op2 == 0x00) {
		if (reg != 2 && reg != 3)
			return -1; /* sldt str verr verw */
		out->op = reg == 2 ? PTRACE_INSN_LLDT : PTRACE_INSN_LTR;
		out->size = 2;
		return decode_rm(c, p, modrm, out);
	}
	if (mod == 3) {
		/* Register forms: the opcode extends into rm; prefixes select others. */
		if (p->opsize || p->rep || p->repne)
			return -1;
		if (modrm == 0xf8) {
			out->op = PTRACE_INSN_SWAPGS;
			return 0;
		}
		if (modrm == 0xd1) {
			out->op = PTRACE_INSN_XSETBV;
			return 0;
		}
		if (reg == 6) {
			out->op = PTRACE_INSN_LMSW;
			out->size = 2;
			return decode_rm(c, p, modrm, out);
		}
		return -1; /* rdtscp, monitor, vmcall, xgetbv, ... */
	}
	switch (reg) {
	case 2:
		out->op = PTRACE_INSN_LGDT;
		out->size = 10;
		break;
	case 3:
		out->op = PTRACE_INSN_LIDT;
		out->size = 10;
		break;
	case 6:
		out->op = PTRACE_INSN_LMSW;
		out->size = 2;
		break;
	case 7:
		out->op = PTRACE_INSN_INVLPG;
		break;
	default:
		return -1; /* sgdt sidt smsw, reserved */
	}
	return decode_rm(c, p, modrm, out);
}

/* 0F xx */
static int decode_0f(struct x86_cursor *c, const struct x86_prefixes *p, struct ptrace_insn *out)
{
	uint8_t op2;
	if (x86_get8(c, &op2) < 0)
		return -1;
	/* F2/F3 make other instructions of these (F3 0F 09 wbnoinvd, ...). */
	if (p->rep || p->repne)
		return -1;
	switch (op2) {
	case 0x00:
	case 0x01:
		return decode_grp(c, p, op2, out);
	case 0x20:
	case 0x21:
	case 0x22:
	case 0x23: {
		static const enum ptrace_insn_op mov[4] = {
		    PTRACE_INSN_MOV_FROM_CR, PTRACE_INSN_MOV_FROM_DR, PTRACE_INSN_MOV_TO_CR,
		    PTRACE_INSN_MOV_TO_DR};
		uint8_t modrm;
		if (x86_get8(c, &modrm) < 0)
			return -1;
		/* mod is ignored: the operand is always a register. */
		out->op = mov[op2 - 0x20];
		out->size = 8;
		out->reg = (uint8_t)(((modrm >> 3) & 7) | (p->rex & REX_R ? 8 : 0));
		out->gpr = (int8_t)((modrm & 7) | (p->rex & REX_B ? 8 : 0));
		return 0;
	}
	case 0x05:
		out->op = PTRACE_INSN_SYSCALL;
		return 0;
	case 0x06:
		out->op = PTRACE_INSN_CLTS;
		return 0;
	case 0x07:
		out->op = p->rex & REX_W ? PTRACE_INSN_SYSRETQ : PTRACE_INSN_SYSRETL;
		out->size = p->rex & REX_W ? 8 : 4;
		return 0;
	case 0x08:
		out->op = PTRACE_INSN_INVD;
		return 0;
	case 0x09:
		if (p->opsize)
			return -1; /* 66 0F 09 is reserved (binutils: (bad)) */
		out->op = PTRACE_INSN_WBINVD;
		return 0;
	case 0x0b:
		out->op = PTRACE_INSN_UD2;
		return 0;
	case 0x30:
		out->op = PTRACE_INSN_WRMSR;
		return 0;
	case 0x32:
		out->op = PTRACE_INSN_RDMSR;
		return 0;
	case 0x33:
		out->op = PTRACE_INSN_RDPMC;
		return 0;
	case 0x34:
		out->op = PTRACE_INSN_SYSENTER;
		return 0;
	default:
		return -1;
	}
}

static int decode(struct x86_cursor *c, struct ptrace_insn *out)
{
	struct x86_prefixes p;
	uint8_t b;

	if (x86_prefixes(c, &p, &b) < 0)
		return -1;
	/* None of these instructions takes a lock prefix (#UD). */
	if (p.lock)
		return -1;
	switch (b) {
	case 0xe4:
	case 0xe5:
	case 0xe6:
	case 0xe7:
	case 0xec:
	case 0xed:
	case 0xee:
	case 0xef:
	case 0x6c:
	case 0x6d:
	case 0x6e:
	case 0x6f:
		return decode_io(c, &p, b, out);
	case 0xf4:
		out->op = PTRACE_INSN_HLT;
		return 0;
	case 0xfa:
		out->op = PTRACE_INSN_CLI;
		return 0;
	case 0xfb:
		out->op = PTRACE_INSN_STI;
		return 0;
	case 0xcf:
		out->op = p.rex & REX_W ? PTRACE_INSN_IRETQ : PTRACE_INSN_IRETD;
		out->size = p.rex & REX_W ? 8 : p.opsize ? 2 : 4;
		return 0;
	case 0xcd:
		out->op = PTRACE_INSN_INT;
		return x86_get8(c, &out->imm);
	case 0xcc:
		out->op = PTRACE_INSN_INT3;
		return 0;
	case 0x0f:
		return decode_0f(c, &p, out);
	default:
		return -1; /* ordinary instructions; CE (into) is invalid in 64-bit mode */
	}
}

static void clear(struct ptrace_insn *out)
{
	memset(out, 0, sizeof(*out));
	out->gpr = -1;
	out->mem.base = -1;
	out->mem.index = -1;
	out->mem.scale = 1;
}

int ptrace_insn_decode(const uint8_t *buf, size_t n, struct ptrace_insn *out)
{
	struct x86_cursor c = {buf, 0, n < PTRACE_INSN_MAX_LEN ? n : PTRACE_INSN_MAX_LEN};

	clear(out);
	if (!buf || decode(&c, out) < 0) {
		clear(out);
		return -1;
	}
	out->len = (uint8_t)c.pos;
	return 0;
}

uint64_t ptrace_insn_ea(const struct ptrace_insn_mem *m, const uint64_t gpr[16], uint64_t rip_next,
			uint64_t fs_base, uint64_t gs_base)
{
	uint64_t ea = (uint64_t)m->disp;

	if (m->base >= 0 && m->base < 16)
		ea += gpr[m->base];
	if (m->index >= 0 && m->index < 16)
		ea += gpr[m->index] * m->scale;
	if (m->rip_rel)
		ea += rip_next;
	if (m->addr32)
		ea = (uint32_t)ea;
	if (m->seg == PTRACE_INSN_SEG_FS)
		ea += fs_base;
	else if (m->seg == PTRACE_INSN_SEG_GS)
		ea += gs_base;
	return ea;
}
