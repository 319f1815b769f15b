/* SPDX-License-Identifier: MIT */
/*
 * tea.c: creating, registering and releasing TEAs (tea.h has the layout).
 *
 * Lazily, at the first page-table-page allocation in a qualifying VMA
 * (anonymous, >= tea_min, fewer than tea_max TEAs in the mm), as the
 * artifact does. The TEA spans the VMA rounded out to 2 MiB; page-table
 * pages already present in that span (an edge block shared with a
 * neighbour, or tables left by an earlier mapping) are copied into their
 * slots, so the invariant holds for every slot from the start.
 * Growth and merging: a page-table allocation in a qualifying VMA outside
 * every TEA, whose span overlaps TEAs (the VMA grew, or merged with a
 * neighbouring mapping, as adjacent mmaps do), replaces those TEAs by one
 * for the union: all page tables move into the new area (the artifact's
 * "migrate" path; it first tries the physically adjacent frames, which we
 * skip). Fallbacks (counted in tea_stats): no register left, no contiguous
 * run of fresh frames, ALLOC_TEA refused; the PTE page is then an ordinary
 * one. After any change of an mm's TEA set the whole register set goes to
 * the VMM (DMT_REGS).
 * Not done: shrinking or freeing a TEA before exec/exit (munmap keeps it:
 * its page tables stay for a later mapping), and PMD-level (2 MiB page)
 * TEAs: with THP, big anonymous VMAs are mapped by PMD leaves and get no TEA.
 */
#include "tea.h"
#include "console.h"
#include "hypercall.h"
#include "pmm.h"
#include "vm.h"

uint64_t tea_min_bytes = 64ULL << 20;
unsigned tea_max = 16;
bool tea_enabled = true;
bool tea_pvdmt;
struct tea_stats tea_stats;

#define TEA_ASID 1 /* the one process's pid, as TRACE_FLUSH's asid */

static bool pv_missing; /* ALLOC_TEA answered -ENOSYS: plain DMT from now on */
static uint64_t next_id = 1;
static struct dmtvm_dmt_reg regs[DMTVM_DMT_REGS_MAX];

static void send_regs(struct mm *mm)
{
	struct dmtvm_hc_dmt_regs hc = {
	    .cr3 = mm->pml4_pa, .asid = TEA_ASID, .count = mm->teas.n, .regs_gpa = kva_to_phys(regs)};
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		regs[i] = (struct dmtvm_dmt_reg){.base = t->base,
						 .limit = t->limit,
						 .tea_gpa = t->pa,
						 .page_shift = 12,
						 .flags = t->flags};
	}
	hypercall(DMTVM_HC_DMT_REGS, &hc); /* -ENOSYS: a VMM without DMT; nothing to do */
}

/* pvDMT: make [pa, + npages) host-contiguous; false if refused for a reason other than ENOSYS. */
static bool alloc_tea_hc(struct tea *t, bool is_free)
{
	struct dmtvm_hc_alloc_tea hc = {.id = t->id,
					.gpa = t->pa,
					.pgcnt = t->npages,
					.mode = DMTVM_TEA_MODE(0, is_free, 0)};
	if (!tea_pvdmt || pv_missing)
		return true;
	int64_t r = hypercall(DMTVM_HC_ALLOC_TEA, &hc);
	if (r == -DMTVM_ENOSYS) {
		pv_missing = true;
		kprintf("dmtvm: ALLOC_TEA unsupported by the VMM: TEAs stay plain DMT\n");
		return true;
	}
	if (r < 0)
		return false;
	if (!is_free) {
		t->flags |= DMTVM_DMT_REG_PV;
		tea_stats.pv_granted++;
	}
	return true;
}

/* Copy the page-table pages already under the TEA's span into their slots. */
static void migrate_existing(struct mm *mm, struct tea *t)
{
	bool moved = false;
	for (uint64_t va = t->base; va < t->limit; va += HPAGE_SIZE) {
		uint64_t *pde = vm_pd_entry(mm, va, false);
		if (!pde || !(*pde & PTE_P) || (*pde & PTE_PS))
			continue;
		uint64_t old = *pde & PTE_ADDR, slot = t->pa + ((va - t->base) >> 21) * PAGE_SIZE;
		memcpy(phys_to_virt(slot), phys_to_virt(old), PAGE_SIZE);
		*pde = slot | (*pde & ~PTE_ADDR);
		pmm_free(old, PMM_ORDER_4K);
		tea_stats.migrated++;
		moved = true;
	}
	if (moved) {
		write_cr3(read_cr3()); /* drop paging-structure caches holding the old pages */
		vm_pt_update(mm, t->base, t->limit - t->base);
	}
}

/* Free the slots of t that no PDE uses (used ones are freed when migrated), return pvDMT. */
static void tea_retire(struct mm *mm, struct tea *t)
{
	for (uint32_t i = 0; i < t->npages; i++) {
		uint64_t slot = t->pa + i * PAGE_SIZE;
		uint64_t *pde = vm_pd_entry(mm, t->base + i * HPAGE_SIZE, false);
		if (!pde || (*pde & (PTE_P | PTE_PS)) != PTE_P || (*pde & PTE_ADDR) != slot)
			pmm_free(slot, PMM_ORDER_4K);
	}
	if (t->flags & DMTVM_DMT_REG_PV)
		alloc_tea_hc(t, true);
}

/*
 * A TEA for the span [base, limit). TEAs overlapping it (the VMA grew or
 * merged with a neighbour since they were made) are replaced: their page
 * tables move into the new TEA with everything else found in the span.
 */
