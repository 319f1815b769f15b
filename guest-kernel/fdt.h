/* SPDX-License-Identifier: MIT */
/* fdt.h: what the kernel reads from the VMM's device tree (fdt.c). */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include "kernel.h"

#define BOOT_MAX_RESERVED 16

struct boot_range {
	uint64_t start, size;
};

struct boot_info {
	uint64_t mem_size;
	const char *bootargs;		   /* in the FDT (direct map); "" if absent */
	uint64_t initrd_start, initrd_end; /* gPA */
	const char *mode;		   /* native|ept|spt|dmt|pvdmt, "" if absent */
	uint32_t abi_version;
	uint32_t tsc_khz;
	uint32_t vcpus;
	int thp; /* /chosen/dmtvm,thp: 1 on, 0 off, -1 absent */
	unsigned nreserved;
	struct boot_range reserved[BOOT_MAX_RESERVED];
};

/* Parse the FDT at gPA fdt_gpa; returns 0 or -EINVAL (bad magic or layout). */
int fdt_parse(uint64_t fdt_gpa, struct boot_info *bi);

#endif /* GUEST_FDT_H */
