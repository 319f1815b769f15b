/* SPDX-License-Identifier: MIT */
/* boot_fdt.h: the boot device tree handed to the guest kernel (dmtvm_abi.h). */
#ifndef VMM_FDT_H
#define VMM_FDT_H

#include <stddef.h>
#include <stdint.h>

#define VMM_FDT_MAX_RESERVED 8

struct vmm_fdt_params {
	uint64_t mem_size;
	const char *bootargs;
	uint64_t initrd_start, initrd_end;
	const char *mode;
	uint32_t tsc_khz;
	uint32_t vcpus;
	uint32_t thp; /* 1: the guest may map anonymous memory with 2 MiB pages */
	int nreserved;
	uint64_t reserved[VMM_FDT_MAX_RESERVED][2]; /* gpa, size */
};

/* Build into buf[0..size). 0 or -1 + err. */
int vmm_fdt_build(void *buf, size_t size, const struct vmm_fdt_params *p, char *err, size_t errlen);

#endif
