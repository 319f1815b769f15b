/* SPDX-License-Identifier: MIT */
/*
 * step_src.h: a trace_src over a byte buffer that hands out at most `step`
 * bytes per read, so tests and fuzzers exercise the readers' buffering.
 */
#ifndef STEP_SRC_H
#define STEP_SRC_H

#include <string.h>

#include "trace.h"

struct step_src {
	const uint8_t *p;
	size_t len, pos, step;
};

static inline ssize_t step_src_read(void *ctx, void *buf, size_t len)
{
	struct step_src *s = ctx;
	size_t n = s->len - s->pos;
	if (n > s->step)
		n = s->step;
	if (n > len)
		n = len;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

#endif /* STEP_SRC_H */
