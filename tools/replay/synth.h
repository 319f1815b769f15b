/* SPDX-License-Identifier: MIT */
/*
 * synth.h: synthetic dmtvm binary traces, for `make demo` before the VMM
 * runs real workloads, and for tests. A generator is a struct trace_src
 * producing the bytes of a dmtvm trace file (header, records), so it goes
 * through the same reader as files. Specs:
 *   gups:SIZE:N[:SEED]    GUPS-like: one store per 4 KiB page of a SIZE
 *                         table (first touch), ROI begin, N random 8-byte
 *                         read-modify-writes (load + store), ROI end
 *   stream:SIZE:N         N sequential 8-byte loads over a SIZE array
 *                         (wrapping), inside an ROI
 * SIZE takes K, M, G suffixes (powers of 1024).
 */
#ifndef REPLAY_SYNTH_H
#define REPLAY_SYNTH_H

#include <stdint.h>

#include "trace.h"

#define SYNTH_BASE_VA 0x7f0000000000ULL /* where the table lives */

struct synth {
	int kind; /* 0 gups, 1 stream */
	uint64_t size, n, seed;
	/* generator state */
	uint64_t phase, i, rng, pending_store;
	int has_pending;
	uint8_t hdr_left;
};

/* Parses spec; returns 0, or -1 with a one-line message in err. */
int synth_parse(struct synth *s, const char *spec, char *err, size_t errlen);
/* Restarts the generator at the first byte (same records again). */
void synth_rewind(struct synth *s);
struct trace_src synth_src(struct synth *s);

#endif /* REPLAY_SYNTH_H */
