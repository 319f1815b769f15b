/* SPDX-License-Identifier: MIT */
/*
 * tea.c: creating, registering and releasing TEAs (tea.h has the layout).
 *
 * Which level: with 4 KiB pages (dmtvm.thp=off) a TEA holds PT pages
 * (page_shift 12, slot = 2 MiB of VA); with THP the leaves of a big
 * anonymous VMA are PMD entries, so its TEA holds PD pages (page_shift 21,
 * slot = 1 GiB of VA): PMD entry address = pa + ((va - base) >> 21) * 8.
 *
 * When: lazily, at the first page-table allocation in a qualifying VMA
 * (anonymous, >= tea_min, fewer than tea_max TEAs in the mm), as the
 * artifact does; for a PMD-level TEA at the VMA's first fault, since its PD
 * page is usually shared with older mappings and exists already. The TEA
 * spans the VMA rounded out to whole slots; tables already present in that
 * span (an edge shared with a neighbour, tables left by an earlier mapping)
 * are copied into their slots, so the invariant holds for every slot from
 * the start.
 * Growth and merging: a qualifying VMA outside every TEA whose span
 * overlaps TEAs (the VMA grew, or merged with a neighbouring mapping, as
 * adjacent mmaps do) gets one TEA for the union that replaces them: all
 * their tables move into the new area (the artifact's "migrate" path).
 * Before that, a TEA whose VMA grew at the high end tries the artifact's
 * first choice: claim the physically adjacent frames after it and extend
 * in place (tea_extend).
 * Fallbacks (counted in tea_stats, per table page): no register left, no
 * contiguous run of fresh frames, ALLOC_TEA refused; the table is then an
 * ordinary page. After any change of an mm's TEA set the whole register
 * set goes to the VMM (DMT_REGS).
 * Not done: shrinking or freeing a TEA before exec/exit (munmap keeps it:
 * its tables stay for a later mapping); with THP, the 4 KiB-mapped edge
 * blocks of a VMA get ordinary PT pages (one register, one level per VMA).
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

/* VA bytes one slot (one table page) maps. */
static uint64_t slot_span(unsigned shift)
{
	return 1ULL << (shift + 9);
}

/* The entry pointing at the table of slot va (a PDE for shift 12, a PDPTE for 21), or NULL. */
static uint64_t *parent_entry(struct mm *mm, unsigned shift, uint64_t va)
{
	return vm_entry(mm, va, shift + 9, false);
}

static uint64_t slot_pa(const struct tea *t, uint64_t va)
{
	return t->pa + ((va - t->base) >> (t->shift + 9)) * PAGE_SIZE;
}

static void send_regs(struct mm *mm)
{
	struct dmtvm_hc_dmt_regs hc = {.cr3 = mm->pml4_pa,
				       .asid = TEA_ASID,
				       .count = mm->teas.n,
				       .regs_gpa = kva_to_phys(regs)};
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		regs[i] = (struct dmtvm_dmt_reg){.base = t->base,
						 .limit = t->limit,
						 .tea_gpa = t->pa,
						 .page_shift = t->shift,
						 .flags = t->flags};
	}
	int64_t r = hypercall(DMTVM_HC_DMT_REGS, &hc);
	tea_stats.regs_refused += r < 0 && r != -DMTVM_ENOSYS; /* ENOSYS: a VMM without DMT */
}

