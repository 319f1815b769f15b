/* SPDX-License-Identifier: MIT */
/*
 * pmm.c: physical frame allocator.
 *
 * Free RAM starts as a few ranges (RAM minus the VMM's reserved ranges and
 * the kernel image). Those frames have never been written, and guest RAM
 * is zero at entry (dmtvm_abi.h), so a frame carved from a range needs no
 * zeroing: on this machine zeroing is the main cost of a fresh page.
 * 4 KiB frames are carved from the top of the last range, 2 MiB blocks
 * from the lowest aligned spot, so the two rarely collide.
 *
 * Ring-0 writes to a 4 KiB page not yet touched through the direct map are
 * the expensive case on this machine (a shadow-paging fault inside the
 * emulator: ~250 us; zeroing a freed 2 MiB block with rep stosq: ~130 ms,
 * measured). Hence:
 *  - freed frames are kept in batches (one page of 510 gPAs, itself a freed
 *    frame), not linked through each frame, so freeing writes one page per
 *    510 frames;
 *  - a PMM_ZERO request takes never-used frames first and reuses freed ones
 *    only when RAM has no fresh frame left, zeroing them with the ZERO
 *    hypercall (the VMM's memset) or, if the VMM lacks it, rep stosq;
 *  - requests without PMM_ZERO take freed frames first.
 */
#include "pmm.h"
#include "hypercall.h"

#define PMM_MAX_RANGES 32

struct range {
	uint64_t start, end;
};

static struct range ranges[PMM_MAX_RANGES];
static unsigned nranges;
/* A page of freed block addresses; when empty, the page itself is the last free block. */
struct free_batch {
	struct free_batch *next;
	uint64_t n;
	uint64_t pa[510];
};
_Static_assert(sizeof(struct free_batch) == PAGE_SIZE, "one page per batch");

static struct free_batch *free_batches[PMM_ORDER_2M + 1];
static bool hc_zero_missing; /* the VMM answered -ENOSYS once */
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

uint64_t pmm_alloc_contig(uint64_t npages)
{
	uint64_t len = npages * PAGE_SIZE;
	/* Fresh RAM only: it reads as zero, and freed frames are not kept contiguous. */
	for (unsigned i = nranges; npages && i-- > 0;) {
		struct range *r = &ranges[i];
		if (r->end - r->start >= len) {
			r->end -= len;
			free_bytes -= len;
			return r->end;
		}
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

static void zero_block(uint64_t pa, unsigned order)
{
	struct dmtvm_hc_zero hc = {.gpa = pa, .len = PAGE_SIZE << order};
	if (!hc_zero_missing) {
		int64_t r = hypercall(DMTVM_HC_ZERO, &hc);
		if (r == 0)
			return;
		if (r != -DMTVM_ENOSYS)
			panic("ZERO hypercall refused a free frame");
		hc_zero_missing = true;
	}
	memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
}

/* Pop a freed block; zero it if asked. */
static uint64_t pop_free(unsigned order, unsigned flags)
{
	struct free_batch *b = free_batches[order];
	uint64_t pa;
	if (!b)
		return 0;
	if (b->n) {
		pa = b->pa[--b->n];
	} else {
		free_batches[order] = b->next;
		pa = kva_to_phys(b);
	}
	if (flags & PMM_ZERO)
		zero_block(pa, order);
	return pa;
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	uint64_t pa = 0;
	if (order != PMM_ORDER_4K && order != PMM_ORDER_2M)
		return 0;
	/* A caller that overwrites the block anyway takes a freed one first. */
	if (!(flags & PMM_ZERO))
		pa = pop_free(order, flags);
	if (!pa)
		pa = order ? carve_2m() : carve_4k();
	if (!pa)
		pa = pop_free(order, flags);
	if (!pa && order == PMM_ORDER_4K && free_batches[PMM_ORDER_2M]) {
		/* Out of fresh and freed 4 KiB frames: break a freed 2 MiB block. */
		uint64_t b = pop_free(PMM_ORDER_2M, 0);
		free_bytes -= HPAGE_SIZE - PAGE_SIZE; /* b itself is counted below */
		for (uint64_t q = b + PAGE_SIZE; q < b + HPAGE_SIZE; q += PAGE_SIZE)
			pmm_free(q, PMM_ORDER_4K);
		pa = b;
		if (flags & PMM_ZERO)
			zero_block(pa, PMM_ORDER_4K);
	}
	if (pa)
		free_bytes -= PAGE_SIZE << order;
	return pa;
}

void pmm_free(uint64_t pa, unsigned order)
{
	struct free_batch *b = free_batches[order];
	free_bytes += PAGE_SIZE << order;
	if (b && b->n < ARRAY_SIZE(b->pa)) {
		b->pa[b->n++] = pa;
		return;
	}
	/* Batch full (or none): this block's first page becomes the new batch. */
	b = phys_to_virt(pa);
	b->next = free_batches[order];
	b->n = 0;
	free_batches[order] = b;
}

uint64_t pmm_free_bytes(void)
{
	return free_bytes;
}
