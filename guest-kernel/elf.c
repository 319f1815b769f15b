/* SPDX-License-Identifier: MIT */
/*
 * elf.c: the ELF loader for /init: static executables (ET_EXEC) and
 * static-PIE (ET_DYN without PT_INTERP, loaded at ELF_PIE_BASE; musl's
 * rcrt1 relocates itself). Every header field is checked against the
 * file, since the image comes from the user. File-backed pages are mapped
 * at exec (in place from the initramfs when aligned and read-only, else
 * copied); the bss past the last file page is an anonymous VMA.
 */
#include "elf.h"
#include "console.h"
#include "pmm.h"
#include "ucopy.h"

#define ET_EXEC	  2
#define ET_DYN	  3
#define EM_X86_64 62
#define PT_LOAD	  1
#define PT_INTERP 3
#define PT_PHDR	  6
#define PF_X	  1
#define PF_W	  2
#define PF_R	  4

/* Packed: in the initramfs a file is only 4-byte aligned. */
struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
} __attribute__((packed));

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
} __attribute__((packed));

const char *elf_load_name = "/init";

static int bad(const char *why)
{
	kprintf("dmtvm: %s: %s\n", elf_load_name, why);
	return -EINVAL;
}

static uint32_t seg_prot(uint32_t pf)
{
	return (pf & PF_R ? VMA_READ : 0) | (pf & PF_W ? VMA_WRITE : 0) |
	       (pf & PF_X ? VMA_EXEC : 0);
}

/*
 * Fill the file part [vaddr, vaddr + filesz) of one segment. A read-only
 * page whose bytes lie wholly in the file and page-aligned in the
 * initramfs is mapped in place (borrowed, never freed or written); the
 * others are copied into fresh frames (already zero: the rest of the page
 * reads as zeroes).
 */
static int populate(struct mm *mm, uint64_t vaddr, const char *src, uint64_t filesz, uint32_t prot)
{
	uint64_t end = vaddr + filesz, first = vaddr & PAGE_MASK;
	uint64_t *pte = NULL; /* the next page's leaf entry, once its page table exists */
	for (uint64_t page = first; page < end; page += PAGE_SIZE, pte = pte ? pte + 1 : NULL) {
		if (!(page & (HPAGE_SIZE - 1)))
			pte = NULL;			     /* a new page table */
		const char *src_page = src - (vaddr - page); /* file bytes for the whole page */
		if (!(prot & VMA_WRITE) && page + PAGE_SIZE <= end &&
		    ((uint64_t)src_page & (PAGE_SIZE - 1)) == 0 && !vm_lookup(mm, page)) {
			if (vm_map_borrowed_4k(mm, page, kva_to_phys(src_page), prot))
				return -ENOMEM;
			continue;
		}
		/* A page shared with the previous segment keeps its bytes (copied if borrowed).
		   Only the first can be: elf_load refused overlapping segments. */
		uint64_t old = page == first ? vm_lookup(mm, page) : 0, pa = old & PTE_ADDR;
		if (!old || (old & PTE_NOFREE)) {
			if (!(pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO)))
				return -ENOMEM;
			if (old)
				memcpy(phys_to_virt(pa), phys_to_virt(old & PTE_ADDR), PAGE_SIZE);
		}
		uint64_t s = page > vaddr ? page : vaddr;
		uint64_t e = page + PAGE_SIZE < end ? page + PAGE_SIZE : end;
		/* In ring 3 before the image starts (ucopy.c): ~0.8 ms per page here. */
		if (!ucopy_defer(pa, s - page, src + (s - vaddr), e - s))
			memcpy((char *)phys_to_virt(pa) + (s - page), src + (s - vaddr), e - s);
		/* One table walk per page table, not per page (~30 emulated instructions). */
		if (pte && !old) {
			*pte = pa | vm_leaf_flags(prot);
			continue;
		}
		if (vm_map_4k(mm, page, pa, prot))
			return -ENOMEM;
		pte = vm_entry(mm, page, 12, false);
	}
	return 0;
}

int elf_load(struct mm *mm, const void *img, uint64_t size, struct elf_info *info)
{
	const struct elf64_ehdr *eh = img;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, "\177ELF\2\1", 6))
		return bad("not a little-endian ELF64 file");
	if (eh->e_machine != EM_X86_64 || (eh->e_type != ET_EXEC && eh->e_type != ET_DYN))
		return bad("not an x86-64 executable (ET_EXEC or ET_DYN)");
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
	    eh->e_phoff > size ||
	    size - eh->e_phoff < (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr))
		return bad("bad program header table");
	const struct elf64_phdr *ph = (const void *)((const char *)img + eh->e_phoff);

	uint64_t lo = ~0ULL, bias = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			return bad("dynamically linked (PT_INTERP); dmtvm runs static binaries");
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < lo)
			lo = ph[i].p_vaddr;
	}
	if (lo == ~0ULL)
		return bad("no PT_LOAD segment");
	if (eh->e_type == ET_DYN)
		bias = ELF_PIE_BASE - (lo & PAGE_MASK);

	memset(info, 0, sizeof(*info));
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *p = &ph[i];
		if (p->p_type == PT_PHDR)
			info->phdr = p->p_vaddr + bias;
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t va = p->p_vaddr + bias, end = va + p->p_memsz;
		if (p->p_filesz > p->p_memsz || p->p_offset > size ||
		    size - p->p_offset < p->p_filesz || end < va || end > ELF_LOAD_TOP ||
		    va < PAGE_SIZE)
			return bad("PT_LOAD segment outside the file or the user address range");
		uint32_t prot = seg_prot(p->p_flags);
		uint64_t vs = va & PAGE_MASK, ve = ALIGN_UP(end, PAGE_SIZE);
		struct vma *shared = vma_find(&mm->vmas, vs);
		if (shared) {
			/* First page shared with the previous segment: it gets both protections. */
			if (shared->end != vs + PAGE_SIZE)
				return bad("overlapping PT_LOAD segments");
			shared->prot |= prot;
			prot |= shared->prot;
			vs += PAGE_SIZE;
		}
		/* Pages holding file bytes are the image; the bss beyond is plain anonymous
		   memory (demand-zero, 2 MiB pages possible), as Linux maps it. */
		uint64_t fe = ALIGN_UP(va + p->p_filesz, PAGE_SIZE);
		if (fe < vs)
			fe = vs;
		if ((fe > vs && vma_insert(&mm->vmas, vs, fe, prot, VMA_IMAGE)) ||
		    (ve > fe && vma_insert(&mm->vmas, fe, ve, prot, VMA_ANON)))
			return bad("overlapping PT_LOAD segments");
		int r = populate(mm, va, (const char *)img + p->p_offset, p->p_filesz, prot);
		if (r)
			return r;
		if (!info->phdr && p->p_offset <= eh->e_phoff &&
		    eh->e_phoff + eh->e_phnum * sizeof(*ph) <= p->p_offset + p->p_filesz)
			info->phdr = va + (eh->e_phoff - p->p_offset);
		if (ve > info->load_end)
			info->load_end = ve;
	}
	info->entry = eh->e_entry + bias;
	info->phent = sizeof(*ph);
	info->phnum = eh->e_phnum;
	return 0;
}
