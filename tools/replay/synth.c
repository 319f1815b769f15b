/* SPDX-License-Identifier: MIT */
/* synth.c: synthetic dmtvm binary trace generators (synth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmtvm_trace.h"
#include "mmu.h"
#include "synth.h"

int synth_parse(struct synth *s, const char *spec, char *err, size_t errlen)
{
	char buf[128], *f[5];
	int nf = 0;
	memset(s, 0, sizeof(*s));
	if (strlen(spec) >= sizeof(buf))
		goto bad;
	strcpy(buf, spec);
	for (char *p = buf, *tok; nf < 5 && (tok = strsep(&p, ":"));)
		f[nf++] = tok;
	if (nf < 3 || nf > 4)
		goto bad;
	if (strcmp(f[0], "gups") == 0)
		s->kind = 0;
	else if (strcmp(f[0], "stream") == 0 && nf == 3)
		s->kind = 1;
	else
		goto bad;
	if (mmu_parse_size(f[1], &s->size) < 0 || s->size < 4096 || s->size > (1ULL << 42) ||
	    mmu_parse_size(f[2], &s->n) < 0 || s->n > (1ULL << 40))
		goto bad;
	s->seed = 1;
	if (nf == 4 && (mmu_parse_size(f[3], &s->seed) < 0 || s->seed == 0))
		goto bad;
	synth_rewind(s);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad --synthetic spec '%s': expected gups:SIZE:N[:SEED] or stream:SIZE:N "
		 "(SIZE 4K..4T, N <= 2^40, SEED > 0)",
		 spec);
	return -1;
}

void synth_rewind(struct synth *s)
{
	s->phase = 0;
	s->i = 0;
	s->rng = s->seed * 0x9e3779b97f4a7c15ULL | 1;
	s->has_pending = 0;
	s->hdr_left = 1;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Next record; 0 at the end (a record is never 0: size >= 1). */
static uint64_t next_rec(struct synth *s)
{
	uint64_t words = s->size / 8;
	for (;;) {
		switch (s->phase) {
		case 0: /* gups init: first touch of every page; stream skips it */
			if (s->kind == 0 && s->i < s->size / 4096)
				return dmtvm_trace_rec(SYNTH_BASE_VA + 4096 * s->i++, 8,
						       DMTVM_TRACE_STORE, 0);
			s->phase = 1;
			s->i = 0;
			return dmtvm_trace_rec(0, DMTVM_TRACE_ROI_BEGIN, DMTVM_TRACE_CONTROL, 0);
		case 1:
			if (s->has_pending) {
				s->has_pending = 0;
				return s->pending_store;
			}
			if (s->i == s->n) {
				s->phase = 2;
				return dmtvm_trace_rec(0, DMTVM_TRACE_ROI_END, DMTVM_TRACE_CONTROL,
						       0);
			}
			if (s->kind == 1)
				return dmtvm_trace_rec(SYNTH_BASE_VA + 8 * (s->i++ % words), 8,
						       DMTVM_TRACE_LOAD, 0);
			uint64_t va = SYNTH_BASE_VA + 8 * (xorshift(&s->rng) % words);
			s->i++;
			s->pending_store = dmtvm_trace_rec(va, 8, DMTVM_TRACE_STORE, 0);
			s->has_pending = 1;
			return dmtvm_trace_rec(va, 8, DMTVM_TRACE_LOAD, 0);
		default:
			return 0;
		}
	}
}

static ssize_t synth_read(void *ctx, void *buf, size_t len)
{
	struct synth *s = ctx;
	uint8_t *p = buf;
	size_t n = 0;
	if (s->hdr_left) {
		if (len < DMTVM_TRACE_HDR_SIZE)
			return 0;
		struct dmtvm_trace_header h;
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, DMTVM_TRACE_MAGIC, 8);
		h.version = DMTVM_TRACE_VERSION; /* little-endian host (x86-64) */
		h.record_size = 8;
		memcpy(p, &h, sizeof(h));
		n = sizeof(h);
		s->hdr_left = 0;
	}
	while (n + 8 <= len) {
		uint64_t r = next_rec(s);
		if (!r)
			break;
		memcpy(p + n, &r, 8);
		n += 8;
	}
	return (ssize_t)n;
}

struct trace_src synth_src(struct synth *s)
{
	struct trace_src src = {synth_read, s, "<synthetic>"};
	return src;
}
