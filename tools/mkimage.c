/* SPDX-License-Identifier: MIT */
/*
 * mkimage.c: writes guest.img (vmm/image_format.h, vmm/README-image.md):
 *
 *   mkimage -k kernel.elf -o guest.img [-c "cmdline"] [-i PATH] FILE...
 *
 * FILE is `path` (stored as /basename) or `src=/dest/path`. The initramfs is
 * a cpio "newc" archive built here, with parent directories created as
 * needed. /init is the program given with -i, else the first FILE whose
 * destination basename is `init` (stored as /init). Timestamps are zero so
 * that images are reproducible.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "image_format.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkimage: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void put(struct buf *b, const void *data, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 65536;
		while (n > cap - b->len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			die("%s", "out of memory");
		b->cap = cap;
	}
	if (n) /* data may be NULL for an empty piece (memcpy's args must not be) */
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void pad(struct buf *b, size_t align)
{
	static const uint8_t zero[4096];
	while (b->len % align)
		put(b, zero,
		    align - b->len % align > sizeof(zero) ? sizeof(zero) : align - b->len % align);
}

static uint8_t *read_file(const char *path, size_t *len, mode_t *mode)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
		die("cannot read %s", path);
	uint8_t *p = malloc((size_t)st.st_size + 1);
	if (!p || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		die("cannot read %s", path);
	fclose(f);
	*len = (size_t)st.st_size;
	if (mode)
		*mode = st.st_mode;
	return p;
}

/* One cpio newc entry; name without the leading '/'. */
static void cpio_entry(struct buf *b, const char *name, uint32_t mode, const void *data, size_t len)
{
	static uint32_t ino = 1;
	if (len > 0xffffffffU)
		die("%s: larger than 4 GiB, which cpio newc cannot store", name);
	char hdr[111];
	size_t namesz = strlen(name) + 1;
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino++, mode, 0, 0, (mode & 0170000) == 0040000 ? 2 : 1, 0, (uint32_t)len, 0, 0, 0,
		 0, (uint32_t)namesz, 0);
	put(b, hdr, 110);
	put(b, name, namesz);
	pad(b, 4);
	put(b, data, len);
	pad(b, 4);
}

#define MAX_DIRS 256
static char *dirs[MAX_DIRS];
static int ndirs;

/* Emit directory entries for every parent of dest not emitted yet. */
static void cpio_parents(struct buf *b, const char *dest)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dest);
	for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		int seen = 0;
		for (int i = 0; i < ndirs; i++)
			seen |= !strcmp(dirs[i], path);
		if (!seen) {
			if (ndirs == MAX_DIRS)
				die("%s", "too many directories");
			dirs[ndirs++] = strdup(path);
			cpio_entry(b, path, 0040755, NULL, 0);
		}
		*s = '/';
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: mkimage -k kernel.elf -o guest.img [-c \"cmdline\"] [-i INIT] "
			"FILE|SRC=/DEST...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *kernel = NULL, *out = NULL, *cmdline = "", *init = NULL;
	int c;
	while ((c = getopt(argc, argv, "k:o:c:i:h")) != -1) {
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'i':
			init = optarg;
			break;
		default:
			usage();
		}
	}
	if (!kernel || !out)
		usage();
	if (strlen(cmdline) > DMTVM_IMG_CMDLINE_MAX)
		die("command line longer than %s bytes", "4096");

	struct buf rd = {0};
	int have_init = 0;
	if (init) {
		size_t len;
		uint8_t *d = read_file(init, &len, NULL);
		cpio_entry(&rd, "init", 0100755, d, len);
		free(d);
		have_init = 1;
	}
	for (int i = optind; i < argc; i++) {
		char *src = argv[i], *dest, *eq = strchr(argv[i], '=');
		char destbuf[4096];
		if (eq) {
			*eq = 0;
			dest = eq + 1;
		} else {
			const char *base = strrchr(src, '/');
			snprintf(destbuf, sizeof(destbuf), "/%s", base ? base + 1 : src);
			dest = destbuf;
		}
		while (*dest == '/')
			dest++;
		if (!*dest || strstr(dest, "..") || dest[strlen(dest) - 1] == '/')
			die("bad destination path for %s", src);
		const char *base = strrchr(dest, '/');
		base = base ? base + 1 : dest;
		if (!strcmp(base, "init") && !have_init) {
			dest = "init"; /* the first program named init becomes /init */
			have_init = 1;
		} else if (!strcmp(dest, "init")) {
			die("more than one /init (%s)", src);
		}
		size_t len;
		mode_t mode;
		uint8_t *d = read_file(src, &len, &mode);
		cpio_parents(&rd, dest);
		cpio_entry(&rd, dest, 0100000 | (mode & 0777) | (!strcmp(dest, "init") ? 0755 : 0),
			   d, len);
		free(d);
	}
	if (rd.len)
		cpio_entry(&rd, "TRAILER!!!", 0, NULL, 0);

	size_t klen;
	uint8_t *k = read_file(kernel, &klen, NULL);
	struct buf img = {0};
	struct dmtvm_img_header h = {0};
	memcpy(h.magic, DMTVM_IMG_MAGIC, 8);
	h.version = DMTVM_IMG_VERSION;
	h.header_size = DMTVM_IMG_HEADER_SIZE;
	put(&img, &h, sizeof(h));
	pad(&img, DMTVM_IMG_ALIGN);
	h.kernel_off = img.len;
	h.kernel_size = klen;
	put(&img, k, klen);
	pad(&img, DMTVM_IMG_ALIGN);
	h.initrd_off = img.len;
	h.initrd_size = rd.len;
	if (rd.len)
		put(&img, rd.p, rd.len);
	pad(&img, DMTVM_IMG_ALIGN);
	h.cmdline_off = img.len;
	h.cmdline_size = strlen(cmdline);
	put(&img, cmdline, strlen(cmdline));
	h.file_size = img.len;
	if (img.len > DMTVM_IMG_MAX_SIZE)
		die("image larger than %s (dmtvm refuses it)", "1 GiB");
	/* This writer runs on little-endian x86-64 hosts: the struct is the format. */
	memcpy(img.p, &h, sizeof(h));
	h.crc32 = vmm_crc32(0, img.p, img.len);
	memcpy(img.p, &h, sizeof(h));

	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(img.p, 1, img.len, f) != img.len || fclose(f) != 0)
		die("cannot write %s", tmp);
	if (rename(tmp, out) < 0)
		die("cannot rename to %s", out);
	return 0;
}
