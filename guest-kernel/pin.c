/* SPDX-License-Identifier: MIT */
/*
 * pin.c: pinning for the paravirtual /dev/kvm, as get_user_pages plus a
 * contiguity guarantee: L0 maps an L1 dmtvm's guest RAM as ONE range of L1
 * gPAs, and L1 dmtvm's EPT12 holds those gPAs, so the range moves onto one
 * run of contiguous frames and stays there.
 *
 * The run comes from pmm_alloc_contig (fresh RAM or one buddy block, the
 * block's tail freed); with THP it is 2 MiB-congruent with the VA (511
 * extra frames, head and tail freed) so whole 2 MiB blocks map as 2 MiB
 * pages, exactly as demand paging would map them. Present pages are copied
 * into the run and their frames freed (vm_unmap), then the range is mapped
 * through the usual table allocation, so a TEA of the VMA keeps holding its
 * tables (pinned VMAs qualify for TEAs like any anonymous VMA) and the DMT
 * registers stay exact. The pinned range becomes its own VMA
 * (VMA_ANON | VMA_PINNED; vma.c never merges it): mprotect may split it,
 * but every piece is still contiguous, munmap of part of it is refused and
 * munmap of all of it waits for the VM's DMTVM_KVM_CLOSE (kvmdev.c).
 */
#include "pin.h"
#include "kvmdev.h"
#include "pmm.h"

/* Copy the present pages of [start, end) to the run (run_pa = gPA of start). */
static void copy_present(struct mm *mm, uint64_t start, uint64_t end, uint64_t run_pa)
{
	uint64_t *pd = NULL, region = ~0ULL; /* one walk per 1 GiB, not per 2 MiB block */
	for (uint64_t a = start, next; a < end; a = next) {
		next = (a & HPAGE_MASK) + HPAGE_SIZE;
		if (next > end)
			next = end;
		if (a >> 30 != region) {
			uint64_t *e = vm_pd_entry(mm, a, false);
			pd = e ? e - ((a >> 21) & 511) : NULL;
			region = a >> 30;
		}
		uint64_t *pde = pd ? &pd[(a >> 21) & 511] : NULL;
		if (!pde || !(*pde & PTE_P))
			continue;
		if (*pde & PTE_PS) {
			memcpy(phys_to_virt(run_pa + (a - start)),
			       phys_to_virt((*pde & PTE_ADDR2) + (a & ~HPAGE_MASK)), next - a);
			continue;
		}
		const uint64_t *pt = phys_to_virt(*pde & PTE_ADDR);
		unsigned first = (a >> 12) & 511, stop = first + (unsigned)((next - a) >> 12);
		for (unsigned i = vm_next_used(pt, first); i < stop; i = vm_next_used(pt, i + 1)) {
			if (!(pt[i] & PTE_P))
				continue;
			uint64_t va = (a & HPAGE_MASK) + ((uint64_t)i << 12);
			memcpy(phys_to_virt(run_pa + (va - start)), phys_to_virt(pt[i] & PTE_ADDR),
			       PAGE_SIZE);
		}
	}
}

/* Map [a, next) (inside one 2 MiB block) onto the frames at pa. 0 / -ENOMEM. */
static int map_block(struct mm *mm, const struct vma *v, uint64_t a, uint64_t next, uint64_t pa)
{
	uint64_t flags = vm_leaf_flags(v->prot);
	bool whole = !(a & ~HPAGE_MASK) && next - a == HPAGE_SIZE;
	if (vm_thp && whole && tea_enabled)
		tea_thp_fault(mm, v, a); /* as demand paging: the PD page may become a TEA slot */
	uint64_t *pde = vm_pd_entry(mm, a, true);
	if (!pde)
		return -ENOMEM;
	if (vm_thp && whole && (*pde & PTE_P) && !(*pde & PTE_PS) &&
	    !tea_owns(mm, *pde & PTE_ADDR)) {
		pmm_free(*pde & PTE_ADDR, PMM_ORDER_4K); /* emptied by vm_unmap */
		*pde = 0;
	}
	if (vm_thp && whole && !(*pde & PTE_P)) {
		*pde = pa | flags | PTE_PS;
		return 0;
	}
	if (!(*pde & PTE_P)) {
		uint64_t pt_pa = tea_table_page(mm, a, 12);
		if (!pt_pa && !(pt_pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO)))
			return -ENOMEM;
		pde = vm_pd_entry(mm, a, false); /* a new TEA may have moved the PD */
		*pde = pt_pa | PTE_P | PTE_W | PTE_U;
	}
	uint64_t *pt = phys_to_virt(*pde & PTE_ADDR);
	if (whole) {
		pt_fill_block(pt, pa | flags);
		return 0;
	}
	for (uint64_t va = a; va < next; va += PAGE_SIZE, pa += PAGE_SIZE)
		pt[(va >> 12) & 511] = pa | flags;
	return 0;
}

