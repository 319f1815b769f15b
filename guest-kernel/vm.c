/* SPDX-License-Identifier: MIT */
/*
 * vm.c: page tables (x86-64, 4 levels, 4 KiB and 2 MiB leaves) and demand
 * paging.
 *
 * Every address space gets fresh user slots (PML4 [0, USER_PML4_SLOTS):
 * [0, USER_TOP)) and a copy of the boot PML4's kernel slots above them (the
 * VMM's direct map and kernel image; the VMM never touches tables once the
 * guest runs). Leaves carry the VMA's protection;
 * upper levels are P|W|U so that leaves alone decide.
 *
 * Demand paging is the hot ring-0 path here (~1-2 us per emulated
 * instruction), so a fault maps more than one page: a 2 MiB page when the
 * aligned 2 MiB block lies wholly inside an anonymous (non-image) VMA and no page
 * table exists for it yet, else up to FAULT_AROUND 4 KiB pages around the
 * fault, inside its VMA and its page-table page.
 */
#include "vm.h"
#include "console.h"
#include "hypercall.h"
#include "pmm.h"
#include "trace.h"

#define FAULT_AROUND (64 * 1024ULL)

static uint64_t boot_pml4_pa;
bool vm_thp = true;
static bool pt_update_missing; /* the VMM answered -ENOSYS: stop asking */

void vm_init(void)
{
	boot_pml4_pa = read_cr3() & PTE_ADDR;
}

int vm_mm_init(struct mm *mm)
{
	memset(mm, 0, sizeof(*mm));
	mm->pml4_pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO);
	if (!mm->pml4_pa)
		return -ENOMEM;
	uint64_t *pml4 = phys_to_virt(mm->pml4_pa);
	memcpy(pml4 + USER_PML4_SLOTS, (uint64_t *)phys_to_virt(boot_pml4_pa) + USER_PML4_SLOTS,
	       (512 - USER_PML4_SLOTS) * 8);
	return 0;
}

void vm_activate(const struct mm *mm)
{
	write_cr3(mm->pml4_pa);
}

/*
 * Leaves are created accessed, and dirty when writable: under shadow paging
 * (this machine's KVM) a clear A/D bit costs the host an extra fault per
 * 4 KiB page on first use, to emulate the bit update.
 */
uint64_t vm_leaf_flags(uint32_t prot)
{
	uint64_t f = PTE_P | PTE_U | PTE_A;
	if (prot & VMA_WRITE)
		f |= PTE_W | PTE_D;
	if (!(prot & VMA_EXEC))
		f |= PTE_NX;
	return f;
}

uint64_t *vm_entry(struct mm *mm, uint64_t va, int level, bool alloc)
{
	uint64_t *t = phys_to_virt(mm->pml4_pa);
	for (int shift = 39; shift > level; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			uint64_t pa = 0;
			if (!alloc)
				return NULL;
			if (shift == 30) /* the PD page: a slot of a PMD-level TEA? */
				pa = tea_table_page(mm, va, 21);
			if (!pa && !(pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO)))
				return NULL;
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return &t[(va >> level) & 511];
}

uint64_t *vm_pd_entry(struct mm *mm, uint64_t va, bool alloc)
{
	return vm_entry(mm, va, 21, alloc);
}

/* A page-table page for va's 2 MiB block: its TEA slot if it has one, else any frame. */
static uint64_t pt_page_alloc(struct mm *mm, uint64_t va, unsigned flags)
{
	uint64_t pa = tea_table_page(mm, va, 12);
	return pa ? pa : pmm_alloc(PMM_ORDER_4K, flags);
}

/* The page-table page under a PDE, allocated if absent; NULL for a 2 MiB leaf. */
static uint64_t *pt_of(struct mm *mm, uint64_t va, uint64_t *pde, bool alloc)
{
	if (!(*pde & PTE_P)) {
		uint64_t pa;
		if (!alloc || !(pa = pt_page_alloc(mm, va, PMM_ZERO)))
			return NULL;
		*pde = pa | PTE_P | PTE_W | PTE_U;
	}
	if (*pde & PTE_PS)
		return NULL;
	return phys_to_virt(*pde & PTE_ADDR);
}

