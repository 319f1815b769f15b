/* SPDX-License-Identifier: MIT */
/*
 * pmm.c: physical frame allocator.
 *
 * Free RAM starts as a few ranges (RAM minus the VMM's reserved ranges and
 * the kernel image). Those frames have never been written, and guest RAM
 * is zero at entry (dmtvm_abi.h), so a frame carved from a range needs no
 * zeroing: on this machine zeroing is the main cost of a fresh page.
 * 4 KiB frames are carved from the top of the last range, 2 MiB blocks
 * from the lowest aligned spot, so the two rarely collide. Freed frames go
 * to one free list per order (linked through the direct map) and are
 * zeroed with rep stosq when reused with PMM_ZERO.
 */
#include "pmm.h"

#define PMM_MAX_RANGES 32

struct range {
	uint64_t start, end;
};

static struct range ranges[PMM_MAX_RANGES];
static unsigned nranges;
static uint64_t free_list[PMM_ORDER_2M + 1]; /* gPA of first free block, 0 = empty */
static uint64_t free_bytes;

/* Remove [s, e) from the range set (may split one range). */
static void ranges_cut(uint64_t s, uint64_t e)
{
	for (unsigned i = 0; i < nranges; i++) {
		struct range *r = &ranges[i];
		if (e <= r->start || s >= r->end)
			continue;
		if (s > r->start && e < r->end) {
			if (nranges == PMM_MAX_RANGES) {
				r->end = s; /* drop the upper part rather than fail */
				continue;
			}
			memmove(r + 2, r + 1, (nranges - i - 1) * sizeof(*r));
			r[1].start = e;
			r[1].end = r->end;
			r->end = s;
			nranges++;
			i++;
		} else if (s <= r->start && e >= r->end) {
			r->end = r->start; /* empty; left in place */
		} else if (s <= r->start) {
			r->start = e;
		} else {
			r->end = s;
		}
	}
}

void pmm_init(const struct boot_info *bi, uint64_t kernel_start, uint64_t kernel_end)
{
	/* Below 1 MiB: boot GDT, FDT, boot page tables; never handed out. */
	ranges[0].start = DMTVM_KERNEL_MIN_PADDR;
	ranges[0].end = ALIGN_DOWN(bi->mem_size, PAGE_SIZE);
	nranges = 1;
	ranges_cut(ALIGN_DOWN(kernel_start, PAGE_SIZE), ALIGN_UP(kernel_end, PAGE_SIZE));
	for (unsigned i = 0; i < bi->nreserved; i++) {
		uint64_t s = bi->reserved[i].start;
		ranges_cut(ALIGN_DOWN(s, PAGE_SIZE), ALIGN_UP(s + bi->reserved[i].size, PAGE_SIZE));
	}
	if (bi->initrd_end > bi->initrd_start)
		ranges_cut(ALIGN_DOWN(bi->initrd_start, PAGE_SIZE),
			   ALIGN_UP(bi->initrd_end, PAGE_SIZE));
	for (unsigned i = 0; i < nranges; i++)
		free_bytes += ranges[i].end - ranges[i].start;
}

static uint64_t carve_4k(void)
{
	while (nranges) {
		struct range *r = &ranges[nranges - 1];
		if (r->end > r->start) {
			r->end -= PAGE_SIZE;
			return r->end;
		}
		nranges--;
	}
	return 0;
}

static uint64_t carve_2m(void)
{
	for (unsigned i = 0; i < nranges; i++) {
		struct range *r = &ranges[i];
		uint64_t a = ALIGN_UP(r->start, HPAGE_SIZE);
		if (a + HPAGE_SIZE > r->end || a < r->start)
			continue;
		if (a == r->start)
			r->start += HPAGE_SIZE;
		else
			ranges_cut(a, a + HPAGE_SIZE);
		return a;
	}
	return 0;
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	uint64_t size = PAGE_SIZE << order, pa;
	if (order != PMM_ORDER_4K && order != PMM_ORDER_2M)
		return 0;
	pa = free_list[order];
	if (pa) {
		uint64_t *p = phys_to_virt(pa);
		free_list[order] = p[0];
		if (flags & PMM_ZERO)
			memset(p, 0, size); /* one rep stosb */
		else
			p[0] = 0;
	} else {
		pa = order ? carve_2m() : carve_4k();
		if (!pa && order == PMM_ORDER_4K && free_list[PMM_ORDER_2M]) {
			/* Out of fresh 4 KiB frames: break a freed 2 MiB block. */
			uint64_t b = free_list[PMM_ORDER_2M];
			free_list[PMM_ORDER_2M] = *(uint64_t *)phys_to_virt(b);
			for (uint64_t q = b + PAGE_SIZE; q < b + HPAGE_SIZE; q += PAGE_SIZE) {
				*(uint64_t *)phys_to_virt(q) = free_list[0];
				free_list[0] = q;
			}
			pa = b;
			if (flags & PMM_ZERO)
				zero_page(phys_to_virt(pa));
		}
		if (!pa)
			return 0;
	}
	free_bytes -= size;
	return pa;
}

void pmm_free(uint64_t pa, unsigned order)
{
	*(uint64_t *)phys_to_virt(pa) = free_list[order];
	free_list[order] = pa;
	free_bytes += PAGE_SIZE << order;
}

uint64_t pmm_free_bytes(void)
{
	return free_bytes;
}
