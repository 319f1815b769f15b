/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c: libFuzzer target for the trace readers. Reads the input
 * with 1-byte and large source reads and checks that both agree. Built once
 * per format: FUZZ_FORMAT is TRACE_FMT_AUTO (the binary reader, with the
 * header check and the lackey fallback) or TRACE_FMT_LACKEY.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "step_src.h"
#include "trace.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT TRACE_FMT_AUTO
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes everything; returns records (or -1) and a checksum of them. */
static long run(const uint8_t *data, size_t size, size_t step, enum trace_format fmt, uint64_t *sum)
{
	struct step_src c = {data, size, 0, step};
	struct trace_src src = {step_src_read, &c, "fuzz"};
	struct trace_reader *r = trace_reader_open(src, fmt);
	struct trace_rec recs[7];
	long n, total = 0;
	*sum = 0;
	if (!r)
		return -2;
	while ((n = trace_reader_read(r, recs, 7)) > 0) {
		for (long i = 0; i < n; i++) {
			if (recs[i].kind > TRACE_KIND_LAST)
				abort();
			if (recs[i].kind <= TRACE_FETCH && recs[i].size == 0)
				abort();
			*sum = *sum * 31 + recs[i].va + recs[i].size + recs[i].kind;
		}
		total += n;
	}
	if (n < 0) {
		const char *e = trace_reader_error(r);
		if (!e[0] || strchr(e, '\n'))
			abort(); /* errors are one non-empty line */
		total = -1;
	}
	trace_reader_close(r);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t s1, s2;
	long a = run(data, size, 1, FUZZ_FORMAT, &s1);
	long b = run(data, size, 1 << 20, FUZZ_FORMAT, &s2);
	if (a != b || (a >= 0 && s1 != s2))
		abort(); /* the result must not depend on how reads are split */
	return 0;
}
