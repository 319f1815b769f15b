/* SPDX-License-Identifier: MIT */
/*
 * vm.h: a process's address space (struct mm): its x86-64 4-level page
 * tables and VMAs, demand paging and unmapping (vm.c).
 */
#ifndef VM_H
#define VM_H

#include "tea.h"
#include "vma.h"

#define PTE_P	   0x1ULL
#define PTE_W	   0x2ULL
#define PTE_U	   0x4ULL
#define PTE_A	   0x20ULL
#define PTE_D	   0x40ULL
#define PTE_PS	   0x80ULL
#define PTE_NX	   (1ULL << 63)
#define PTE_NOFREE 0x200ULL /* software bit: frame not owned by the mm (an initramfs page) */
#define PTE_ADDR   0x000ffffffffff000ULL
#define PTE_ADDR2  0x000fffffffe00000ULL

/* #PF error code bits. */
#define PF_PROT	 0x1
#define PF_WRITE 0x2
#define PF_USER	 0x4
#define PF_FETCH 0x10

struct mm {
	uint64_t pml4_pa;
	uint64_t brk_start, brk; /* heap: VMA [brk_start, ALIGN_UP(brk)) */
	uint64_t mmap_top;	 /* mmap without a hint searches below this */
	struct vma_list vmas;
	struct tea_set teas; /* DMT TEAs (tea.c) */
};

/* 2 MiB pages for anonymous memory (dmtvm.thp=off: 4 KiB pages only). */
extern bool vm_thp;

/* Remember the boot PML4 (its kernel slots, >= USER_PML4_SLOTS, are shared by every mm). */
void vm_init(void);
/* New address space: empty user slots, the boot kernel slots. 0 / -ENOMEM. */
int vm_mm_init(struct mm *mm);
void vm_activate(const struct mm *mm);
/* Map one 4 KiB frame at va with VMA protection prot. 0 / -ENOMEM. */
int vm_map_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot);
/* A writable frame the mm shares with the kernel (a KVM run area): never freed by vm_unmap. */
int vm_map_shared_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot);
/* The same for a frame the mm only borrows (never freed by vm_unmap, never written). */
int vm_map_borrowed_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot);
/* Flags of a present user leaf with VMA protection prot (A set; D when writable). */
uint64_t vm_leaf_flags(uint32_t prot);
/* Index of the first non-zero entry of t[i, 512), or 512 (one `repe scasq`). */
unsigned vm_next_used(const uint64_t *t, unsigned i);
/* ptfill.S: pt[k] = first + k * 4 KiB for k < 512. */
void pt_fill_block(uint64_t *pt, uint64_t first);
/* The leaf PTE mapping va (4 KiB or a 2 MiB leaf), or 0 if none. */
uint64_t vm_lookup(struct mm *mm, uint64_t va);
/* The frame mapped at va (4 KiB or inside a 2 MiB page), or 0. */
uint64_t vm_translate(struct mm *mm, uint64_t va);
/*
 * Demand paging: map the faulting page (and its neighbours, see vm.c) if a
 * VMA allows the access. 0, -EFAULT (no VMA or not allowed), -ENOMEM.
 */
int vm_fault(struct mm *mm, uint64_t va, uint64_t err);
/* Fault counters and TSC time, kept under dmtvm.verbose (printed at exit). */
struct vm_stats {
	uint64_t faults, fault_tsc, fills, fill_tsc;
};
extern struct vm_stats vm_stats;
void vm_report_stats(void);
/* Unmap [start, end) (page aligned), free its frames, flush the TLB, tell the VMM. */
void vm_unmap(struct mm *mm, uint64_t start, uint64_t end);
/*
 * The entry of level `level` (39 PML4E, 30 PDPTE, 21 PDE, 12 PTE) covering
 * va, allocating the tables above it if alloc (PD pages come from a
 * PMD-level TEA when va has one), or NULL.
 */
uint64_t *vm_entry(struct mm *mm, uint64_t va, int level, bool alloc);
/* The PDE covering va (allocating upper tables if alloc), or NULL. */
uint64_t *vm_pd_entry(struct mm *mm, uint64_t va, bool alloc);
/*
 * mprotect: give the leaves of [start, end) (page aligned) the protection
 * prot (a 2 MiB leaf partly inside is split first). A borrowed initramfs
 * page made writable gets a private copy. Flushes and tells the VMM.
 * 0 / -ENOMEM.
 */
int vm_protect(struct mm *mm, uint64_t start, uint64_t end, uint32_t prot);
/*
 * mremap: move the leaves of [src, src + len) to [dst, dst + len) (page
 * aligned, dst unmapped and inside a VMA already): the same frames and
 * flags; whole page-table pages and 2 MiB leaves move as one entry when
 * both sides are 2 MiB aligned. Flushes and tells the VMM. 0 / -ENOMEM.
 */
int vm_move(struct mm *mm, uint64_t src, uint64_t dst, uint64_t len);
/* PT_UPDATE hypercall: entries mapping [va, va + len) changed (len 0: all of mm). */
void vm_pt_update(struct mm *mm, uint64_t va, uint64_t len);
/* Free every frame and table of mm's user slots, its TEAs and its PML4 (mm not active). */
void vm_mm_destroy(struct mm *mm);

#endif /* VM_H */
