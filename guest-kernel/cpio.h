/* SPDX-License-Identifier: MIT */
/* cpio.h: lookup of a file in the initramfs, a cpio "newc" archive (cpio.c). */
#ifndef CPIO_H
#define CPIO_H

#include "kernel.h"

struct cpio_file {
	const void *data;
	uint64_t size;
	uint32_t mode;
};

/*
 * Find path (without leading "/" or "./") in the archive [start, start+len);
 * 0, or -ENOENT-like -1 if absent, -EINVAL if the archive is malformed.
 */
int cpio_find(const void *start, uint64_t len, const char *path, struct cpio_file *out);

#endif /* CPIO_H */