static int map_4k(struct mm *mm, uint64_t va, uint64_t pte)
{
	uint64_t *pde = vm_pd_entry(mm, va, true);
	uint64_t *pt = pde ? pt_of(mm, va, pde, true) : NULL;
	if (!pt)
		return -ENOMEM;
	pt[(va >> 12) & 511] = pte;
	return 0;
}

int vm_map_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	return map_4k(mm, va, pa | vm_leaf_flags(prot));
}

int vm_map_borrowed_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	return map_4k(mm, va, pa | vm_leaf_flags(prot & ~VMA_WRITE) | PTE_NOFREE);
}

int vm_map_shared_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	return map_4k(mm, va, pa | vm_leaf_flags(prot) | PTE_NOFREE);
}

uint64_t vm_lookup(struct mm *mm, uint64_t va)
{
	uint64_t *pde = vm_pd_entry(mm, va, false);
	if (!pde || !(*pde & PTE_P))
		return 0;
	if (*pde & PTE_PS)
		return *pde;
	uint64_t pte = ((uint64_t *)phys_to_virt(*pde & PTE_ADDR))[(va >> 12) & 511];
	return pte & PTE_P ? pte : 0;
}

uint64_t vm_translate(struct mm *mm, uint64_t va)
{
	uint64_t e = vm_lookup(mm, va);
	if (!e)
		return 0;
	if (e & PTE_PS)
		return (e & PTE_ADDR2) + (va & ~HPAGE_MASK & PAGE_MASK);
	return e & PTE_ADDR;
}

/*
 * Index of the first non-zero entry of t[i, 512), or 512: one `repe scasq`
 * (a single emulated instruction) instead of a C loop over 512 entries,
 * most of them zero. Cleared entries are always written as 0.
 */
unsigned vm_next_used(const uint64_t *t, unsigned i)
{
	const uint64_t *p = t + i;
	uint64_t c = 512 - i;
	if (!c)
		return 512;
	__asm__ volatile("repe scasq" : "+D"(p), "+c"(c) : "a"(0ULL) : "memory", "cc");
	return p[-1] ? (unsigned)(p - t - 1) : 512;
}

/* True if t[0, n) are all zero: one `repe scasq`. */
static bool entries_zero(const uint64_t *t, uint64_t n)
{
	const uint64_t *p = t;
	uint64_t c = n;
	if (!n)
		return true;
	__asm__ volatile("repe scasq" : "+D"(p), "+c"(c) : "a"(0ULL) : "memory", "cc");
	return p[-1] == 0;
}

static int fault(struct mm *mm, uint64_t va, uint64_t err);

struct vm_stats vm_stats;

/* Demand paging, timed (TSC) under dmtvm.verbose: where the ring-0 time goes. */
int vm_fault(struct mm *mm, uint64_t va, uint64_t err)
{
	if (!kernel_verbose)
		return fault(mm, va, err);
	uint64_t t0 = rdtsc();
	int r = fault(mm, va, err);
	vm_stats.faults++;
	vm_stats.fault_tsc += rdtsc() - t0;
	return r;
}

void vm_report_stats(void)
{
	uint64_t khz = kernel_tsc_khz ? kernel_tsc_khz : 1;
	kprintf("dmtvm: %lu page faults, %lu us in the handler (whole-table fills: %lu, %lu us)\n",
		vm_stats.faults, vm_stats.fault_tsc * 1000 / khz, vm_stats.fills,
		vm_stats.fill_tsc * 1000 / khz);
}

