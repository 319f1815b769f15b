/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ptrace_insn.c: libFuzzer target for the ptrace platform's instruction
 * decoder (vmm/platform/ptrace_insn.c): decodes the input as guest bytes at
 * rip, at every length 0..size (up to 16), and checks what the tracer relies
 * on: success means 1 <= len <= min(n, 15), a known op, registers in range,
 * the same result with exactly len bytes and with more; ptrace_insn_ea and
 * ptrace_insn_name run on every result. Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ivmm \
 *     tests/vmm/fuzz_ptrace_insn.c vmm/platform/ptrace_insn.c -o fuzz_ptrace_insn
 * Under meson test, fuzz_driver.c replays the seed corpus corpus/ptrace_insn/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/ptrace_insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t n, struct ptrace_insn *in)
{
	/* rax..r15; r15 all ones so that sums wrap. */
	static const uint64_t gpr[16] = {0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000,
					 0x7000, 0x8000, 0x9000, 0xa000, 0xb000, 0xc000,
					 0xd000, 0xe000, 0xf000, ~0ull};
	volatile uint64_t sink;

	if (ptrace_insn_decode(data, n, in) < 0) {
		if (in->op != PTRACE_INSN_UNKNOWN || in->len != 0 || in->has_mem || in->gpr != -1)
			__builtin_trap();
		return;
	}
	if (in->len == 0 || in->len > n || in->len > PTRACE_INSN_MAX_LEN)
		__builtin_trap();
	if (in->op <= PTRACE_INSN_UNKNOWN || in->op >= PTRACE_INSN_NOPS)
		__builtin_trap();
	if (in->gpr < -1 || in->gpr > 15 || in->reg > 15 || (in->has_mem && in->gpr >= 0))
		__builtin_trap();
	if (in->mem.base < -1 || in->mem.base > 15 || in->mem.index < -1 || in->mem.index > 15 ||
	    (in->mem.scale != 1 && in->mem.scale != 2 && in->mem.scale != 4 &&
	     in->mem.scale != 8) ||
	    in->mem.seg > PTRACE_INSN_SEG_GS)
		__builtin_trap();
	if (in->has_mem && in->mem.rip_rel && (in->mem.base >= 0 || in->mem.index >= 0))
		__builtin_trap();
	sink = ptrace_insn_ea(&in->mem, gpr, 0xffffffff80000000ull + in->len, 0x1000, 0x2000);
	(void)sink;
	const char *name = ptrace_insn_name(in->op);
	if (!name || !strcmp(name, "?") || !strcmp(name, "unknown"))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptrace_insn full, part;
	size_t max = size < PTRACE_INSN_MAX_LEN + 1 ? size : PTRACE_INSN_MAX_LEN + 1;

	check(data, size, &full);
	for (size_t n = 0; n <= max; n++) {
		/* An exact-size copy: ASan reports a read past n. */
		uint8_t *p = malloc(n ? n : 1);
		if (!p)
			return 0;
		memcpy(p, data, n);
		check(p, n, &part);
		free(p);
		/* Fewer bytes than the instruction: refused; enough: the same result. */
		if (full.op != PTRACE_INSN_UNKNOWN) {
			if (n < full.len && part.op != PTRACE_INSN_UNKNOWN)
				__builtin_trap();
			if (n >= full.len && memcmp(&part, &full, sizeof(full)))
				__builtin_trap();
		}
	}
	return 0;
}
