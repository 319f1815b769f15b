/* SPDX-License-Identifier: MIT */
/*
 * trace.h: streaming readers of memory-access traces (untrusted bytes).
 *
 * Two formats, detected from the first bytes:
 *   - valgrind lackey `--trace-mem=yes` text ("I  addr,size", " L addr,size",
 *     " S addr,size", " M addr,size"; "==pid==" lines skipped);
 *   - dmtvm binary traces (pvdmt/dmtvm_trace.h).
 * Readers pull bytes from a struct trace_src (a file descriptor, a memory
 * buffer or a generator), keep a bounded buffer, and hand out decoded
 * records in batches. Errors are one line naming the line (text) or the
 * record and byte offset (binary); nothing in the input can crash a reader.
 */
#ifndef REPLAY_TRACE_H
#define REPLAY_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Decoded record kinds: accesses first, then control events. */
enum trace_kind {
	TRACE_LOAD = 0,
	TRACE_STORE = 1,
	TRACE_FETCH = 2,
	TRACE_ROI_BEGIN = 3,
	TRACE_ROI_END = 4,
	TRACE_ASID = 5, /* va holds the new address-space id */
	/* TLB entries of [va, va + size pages) dropped; size 0: all (dmtvm control 4 + 5) */
	TRACE_INVALIDATE = 6,
	TRACE_KIND_LAST = TRACE_INVALIDATE, /* the largest kind: move it with a new one */
};

struct trace_rec {
	uint64_t va;
	uint32_t size; /* bytes, >= 1 for accesses */
	uint8_t kind;  /* enum trace_kind */
	uint8_t vcpu;
	uint16_t pad;
};

enum trace_format {
	TRACE_FMT_AUTO = 0,
	TRACE_FMT_LACKEY,
	TRACE_FMT_DMTVM,
};

/* Largest access size a lackey line may carry (lackey emits <= 64). */
#define TRACE_LACKEY_MAX_SIZE 4096
/* Longest accepted text line; longer lines are an error, not a split. */
#define TRACE_LINE_MAX 512

/* A byte source: read() returns bytes read, 0 at end, -1 on error (errno). */
struct trace_src {
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	void *ctx;
	const char *name; /* for messages: file name, "<stdin>", ... */
};

struct trace_src trace_src_fd(int fd, const char *name);

/* A memory source; *pos must live as long as the source. */
struct trace_mem {
	const uint8_t *data;
	size_t len;
	size_t pos;
};
struct trace_src trace_src_mem(struct trace_mem *m, const char *name);

struct trace_reader;

/*
 * Opens a reader on src (reads the first bytes to detect the format when
 * fmt is TRACE_FMT_AUTO). Returns NULL only when out of memory; a bad
 * header is reported by the first trace_reader_read() as an error.
 */
struct trace_reader *trace_reader_open(struct trace_src src, enum trace_format fmt);
void trace_reader_close(struct trace_reader *r);

/*
 * Decodes up to max (>= 2) records into recs. Returns the number decoded (> 0),
 * 0 at the end of the trace, or -1 on a malformed trace or read error
 * (trace_reader_error() then names it; further calls return -1).
 */
long trace_reader_read(struct trace_reader *r, struct trace_rec *recs, size_t max);

/* The last error as one line without a newline, or "" if none. */
const char *trace_reader_error(const struct trace_reader *r);
/* Nonzero when the error is in the input (exit 2), zero for I/O errors. */
int trace_reader_error_is_input(const struct trace_reader *r);

enum trace_format trace_reader_format(const struct trace_reader *r);
const char *trace_format_name(enum trace_format fmt);

/* Input bytes consumed and input units (lines or records) seen so far. */
uint64_t trace_reader_bytes(const struct trace_reader *r);
uint64_t trace_reader_units(const struct trace_reader *r);

#endif /* REPLAY_TRACE_H */