static int fault(struct mm *mm, uint64_t va, uint64_t err)
{
	struct vma *v = vma_find(&mm->vmas, va);
	if (!v || !v->prot || ((err & PF_WRITE) && !(v->prot & VMA_WRITE)) ||
	    ((err & PF_FETCH) && !(v->prot & VMA_EXEC)))
		return -EFAULT;
	if ((v->flags & (VMA_KVMRUN | VMA_PINNED)) && !(err & PF_PROT))
		return -EFAULT; /* mapped whole by mmap / pin: a hole is a bug, not demand-zero */
	uint64_t flags = vm_leaf_flags(v->prot);
	if (vm_thp && tea_enabled)
		tea_thp_fault(mm, v, va);
	uint64_t *pde = vm_pd_entry(mm, va, true);
	if (!pde)
		return -ENOMEM;
	if (err & PF_PROT) {
		/* Present: allowed by the VMA, so only a stale TLB entry can explain it. */
		__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
		return 0;
	}

	uint64_t block = va & HPAGE_MASK;
	bool whole = !(v->flags & VMA_IMAGE) && v->start <= block && block + HPAGE_SIZE <= v->end;
	if (vm_thp && whole && !(*pde & PTE_P)) {
		uint64_t pa = pmm_alloc(PMM_ORDER_2M, PMM_ZERO);
		if (pa) {
			*pde = pa | flags | PTE_PS;
			return 0;
		}
	}
	uint64_t *pt = pt_of(mm, va, pde, true);
	if (!pt)
		return (*pde & PTE_PS) ? 0 : -ENOMEM;

	/*
	 * 4 KiB pages in a block that would take a 2 MiB page: map the whole
	 * block (the same memory a 2 MiB page would use; the stack excepted, to
	 * keep process start short), else a FAULT_AROUND window.
	 */
	uint64_t win = whole && !(v->flags & VMA_STACK) ? HPAGE_SIZE : FAULT_AROUND;
	uint64_t s = va & ~(win - 1), e = s + win;
	if (s < v->start)
		s = v->start;
	if (e > v->end)
		e = v->end;
	uint64_t *pte = &pt[(s >> 12) & 511], n = (e - s) >> 12, run;
	/*
	 * Usual case, an empty window: one run of fresh (zero) frames for all
	 * of it, one carve instead of n allocator calls (~4x fewer emulated
	 * instructions per page).
	 */
	if (entries_zero(pte, n) && (run = pmm_alloc_contig(n))) {
		if (n == 512) {
			uint64_t t0 = kernel_verbose ? rdtsc() : 0;
			pt_fill_block(pte, run | flags);
			if (kernel_verbose) {
				vm_stats.fills++;
				vm_stats.fill_tsc += rdtsc() - t0;
			}
			return 0;
		}
		for (uint64_t k = 0; k < n; k++, run += PAGE_SIZE)
			pte[k] = run | flags;
		return 0;
	}
	pte = &pt[(va >> 12) & 511];
	uint64_t pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO);
	if (!pa)
		return -ENOMEM;
	*pte = pa | flags;
	for (pte = &pt[(s >> 12) & 511]; s < e; s += PAGE_SIZE, pte++) {
		if (*pte)
			continue;
		if (!(pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO)))
			break;
		*pte = pa | flags;
	}
	return 0;
}

/*
 * Free the frames of the present, owned leaves pt[i, end): runs of
 * consecutive frames (what fault-around maps) go back as a few buddy
 * blocks instead of one call per page. Entries are left as they are.
 */
static void free_leaves(const uint64_t *pt, unsigned i, unsigned end)
{
	uint64_t run = 0, n = 0;
	for (i = vm_next_used(pt, i); i < end; i = vm_next_used(pt, i + 1)) {
		uint64_t e = pt[i];
		if (!(e & PTE_P) || (e & PTE_NOFREE))
			continue;
		if (n && (e & PTE_ADDR) == run + n * PAGE_SIZE) {
			n++;
			continue;
		}
		if (n)
			pmm_free_run(run, n);
		run = e & PTE_ADDR;
		n = 1;
	}
	if (n)
		pmm_free_run(run, n);
}

