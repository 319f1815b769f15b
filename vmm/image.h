/* SPDX-License-Identifier: MIT */
/*
 * image.h: reading guest.img (format in image_format.h). The reader is
 * bounds-checked and overflow-safe: every offset and size is checked against
 * the file size, and nothing past a failed check is trusted.
 */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct vmm_image {
	uint8_t *file; /* whole file, owned (vmm_image_load) or borrowed (parse) */
	size_t file_size;
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd;
	size_t initrd_size;
	char cmdline[4097]; /* NUL-terminated copy */
};

/* Validate a whole image held in memory; points into buf. 0 or -1 + err. */
int vmm_image_parse(const uint8_t *buf, size_t len, struct vmm_image *img, char *err,
		    size_t errlen);
/* Read and validate a file. 0 or -1 + err (err names the file). */
int vmm_image_load(const char *path, struct vmm_image *img, char *err, size_t errlen);
void vmm_image_free(struct vmm_image *img);

#endif
