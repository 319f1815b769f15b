/* SPDX-License-Identifier: MIT */
/*
 * mman.c: the memory system calls past mmap/munmap/brk (syscall.c):
 * mprotect, madvise and mremap, with Linux's argument checks and error
 * codes, enough for musl's malloc (realloc of a big block is an mremap
 * with MREMAP_MAYMOVE; free may madvise(MADV_FREE/MADV_DONTNEED)).
 * VMAs change first (vma.c), then the page tables (vm.c), which keep the
 * DMT TEA invariant: tables of a TEA's VA range live in its slots.
 */
#include "mman.h"
#include "pin.h"
#include "proc.h"

#define PROT_MASK	 7 /* PROT_READ | PROT_WRITE | PROT_EXEC */
#define MADV_NORMAL	 0
#define MADV_RANDOM	 1
#define MADV_SEQUENTIAL	 2
#define MADV_WILLNEED	 3
#define MADV_DONTNEED	 4
#define MADV_FREE	 8
#define MADV_DONTFORK	 10
#define MADV_DODUMP	 17
#define MREMAP_MAYMOVE	 1
#define MREMAP_FIXED	 2
#define MREMAP_DONTUNMAP 4

long mman_sys_mprotect(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t start = a->a0, len = ALIGN_UP(a->a1, PAGE_SIZE);
	uint32_t prot = (uint32_t)a->a2;
	if ((start & ~PAGE_MASK) || (a->a2 & ~(uint64_t)PROT_MASK) || (a->a1 && !len))
		return -EINVAL;
	if (!len)
		return 0;
	if (!user_range_ok(start, len))
		return -ENOMEM;
	for (unsigned i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->start < start + len && v->end > start && (v->flags & VMA_KVMRUN))
			return -EACCES; /* its frames are the kernel's: never copied on write */
	}
	int r = vma_protect(&mm->vmas, start, start + len, prot);
	if (r)
		return r;
	return vm_protect(mm, start, start + len, prot);
}

long mman_sys_madvise(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t start = a->a0, len = ALIGN_UP(a->a1, PAGE_SIZE), end = start + len;
	uint64_t advice = a->a2;
	if ((start & ~PAGE_MASK) || (a->a1 && !len) || !user_range_ok(start, len))
		return -EINVAL;
	if (advice != MADV_DONTNEED && advice != MADV_FREE)
		return (advice <= MADV_WILLNEED ||
			(advice >= MADV_DONTFORK && advice <= MADV_DODUMP))
			   ? 0 /* hints: nothing to do */
			   : -EINVAL;
	/*
	 * DONTNEED (and FREE, which may behave the same): drop the frames; the
	 * next touch demand-zeroes. Image VMAs are skipped: their file part
	 * cannot be read again here; so are pinned memory and run areas.
	 */
	bool hole = false;
	uint64_t at = start;
	for (unsigned i = 0; i < mm->vmas.n && at < end; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->end <= at)
			continue;
		if (v->start >= end)
			break;
		hole |= v->start > at;
		uint64_t s = v->start > at ? v->start : at, e = v->end < end ? v->end : end;
		if (!(v->flags & (VMA_IMAGE | VMA_KVMRUN | VMA_PINNED)))
			vm_unmap(mm, s, e); /* pinned frames and run areas stay */
		at = e;
	}
	return hole || at < end ? -ENOMEM : 0; /* Linux: done where mapped, ENOMEM for holes */
}

/* Move [old, old + len) to dst (inside [dst, dst + new_len), free): VMA first, then leaves. */
static long move_area(struct mm *mm, const struct vma *v, uint64_t old, uint64_t len, uint64_t dst,
		      uint64_t new_len)
{
	uint32_t prot = v->prot, flags = v->flags;
	if (vma_insert(&mm->vmas, dst, dst + new_len, prot, flags))
		return -ENOMEM;
	/* THP: the PD page may exist already (no allocation would ask for a TEA). */
	if (vm_thp && tea_enabled)
		tea_thp_fault(mm, vma_find(&mm->vmas, dst), dst);
	int r = vm_move(mm, old, dst, len < new_len ? len : new_len);
	if (r) {
		/* Out of table frames half way: the moved part stays at dst; report it. */
		return r;
	}
	vma_remove(&mm->vmas, old, old + len);
	if (len > new_len)
		vm_unmap(mm, old + new_len, old + len);
	return (long)dst;
}

long mman_sys_mremap(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t old = a->a0, old_len = ALIGN_UP(a->a1, PAGE_SIZE);
	uint64_t new_len = ALIGN_UP(a->a2, PAGE_SIZE), flags = a->a3, new_addr = a->a4;
	if ((old & ~PAGE_MASK) || (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || !new_len || !old_len ||
	    (a->a1 && !old_len))
		return -EINVAL; /* MREMAP_DONTUNMAP and old_len 0 (shared copies) unsupported */
	if (!user_range_ok(old, old_len))
		return -EFAULT;
	struct vma *v = vma_find(&mm->vmas, old);
	if (!v || old + old_len > v->end)
		return -EFAULT;
	if (v->flags & (VMA_PINNED | VMA_KVMRUN))
		return -EINVAL; /* pinned frames and run areas do not move */

	if (flags & MREMAP_FIXED) {
		if ((new_addr & ~PAGE_MASK) || new_addr < PAGE_SIZE ||
		    !user_range_ok(new_addr, new_len) ||
		    (new_addr < old + old_len && old < new_addr + new_len))
			return -EINVAL;
		if (vma_overlaps(&mm->vmas, new_addr, new_addr + new_len)) {
			long pr = pin_check_unmap(mm, new_addr, new_addr + new_len);
			if (pr)
				return pr;
			if (vma_remove(&mm->vmas, new_addr, new_addr + new_len))
				return -ENOMEM;
			vm_unmap(mm, new_addr, new_addr + new_len);
			v = vma_find(&mm->vmas, old); /* the array may have shifted */
		}
		return move_area(mm, v, old, old_len, new_addr, new_len);
	}
	if (new_len <= old_len) {
		if (new_len < old_len) {
			if (vma_remove(&mm->vmas, old + new_len, old + old_len))
				return -ENOMEM;
			vm_unmap(mm, old + new_len, old + old_len);
		}
		return (long)old;
	}
	/* Grow in place when the area ends its VMA and the pages after it are free. */
	uint64_t grow = new_len - old_len;
	if (old + old_len == v->end && user_range_ok(old, new_len) &&
	    old + new_len <= USER_MMAP_TOP && !vma_overlaps(&mm->vmas, v->end, v->end + grow)) {
		uint32_t fl = v->flags & VMA_IMAGE ? VMA_ANON : v->flags;
		if (vma_insert(&mm->vmas, v->end, v->end + grow, v->prot, fl))
			return -ENOMEM;
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	/* Same offset inside a 2 MiB block as old, so tables and 2 MiB pages move whole. */
	uint64_t off = old & ~HPAGE_MASK;
	uint64_t gap = vma_find_gap(&mm->vmas, new_len + off, HPAGE_SIZE, 1ULL << 32, mm->mmap_top);
	if (!gap)
		return -ENOMEM;
	return move_area(mm, v, old, old_len, gap + off, new_len);
}