/* Replace a 2 MiB leaf by a page table of the same 512 frames (for a partial unmap). */
static bool split_2m(struct mm *mm, uint64_t va, uint64_t *pde)
{
	uint64_t pt_pa = pt_page_alloc(mm, va, 0);
	if (!pt_pa)
		return false;
	uint64_t *pt = phys_to_virt(pt_pa);
	uint64_t e = (*pde & PTE_ADDR2) | (*pde & (0xfffULL & ~PTE_PS)) | (*pde & PTE_NX);
	for (unsigned i = 0; i < 512; i++, e += PAGE_SIZE)
		pt[i] = e;
	*pde = pt_pa | PTE_P | PTE_W | PTE_U;
	return true;
}

/*
 * The PDE of va, walking the upper levels only when va leaves the 1 GiB
 * region *pd_region names (~25 emulated instructions saved per 2 MiB
 * block). NULL if the region has no PD. Reset *pd_region to ~0 after
 * anything that may move a PD page (a TEA taking a table: tea.c).
 */
static uint64_t *pd_entry_cached(struct mm *mm, uint64_t va, uint64_t *pd_region, uint64_t **pd)
{
	if (va >> 30 != *pd_region) {
		uint64_t *pde = vm_pd_entry(mm, va, false);
		*pd = pde ? pde - ((va >> 21) & 511) : NULL;
		*pd_region = va >> 30;
	}
	return *pd ? &(*pd)[(va >> 21) & 511] : NULL;
}

void vm_unmap(struct mm *mm, uint64_t start, uint64_t end)
{
	uint64_t region = ~0ULL, *pd = NULL;
	trace_flush_pending(mm, false); /* buffered records first walk the old tables */
	for (uint64_t a = start, next; a < end; a = next) {
		next = (a & HPAGE_MASK) + HPAGE_SIZE;
		if (next > end)
			next = end;
		uint64_t *pde = pd_entry_cached(mm, a, &region, &pd);
		if (!pde) {
			next =
			    ALIGN_DOWN(a, 1ULL << 30) + (1ULL << 30); /* no PD: the whole 1 GiB */
			if (next > end || next < a)
				next = end;
			continue;
		}
		if (!(*pde & PTE_P))
			continue;
		if (*pde & PTE_PS) {
			if (!(a & ~HPAGE_MASK) && next - a == HPAGE_SIZE) {
				pmm_free(*pde & PTE_ADDR2, PMM_ORDER_2M);
				*pde = 0;
				continue;
			}
			if (!split_2m(mm, a, pde))
				panic("vm_unmap: no frame to split a 2 MiB page");
			region = ~0ULL; /* its table may have come from a TEA that moved the PD */
		}
		uint64_t *pt = phys_to_virt(*pde & PTE_ADDR);
		unsigned first = (a >> 12) & 511, n = (unsigned)((next - a) >> 12);
		free_leaves(pt, first, first + n);
		memset(&pt[first], 0, n * 8ULL); /* one rep stosq */
	}
	write_cr3(read_cr3()); /* no PCID here: a CR3 write flushes the user mappings */
	vm_pt_update(mm, start, end - start);
}

/*
 * PROT_NONE: the leaf stays present (it keeps its frame) but
 * supervisor-only, so every user access faults with PF_PROT and vm_fault
 * refuses it (the VMA has no rights).
 */
static uint64_t prot_flags(uint32_t prot)
{
	return prot ? vm_leaf_flags(prot) : (PTE_P | PTE_A | PTE_NX);
}

/* New flags for one 4 KiB leaf; a borrowed page that becomes writable is copied. */
static int protect_pte(uint64_t *pte, uint32_t prot)
{
	uint64_t pa = *pte & PTE_ADDR;
	if (!(*pte & PTE_NOFREE)) {
		*pte = pa | prot_flags(prot);
		return 0;
	}
	if (!(prot & VMA_WRITE)) {
		*pte = pa | prot_flags(prot) | PTE_NOFREE;
		return 0;
	}
	uint64_t copy = pmm_alloc(PMM_ORDER_4K, 0);
	if (!copy)
		return -ENOMEM;
	memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE);
	*pte = copy | prot_flags(prot);
	return 0;
}

