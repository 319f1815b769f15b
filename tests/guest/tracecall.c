/* SPDX-License-Identifier: MIT */
/*
 * tracecall.c: the trace system call 0x444d (guest-kernel/trace.c), as
 * workloads/trace_rt.c uses it. Checks the argument validation exactly:
 *   n = 0 -> 0; n > DMTVM_TRACE_FLUSH_MAX or a misaligned buffer -> EINVAL;
 *   a buffer reaching DMTVM_USER_TOP or lying above it (direct map, kernel
 *   window, platform slot, upper half) -> EFAULT;
 * then hands over 4096 real load/store records of its own buffer: 0, or
 * ENOSYS when the VMM has no model (printed, so the test sees which).
 * Prints "tracecall: ok <0|ENOSYS>" and exits 0, else "tracecall: FAIL ...", 1.
 */
#include "dmtvm_trace.h"
#include "dmtvm_abi.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SYS_TRACE 0x444d

static uint64_t recs[4096];
static int failures;

static void expect(long r, int err, const char *what)
{
	int got = r == 0 ? 0 : errno;
	if (got != err) {
		printf("tracecall: FAIL %s: got %s, expected %s\n", what, got ? strerror(got) : "0",
		       err ? strerror(err) : "0");
		failures++;
	}
}

int main(void)
{
	expect(syscall(SYS_TRACE, recs, 0), 0, "n = 0");
	expect(syscall(SYS_TRACE, recs, (size_t)DMTVM_TRACE_FLUSH_MAX + 1), EINVAL, "n too big");
	expect(syscall(SYS_TRACE, (char *)recs + 4, 1), EINVAL, "misaligned buffer");
	expect(syscall(SYS_TRACE, (uint64_t *)(DMTVM_USER_TOP - 4096), 1024), EFAULT,
	       "buffer across USER_TOP");
	expect(syscall(SYS_TRACE, (uint64_t *)DMTVM_USER_TOP, 1024), EFAULT,
	       "buffer past USER_TOP");
	expect(syscall(SYS_TRACE, (uint64_t *)DMTVM_DIRECT_MAP_BASE, 1), EFAULT,
	       "kernel buffer (direct map)");
	expect(syscall(SYS_TRACE, (uint64_t *)(DMTVM_KERNEL_VIRT_BASE + 0x100000), 1), EFAULT,
	       "kernel buffer (kernel image)");
	expect(syscall(SYS_TRACE, (uint64_t *)0x7ffffffff000ULL, 1024), EFAULT,
	       "buffer in the platform slot");
	expect(syscall(SYS_TRACE, (uint64_t *)0xffff888000000000ULL, 1), EFAULT,
	       "upper-half buffer");
	recs[0] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_BEGIN, DMTVM_TRACE_CONTROL, 0);
	for (unsigned i = 1; i < 4095; i++)
		recs[i] = dmtvm_trace_rec((uintptr_t)&recs[i], 8, i & 1, 0);
	recs[4095] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_END, DMTVM_TRACE_CONTROL, 0);
	long r = syscall(SYS_TRACE, recs, 4096);
	if (r != 0 && errno != ENOSYS) {
		printf("tracecall: FAIL 4096 records: %s\n", strerror(errno));
		failures++;
	}
	if (failures)
		return 1;
	printf("tracecall: ok %s\n", r == 0 ? "0" : "ENOSYS");
	return 0;
}
