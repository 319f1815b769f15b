/* SPDX-License-Identifier: MIT */
/*
 * platform/x86_cursor.h: reading x86 instruction bytes, shared by the ptrace
 * platform's two decoders (ptrace_insn.c: privileged instructions;
 * ptrace_access.c: the memory access of a faulting instruction). Guest
 * bytes are untrusted: every read is bounded by lim.
 */
#ifndef VMM_X86_CURSOR_H
#define VMM_X86_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* REX prefix bits. */
#define REX_B 0x1
#define REX_X 0x2
#define REX_R 0x4
#define REX_W 0x8

/* The bytes being decoded: buf[pos..lim), lim = min(n, 15). */
struct x86_cursor {
	const uint8_t *buf;
	size_t pos, lim;
};

static inline int x86_get8(struct x86_cursor *c, uint8_t *v)
{
	if (c->pos >= c->lim)
		return -1;
	*v = c->buf[c->pos++];
	return 0;
}

static inline int x86_skip(struct x86_cursor *c, size_t bytes)
{
	if (c->lim - c->pos < bytes)
		return -1;
	c->pos += bytes;
	return 0;
}

/* The prefixes before an opcode. */
struct x86_prefixes {
	bool opsize, addr32, rep, repne, lock;
	bool any_rex; /* a REX anywhere in the prefixes, even an ignored one */
	uint8_t seg;  /* 0, or the last fs/gs override (0x64, 0x65) */
	uint8_t rex;  /* the REX right before the opcode, else 0 */
};

/*
 * Legacy prefixes (66 67 F2 F3 F0 2E 36 3E 26 64 65) and REX up to the
 * opcode, which lands in *op: 0, or -1 when the bytes end first. A REX
 * followed by a legacy prefix is ignored, as the CPU does.
 */
static inline int x86_prefixes(struct x86_cursor *c, struct x86_prefixes *p, uint8_t *op)
{
	*p = (struct x86_prefixes){0};
	for (;;) {
		uint8_t b;
		if (x86_get8(c, &b) < 0)
			return -1;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addr32 = true;
			break;
		case 0xf2:
			p->repne = true;
			break;
		case 0xf3:
			p->rep = true;
			break;
		case 0xf0:
			p->lock = true;
			break;
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x26:
			break;
		case 0x64:
		case 0x65:
			p->seg = b;
			break;
		default:
			if ((b & 0xf0) == 0x40) {
				p->rex = b;
				p->any_rex = true;
				continue;
			}
			*op = b;
			return 0;
		}
		p->rex = 0;
	}
}

#endif
