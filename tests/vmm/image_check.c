/* SPDX-License-Identifier: MIT */
/*
 * image_check.c: runs the guest.img reader and kernel ELF checks on files,
 * the way `dmtvm run` does, without KVM. Built with ASan+UBSan so that the
 * negative-image tests also prove the reader never reads out of bounds.
 * Usage: image_check [--mem=BYTES] FILE...; prints one line per file;
 * exit 0 if all were valid, 2 if any was refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "kernel_elf.h"

int main(int argc, char **argv)
{
	unsigned long long mem = 256ULL << 20;
	int status = 0;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--mem=", 6)) {
			mem = strtoull(argv[i] + 6, NULL, 0);
			continue;
		}
		struct vmm_image img;
		struct vmm_elf elf;
		char err[512];
		if (vmm_image_load(argv[i], &img, err, sizeof(err)) < 0) {
			printf("refused: %s\n", err);
			status = 2;
			continue;
		}
		if (vmm_elf_parse(img.kernel, img.kernel_size, mem, &elf, err, sizeof(err)) < 0) {
			printf("refused: %s: %s\n", argv[i], err);
			status = 2;
		} else {
			printf("ok: %s: %d segments, entry %#llx, initramfs %zu bytes, cmdline "
			       "\"%s\"\n",
			       argv[i], elf.nsegs, (unsigned long long)elf.entry, img.initrd_size,
			       img.cmdline);
		}
		vmm_image_free(&img);
	}
	return status;
}
