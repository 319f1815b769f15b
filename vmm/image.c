/* SPDX-License-Identifier: MIT */
/*
 * image.c: the guest.img reader. Untrusted input: each check names the
 * field at fault, and sizes are compared by subtraction (never a + b).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "image.h"
#include "image_format.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* [off, off + size) inside [hdr, len)? */
static int section_ok(uint64_t off, uint64_t size, size_t len)
{
	return off >= DMTVM_IMG_HEADER_SIZE && off <= len && size <= len - off;
}

int vmm_image_parse(const uint8_t *buf, size_t len, struct vmm_image *img, char *err, size_t errlen)
{
	memset(img, 0, sizeof(*img));
	if (len < DMTVM_IMG_HEADER_SIZE) {
		snprintf(err, errlen, "truncated: %zu bytes, the header alone is %d", len,
			 DMTVM_IMG_HEADER_SIZE);
		return -1;
	}
	if (memcmp(buf, DMTVM_IMG_MAGIC, 8) != 0) {
		snprintf(err, errlen, "bad magic (not a dmtvm guest image; expected \"%s\")",
			 DMTVM_IMG_MAGIC);
		return -1;
	}
	uint32_t version = le32(buf + 8), hsize = le32(buf + 12);
	if (version != DMTVM_IMG_VERSION) {
		snprintf(err, errlen, "image version %u, this dmtvm reads version %d", version,
			 DMTVM_IMG_VERSION);
		return -1;
	}
	if (hsize != DMTVM_IMG_HEADER_SIZE) {
		snprintf(err, errlen, "header size %u, expected %d", hsize, DMTVM_IMG_HEADER_SIZE);
		return -1;
	}
	uint64_t file_size = le64(buf + 16);
	if (file_size != len) {
		snprintf(err, errlen, "truncated or padded: header says %llu bytes, file has %zu",
			 (unsigned long long)file_size, len);
		return -1;
	}
	uint64_t koff = le64(buf + 24), ksize = le64(buf + 32);
	uint64_t ioff = le64(buf + 40), isize = le64(buf + 48);
	uint64_t coff = le64(buf + 56), csize = le64(buf + 64);
	uint32_t crc = le32(buf + 72);
	if (le32(buf + 76) != 0 || le64(buf + 80) != 0) {
		snprintf(err, errlen, "reserved/flags fields are not zero");
		return -1;
	}
	if (ksize == 0) {
		snprintf(err, errlen, "kernel section is empty");
		return -1;
	}
	if (!section_ok(koff, ksize, len)) {
		snprintf(err, errlen,
			 "kernel section [offset %llu, size %llu] outside the %zu-byte file",
			 (unsigned long long)koff, (unsigned long long)ksize, len);
		return -1;
	}
	if (!section_ok(ioff, isize, len)) {
		snprintf(err, errlen,
			 "initramfs section [offset %llu, size %llu] outside the %zu-byte file",
			 (unsigned long long)ioff, (unsigned long long)isize, len);
		return -1;
	}
	if (!section_ok(coff, csize, len)) {
		snprintf(err, errlen,
			 "cmdline section [offset %llu, size %llu] outside the %zu-byte file",
			 (unsigned long long)coff, (unsigned long long)csize, len);
		return -1;
	}
	if (csize > DMTVM_IMG_CMDLINE_MAX) {
		snprintf(err, errlen, "command line of %llu bytes, the limit is %d",
			 (unsigned long long)csize, DMTVM_IMG_CMDLINE_MAX);
		return -1;
	}
	static const uint8_t zero4[4];
	uint32_t c = vmm_crc32(0, buf, 72);
	c = vmm_crc32(c, zero4, 4);
	c = vmm_crc32(c, buf + 76, len - 76);
	if (c != crc) {
		snprintf(err, errlen,
			 "checksum mismatch: header says crc32 %08x, contents give %08x", crc, c);
		return -1;
	}
	if (memchr(buf + coff, 0, csize)) {
		snprintf(err, errlen, "command line contains a NUL byte");
		return -1;
	}
	img->file = (uint8_t *)buf;
	img->file_size = len;
	img->kernel = buf + koff;
	img->kernel_size = ksize;
	img->initrd = buf + ioff;
	img->initrd_size = isize;
	memcpy(img->cmdline, buf + coff, csize);
	img->cmdline[csize] = 0;
	return 0;
}

int vmm_image_load(const char *path, struct vmm_image *img, char *err, size_t errlen)
{
	char why[256];
	memset(img, 0, sizeof(*img));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > DMTVM_IMG_MAX_SIZE) {
		snprintf(err, errlen, "%s: %lld bytes, images are limited to %llu", path,
			 (long long)st.st_size, (unsigned long long)DMTVM_IMG_MAX_SIZE);
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: read error: %s", path,
				 r < 0 ? strerror(errno) : "file shrank");
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	if (vmm_image_parse(buf, len, img, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		free(buf);
		return -1;
	}
	return 0;
}

void vmm_image_free(struct vmm_image *img)
{
	free(img->file);
	img->file = NULL;
}
