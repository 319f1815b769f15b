/* SPDX-License-Identifier: MIT */
/*
 * trace_impl.h: the reader state shared by trace_reader.c (buffering,
 * format detection) and the per-format decoders trace_lackey.c and
 * trace_dmtvm.c. Not part of the replay API.
 */
#ifndef REPLAY_TRACE_IMPL_H
#define REPLAY_TRACE_IMPL_H

#include "trace.h"

#define TRACE_BUF_SIZE (1u << 16)
#define TRACE_ERR_MAX  256

struct trace_reader {
	struct trace_src src;
	enum trace_format fmt;
	uint8_t *buf;
	size_t start, end; /* unread bytes are buf[start, end) */
	int eof;
	int failed;	   /* sticky: -1 from every later read */
	int input_error;   /* the failure is the input's fault */
	int header_done;   /* binary header checked */
	uint64_t consumed; /* bytes before buf[start] */
	uint64_t units;	   /* lines (lackey) or records (binary) consumed */
	uint64_t inv_va;   /* binary: the va of an invalidation, until its length */
	int inv_pending;   /* binary: a type-4 control record waits for its type 5 */
	char err[TRACE_ERR_MAX];
};

/* Reads more bytes, keeping buf[start, end). Returns 0, or -1 on I/O error. */
int trace_fill(struct trace_reader *r);
/* Marks the reader failed with a formatted message; returns -1. */
int trace_fail(struct trace_reader *r, int input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies at most max bytes of s into out as printable ASCII (\xNN escapes). */
void trace_escape(char *out, size_t outlen, const uint8_t *s, size_t len, size_t max);

/* Does an access of size >= 1 bytes at va cross the end of its canonical
 * half (bit 47 changes within it)? */
static inline int trace_crosses_half(uint64_t va, uint64_t size)
{
	return (va >> 47) != ((va + size - 1) >> 47);
}

long trace_lackey_read(struct trace_reader *r, struct trace_rec *recs, size_t max);
long trace_dmtvm_read(struct trace_reader *r, struct trace_rec *recs, size_t max);

#endif /* REPLAY_TRACE_IMPL_H */
