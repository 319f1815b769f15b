/* SPDX-License-Identifier: MIT */
/*
 * boot_fdt.c: builds the flattened device tree with libfdt's sequential writer.
 * Properties are exactly those listed in dmtvm_abi.h; the reserved ranges
 * also go into the FDT memory-reservation block, as Linux expects.
 */
#include <libfdt.h>
#include <stdio.h>

#include "dmtvm_abi.h"
#include "boot_fdt.h"

#define TRY(x)                                                                                     \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ < 0) {                                                                      \
			snprintf(err, errlen, "device tree: %s: %s", #x, fdt_strerror(r_));        \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

int vmm_fdt_build(void *buf, size_t size, const struct vmm_fdt_params *p, char *err, size_t errlen)
{
	TRY(fdt_create(buf, (int)size));
	for (int i = 0; i < p->nreserved; i++)
		TRY(fdt_add_reservemap_entry(buf, p->reserved[i][0], p->reserved[i][1]));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property_string(buf, "compatible", "dmtvm,virt"));

	TRY(fdt_begin_node(buf, "memory@0"));
	TRY(fdt_property_string(buf, "device_type", "memory"));
	fdt64_t reg[2] = {cpu_to_fdt64(0), cpu_to_fdt64(p->mem_size)};
	TRY(fdt_property(buf, "reg", reg, sizeof(reg)));
	TRY(fdt_end_node(buf));

	TRY(fdt_begin_node(buf, "chosen"));
	TRY(fdt_property_string(buf, "bootargs", p->bootargs));
	TRY(fdt_property_u64(buf, "linux,initrd-start", p->initrd_start));
	TRY(fdt_property_u64(buf, "linux,initrd-end", p->initrd_end));
	TRY(fdt_property_u32(buf, "dmtvm,abi-version", DMTVM_ABI_VERSION));
	TRY(fdt_property_string(buf, "dmtvm,mode", p->mode));
	fdt64_t res[VMM_FDT_MAX_RESERVED * 2];
	for (int i = 0; i < p->nreserved; i++) {
		res[2 * i] = cpu_to_fdt64(p->reserved[i][0]);
		res[2 * i + 1] = cpu_to_fdt64(p->reserved[i][1]);
	}
	TRY(fdt_property(buf, "dmtvm,reserved", res, (int)(p->nreserved * 2 * sizeof(fdt64_t))));
	TRY(fdt_property_u32(buf, "dmtvm,tsc-khz", p->tsc_khz));
	TRY(fdt_property_u32(buf, "dmtvm,vcpus", p->vcpus));
	TRY(fdt_property_u32(buf, "dmtvm,thp", p->thp));
	TRY(fdt_end_node(buf));

	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return 0;
}