int vm_protect(struct mm *mm, uint64_t start, uint64_t end, uint32_t prot)
{
	trace_flush_pending(mm, false); /* buffered records first walk the old tables */
	int r = 0;
	for (uint64_t a = start, next; a < end && !r; a = next) {
		next = (a & HPAGE_MASK) + HPAGE_SIZE;
		if (next > end)
			next = end;
		uint64_t *pde = vm_pd_entry(mm, a, false);
		if (!pde || !(*pde & PTE_P))
			continue;
		if (*pde & PTE_PS) {
			if (!(a & ~HPAGE_MASK) && next - a == HPAGE_SIZE) {
				*pde = (*pde & PTE_ADDR2) | prot_flags(prot) | PTE_PS;
				continue;
			}
			if (!split_2m(mm, a, pde)) {
				r = -ENOMEM;
				break;
			}
			pde = vm_pd_entry(mm, a, false); /* a new TEA may have moved the PD */
		}
		uint64_t *pt = phys_to_virt(*pde & PTE_ADDR);
		for (unsigned i = vm_next_used(pt, (a >> 12) & 511),
			      stop = (unsigned)(((next - 1) >> 12) & 511);
		     i <= stop && !r; i = vm_next_used(pt, i + 1))
			if (pt[i] & PTE_P)
				r = protect_pte(&pt[i], prot);
	}
	write_cr3(read_cr3());
	vm_pt_update(mm, start, end - start);
	return r;
}

/* Move one page-table page from src's PDE to dst's PDE (both 2 MiB aligned, dst empty). */
static int move_pt(struct mm *mm, uint64_t src, uint64_t dst)
{
	if (!vm_pd_entry(mm, dst, true))
		return -ENOMEM;
	/* dst's TEA slot if its VMA has or gets a TEA (which may migrate tables). */
	uint64_t slot = vm_thp ? 0 : tea_table_page(mm, dst, 12);
	uint64_t *spde = vm_pd_entry(mm, src, false), *dpde = vm_pd_entry(mm, dst, false);
	uint64_t old = *spde & PTE_ADDR;
	if (*dpde & PTE_PS)
		return -EEXIST; /* the caller unmaps dst first */
	if (*dpde & PTE_P)
		slot = *dpde & PTE_ADDR; /* an empty table left by an unmap: fill it */
	if (*spde & PTE_PS) {
		if (slot && !tea_owns(mm, slot))
			pmm_free(slot, PMM_ORDER_4K);
		*dpde = *spde; /* a 2 MiB leaf: a TEA slot stays an empty table */
	} else if (slot) {
		memcpy(phys_to_virt(slot), phys_to_virt(old), PAGE_SIZE);
		*dpde = slot | PTE_P | PTE_W | PTE_U;
		if (tea_owns(mm, old))
			memset(phys_to_virt(old), 0, PAGE_SIZE); /* slots must read as zero */
		else
			pmm_free(old, PMM_ORDER_4K);
	} else if (!tea_owns(mm, old)) {
		*dpde = *spde; /* the table itself moves */
	} else {
		uint64_t pa = pmm_alloc(PMM_ORDER_4K, 0);
		if (!pa)
			return -ENOMEM;
		memcpy(phys_to_virt(pa), phys_to_virt(old), PAGE_SIZE);
		memset(phys_to_virt(old), 0, PAGE_SIZE);
		*dpde = pa | PTE_P | PTE_W | PTE_U;
	}
	*spde = 0;
	return 0;
}

/* Move the 4 KiB leaves of [src, src + len), inside one 2 MiB block on each side. */
static int move_ptes(struct mm *mm, uint64_t src, uint64_t dst, uint64_t len)
{
	uint64_t *spde = vm_pd_entry(mm, src, false);
	if (!spde || !(*spde & PTE_P))
		return 0;
	if ((*spde & PTE_PS) && !split_2m(mm, src, spde))
		return -ENOMEM;
	/* Allocate dst's tables before taking pointers: a new TEA may migrate tables. */
	uint64_t *dpde = vm_pd_entry(mm, dst, true);
	if (!dpde || !pt_of(mm, dst, dpde, true))
		return -ENOMEM;
	dpde = vm_pd_entry(mm, dst, false);
	spde = vm_pd_entry(mm, src, false);
	uint64_t *spt = phys_to_virt(*spde & PTE_ADDR), *dpt = phys_to_virt(*dpde & PTE_ADDR);
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t *s = &spt[((src + off) >> 12) & 511];
		if (*s) {
			dpt[((dst + off) >> 12) & 511] = *s;
			*s = 0;
		}
	}
	return 0;
}