long pin_range(struct mm *mm, uint64_t uaddr, uint64_t len, uint64_t *gpa)
{
	uint64_t end = uaddr + len;
	if (!len || ((uaddr | len) & ~PAGE_MASK) || len > PIN_MAX)
		return -EINVAL;
	if (!user_range_ok(uaddr, len))
		return -EFAULT;
	struct vma *v = vma_find(&mm->vmas, uaddr);
	if (!v || end > v->end || !v->prot)
		return -EFAULT;
	if (v->flags == (VMA_ANON | VMA_PINNED)) {
		*gpa = vm_translate(mm, uaddr); /* pinned already: one run per VMA */
		return 0;
	}
	if (v->flags != VMA_ANON)
		return -EINVAL; /* heap, stack, image, run area: not ours to move */
	if (mm->vmas.n + 2 > VMA_MAX)
		return -ENOMEM; /* the split below must not fail half way */
	uint32_t prot = v->prot;

	/* With THP, a run congruent to the VA modulo 2 MiB: whole blocks map as 2 MiB pages. */
	bool align = vm_thp && ALIGN_UP(uaddr, HPAGE_SIZE) + HPAGE_SIZE <= end;
	uint64_t npages = len >> 12, extra = align ? 511 : 0;
	uint64_t run = pmm_alloc_contig(npages + extra);
	if (!run)
		return -ENOMEM;
	uint64_t pa = align ? run + ((uaddr - run) & ~HPAGE_MASK) : run;
	if (pa > run)
		pmm_free_run(run, (pa - run) >> 12);
	if (run + (npages + extra) * PAGE_SIZE > pa + len)
		pmm_free_run(pa + len, (run + (npages + extra) * PAGE_SIZE - pa - len) >> 12);

	vma_remove(&mm->vmas, uaddr, end);
	vma_insert(&mm->vmas, uaddr, end, prot, VMA_ANON | VMA_PINNED);
	v = vma_find(&mm->vmas, uaddr);
	copy_present(mm, uaddr, end, pa);
	vm_unmap(mm, uaddr, end); /* frees the old frames; tables stay */
	for (uint64_t a = uaddr, next; a < end; a = next) {
		next = (a & HPAGE_MASK) + HPAGE_SIZE;
		if (next > end)
			next = end;
		if (map_block(mm, v, a, next, pa + (a - uaddr))) {
			/* Out of table frames: undo (the range reads as zero again). */
			vm_unmap(mm, uaddr, a);
			pmm_free_run(pa + (a - uaddr), (end - a) >> 12);
			vma_remove(&mm->vmas, uaddr, end);
			vma_insert(&mm->vmas, uaddr, end, prot, VMA_ANON);
			return -ENOMEM;
		}
	}
	write_cr3(read_cr3()); /* a table may have given way to a 2 MiB page */
	vm_pt_update(mm, uaddr, len);
	*gpa = pa;
	return 0;
}

bool pin_contains(struct mm *mm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (!(v->flags & VMA_PINNED))
			continue;
		uint64_t base = vm_translate(mm, v->start), size = v->end - v->start;
		if (gpa >= base && gpa - base <= size && len <= size - (gpa - base))
			return true;
	}
	return false;
}

long pin_check_unmap(struct mm *mm, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < mm->vmas.n; i++) {
		const struct vma *v = &mm->vmas.v[i];
		if (v->start >= end)
			break;
		if (v->end <= start || !(v->flags & VMA_PINNED))
			continue;
		if (v->start < start || v->end > end)
			return -EINVAL; /* a pinned range goes whole or not at all */
		if (kvmdev_vm_live())
			return -EBUSY; /* L0 may still map these frames for L2 */
	}
	return 0;
}
