/* SPDX-License-Identifier: MIT */
/* elf.h: loading a static ELF64 x86-64 executable into an address space (elf.c). */
#ifndef ELF_H
#define ELF_H

#include "vm.h"

/* Static-PIE (ET_DYN) binaries load at this fixed base, Linux's no-ASLR PIE base. */
#define ELF_PIE_BASE 0x555555554000ULL
/* Segments must end below this (the mmap area and stack live above): 1 TiB below USER_TOP. */
#define ELF_LOAD_TOP (USER_TOP - (1ULL << 40)) /* 0x7d0000000000 */

struct elf_info {
	uint64_t entry; /* with the load bias applied */
	uint64_t phdr;	/* user VA of the program headers (AT_PHDR), 0 if not loaded */
	uint64_t phent, phnum;
	uint64_t load_end; /* end of the highest segment: the brk starts here */
};

/*
 * Map the PT_LOAD segments of img[0, size) into mm: one VMA per segment,
 * file bytes copied now, the rest demand-zero. Returns 0, -EINVAL (not a
 * static x86-64 ELF64; a one-line reason is printed) or -ENOMEM.
 */
int elf_load(struct mm *mm, const void *img, uint64_t size, struct elf_info *info);
/* The file's path in elf_load's one-line reasons (default "/init"). */
extern const char *elf_load_name;

#endif /* ELF_H */