/* pvDMT: make [pa, + npages) host-contiguous; false if refused for a reason other than ENOSYS. */
static bool alloc_tea_hc(struct tea *t, bool is_free)
{
	struct dmtvm_hc_alloc_tea hc = {
	    .id = t->id, .gpa = t->pa, .pgcnt = t->npages, .mode = DMTVM_TEA_MODE(0, is_free, 0)};
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

/* Copy the tables already under the TEA's span from va `from` on into their slots. */
static void migrate_existing(struct mm *mm, struct tea *t, uint64_t from)
{
	bool moved = false;
	for (uint64_t va = from; va < t->limit; va += slot_span(t->shift)) {
		uint64_t *e = parent_entry(mm, t->shift, va);
		if (!e || (*e & (PTE_P | PTE_PS)) != PTE_P)
			continue;
		uint64_t old = *e & PTE_ADDR, slot = slot_pa(t, va);
		memcpy(phys_to_virt(slot), phys_to_virt(old), PAGE_SIZE);
		*e = slot | (*e & ~PTE_ADDR);
		pmm_free(old, PMM_ORDER_4K);
		tea_stats.migrated++;
		moved = true;
	}
	if (moved) {
		write_cr3(read_cr3()); /* drop paging-structure caches holding the old pages */
		vm_pt_update(mm, from, t->limit - from);
	}
}

/*
 * DMT.md: a TEA whose VMA grew past it first tries to grow into the
 * physically adjacent frames. Only at the high end: the TEA base and so
 * every slot index stay, no table moves (growth at the low end changes the
 * base slot and migrates). pvDMT: a DMT_REGS register with
 * DMTVM_DMT_REG_PV must lie inside ONE ALLOC_TEA range and ranges may not
 * overlap (vmm/README.md), so the old range is returned and the extended
 * one requested. False (nothing changed) if the frames or the range are
 * refused: the caller migrates.
 */
static bool tea_extend(struct mm *mm, struct tea *t, uint64_t limit)
{
	uint32_t npages = (uint32_t)((limit - t->base) / slot_span(t->shift));
	uint32_t add = npages - t->npages;
	uint64_t next = t->pa + (uint64_t)t->npages * PAGE_SIZE;
	if (!pmm_claim(next, add))
		return false;
	if (t->flags & DMTVM_DMT_REG_PV) {
		struct tea nt = *t;
		nt.npages = npages;
		nt.id = next_id++;
		alloc_tea_hc(t, true);
		if (!alloc_tea_hc(&nt, false)) {
			pmm_free_run(next, add);
			tea_stats.pv_granted--; /* the old range again: not a new grant */
			if (!alloc_tea_hc(t, false)) {
				t->flags &= ~(uint32_t)DMTVM_DMT_REG_PV;
				tea_stats.pv_granted++;
			}
			return false;
		}
		t->id = nt.id;
	}
	uint64_t old_limit = t->limit;
	t->limit = limit;
	t->npages = npages;
	tea_stats.grown_in_place++;
	migrate_existing(mm, t, old_limit); /* tables an earlier mapping left in the new span */
	send_regs(mm);
	return true;
}

/* Free the slots of t that no entry uses (used ones are freed when migrated), return pvDMT. */
static void tea_retire(struct mm *mm, struct tea *t)
{
	for (uint64_t va = t->base; va < t->limit; va += slot_span(t->shift)) {
		uint64_t *e = parent_entry(mm, t->shift, va), slot = slot_pa(t, va);
		if (!e || (*e & (PTE_P | PTE_PS)) != PTE_P || (*e & PTE_ADDR) != slot)
			pmm_free(slot, PMM_ORDER_4K);
	}
	if (t->flags & DMTVM_DMT_REG_PV)
		alloc_tea_hc(t, true);
}

/*
 * A TEA of level shift for the span [base, limit). TEAs overlapping it are
 * replaced: their tables move into the new TEA with everything else found
 * in the span.
 */
static struct tea *tea_create(struct mm *mm, unsigned shift, uint64_t base, uint64_t limit)
{
	struct tea nt = {.shift = shift}, *t;
	unsigned overlapped = 0;
	struct tea *grown = NULL;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		t = &mm->teas.t[i];
		if (base < t->limit && limit > t->base) {
			if (t->shift != shift)
				return NULL; /* never both levels over one range (dmtvm.thp is
						global) */
			overlapped++;
			grown = t;
			if (t->base < base)
				base = t->base;
			if (t->limit > limit)
				limit = t->limit;
		}
	}
	/* One TEA, same base, the span grew at the high end: try in place first. */
	if (overlapped == 1 && grown->base == base && limit > grown->limit &&
	    tea_extend(mm, grown, limit))
		return grown;
	if (mm->teas.n - overlapped >= tea_max) {
		tea_stats.fallback_regs++;
		return NULL;
	}
	nt.base = base;
	nt.limit = limit;
	nt.npages = (uint32_t)((limit - base) / slot_span(shift));
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
	tea_stats.grown_migrated += overlapped != 0;
	migrate_existing(mm, t, t->base);
	send_regs(mm);
	return t;
}

/* The TEA of level shift covering va, created if va's VMA qualifies; NULL if none. */
static struct tea *tea_for(struct mm *mm, uint64_t va, unsigned shift)
{
	for (unsigned i = 0; i < mm->teas.n; i++) {
		struct tea *t = &mm->teas.t[i];
		if (va >= t->base && va < t->limit)
			return t->shift == shift ? t : NULL;
	}
	struct vma *v = vma_find(&mm->vmas, va);
	if (!tea_enabled || !v || (v->flags & ~VMA_PINNED) != VMA_ANON ||
	    v->end - v->start < tea_min_bytes || shift != (vm_thp ? 21u : 12u))
		return NULL;
	uint64_t span = slot_span(shift);
	return tea_create(mm, shift, ALIGN_DOWN(v->start, span), ALIGN_UP(v->end, span));
}

