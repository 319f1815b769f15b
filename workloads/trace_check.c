/* SPDX-License-Identifier: MIT */
/*
 * trace_check.c: a tiny reader of dmtvm trace files (dmtvm_trace.h), used by
 * the workload tests. It validates the header and every record, counts
 * records by kind and checks the counts against the limits given:
 *
 *   trace_check FILE [--min-loads N] [--min-stores N] [--min-fetches N]
 *                    [--max-records N] [--text LO HI]
 *
 * --text checks that every fetch record's address lies in [LO, HI) (hex or
 * decimal), i.e. that fetch PCs are the program's code. Prints one summary
 * line; exits 0 if valid and within limits, 1 otherwise (with the reason),
 * 2 on bad usage.
 */
#include "dmtvm_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tc_fail(const char *path, const char *what)
{
	fprintf(stderr, "trace_check: %s: %s\n", path, what);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long long min_loads = 0, min_stores = 0, min_fetches = 0, max_records = ~0ULL;
	unsigned long long text_lo = 0, text_hi = ~0ULL;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		unsigned long long *v = NULL;
		if (strcmp(argv[i], "--min-loads") == 0)
			v = &min_loads;
		else if (strcmp(argv[i], "--min-stores") == 0)
			v = &min_stores;
		else if (strcmp(argv[i], "--min-fetches") == 0)
			v = &min_fetches;
		else if (strcmp(argv[i], "--max-records") == 0)
			v = &max_records;
		else if (strcmp(argv[i], "--text") == 0 && i + 2 < argc) {
			text_lo = strtoull(argv[++i], NULL, 0);
			text_hi = strtoull(argv[++i], NULL, 0);
			continue;
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
			continue;
		}
		if (!v || i + 1 >= argc) {
			fprintf(stderr, "usage: trace_check FILE [--min-loads N] [--min-stores N] "
					"[--min-fetches N] [--max-records N] [--text LO HI]\n");
			return 2;
		}
		*v = strtoull(argv[++i], NULL, 0);
	}
	if (!path) {
		fprintf(stderr, "trace_check: no trace file given\n");
		return 2;
	}

	FILE *f = fopen(path, "rb");
	if (!f)
		return tc_fail(path, "cannot open");
	struct dmtvm_trace_header h;
	if (fread(&h, sizeof(h), 1, f) != 1)
		return tc_fail(path, "shorter than the 32-byte header");
	if (memcmp(h.magic, DMTVM_TRACE_MAGIC, 8) != 0)
		return tc_fail(path, "bad magic (expected DMTVMTRC)");
	if (h.version != DMTVM_TRACE_VERSION || h.record_size != 8 || h.flags || h.reserved)
		return tc_fail(path, "bad header (expected version 1, record_size 8, zero flags)");

	unsigned long long n[4] = {0}, total = 0, roi_begin = 0, roi_end = 0;
	unsigned long long fetch_lo = ~0ULL, fetch_hi = 0;
	int in_roi = 0;
	uint64_t r;
	size_t got;
	while ((got = fread(&r, 1, sizeof(r), f)) == sizeof(r)) {
		unsigned kind = dmtvm_trace_kind(r), size = dmtvm_trace_size(r);
		total++;
		n[kind]++;
		if (kind == DMTVM_TRACE_CONTROL) {
			if (size == DMTVM_TRACE_ROI_BEGIN) {
				if (in_roi)
					return tc_fail(path, "ROI begin inside a ROI");
				in_roi = 1;
				roi_begin++;
			} else if (size == DMTVM_TRACE_ROI_END) {
				if (!in_roi)
					return tc_fail(path, "ROI end outside a ROI");
				in_roi = 0;
				roi_end++;
			} else if (size != DMTVM_TRACE_ASID && size != DMTVM_TRACE_INVALIDATE &&
				   size != DMTVM_TRACE_INVALIDATE_LEN) {
				return tc_fail(path, "unknown control record type");
			}
			continue;
		}
		if (!in_roi)
			return tc_fail(path, "access record outside the ROI");
		if (size == 0 || (kind == DMTVM_TRACE_FETCH && size != 1))
			return tc_fail(path, "bad access size");
		if (kind == DMTVM_TRACE_FETCH) {
			uint64_t va = dmtvm_trace_va(r);
			if (va < fetch_lo)
				fetch_lo = va;
			if (va > fetch_hi)
				fetch_hi = va;
			if (va < text_lo || va >= text_hi)
				return tc_fail(path, "fetch record outside the --text range");
		}
	}
	if (ferror(f))
		return tc_fail(path, "read error");
	if (got != 0)
		return tc_fail(path, "trailing partial record");
	fclose(f);
	printf("%s: %llu records: %llu loads, %llu stores, %llu fetches (pc %llx..%llx), "
	       "%llu ROIs\n",
	       path, total, n[0], n[1], n[2], n[2] ? fetch_lo : 0, fetch_hi, roi_begin);
	if (in_roi || roi_begin == 0)
		return tc_fail(path, "no complete ROI (begin ... end)");
	if (n[0] < min_loads || n[1] < min_stores || n[2] < min_fetches)
		return tc_fail(path, "fewer records than expected");
	if (total > max_records)
		return tc_fail(path, "more records than expected");
	return 0;
}
