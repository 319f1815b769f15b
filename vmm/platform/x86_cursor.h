/* SPDX-License-Identifier: MIT */
/*
 * platform/x86_cursor.h: reading x86 instruction bytes, shared by the ptrace
 * platform's two decoders (ptrace_insn.c: privileged instructions;
 * ptrace_access.c: the memory access of a faulting instruction). Guest
 * bytes are untrusted: every read is bounded by lim.
 */
#ifndef VMM_X86_CURSOR_H
#define VMM_X86_CURSOR_H

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

#endif