uint64_t tea_table_page(struct mm *mm, uint64_t va, unsigned shift)
{
	struct tea *t = tea_for(mm, va, shift);
	if (!t)
		return 0;
	tea_stats.table_pages++;
	return slot_pa(t, va);
}

void tea_thp_fault(struct mm *mm, const struct vma *v, uint64_t va)
{
	if (v->end - v->start >= tea_min_bytes && (v->flags & ~VMA_PINNED) == VMA_ANON)
		tea_for(mm, va, 21);
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

/*
 * 1 if the leaf entry of va lies at its TEA address, 0 if elsewhere, -1 if
 * va has no such leaf (unmapped; or, in a PT-level TEA, a 2 MiB page).
 */
static int check_one(struct mm *mm, const struct tea *t, uint64_t va, uint64_t *leaves_2m)
{
	uint64_t *pde = vm_pd_entry(mm, va, false);
	if (!pde || !(*pde & PTE_P))
		return -1;
	if (t->shift == 21)
		return kva_to_phys(pde) == t->pa + ((va - t->base) >> 21) * 8;
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
	uint64_t tables = 0, checked = 0, bad = 0, leaves_2m = 0, tagged = 0;
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		/* Every slot: a table under the slot's parent entry must be that slot. */
		for (uint64_t va = t->base; va < t->limit; va += slot_span(t->shift)) {
			uint64_t *e = parent_entry(mm, t->shift, va);
			if (!e || (*e & (PTE_P | PTE_PS)) != PTE_P)
				continue;
			tables++;
			bad += (*e & PTE_ADDR) != slot_pa(t, va);
		}
		/* 256 pages spread over the span (odd page offsets), plus its last page. */
		uint64_t step = ALIGN_DOWN((t->limit - t->base) / 256, PAGE_SIZE) + PAGE_SIZE;
		for (uint64_t va = t->base;; va += step) {
			if (va >= t->limit)
				va = t->limit - PAGE_SIZE;
			int r = check_one(mm, t, va, &leaves_2m);
			checked += r >= 0;
			bad += r == 0;
			/* tests/guest/teamap check1g: the program tags each page with its VA. */
			uint64_t pa = vm_translate(mm, va);
			tagged += pa && *(uint64_t *)phys_to_virt(pa) == va;
			if (va == t->limit - PAGE_SIZE)
				break;
		}
	}
	kprintf("dmtvm: tea check: %u TEAs, %lu page tables and %lu pages checked, %lu bad, "
		"%lu in 2 MiB pages\n",
		mm->teas.n, tables, checked, bad, leaves_2m);
	kprintf("dmtvm: tea check: %lu sampled pages hold their own VA\n", tagged);
	kprintf("dmtvm: pmm: %lu contiguous runs and %lu 2 MiB blocks from freed memory, %lu "
		"KiB free\n",
		pmm_stats.runs_freed, pmm_stats.blocks_2m_freed, pmm_free_bytes() >> 10);
	kprintf("dmtvm: tea counters: created %lu, replaced %lu, table pages %lu, migrated %lu, "
		"fallbacks regs %lu memory %lu pv %lu, pv granted %lu\n",
		tea_stats.created, tea_stats.replaced, tea_stats.table_pages, tea_stats.migrated,
		tea_stats.fallback_regs, tea_stats.fallback_memory, tea_stats.fallback_pv,
		tea_stats.pv_granted);
	kprintf("dmtvm: tea growth: grown in place %lu, by migration %lu; DMT_REGS refused %lu\n",
		tea_stats.grown_in_place, tea_stats.grown_migrated, tea_stats.regs_refused);
	for (unsigned i = 0; i < mm->teas.n; i++) {
		const struct tea *t = &mm->teas.t[i];
		kprintf("dmtvm: tea %u: va [%lx, %lx) page_shift %u, %u pages at gpa %lx%s\n", i,
			t->base, t->limit, t->shift, t->npages, t->pa,
			t->flags & DMTVM_DMT_REG_PV ? " (pvDMT)" : "");
	}
}
