/* SPDX-License-Identifier: MIT */
/* cpio_newc.c: the cpio "newc" writer of cpio_newc.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpio_newc.h"

int cpio_buf_put(struct cpio_buf *b, const void *data, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 65536;
		while (n > cap - b->len) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		uint8_t *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	if (n) /* data may be NULL for an empty piece (memcpy's args must not be) */
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int cpio_buf_pad(struct cpio_buf *b, size_t align)
{
	static const uint8_t zero[4096];
	while (b->len % align) {
		size_t n = align - b->len % align;
		if (cpio_buf_put(b, zero, n > sizeof(zero) ? sizeof(zero) : n) < 0)
			return -1;
	}
	return 0;
}

int cpio_newc_entry(struct cpio_writer *w, const char *name, uint32_t mode, const void *data,
		    size_t len)
{
	if (len > 0xffffffffU) {
		errno = EFBIG;
		return -1;
	}
	char hdr[111];
	size_t namesz = strlen(name) + 1;
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++w->ino, mode, 0, 0, (mode & 0170000) == 0040000 ? 2 : 1, 0, (uint32_t)len, 0, 0,
		 0, 0, (uint32_t)namesz, 0);
	if (cpio_buf_put(&w->b, hdr, 110) < 0 || cpio_buf_put(&w->b, name, namesz) < 0 ||
	    cpio_buf_pad(&w->b, 4) < 0 || cpio_buf_put(&w->b, data, len) < 0 ||
	    cpio_buf_pad(&w->b, 4) < 0)
		return -1;
	return 0;
}

int cpio_newc_parents(struct cpio_writer *w, const char *name)
{
	char *path = strdup(name);
	if (!path)
		return -1;
	for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		unsigned i = 0;
		while (i < w->ndirs && strcmp(w->dirs[i], path))
			i++;
		if (i == w->ndirs) {
			char **d = realloc(w->dirs, (w->ndirs + 1) * sizeof(*d));
			if (!d || !(d[w->ndirs] = strdup(path))) {
				if (d)
					w->dirs = d;
				free(path);
				return -1;
			}
			w->dirs = d;
			w->ndirs++;
			if (cpio_newc_entry(w, path, 0040755, NULL, 0) < 0) {
				free(path);
				return -1;
			}
		}
		*s = '/';
	}
	free(path);
	return 0;
}

int cpio_newc_trailer(struct cpio_writer *w)
{
	return cpio_newc_entry(w, "TRAILER!!!", 0, NULL, 0);
}

void cpio_writer_done(struct cpio_writer *w)
{
	for (unsigned i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	w->dirs = NULL;
	w->ndirs = 0;
}
