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

#include "cpio_newc.h"
#include "crc32.h"
#include "image_format.h"

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkimage: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void put(struct cpio_buf *b, const void *data, size_t n)
{
	if (cpio_buf_put(b, data, n) < 0)
		die("%s", "out of memory");
}

static void pad(struct cpio_buf *b, size_t align)
{
	if (cpio_buf_pad(b, align) < 0)
		die("%s", "out of memory");
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
static void cpio_entry(struct cpio_writer *w, const char *name, uint32_t mode, const void *data,
		       size_t len)
{
	if (cpio_newc_entry(w, name, mode, data, len) < 0)
		die(errno == EFBIG ? "%s: larger than 4 GiB, which cpio newc cannot store"
				   : "%s: out of memory",
		    name);
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

	struct cpio_writer rd = {0};
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
		if (cpio_newc_parents(&rd, dest) < 0)
			die("%s", "out of memory");
		cpio_entry(&rd, dest, 0100000 | (mode & 0777) | (!strcmp(dest, "init") ? 0755 : 0),
			   d, len);
		free(d);
	}
	if (rd.b.len)
		cpio_entry(&rd, "TRAILER!!!", 0, NULL, 0);
	cpio_writer_done(&rd);

	size_t klen;
	uint8_t *k = read_file(kernel, &klen, NULL);
	struct cpio_buf img = {0};
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
	h.initrd_size = rd.b.len;
	if (rd.b.len)
		put(&img, rd.b.p, rd.b.len);
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
