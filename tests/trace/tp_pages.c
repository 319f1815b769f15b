/* SPDX-License-Identifier: MIT */
/*
 * tp_pages.c: a guest program that writes its own trace records (no
 * instrumentation) so the model's counters can be computed by hand.
 *
 * usage: tp-pages MODE N
 * It maps N distinct 4 KiB pages (one anonymous mmap, touched first so every
 * page is mapped), then puts ROI begin, one 8-byte load at the start of each
 * page in address order, ROI end into a buffer, and hands them over by MODE:
 *   explicit  syscall(0x444d, recs, n): the runtime's flush call;
 *   munmap    registers the buffer, sets the fill pointer past the records and
 *             munmaps the pages: the kernel must flush them BEFORE the unmap
 *             (walked after it, every one would fault), then rewind the fill
 *             pointer to the buffer (checked: "rewound");
 *   exit      registers, sets the fill pointer and exits: flushed at exit;
 *   mprotect  as munmap, with mprotect(PROT_READ) of the pages (the walks
 *             would still succeed: only the rewind shows the flush);
 *   mremap    as munmap, with mremap(MREMAP_MAYMOVE) to a larger size (the
 *             pages move: walked after the move, every record would fault).
 *   badreg    bad registrations get EINVAL/EFAULT; then a fill pointer
 *             outside the buffer at munmap: the kernel drops the registration
 *             with a console line and flushes nothing (model: 0 accesses).
 * Prints "tp-pages: MODE N ok" and exits 0, or a FAIL line and exits 1.
 */
#include "dmtvm_abi.h"
#include "dmtvm_trace.h"

#define _GNU_SOURCE /* mremap */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TP_MAX_PAGES 65536

static uint64_t tp_recs[TP_MAX_PAGES + 2];
static uint64_t *tp_fill; /* the registered fill pointer */

static int tp_fail(const char *what)
{
	printf("tp-pages: FAIL %s (%s)\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: tp-pages explicit|munmap|exit|mprotect|mremap N\n"),
		       2;
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (n < 1 || n > TP_MAX_PAGES)
		return fprintf(stderr, "tp-pages: N must be 1..%d\n", TP_MAX_PAGES), 2;
	size_t len = (size_t)n << 12;
	volatile char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return tp_fail("mmap");
	for (long i = 0; i < n; i++)
		p[i << 12] = 1; /* map every page before its record is walked */
	size_t k = 0;
	tp_recs[k++] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_BEGIN, DMTVM_TRACE_CONTROL, 0);
	for (long i = 0; i < n; i++)
		tp_recs[k++] = dmtvm_trace_rec((uintptr_t)(p + (i << 12)), 8, DMTVM_TRACE_LOAD, 0);
	tp_recs[k++] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_END, DMTVM_TRACE_CONTROL, 0);

	if (!strcmp(mode, "badreg")) {
		static const struct {
			long buf_off, cap, fillp, err;
		} bad[] = {
		    {0, 0, 0, EINVAL},			       /* no capacity */
		    {1, 16, 0, EINVAL},			       /* misaligned buffer */
		    {0, DMTVM_TRACE_FLUSH_MAX + 1, 0, EINVAL}, /* above the ABI maximum */
		    {0, 16, 1, EINVAL},			       /* misaligned fill word */
		    {0, 16, -1, EFAULT},		       /* fill word in the kernel half */
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uintptr_t fp = bad[i].fillp == -1
					   ? 0xffff800000000000ULL
					   : (uintptr_t)&tp_fill + (uintptr_t)bad[i].fillp;
			errno = 0;
			long r = syscall(DMTVM_TRACE_SYSCALL, DMTVM_TRACE_OP_REGISTER,
					 (char *)tp_recs + bad[i].buf_off, bad[i].cap, fp);
			if (r != -1 || errno != bad[i].err)
				return printf("tp-pages: FAIL bad registration %zu: %ld errno %d\n",
					      i, r, errno),
				       1;
		}
		if (syscall(DMTVM_TRACE_SYSCALL, 3L) != -1 || errno != EINVAL)
			return tp_fail("unknown operation 3 accepted");
		if (syscall(DMTVM_TRACE_SYSCALL, DMTVM_TRACE_OP_REGISTER, tp_recs,
			    (size_t)(TP_MAX_PAGES + 2), &tp_fill))
			return tp_fail("register");
		tp_fill = (uint64_t *)((uintptr_t)tp_recs - 8); /* outside: refused, not flushed */
		if (munmap((void *)p, len))
			return tp_fail("munmap");
		if ((uintptr_t)tp_fill != (uintptr_t)tp_recs - 8)
			return printf("tp-pages: FAIL bad fill pointer rewritten\n"), 1;
	} else if (!strcmp(mode, "explicit")) {
		if (syscall(DMTVM_TRACE_SYSCALL, tp_recs, k))
			return tp_fail("trace syscall");
	} else if (!strcmp(mode, "munmap") || !strcmp(mode, "exit") || !strcmp(mode, "mprotect") ||
		   !strcmp(mode, "mremap")) {
		if (syscall(DMTVM_TRACE_SYSCALL, DMTVM_TRACE_OP_REGISTER, tp_recs,
			    (size_t)(TP_MAX_PAGES + 2), &tp_fill))
			return tp_fail("register");
		tp_fill = tp_recs + k;
		if (!strcmp(mode, "exit")) {
			printf("tp-pages: %s %ld ok\n", mode, n);
			fflush(stdout);
			_exit(0); /* the kernel flushes tp_recs[0..k) here */
		}
		if (!strcmp(mode, "munmap") && munmap((void *)p, len))
			return tp_fail("munmap");
		if (!strcmp(mode, "mprotect") && mprotect((void *)p, len, PROT_READ))
			return tp_fail("mprotect");
		if (!strcmp(mode, "mremap")) {
			/* A PROT_NONE page right above: the area cannot grow in place, it moves. */
			void *g = mmap((void *)(p + len), 4096, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (g == MAP_FAILED && errno != EEXIST)
				return tp_fail("guard mmap");
			void *q = mremap((void *)p, len, 2 * len, MREMAP_MAYMOVE);
			if (q == MAP_FAILED)
				return tp_fail("mremap");
			if (q == (void *)p)
				return printf("tp-pages: FAIL mremap did not move\n"), 1;
		}
		if (tp_fill != tp_recs)
			return printf("tp-pages: FAIL fill pointer not rewound (%p, buffer %p)\n",
				      (void *)tp_fill, (void *)tp_recs),
			       1;
		printf("tp-pages: rewound\n");
	} else {
		return fprintf(stderr, "tp-pages: unknown mode %s\n", mode), 2;
	}
	printf("tp-pages: %s %ld ok\n", mode, n);
	return 0;
}
