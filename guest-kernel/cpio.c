/* SPDX-License-Identifier: MIT */
/*
 * cpio.c: a reader for the initramfs, a cpio "newc" archive: 110-byte
 * ASCII headers ("070701" and 13 eight-digit hex fields), the name padded
 * to 4 bytes, the data padded to 4 bytes, ending with "TRAILER!!!". Every
 * size is checked against the archive's end. Only the fields used are
 * parsed (each hex digit costs emulated instructions).
 */
#include "cpio.h"

#define HDR_LEN	     110
#define OFF_MODE     14
#define OFF_FILESIZE 54
#define OFF_NAMESIZE 94

static bool hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		char c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static const char *strip_root(const char *name)
{
	if (name[0] == '.' && name[1] == '/')
		name += 2;
	while (*name == '/')
		name++;
	return name;
}

int cpio_find(const void *start, uint64_t len, const char *path, struct cpio_file *out)
{
	const char *base = start;
	uint64_t off = 0;
	size_t plen = strlen(path);
	while (off + HDR_LEN <= len) {
		const char *h = base + off;
		uint32_t mode, filesize, namesize;
		if (memcmp(h, "070701", 6) || !hex8(h + OFF_MODE, &mode) ||
		    !hex8(h + OFF_FILESIZE, &filesize) || !hex8(h + OFF_NAMESIZE, &namesize))
			return -EINVAL;
		uint64_t name_off = off + HDR_LEN;
		uint64_t data_off = ALIGN_UP(name_off + namesize, 4);
		uint64_t next = ALIGN_UP(data_off + filesize, 4);
		if (namesize == 0 || data_off > len || data_off + filesize > len ||
		    base[name_off + namesize - 1] != '\0')
			return -EINVAL;
		const char *name = base + name_off;
		if (namesize == 11 && !memcmp(name, "TRAILER!!!", 11))
			return -1;
		name = strip_root(name);
		if (!strncmp(name, path, plen + 1)) {
			out->data = base + data_off;
			out->size = filesize;
			out->mode = mode;
			return 0;
		}
		off = next;
	}
	return -1;
}
