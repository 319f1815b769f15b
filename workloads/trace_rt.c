/* SPDX-License-Identifier: MIT */
/*
 * trace_rt.c: the tracing runtime linked into the traced workload builds.
 *
 * The workload is compiled by clang with
 *   -fsanitize-coverage=trace-pc,trace-loads,trace-stores
 * which calls __sanitizer_cov_{load,store}{1,2,4,8,16}(addr) before every
 * load and store and __sanitizer_cov_trace_pc() at the start of every basic
 * block (edge). Each call appends one dmtvm trace record (dmtvm_trace.h) to a
 * buffer, only inside the region of interest (dmtvm/roi.h): between the
 * markers when the program includes that header, else the whole run, from a
 * constructor to a destructor (tools/dmtvm-cc builds). A full buffer goes out
 * through trace_rt_flush(). This file itself is compiled WITHOUT
 * instrumentation, so the runtime never traces itself; libc (not rebuilt)
 * is not traced either, which is why workloads keep libc calls out of their
 * ROI.
 *
 * Why clang and not gcc's -fsanitize=kernel-address callbacks: clang's
 * callbacks carry no shadow-memory semantics, split loads from stores with
 * the exact width (16-byte SSE accesses included), and trace-pc gives the
 * fetch side in the same build; above all clang -flto + ld.lld inlines the
 * callbacks (below), which gcc's LTO cannot do across musl-gcc + clang
 * objects. Measured on gups: 2.6x over the plain build, vs ~4.3x for the
 * same clang callbacks called out of line.
 *
 * Fetch records: one per basic block entered, but only when its PC lies in a
 * different 64-byte line than the previous fetch record's. A loop whose body
 * sits in one line thus costs one fetch record per visit of another line, not
 * one per iteration: the iTLB and L1I would hit on the dropped ones anyway.
 * The PC recorded is an address inside the block (the inlined callback's RIP).
 *
 * Back-ends of trace_rt_flush():
 *  - host: env DMTVM_TRACE_OUT=PATH names a dmtvm trace file (32-byte header
 *    + records), written with plain write(2);
 *  - guest: without DMTVM_TRACE_OUT the records go to dmtvm's guest kernel
 *    by the trace system call (pvdmt/dmtvm_trace.h): syscall(0x444d, recs, n)
 *    per full buffer, which the kernel turns into one TRACE_FLUSH hypercall
 *    (the VMM runs the MMU model on them). At each ROI begin the runtime also
 *    registers its buffer and the address of trace_rt_cur, so the kernel
 *    flushes the pending records itself before it changes a mapping (munmap,
 *    brk shrink, execve) and at exit, and rewinds trace_rt_cur. On a kernel
 *    without the call (a Linux host: ENOSYS) the runtime says so once on
 *    stderr and stops tracing; the workload's results are unaffected.
 */
#include "dmtvm_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The guest trace system call: far above Linux's table (~460 entries on
 * x86-64, x32 ones have bit 30 set), so a Linux host answers ENOSYS.
 */
#define TRACE_RT_SYS_FLUSH DMTVM_TRACE_SYSCALL

/*
 * 1 MiB of records per flush: one VMM exit per 128 Ki accesses in the guest.
 * 8 MiB (the ABI's maximum, 1 Mi records) measured no faster in dmtvm (gups
 * -m 256M -n 4M: 17 instead of 129 exits, ROI 1.01-1.23 s vs 0.99-1.02 s):
 * the exits and the record copy cost ~1 %, the VMM's model ~87 % of the time.
 */
#define TRACE_RT_BUF_RECS (1u << 17)

#define TRACE_RT_VA_MASK 0xffffffffffffULL
/* Record bits above the address; vcpu 0 (workloads are single-threaded). */
#define TRACE_RT_TAG(kind, size) (((uint64_t)(size) << 48) | ((uint64_t)(kind) << 56))

enum trace_rt_backend {
	TRACE_RT_UNSET = 0,
	TRACE_RT_HOST,
	TRACE_RT_GUEST,
	TRACE_RT_OFF, /* no working back-end: drop everything */
};

static uint64_t trace_rt_buf[TRACE_RT_BUF_RECS];
/*
 * Next free slot while inside the ROI, NULL outside: the one test the fast
 * path makes. In the guest the kernel may rewind it to trace_rt_buf during a
 * system call (flush before a mapping change); system calls are opaque calls
 * into (non-LTO) libc, so the compiler reloads it after them.
 */
