/* SPDX-License-Identifier: MIT */
/*
 * replay_input.c: the trace input of a replay: opening the file, spooling
 * stdin and pipes to an unlinked temporary file during pass 1 so pass 2 can
 * read them again, fresh readers per pass, progress lines, and writing
 * synthetic traces (--write-trace).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay_internal.h"

static ssize_t tee_read(void *ctx, void *buf, size_t len)
{
	struct tee *t = ctx;
	ssize_t n = t->in.read(t->in.ctx, buf, len);
	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(t->fd, (char *)buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->failed = errno ? errno : EIO;
			errno = t->failed;
			return -1;
		}
		off += w;
	}
	return n;
}

int replay_open_input(struct replay *r)
{
	struct replay_opts *o = r->o;
	r->spool_fd = -1;
	r->fd = -1;
	if (o->synthetic) {
		r->name = "<synthetic>";
		return 0;
	}
	if (strcmp(o->trace, "-") == 0) {
		r->fd = 0;
		r->name = "<stdin>";
	} else {
		r->fd = open(o->trace, O_RDONLY | O_CLOEXEC);
		r->name = o->trace;
		if (r->fd < 0) {
			fprintf(stderr, "dmtvm replay: %s: %s\n", o->trace, strerror(errno));
			return 1;
		}
	}
	struct stat st;
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(r->fd, 0, SEEK_CUR) == 0)
		return 0;
	/* A pipe cannot be read twice: keep a copy for pass 2. */
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	snprintf(path, sizeof(path), "%s/dmtvm-replay-XXXXXX", dir);
	r->spool_fd = mkstemp(path);
	if (r->spool_fd < 0) {
		fprintf(stderr, "dmtvm replay: cannot create a spool file in %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	unlink(path);
	return 0;
}

/* A fresh reader at the start of the input (pass 1 spools, pass 2 reads it). */
struct trace_reader *replay_reader(struct replay *r, int pass, struct tee *tee)
{
	struct trace_src src;
	if (r->o->synthetic) {
		synth_rewind(&r->o->synth);
		src = synth_src(&r->o->synth);
	} else if (pass == 2) {
		int fd = r->spool_fd >= 0 ? r->spool_fd : r->fd;
		if (lseek(fd, 0, SEEK_SET) != 0)
			return NULL;
		src = trace_src_fd(fd, r->name);
	} else {
		src = trace_src_fd(r->fd, r->name);
		if (r->spool_fd >= 0) {
			tee->in = src;
			tee->fd = r->spool_fd;
			tee->failed = 0;
			src.read = tee_read;
			src.ctx = tee;
		}
	}
	return trace_reader_open(src, TRACE_FMT_AUTO);
}

int replay_reader_failed(struct trace_reader *tr)
{
	fprintf(stderr, "dmtvm replay: %s\n", trace_reader_error(tr));
	return trace_reader_error_is_input(tr) ? 2 : 1;
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

void replay_progress(struct replay *r, const char *what, uint64_t done, int final)
{
	if (r->o->quiet)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && secs(&r->last_progress, &now) < 2.0)
		return;
	if (final && secs(&r->t0, &now) < 2.0)
		return; /* a short run needs no summary line */
	r->last_progress = now;
	double t = secs(&r->t0, &now);
	char thr[32] = "";
	if (final && r->lanes)
		snprintf(thr, sizeof(thr), ", model on %u threads", r->o->threads);
	fprintf(stderr, "dmtvm replay: %s: %llu records, %.1f s, %.2f M records/s%s%s", what,
		(unsigned long long)done, t, t > 0 ? (double)done / t / 1e6 : 0.0, thr,
		isatty(2) && !final ? "\r" : "\n");
}

int replay_write_synthetic(struct replay_opts *o)
{
	FILE *f = strcmp(o->write_trace, "-") == 0 ? stdout : fopen(o->write_trace, "wb");
	if (!f) {
		fprintf(stderr, "dmtvm replay: %s: %s\n", o->write_trace, strerror(errno));
		return 1;
	}
	struct trace_src src = synth_src(&o->synth);
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	ssize_t n = -1;
	while (buf && (n = src.read(src.ctx, buf, cap)) > 0)
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			break;
	free(buf);
	int bad = ferror(f) != 0 || n < 0;
	bad |= (f == stdout ? fflush(f) : fclose(f)) != 0;
	if (bad) {
		fprintf(stderr, "dmtvm replay: %s: write error\n", o->write_trace);
		return 1;
	}
	return 0;
}
