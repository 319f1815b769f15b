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
 *  - freed frames go to a buddy system whose state is out of band
 *    (bitmaps), never written into the frames; freed blocks merge, so a
 *    TEA run or a 2 MiB block can come from freed memory again (zeroed)
 *    once fresh RAM has none;
 *  - a PMM_ZERO request takes never-used frames first and reuses freed ones
 *    only when RAM has no fresh frame left, zeroing them with the ZERO
 *    hypercall (the VMM's memset) or, if the VMM lacks it, rep stosq;
 *  - requests without PMM_ZERO take freed frames first.
 */
#include "pmm.h"
#include "console.h"
#include "hypercall.h"

/* Ranges of fresh RAM: a few normally; dmtvm.frag cuts thousands of holes. */
#define PMM_MAX_RANGES 32768

struct range {
	uint64_t start, end;
};

static struct range ranges[PMM_MAX_RANGES];
static unsigned nranges;
/* Ranges below this index hold no aligned 2 MiB block (fresh ranges only shrink). */
static unsigned scan_2m_from;
/* The shortest pmm_alloc_contig length that found no range: longer ones fail at once. */
static uint64_t contig_fail_len = UINT64_MAX;
uint64_t pmm_frag_seed;
unsigned pmm_frag_percent;
/*
 * Freed blocks: a binary buddy system, orders 0 (4 KiB) .. BUDDY_MAX (1
 * GiB), with its state out of band: one bitmap per order (bit i of order
 * k: frames [i << k, (i + 1) << k) are free), in pages taken from fresh
 * RAM at boot. Nothing is written into the freed frames themselves (a
 * first ring-0 write to a page costs ~250 us here). A freed block merges
 * with its free buddy up the orders; an allocation finds the lowest set
 * bit of the smallest non-empty order with one `repe scasq` and splits.
 */
#define BUDDY_MAX   18
#define FRAME_SHIFT 12
static uint64_t *bm[BUDDY_MAX + 1];
static uint64_t bm_words[BUDDY_MAX + 1];
static uint64_t bm_hint[BUDDY_MAX + 1]; /* words below it are zero */
static uint64_t bm_count[BUDDY_MAX + 1];
struct pmm_stats pmm_stats;
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

/*
 * dmtvm.frag=SEED:PERCENT: in PERCENT % of the 64 KiB chunks of fresh RAM
 * (chosen by an xorshift generator from SEED) one 4 KiB frame at a random
 * place is taken for good, so physically contiguous runs are short and
 * rare, as on a long-running host: TEA allocation (pmm_alloc_contig) and
 * 2 MiB pages then fall back, and tea_stats counts it. The new range list
 * is written in order in one pass (no per-hole memmove: ring 0 is slow).
 */
static void fragment(void)
{
	struct range old[32];
	unsigned nold = nranges < 32 ? nranges : 32, n = 0;
	uint64_t x = pmm_frag_seed * 0x9e3779b97f4a7c15ULL + 1, pinned = 0;
	memcpy(old, ranges, nold * sizeof(old[0]));
	for (unsigned i = 0; i < nold; i++) {
		uint64_t s = old[i].start;
		for (uint64_t c = ALIGN_UP(s, 0x10000); c < old[i].end; c += 0x10000) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (x % 100 >= pmm_frag_percent || n + 2 >= PMM_MAX_RANGES)
				continue;
			uint64_t pin = c + ((x >> 32) % 16) * PAGE_SIZE;
			if (pin < s || pin + PAGE_SIZE > old[i].end)
				continue;
			if (pin > s)
				ranges[n++] = (struct range){s, pin};
			s = pin + PAGE_SIZE;
			pinned++;
		}
		if (old[i].end > s)
			ranges[n++] = (struct range){s, old[i].end};
	}
	nranges = n;
	kprintf("dmtvm: frag %lu:%u: %lu frames taken, %u free ranges\n", pmm_frag_seed,
		pmm_frag_percent, pinned, n);
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
	/* The buddy bitmaps, from fresh (zero) RAM: ~2 bits per frame of RAM. */
	uint64_t frames = bi->mem_size >> FRAME_SHIFT, words = 0;
	for (unsigned k = 0; k <= BUDDY_MAX; k++) {
		bm_words[k] = ((frames >> k) + 64) / 64;
		words += bm_words[k];
	}
	uint64_t pa = pmm_alloc_contig(ALIGN_UP(words * 8, PAGE_SIZE) / PAGE_SIZE);
	if (!pa)
		panic("no RAM for the frame allocator's bitmaps");
	for (unsigned k = 0; k <= BUDDY_MAX; k++) {
		bm[k] = phys_to_virt(pa);
		pa += bm_words[k] * 8;
	}
	if (pmm_frag_percent) /* after the bitmaps: fragmented RAM may not hold them */
		fragment();
	free_bytes = 0;
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

static uint64_t buddy_alloc_contig(uint64_t npages);

uint64_t pmm_alloc_contig(uint64_t npages)
{
	uint64_t len = npages * PAGE_SIZE;
	if (len >= contig_fail_len)
		return npages ? buddy_alloc_contig(npages) : 0;
	/* Fresh RAM only: it reads as zero, and freed frames are not kept contiguous. */
	for (unsigned i = nranges; npages && i-- > 0;) {
		struct range *r = &ranges[i];
		if (r->end - r->start >= len) {
			r->end -= len;
			free_bytes -= len;
			return r->end;
		}
	}
	if (npages)
		contig_fail_len = len;
	return npages ? buddy_alloc_contig(npages) : 0;
}

static uint64_t carve_2m(void)
{
	for (unsigned i = scan_2m_from; i < nranges; i++) {
		struct range *r = &ranges[i];
		uint64_t a = ALIGN_UP(r->start, HPAGE_SIZE);
		if (a + HPAGE_SIZE > r->end || a < r->start) {
			if (i == scan_2m_from)
				scan_2m_from++;
			continue;
		}
		if (a == r->start)
			r->start += HPAGE_SIZE;
		else
			ranges_cut(a, a + HPAGE_SIZE);
		return a;
	}
	return 0;
}

static void zero_range(uint64_t pa, uint64_t len)
{
	struct dmtvm_hc_zero hc = {.gpa = pa, .len = len};
	if (!hc_zero_missing) {
		int64_t r = hypercall(DMTVM_HC_ZERO, &hc);
		if (r == 0)
			return;
		if (r != -DMTVM_ENOSYS)
			panic("ZERO hypercall refused a free frame");
		hc_zero_missing = true;
	}
	memset(phys_to_virt(pa), 0, len);
}

static bool bm_test(unsigned k, uint64_t i)
{
	return i / 64 < bm_words[k] && (bm[k][i / 64] >> (i % 64)) & 1;
}

static void bm_set(unsigned k, uint64_t i)
{
	bm[k][i / 64] |= 1ULL << (i % 64);
	bm_count[k]++;
	if (i / 64 < bm_hint[k])
		bm_hint[k] = i / 64;
}

static void bm_clear(unsigned k, uint64_t i)
{
	bm[k][i / 64] &= ~(1ULL << (i % 64));
	bm_count[k]--;
}

static void buddy_free(uint64_t pa, unsigned k)
{
	uint64_t i = pa >> (FRAME_SHIFT + k);
	for (; k < BUDDY_MAX && bm_test(k, i ^ 1); k++, i >>= 1)
		bm_clear(k, i ^ 1);
	bm_set(k, i);
}

/* A free block of order k (split from a bigger one if needed), or 0. */
static uint64_t buddy_alloc(unsigned k)
{
	unsigned j = k;
	while (j <= BUDDY_MAX && !bm_count[j])
		j++;
	if (j > BUDDY_MAX)
		return 0;
	const uint64_t *p = bm[j] + bm_hint[j];
	uint64_t c = bm_words[j] - bm_hint[j];
	__asm__ volatile("repe scasq" : "+D"(p), "+c"(c) : "a"(0ULL) : "memory", "cc");
	uint64_t w = (uint64_t)(p - 1 - bm[j]);
	if (!bm[j][w])
		panic("pmm: buddy bitmap and count disagree");
	bm_hint[j] = w;
	uint64_t i = w * 64 + (uint64_t)__builtin_ctzll(bm[j][w]);
	bm_clear(j, i);
	for (; j > k; j--) { /* keep the lower half, free the upper */
		i <<= 1;
		bm_set(j - 1, i + 1);
	}
	return i << (FRAME_SHIFT + k);
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	uint64_t pa = 0;
	if (order != PMM_ORDER_4K && order != PMM_ORDER_2M)
		return 0;
	bool freed = false;
	/* A caller that overwrites the block anyway takes a freed one first. */
	if (!(flags & PMM_ZERO))
		freed = (pa = buddy_alloc(order)) != 0;
	if (!pa)
		pa = order ? carve_2m() : carve_4k();
	if (!pa && (flags & PMM_ZERO) && (pa = buddy_alloc(order))) {
		zero_range(pa, PAGE_SIZE << order);
		freed = true;
	}
	if (freed && order == PMM_ORDER_2M)
		pmm_stats.blocks_2m_freed++;
	if (pa)
		free_bytes -= PAGE_SIZE << order;
	return pa;
}

void pmm_free(uint64_t pa, unsigned order)
{
	free_bytes += PAGE_SIZE << order;
	buddy_free(pa, order);
}

void pmm_free_run(uint64_t pa, uint64_t npages)
{
	free_bytes += npages * PAGE_SIZE;
	while (npages) { /* the biggest aligned block that fits, then the rest */
		unsigned o = (unsigned)__builtin_ctzll(pa >> FRAME_SHIFT | 1ULL << BUDDY_MAX);
		while (1ULL << o > npages)
			o--;
		buddy_free(pa, o);
		pa += PAGE_SIZE << o;
		npages -= 1ULL << o;
	}
}

/* npages contiguous freed frames, zeroed (the part of the block past them is freed again). */
static uint64_t buddy_alloc_contig(uint64_t npages)
{
	unsigned k = 0;
	while ((1ULL << k) < npages)
		k++;
	uint64_t pa;
	if (k > BUDDY_MAX || !(pa = buddy_alloc(k)))
		return 0;
	for (uint64_t s = npages, e = 1ULL << k; s < e;) {
		unsigned o = (unsigned)__builtin_ctzll(s);
		while (s + (1ULL << o) > e)
			o--;
		buddy_free(pa + s * PAGE_SIZE, o);
		s += 1ULL << o;
	}
	zero_range(pa, npages * PAGE_SIZE);
	free_bytes -= npages * PAGE_SIZE;
	pmm_stats.runs_freed++;
	return pa;
}

/* Index of the fresh range holding frame pa (ranges are sorted and disjoint), or -1. */
static long range_of(uint64_t pa)
{
	unsigned lo = 0, hi = nranges;
	while (lo < hi) { /* first range with start > pa */
		unsigned mid = (lo + hi) / 2;
		if (ranges[mid].start <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Emptied ranges (start == end) share a start with their neighbour: look back. */
	for (unsigned i = lo; i-- > 0 && ranges[i].start <= pa;) {
		if (pa < ranges[i].end)
			return (long)i;
		if (ranges[i].end > ranges[i].start)
			break;
	}
	return -1;
}

/* The order of the free buddy block holding frame pa, or -1. */
static int buddy_order_of(uint64_t pa)
{
	for (unsigned k = 0; k <= BUDDY_MAX; k++)
		if (bm_test(k, pa >> (FRAME_SHIFT + k)))
			return (int)k;
	return -1;
}

/* Take the free frame pa out of its buddy block of order k: split down, freeing the other halves.
 */
static void buddy_take(uint64_t pa, unsigned k)
{
	bm_clear(k, pa >> (FRAME_SHIFT + k));
	while (k--)
		bm_set(k, (pa >> (FRAME_SHIFT + k)) ^ 1);
}

bool pmm_claim(uint64_t pa, uint64_t npages)
{
	uint64_t end = pa + npages * PAGE_SIZE, p;
	if (!npages || (pa & (PAGE_SIZE - 1)) || end < pa)
		return false;
	/* First check it all, in chunks: a fresh range's part, or a whole free buddy block. */
	for (p = pa; p < end;) {
		long r = range_of(p);
		int k;
		if (r >= 0)
			p = ranges[r].end;
		else if ((k = buddy_order_of(p)) >= 0)
			p = ALIGN_DOWN(p, PAGE_SIZE << k) + (PAGE_SIZE << k);
		else
			return false;
	}
	uint64_t zero_from = 0, zero_len = 0;
	for (p = pa; p < end;) {
		long r = range_of(p);
		if (r >= 0) { /* never used: reads as zero */
			uint64_t e = ranges[r].end < end ? ranges[r].end : end;
			ranges_cut(p, e);
			p = e;
			continue;
		}
		int k = buddy_order_of(p);
		uint64_t bs = ALIGN_DOWN(p, PAGE_SIZE << k), be = bs + (PAGE_SIZE << k);
		if (bs >= pa && be <= end) {
			bm_clear((unsigned)k, bs >> (FRAME_SHIFT + k)); /* the whole block */
		} else {
			buddy_take(p, (unsigned)k);
			be = p + PAGE_SIZE;
			bs = p;
		}
		/* Freed frames are dirty: zero them (merged into one call when adjacent). */
		if (zero_len && zero_from + zero_len == bs) {
			zero_len += be - bs;
		} else {
			if (zero_len)
				zero_range(zero_from, zero_len);
			zero_from = bs;
			zero_len = be - bs;
		}
		p = be;
	}
	if (zero_len)
		zero_range(zero_from, zero_len);
	free_bytes -= npages * PAGE_SIZE;
	return true;
}

uint64_t pmm_free_bytes(void)
{
	return free_bytes;
}
