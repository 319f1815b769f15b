/* SPDX-License-Identifier: MIT */
/*
 * kernel_elf.c: kernel ELF checks and loading. Segments go to p_paddr (boot
 * protocol): in RAM, at or above DMTVM_KERNEL_MIN_PADDR (so never over the
 * GDT, FDT or boot page tables), inside the 1 GiB kernel window, and not
 * overlapping each other. The entry must lie in a loaded segment.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "dmtvm_abi.h"
#include "kernel_elf.h"

#define KERNEL_WINDOW (1ULL << 30)

int vmm_elf_parse(const uint8_t *kernel, size_t size, uint64_t mem_size, struct vmm_elf *out,
		  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	Elf64_Ehdr eh;
	if (size < sizeof(eh)) {
		snprintf(err, errlen, "kernel ELF truncated (%zu bytes)", size);
		return -1;
	}
	memcpy(&eh, kernel, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		snprintf(err, errlen, "kernel is not a little-endian ELF64 file");
		return -1;
	}
	if (eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC) {
		snprintf(err, errlen, "kernel ELF is not an x86-64 executable (type %u machine %u)",
			 eh.e_type, eh.e_machine);
		return -1;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64) {
		snprintf(err, errlen, "kernel ELF program headers: %u entries of %u bytes",
			 eh.e_phnum, eh.e_phentsize);
		return -1;
	}
	uint64_t phbytes = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_phoff > size || phbytes > size - eh.e_phoff) {
		snprintf(err, errlen, "kernel ELF program headers outside the file");
		return -1;
	}
	out->lo = UINT64_MAX;
	int entry_ok = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, kernel + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (out->nsegs == VMM_ELF_MAX_SEGS) {
			snprintf(err, errlen, "kernel ELF has more than %d PT_LOAD segments",
				 VMM_ELF_MAX_SEGS);
			return -1;
		}
		if (ph.p_filesz > ph.p_memsz) {
			snprintf(err, errlen,
				 "kernel ELF segment %u: p_filesz %#llx > p_memsz %#llx", i,
				 (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
			return -1;
		}
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset) {
			snprintf(err, errlen,
				 "kernel ELF segment %u: file range [%#llx, +%#llx) outside the "
				 "%zu-byte file",
				 i, (unsigned long long)ph.p_offset,
				 (unsigned long long)ph.p_filesz, size);
			return -1;
		}
		uint64_t limit = mem_size < KERNEL_WINDOW ? mem_size : KERNEL_WINDOW;
		if (ph.p_paddr < DMTVM_KERNEL_MIN_PADDR || ph.p_paddr > limit ||
		    ph.p_memsz > limit - ph.p_paddr) {
			snprintf(err, errlen,
				 "kernel ELF segment %u: gPA [%#llx, +%#llx) outside RAM above 1 "
				 "MiB (RAM/window ends at %#llx)",
				 i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
				 (unsigned long long)limit);
			return -1;
		}
		for (int j = 0; j < out->nsegs; j++) {
			const struct vmm_elf_seg *s = &out->segs[j];
			if (ph.p_paddr < s->paddr + s->memsz &&
			    s->paddr < ph.p_paddr + ph.p_memsz) {
				snprintf(err, errlen, "kernel ELF segment %u overlaps another", i);
				return -1;
			}
		}
		if (eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz &&
		    (ph.p_flags & PF_X))
			entry_ok = 1;
		out->segs[out->nsegs++] = (struct vmm_elf_seg){
		    .paddr = ph.p_paddr,
		    .filesz = ph.p_filesz,
		    .memsz = ph.p_memsz,
		    .offset = ph.p_offset,
		};
		if (ph.p_paddr < out->lo)
			out->lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > out->hi)
			out->hi = ph.p_paddr + ph.p_memsz;
	}
	if (out->nsegs == 0) {
		snprintf(err, errlen, "kernel ELF has no PT_LOAD segment");
		return -1;
	}
	if (!entry_ok) {
		snprintf(err, errlen, "kernel ELF entry %#llx is not in an executable segment",
			 (unsigned long long)eh.e_entry);
		return -1;
	}
	out->entry = eh.e_entry;
	return 0;
}

void vmm_elf_load(const struct vmm_elf *elf, const uint8_t *kernel, uint8_t *ram)
{
	for (int i = 0; i < elf->nsegs; i++) {
		const struct vmm_elf_seg *s = &elf->segs[i];
		memcpy(ram + s->paddr, kernel + s->offset, s->filesz);
		memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
}
