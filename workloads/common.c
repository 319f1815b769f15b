/* SPDX-License-Identifier: MIT */
/*
 * common.c: argument parsing, timing, allocation and reporting shared by the
 * workloads (see common.h). Uses only syscalls dmtvm's guest kernel serves.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t wl_footprint; /* bytes currently held through wl_alloc */
static uint64_t wl_footprint_peak;

int wl_parse_num(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1; /* also rejects "-1", which strtoull would wrap */
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift && *++end != '\0')
		return -1;
	if (shift && v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void wl_usage(FILE *f, const char *name, const char *summary, const struct wl_opt *opts,
		     size_t nopts)
{
	fprintf(f, "usage: %s [options]\n%s\n", name, summary);
	for (size_t i = 0; i < nopts; i++)
		fprintf(f, "  -%c %-6s %s (default %llu)\n", opts[i].flag, opts[i].arg,
			opts[i].help, (unsigned long long)*opts[i].val);
	fprintf(f, "  -h        this help\n"
		   "Numbers take an optional K/M/G/T suffix (powers of 1024).\n");
}

static void wl_bad(const char *name, const char *summary, const struct wl_opt *opts, size_t nopts,
		   const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s '%s'\n", name, what, arg);
	wl_usage(stderr, name, summary, opts, nopts);
	exit(2);
}

void wl_parse_args(int argc, char **argv, const char *name, const char *summary,
		   struct wl_opt *opts, size_t nopts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		struct wl_opt *o = NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			wl_usage(stdout, name, summary, opts, nopts);
			exit(0);
		}
		if (a[0] != '-' || a[1] == '\0' || a[2] != '\0')
			wl_bad(name, summary, opts, nopts, "unexpected argument", a);
		for (size_t j = 0; j < nopts; j++)
			if (opts[j].flag == a[1])
				o = &opts[j];
		if (!o)
			wl_bad(name, summary, opts, nopts, "unknown option", a);
		if (i + 1 >= argc)
			wl_bad(name, summary, opts, nopts, "missing value for", a);
		uint64_t v;
		if (wl_parse_num(argv[++i], &v) != 0)
			wl_bad(name, summary, opts, nopts, "bad number (expected N[K|M|G|T])",
			       argv[i]);
		if (v < o->min || v > o->max) {
			char msg[96];
			snprintf(msg, sizeof(msg), "-%c out of range [%llu, %llu]:", o->flag,
				 (unsigned long long)o->min, (unsigned long long)o->max);
			wl_bad(name, summary, opts, nopts, msg, argv[i]);
		}
		*o->val = v;
	}
}

uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void *wl_alloc(const char *name, uint64_t bytes)
{
	void *p;

	if (bytes == 0)
		bytes = 1;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: cannot allocate %llu bytes (%s)\n", name,
			(unsigned long long)bytes, strerror(errno));
		exit(1);
	}
	wl_footprint += bytes;
	if (wl_footprint > wl_footprint_peak)
		wl_footprint_peak = wl_footprint;
	return p;
}

void wl_free(void *p, uint64_t bytes)
{
	if (bytes == 0)
		bytes = 1;
	munmap(p, bytes);
	wl_footprint -= bytes;
}

void wl_finish(const char *name, uint64_t roi_ns, uint64_t checksum)
{
	printf("%s: roi %.3f s, footprint %.1f MiB\n", name, (double)roi_ns * 1e-9,
	       (double)wl_footprint_peak / (1024.0 * 1024.0));
	printf("checksum %016llx\n", (unsigned long long)checksum);
	fflush(stdout);
}

void wl_die(const char *name, const char *msg)
{
	fprintf(stderr, "%s: %s\n", name, msg);
	exit(1);
}
