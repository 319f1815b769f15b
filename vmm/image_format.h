/* SPDX-License-Identifier: MIT */
/*
 * image_format.h: the on-disk layout of guest.img, version 1 (see
 * README-image.md). Shared by the reader (vmm/image.c) and the writer
 * (tools/mkimage.c). All integers are little-endian.
 */
#ifndef VMM_IMAGE_FORMAT_H
#define VMM_IMAGE_FORMAT_H

#include <stdint.h>

#define DMTVM_IMG_MAGIC	      "DMTVMIMG"
#define DMTVM_IMG_VERSION     1
#define DMTVM_IMG_HEADER_SIZE 88
#define DMTVM_IMG_ALIGN	      4096	   /* payload sections start on 4 KiB boundaries */
#define DMTVM_IMG_MAX_SIZE    (1ULL << 30) /* readers refuse larger files */
#define DMTVM_IMG_CMDLINE_MAX 4096

struct dmtvm_img_header {
	char magic[8];	      /* "DMTVMIMG" */
	uint32_t version;     /* DMTVM_IMG_VERSION */
	uint32_t header_size; /* DMTVM_IMG_HEADER_SIZE */
	uint64_t file_size;   /* total bytes, header included */
	uint64_t kernel_off;  /* kernel ELF (ELF64, x86-64, ET_EXEC) */
	uint64_t kernel_size;
	uint64_t initrd_off; /* initramfs (cpio newc), may be empty */
	uint64_t initrd_size;
	uint64_t cmdline_off; /* default kernel command line, no NUL */
	uint64_t cmdline_size;
	uint32_t crc32;	   /* CRC-32 (IEEE) of the whole file with this field zero */
	uint32_t reserved; /* zero */
	uint64_t flags;	   /* zero in version 1 */
};

_Static_assert(sizeof(struct dmtvm_img_header) == DMTVM_IMG_HEADER_SIZE, "header size");

#endif /* VMM_IMAGE_FORMAT_H */
