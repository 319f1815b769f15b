/* SPDX-License-Identifier: MIT */
/*
 * cpio_newc.h: writing a cpio "newc" archive in memory (the initramfs of
 * guest.img): tools/mkimage builds one, `dmtvm run --add` builds the files
 * it puts in front of the image's. The guest kernel's reader is
 * guest-kernel/cpio.c. Owners and timestamps are zero (reproducible bytes).
 */
#ifndef VMM_CPIO_NEWC_H
#define VMM_CPIO_NEWC_H

#include <stddef.h>
#include <stdint.h>

struct cpio_buf {
	uint8_t *p;
	size_t len, cap;
};

/* Append n bytes (data may be NULL when n is 0). 0, or -1 out of memory. */
int cpio_buf_put(struct cpio_buf *b, const void *data, size_t n);
/* Zero bytes up to a multiple of align. 0 or -1. */
int cpio_buf_pad(struct cpio_buf *b, size_t align);

struct cpio_writer {
	struct cpio_buf b;
	uint32_t ino; /* last inode number given */
	char **dirs;  /* directories emitted so far (names without '/') */
	unsigned ndirs;
};

/*
 * One entry; name without the leading '/'. 0, or -1: out of memory, or
 * len >= 4 GiB (newc cannot store it; errno EFBIG).
 */
int cpio_newc_entry(struct cpio_writer *w, const char *name, uint32_t mode, const void *data,
		    size_t len);
/* Directory entries (0755) for every parent of name not emitted yet. 0 or -1. */
int cpio_newc_parents(struct cpio_writer *w, const char *name);
/* The closing TRAILER!!! entry. 0 or -1. */
int cpio_newc_trailer(struct cpio_writer *w);
/* Free the directory list (the buffer w->b stays the caller's). */
void cpio_writer_done(struct cpio_writer *w);

#endif