static uint64_t *trace_rt_cur;
static uintptr_t trace_rt_last_line; /* 64-byte line of the last fetch record */
static enum trace_rt_backend trace_rt_backend;
static int trace_rt_fd = -1;
static const char *trace_rt_path;
static unsigned trace_rt_depth; /* nested roi_begin()s */
static uint64_t trace_rt_total; /* records handed to the back-end */

void trace_rt_flush(const uint64_t *recs, size_t n);

static void trace_rt_write_all(const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t w = write(trace_rt_fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "trace_rt: write to %s failed: %s\n", trace_rt_path,
				w < 0 ? strerror(errno) : "short write");
			exit(1);
		}
		c += w;
		len -= (size_t)w;
	}
}

static void trace_rt_open(void)
{
	trace_rt_path = getenv("DMTVM_TRACE_OUT");
	if (!trace_rt_path || !*trace_rt_path) {
		trace_rt_backend = TRACE_RT_GUEST;
		return;
	}
	trace_rt_fd = open(trace_rt_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (trace_rt_fd < 0) {
		fprintf(stderr, "trace_rt: cannot create trace file %s (DMTVM_TRACE_OUT): %s\n",
			trace_rt_path, strerror(errno));
		exit(1);
	}
	struct dmtvm_trace_header h = {
	    .version = DMTVM_TRACE_VERSION,
	    .record_size = sizeof(uint64_t),
	};
	memcpy(h.magic, DMTVM_TRACE_MAGIC, sizeof(h.magic));
	trace_rt_write_all(&h, sizeof(h));
	trace_rt_backend = TRACE_RT_HOST;
}

static void trace_rt_guest_off(void)
{
	fprintf(stderr,
		"trace_rt: no trace back-end: DMTVM_TRACE_OUT is unset and the kernel lacks "
		"the trace-ring system call %d (%s); tracing off\n",
		TRACE_RT_SYS_FLUSH, strerror(errno));
	trace_rt_backend = TRACE_RT_OFF;
}

/*
 * Register the buffer and the fill pointer (dmtvm_trace.h); again at every
 * ROI begin since an execve that failed drops the registration. Only ENOSYS
 * (no such call) turns tracing off: other errors leave the explicit flushes,
 * which work without a registration.
 */
static void trace_rt_register_guest(void)
{
	if (syscall(TRACE_RT_SYS_FLUSH, DMTVM_TRACE_OP_REGISTER, trace_rt_buf,
		    (size_t)TRACE_RT_BUF_RECS, &trace_rt_cur) == 0 ||
	    errno != ENOSYS)
		return;
	trace_rt_guest_off();
}

static void trace_rt_flush_guest(const uint64_t *recs, size_t n)
{
	if (syscall(TRACE_RT_SYS_FLUSH, recs, n) == 0)
		return;
	trace_rt_guest_off();
}

/* The single exit of records from this runtime. */
void trace_rt_flush(const uint64_t *recs, size_t n)
{
	if (n == 0)
		return;
	switch (trace_rt_backend) {
	case TRACE_RT_HOST:
		trace_rt_write_all(recs, n * sizeof(*recs));
		break;
	case TRACE_RT_GUEST:
		trace_rt_flush_guest(recs, n);
		break;
	default:
		return;
	}
	if (trace_rt_backend != TRACE_RT_OFF)
		trace_rt_total += n;
}

/* Flush [buf, cur) and rewind; stays in the ROI unless the back-end died. */
static __attribute__((noinline)) void trace_rt_drain(uint64_t *end)
{
	trace_rt_flush(trace_rt_buf, (size_t)(end - trace_rt_buf));
	trace_rt_cur = trace_rt_backend == TRACE_RT_OFF ? NULL : trace_rt_buf;
}

static inline __attribute__((always_inline)) void trace_rt_put(uint64_t rec)
{
	uint64_t *p = trace_rt_cur;

	if (__builtin_expect(p == NULL, 0))
		return; /* outside the ROI: one load and a branch */
	*p++ = rec;
	if (__builtin_expect(p == trace_rt_buf + TRACE_RT_BUF_RECS, 0))
		trace_rt_drain(p);
	else
		trace_rt_cur = p;
}

static void trace_rt_control(unsigned type)
{
	trace_rt_put(dmtvm_trace_rec(0, type, DMTVM_TRACE_CONTROL, 0));
}

void trace_rt_roi_begin(void)
{
	if (trace_rt_depth++)
		return;
	if (trace_rt_backend == TRACE_RT_UNSET)
		trace_rt_open();
	if (trace_rt_backend == TRACE_RT_GUEST)
		trace_rt_register_guest();
	if (trace_rt_backend == TRACE_RT_OFF)
		return;
	trace_rt_cur = trace_rt_buf;
	trace_rt_last_line = 0;
	trace_rt_control(DMTVM_TRACE_ROI_BEGIN);
}

void trace_rt_roi_end(void)
{
	if (trace_rt_depth == 0 || --trace_rt_depth)
		return;
	if (!trace_rt_cur)
		return;
	trace_rt_control(DMTVM_TRACE_ROI_END);
	if (trace_rt_cur)
		trace_rt_flush(trace_rt_buf, (size_t)(trace_rt_cur - trace_rt_buf));
	trace_rt_cur = NULL;
	if (trace_rt_backend == TRACE_RT_HOST)
		fprintf(stderr, "trace_rt: %llu records so far in %s\n",
			(unsigned long long)trace_rt_total, trace_rt_path);
}

/*
 * No ROI markers (the program does not include dmtvm/roi.h, so the weak
 * dmtvm_roi_markers is undefined: address 0): trace the whole run. The
 * records of code run before this constructor (libc start-up, other
 * constructors) and after the destructor are not traced; an _exit() skips
 * the destructor (in the guest the kernel still flushes the registered
 * buffer at exit; a host trace file then misses the last records).
 */
extern const char dmtvm_roi_markers __attribute__((weak));

__attribute__((constructor)) static void trace_rt_whole_run_begin(void)
{
	if (!&dmtvm_roi_markers)
		trace_rt_roi_begin();
}

__attribute__((destructor)) static void trace_rt_whole_run_end(void)
{
	if (!&dmtvm_roi_markers)
		trace_rt_roi_end();
}

/*
 * The callbacks are inlined into the instrumented code at link time (clang
 * -flto, ld.lld): the instrumentation pass runs before LTO, so inlining does
 * not re-instrument the runtime, and it cuts the cost of tracing gups from
 * ~4.3x to ~2.5x of the plain build. always_inline makes that a guarantee,
 * which the fetch callback relies on to read the block's RIP.
 */
#define TRACE_RT_CALLBACK __attribute__((always_inline))

#define TRACE_RT_ACCESS(name, kind, size)                                                          \
	TRACE_RT_CALLBACK void name(void *addr)                                                    \
	{                                                                                          \
		trace_rt_put(((uintptr_t)addr & TRACE_RT_VA_MASK) | TRACE_RT_TAG(kind, size));     \
	}

TRACE_RT_ACCESS(__sanitizer_cov_load1, DMTVM_TRACE_LOAD, 1)
TRACE_RT_ACCESS(__sanitizer_cov_load2, DMTVM_TRACE_LOAD, 2)
TRACE_RT_ACCESS(__sanitizer_cov_load4, DMTVM_TRACE_LOAD, 4)
TRACE_RT_ACCESS(__sanitizer_cov_load8, DMTVM_TRACE_LOAD, 8)
TRACE_RT_ACCESS(__sanitizer_cov_load16, DMTVM_TRACE_LOAD, 16)
TRACE_RT_ACCESS(__sanitizer_cov_store1, DMTVM_TRACE_STORE, 1)
TRACE_RT_ACCESS(__sanitizer_cov_store2, DMTVM_TRACE_STORE, 2)
TRACE_RT_ACCESS(__sanitizer_cov_store4, DMTVM_TRACE_STORE, 4)
TRACE_RT_ACCESS(__sanitizer_cov_store8, DMTVM_TRACE_STORE, 8)
TRACE_RT_ACCESS(__sanitizer_cov_store16, DMTVM_TRACE_STORE, 16)

TRACE_RT_CALLBACK void __sanitizer_cov_trace_pc(void)
{
	uintptr_t pc;

	/* Inlined into the block, so its own RIP is the block's PC. */
	__asm__ volatile("leaq 0(%%rip), %0" : "=r"(pc)); /* volatile: one per block */
	if (__builtin_expect(trace_rt_cur == NULL, 0))
		return;
	if (((pc ^ trace_rt_last_line) >> 6) == 0)
		return; /* same 64-byte line as the last fetch record */
	trace_rt_last_line = pc;
	trace_rt_put((pc & TRACE_RT_VA_MASK) | TRACE_RT_TAG(DMTVM_TRACE_FETCH, 1));
}
