/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay.c: libFuzzer target for the whole `dmtvm replay` pipeline:
 * any input (lackey text or binary, auto-detected) goes through both passes,
 * simos (tables, TEAs, EPTs, nesting) and every model scheme. The only
 * acceptable outcomes are exit status 0 (replayed) and 2 (malformed input);
 * 1 would mean simos or the model choked on a well-formed trace.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* Small caches: the model allocates them per run. One model thread:
	 * a pool per input would cost more than most inputs' replay. */
	char *argv[] = {"replay",
			"--quiet",
			"--mode=all",
			"--threads=1",
			"--report-file=/dev/null",
			"--set",
			"llc_size=704K",
			"--set",
			"l2_size=64K",
			"--set",
			"simos.tea_min=4M",
			path,
			NULL};
	int rc = replay_main((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	close(fd);
	if (rc != 0 && rc != 2)
		abort();
	return 0;
}
