/* SPDX-License-Identifier: MIT */
/*
 * kernel_elf.h: the guest kernel ELF: validation of untrusted headers against guest
 * RAM and the boot protocol's reserved low pages, then loading.
 */
#ifndef VMM_ELF_H
#define VMM_ELF_H

#include <stddef.h>
#include <stdint.h>

#define VMM_ELF_MAX_SEGS 16

struct vmm_elf_seg {
	uint64_t paddr, filesz, memsz, offset;
};

struct vmm_elf {
	uint64_t entry;
	int nsegs;
	struct vmm_elf_seg segs[VMM_ELF_MAX_SEGS];
	uint64_t lo, hi; /* gPA span of all PT_LOAD segments */
};

/* Check kernel[0..size) for RAM of mem_size bytes. 0 or -1 + err. */
int vmm_elf_parse(const uint8_t *kernel, size_t size, uint64_t mem_size, struct vmm_elf *out,
		  char *err, size_t errlen);
/* Copy the validated segments into ram (bss zeroed). */
void vmm_elf_load(const struct vmm_elf *elf, const uint8_t *kernel, uint8_t *ram);

#endif
