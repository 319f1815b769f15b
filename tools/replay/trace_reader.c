/* SPDX-License-Identifier: MIT */
/*
 * trace_reader.c: byte sources, the bounded read buffer and trace format
 * detection for the trace readers (decoding lives in trace_lackey.c and
 * trace_dmtvm.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmtvm_trace.h"
#include "trace_impl.h"

static ssize_t src_fd_read(void *ctx, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

struct trace_src trace_src_fd(int fd, const char *name)
{
	struct trace_src s = {src_fd_read, (void *)(intptr_t)fd, name};
	return s;
}

static ssize_t src_mem_read(void *ctx, void *buf, size_t len)
{
	struct trace_mem *m = ctx;
	size_t n = m->len - m->pos;
	if (n > len)
		n = len;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct trace_src trace_src_mem(struct trace_mem *m, const char *name)
{
	struct trace_src s = {src_mem_read, m, name};
	return s;
}

int trace_fail(struct trace_reader *r, int input, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->failed = 1;
	r->input_error = input;
	return -1;
}

void trace_escape(char *out, size_t outlen, const uint8_t *s, size_t len, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		if (i == max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
			out[o++] = (char)s[i];
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", s[i]);
			o += 4;
		}
	}
	out[o] = '\0';
}

int trace_fill(struct trace_reader *r)
{
	if (r->eof)
		return 0;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->consumed += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end < TRACE_BUF_SIZE) {
		ssize_t n = r->src.read(r->src.ctx, r->buf + r->end, TRACE_BUF_SIZE - r->end);
		if (n < 0)
			return trace_fail(r, 0, "%s: read error: %s", r->src.name, strerror(errno));
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->end += (size_t)n;
		/* Return with what a pipe gave us; callers loop when they need more. */
		break;
	}
	return 0;
}

struct trace_reader *trace_reader_open(struct trace_src src, enum trace_format fmt)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->buf = malloc(TRACE_BUF_SIZE);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->src = src;
	r->fmt = fmt;
	return r;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* Decides the format from the first bytes: the binary magic, else text. */
static int detect(struct trace_reader *r)
{
	while (r->end - r->start < DMTVM_TRACE_HDR_SIZE && !r->eof)
		if (trace_fill(r) < 0)
			return -1;
	const uint8_t *p = r->buf + r->start;
	size_t n = r->end - r->start;
	if (n >= 8 && memcmp(p, DMTVM_TRACE_MAGIC, 8) == 0) {
		r->fmt = TRACE_FMT_DMTVM;
		return 0;
	}
	/* Text must start with printable ASCII or whitespace; so does a damaged magic. */
	size_t check = n < DMTVM_TRACE_HDR_SIZE ? n : DMTVM_TRACE_HDR_SIZE;
	const uint8_t *nl = memchr(p, '\n', check);
	if (nl) /* later lines get the lackey reader's line-numbered errors */
		check = (size_t)(nl - p);
	int dmtvm_like = n >= 5 && memcmp(p, DMTVM_TRACE_MAGIC, 5) == 0;
	for (size_t i = 0; i < check; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] >= 0x7f ||
		    dmtvm_like) {
			char esc[64];
			trace_escape(esc, sizeof(esc), p, check < 8 ? check : 8, 8);
			return trace_fail(r, 1,
					  "%s: unknown trace format: bad magic \"%s\" (expected "
					  "\"" DMTVM_TRACE_MAGIC "\" or valgrind lackey text)",
					  r->src.name, esc);
		}
	}
	r->fmt = TRACE_FMT_LACKEY;
	return 0;
}

long trace_reader_read(struct trace_reader *r, struct trace_rec *recs, size_t max)
{
	if (r->failed)
		return -1;
	if (max < 2) /* an M line decodes into two records */
		return trace_fail(r, 0, "%s: internal error: batch of %zu records", r->src.name,
				  max);
	if (r->fmt == TRACE_FMT_AUTO && detect(r) < 0)
		return -1;
	if (r->fmt == TRACE_FMT_DMTVM)
		return trace_dmtvm_read(r, recs, max);
	return trace_lackey_read(r, recs, max);
}

const char *trace_reader_error(const struct trace_reader *r)
{
	return r->err;
}

int trace_reader_error_is_input(const struct trace_reader *r)
{
	return r->input_error;
}

enum trace_format trace_reader_format(const struct trace_reader *r)
{
	return r->fmt;
}

const char *trace_format_name(enum trace_format fmt)
{
	switch (fmt) {
	case TRACE_FMT_LACKEY:
		return "lackey";
	case TRACE_FMT_DMTVM:
		return "dmtvm";
	default:
		return "auto";
	}
}

uint64_t trace_reader_bytes(const struct trace_reader *r)
{
	return r->consumed + r->start;
}

uint64_t trace_reader_units(const struct trace_reader *r)
{
	return r->units;
}