int vm_move(struct mm *mm, uint64_t src, uint64_t dst, uint64_t len)
{
	trace_flush_pending(mm, false); /* buffered records first walk the old tables */
	int r = 0;
	for (uint64_t off = 0, n; off < len && !r; off += n) {
		uint64_t s = src + off, d = dst + off;
		uint64_t ns = HPAGE_SIZE - (s & ~HPAGE_MASK), nd = HPAGE_SIZE - (d & ~HPAGE_MASK);
		n = ns < nd ? ns : nd;
		if (n > len - off)
			n = len - off;
		uint64_t *spde = vm_pd_entry(mm, s, false);
		if (!spde || !(*spde & PTE_P))
			continue;
		if (n == HPAGE_SIZE)
			r = move_pt(mm, s, d);
		else
			r = move_ptes(mm, s, d, n);
	}
	write_cr3(read_cr3());
	vm_pt_update(mm, src, len);
	return r;
}

/*
 * Only changes of live entries are reported (unmap, and the 2 MiB split it
 * may do; exit/exec with len 0). Filling a non-present entry on demand
 * paging is not: a shadow-paging VMM learns of a new mapping when its own
 * shadow fill faults on it, exactly as with hardware, so fills are the
 * VMM's business and cost no exit here.
 */
void vm_pt_update(struct mm *mm, uint64_t va, uint64_t len)
{
	struct dmtvm_hc_pt_update hc = {.cr3 = mm->pml4_pa, .asid = 1, .va = va, .len = len};
	if (pt_update_missing)
		return;
	if (hypercall(DMTVM_HC_PT_UPDATE, &hc) == -DMTVM_ENOSYS)
		pt_update_missing = true;
}

/* Free the leaves under a page-table page; the page itself unless it is a TEA slot. */
static void free_pt(struct mm *mm, uint64_t pt_pa)
{
	free_leaves(phys_to_virt(pt_pa), 0, 512);
	if (!tea_owns(mm, pt_pa))
		pmm_free(pt_pa, PMM_ORDER_4K);
}

void vm_mm_destroy(struct mm *mm)
{
	uint64_t *pml4 = phys_to_virt(mm->pml4_pa);
	for (unsigned i = vm_next_used(pml4, 0); i < USER_PML4_SLOTS;
	     i = vm_next_used(pml4, i + 1)) {
		if (!(pml4[i] & PTE_P))
			continue;
		uint64_t *pdpt = phys_to_virt(pml4[i] & PTE_ADDR);
		for (unsigned j = vm_next_used(pdpt, 0); j < 512; j = vm_next_used(pdpt, j + 1)) {
			if (!(pdpt[j] & PTE_P))
				continue;
			uint64_t *pd = phys_to_virt(pdpt[j] & PTE_ADDR);
			for (unsigned k = vm_next_used(pd, 0); k < 512;
			     k = vm_next_used(pd, k + 1)) {
				if (!(pd[k] & PTE_P))
					continue;
				if (pd[k] & PTE_PS)
					pmm_free(pd[k] & PTE_ADDR2, PMM_ORDER_2M);
				else
					free_pt(mm, pd[k] & PTE_ADDR);
			}
			if (!tea_owns(mm, pdpt[j] & PTE_ADDR))
				pmm_free(pdpt[j] & PTE_ADDR, PMM_ORDER_4K);
		}
		pmm_free(pml4[i] & PTE_ADDR, PMM_ORDER_4K);
	}
	vm_pt_update(mm, 0, 0);
	tea_release_all(mm);
	pmm_free(mm->pml4_pa, PMM_ORDER_4K);
}