static struct tea *tea_create(struct mm *mm, uint64_t base, uint64_t limit)
{
	struct tea nt = {0}, *t;
	unsigned overlapped = 0;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		t = &mm->teas.t[i];
		if (base < t->limit && limit > t->base) {
			overlapped++;
			if (t->base < base)
				base = t->base;
			if (t->limit > limit)
				limit = t->limit;
		}
	}
	if (mm->teas.n - overlapped >= tea_max) {
		tea_stats.fallback_regs++;
		return NULL;
	}
	nt.base = base;
	nt.limit = limit;
	nt.npages = (uint32_t)((limit - base) >> 21);
	nt.id = next_id++;
	/* Fresh frames read as zero (dmtvm_abi.h), so the slots need no clearing. */
	nt.pa = pmm_alloc_contig(nt.npages);
	if (!nt.pa) {
		tea_stats.fallback_memory++;
		return NULL;
	}
	if (!alloc_tea_hc(&nt, false)) {
		tea_stats.fallback_pv++;
		for (uint32_t i = 0; i < nt.npages; i++)
			pmm_free(nt.pa + i * PAGE_SIZE, PMM_ORDER_4K);
		return NULL;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		t = &mm->teas.t[i];
		if (base < t->limit && limit > t->base)
			tea_retire(mm, t);
		else
			mm->teas.t[n++] = *t;
	}
	t = &mm->teas.t[n];
	*t = nt;
	mm->teas.n = n + 1;
	tea_stats.created++;
	tea_stats.replaced += overlapped;
	migrate_existing(mm, t);
	send_regs(mm);
	return t;
}

uint64_t tea_pt_page(struct mm *mm, uint64_t va)
{
	struct tea *t = NULL;
	for (unsigned i = 0; i < mm->teas.n; i++)
		if (va >= mm->teas.t[i].base && va < mm->teas.t[i].limit)
			t = &mm->teas.t[i];
	if (!t) {
		struct vma *v = vma_find(&mm->vmas, va);
		if (!tea_enabled || !v || v->flags != VMA_ANON || v->end - v->start < tea_min_bytes)
			return 0;
		t = tea_create(mm, ALIGN_DOWN(v->start, HPAGE_SIZE), ALIGN_UP(v->end, HPAGE_SIZE));
		if (!t)
			return 0;
	}
	tea_stats.pt_pages++;
	return t->pa + ((va - t->base) >> 21) * PAGE_SIZE;
}

bool tea_owns(const struct mm *mm, uint64_t pa)
{
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		if (pa >= t->pa && pa < t->pa + (uint64_t)t->npages * PAGE_SIZE)
			return true;
	}
	return false;
}

void tea_release_all(struct mm *mm)
{
	if (!mm->teas.n)
		return;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		struct tea *t = &mm->teas.t[i];
		if (t->flags & DMTVM_DMT_REG_PV)
			alloc_tea_hc(t, true);
		for (uint32_t p = 0; p < t->npages; p++)
			pmm_free(t->pa + p * PAGE_SIZE, PMM_ORDER_4K);
	}
	mm->teas.n = 0;
	send_regs(mm);
}

/* 1 if va is mapped by a 4 KiB PTE at its TEA address, 0 if elsewhere, -1 if not such a page. */
static int check_one(struct mm *mm, const struct tea *t, uint64_t va, uint64_t *leaves_2m)
{
	uint64_t *pde = vm_pd_entry(mm, va, false);
	if (!pde || !(*pde & PTE_P))
		return -1;
	if (*pde & PTE_PS) {
		(*leaves_2m)++;
		return -1;
	}
	uint64_t pte_pa = (*pde & PTE_ADDR) + ((va >> 12) & 511) * 8;
	if (!(*(uint64_t *)phys_to_virt(pte_pa) & PTE_P))
		return -1;
	return pte_pa == t->pa + ((va - t->base) >> 12) * 8;
}

void tea_check(struct mm *mm)
{
	uint64_t tables = 0, checked = 0, bad = 0, leaves_2m = 0;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		/* Every slot: a page table under the block's PDE must be that slot. */
		for (uint64_t va = t->base; va < t->limit; va += HPAGE_SIZE) {
			uint64_t *pde = vm_pd_entry(mm, va, false);
			if (!pde || (*pde & (PTE_P | PTE_PS)) != PTE_P)
				continue;
			tables++;
			bad += (*pde & PTE_ADDR) != t->pa + ((va - t->base) >> 21) * PAGE_SIZE;
		}
		/* 256 pages spread over the span (odd page offsets), plus its last page. */
		uint64_t step = ALIGN_DOWN((t->limit - t->base) / 256, PAGE_SIZE) + PAGE_SIZE;
		for (uint64_t va = t->base;; va += step) {
			if (va >= t->limit)
				va = t->limit - PAGE_SIZE;
			int r = check_one(mm, t, va, &leaves_2m);
			checked += r >= 0;
			bad += r == 0;
			if (va == t->limit - PAGE_SIZE)
				break;
		}
	}
	kprintf("dmtvm: tea check: %u TEAs, %lu page tables and %lu pages checked, %lu bad, "
		"%lu in 2 MiB pages\n",
		mm->teas.n, tables, checked, bad, leaves_2m);
	kprintf("dmtvm: tea counters: created %lu, replaced %lu, pt pages %lu, migrated %lu, "
		"fallbacks regs %lu memory %lu pv %lu, pv granted %lu\n",
		tea_stats.created, tea_stats.replaced, tea_stats.pt_pages, tea_stats.migrated,
		tea_stats.fallback_regs, tea_stats.fallback_memory, tea_stats.fallback_pv,
		tea_stats.pv_granted);
}
