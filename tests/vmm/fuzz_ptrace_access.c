/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ptrace_access.c: libFuzzer target for the ptrace platform's
 * memory-access classifier (vmm/platform/ptrace_access.c): classifies the
 * input as guest bytes at rip, at every length 0..size (up to 16), and checks
 * what the tracer relies on: a refusal leaves *out zero; success means
 * 1 <= len <= min(n, 15), some access (read, write or the stack), a known
 * size, stack_read implying read, the same result with exactly len bytes and
 * with more, and refusal with fewer. Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ivmm \
 *     tests/vmm/fuzz_ptrace_access.c vmm/platform/ptrace_access.c -o fuzz_ptrace_access
 * Under meson test, fuzz_driver.c replays the seed corpus corpus/ptrace_access/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/ptrace_access.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const uint8_t *data, size_t n, struct ptrace_access *a)
{
	memset(a, 0xa5, sizeof(*a));
	if (ptrace_access_decode(data, n, a) < 0) {
		if (a->read || a->write || a->stack_read || a->stack_write || a->size || a->len)
			__builtin_trap();
		return -1;
	}
	unsigned s = a->size;
	if (a->len == 0 || a->len > n || a->len > PTRACE_ACCESS_MAX_LEN)
		__builtin_trap();
	if (!a->read && !a->write && !a->stack_read && !a->stack_write)
		__builtin_trap();
	if (a->stack_read && !a->read)
		__builtin_trap();
	if (s != 0 && s != 1 && s != 2 && s != 4 && s != 8 && s != 10 && s != 16 && s != 32)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptrace_access full, part;
	size_t max = size < PTRACE_ACCESS_MAX_LEN + 1 ? size : PTRACE_ACCESS_MAX_LEN + 1;
	int rc = check(data, size, &full);

	for (size_t n = 0; n <= max; n++) {
		/* An exact-size copy: ASan reports a read past n. */
		uint8_t *p = malloc(n ? n : 1);
		if (!p)
			return 0;
		memcpy(p, data, n);
		int prc = check(p, n, &part);
		free(p);
		/* Fewer bytes than the instruction: refused; enough: the same result. */
		if (rc == 0) {
			if (n < full.len && prc == 0)
				__builtin_trap();
			if (n >= full.len && (prc < 0 || memcmp(&part, &full, sizeof(full))))
				__builtin_trap();
		}
	}
	return 0;
}
