/* SPDX-License-Identifier: MIT */
/*
 * vma.c: the VMA list of a process, a sorted array. Processes have few
 * VMAs (the DMT paper's point: a handful of big ones), and merging keeps
 * musl's many small mmaps from filling it, so linear scans are cheapest in
 * instructions for the sizes seen here.
 */
#include "vma.h"

struct vma *vma_find(struct vma_list *l, uint64_t addr)
{
	for (unsigned i = 0; i < l->n; i++) {
		if (addr < l->v[i].start)
			return NULL;
		if (addr < l->v[i].end)
			return &l->v[i];
	}
	return NULL;
}

bool vma_overlaps(const struct vma_list *l, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < l->n; i++) {
		if (l->v[i].start >= end)
			return false;
		if (l->v[i].end > start)
			return true;
	}
	return false;
}

static bool same_kind(const struct vma *v, uint32_t prot, uint32_t flags)
{
	/* Each pin is its own VMA: one contiguous run of frames per VMA (pin.c). */
	return v->prot == prot && v->flags == flags &&
	       !(flags & (VMA_IMAGE | VMA_PINNED | VMA_KVMRUN));
}

int vma_insert(struct vma_list *l, uint64_t start, uint64_t end, uint32_t prot, uint32_t flags)
{
	unsigned i = 0;
	if (start >= end)
		return -EINVAL;
	while (i < l->n && l->v[i].start < start)
		i++;
	if ((i > 0 && l->v[i - 1].end > start) || (i < l->n && l->v[i].start < end))
		return -EEXIST;
	struct vma *prev = i > 0 ? &l->v[i - 1] : NULL, *next = i < l->n ? &l->v[i] : NULL;
	bool mprev = prev && prev->end == start && same_kind(prev, prot, flags);
	bool mnext = next && next->start == end && same_kind(next, prot, flags);
	if (mprev && mnext) {
		prev->end = next->end;
		memmove(next, next + 1, (l->n - i - 1) * sizeof(*next));
		l->n--;
	} else if (mprev) {
		prev->end = end;
	} else if (mnext) {
		next->start = start;
	} else {
		if (l->n == VMA_MAX)
			return -ENOMEM;
		memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(l->v[0]));
		l->v[i] = (struct vma){start, end, prot, flags};
		l->n++;
	}
	return 0;
}

int vma_remove(struct vma_list *l, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < l->n; i++) {
		struct vma *v = &l->v[i];
		if (v->start >= end)
			break;
		if (v->end <= start)
			continue;
		if (v->start < start && v->end > end) { /* split in two */
			if (l->n == VMA_MAX)
				return -ENOMEM;
			memmove(v + 1, v, (l->n - i) * sizeof(*v));
			l->n++;
			v->end = start;
			v[1].start = end;
			return 0;
		}
		if (v->start >= start && v->end <= end) { /* wholly inside: drop */
			memmove(v, v + 1, (l->n - i - 1) * sizeof(*v));
			l->n--;
			i--;
		} else if (v->start < start) {
			v->end = start;
		} else {
			v->start = end;
		}
	}
	return 0;
}

int vma_protect(struct vma_list *l, uint64_t start, uint64_t end, uint32_t prot)
{
	/* The pieces of [start, end), one per VMA; each must follow the previous. */
	static struct vma piece[VMA_MAX];
	unsigned n = 0;
	uint64_t at = start;
	for (unsigned i = 0; i < l->n && at < end; i++) {
		const struct vma *v = &l->v[i];
		if (v->end <= at)
			continue;
		if (v->start > at)
			return -ENOMEM; /* a hole */
		piece[n++] = (struct vma){at, v->end < end ? v->end : end, prot, v->flags};
		at = v->end;
	}
	if (at < end)
		return -ENOMEM;
	if (l->n + 2 > VMA_MAX) /* at most two splits; checked first so nothing half-done */
		return -ENOMEM;
	vma_remove(l, start, end);
	for (unsigned i = 0; i < n; i++)
		if (vma_insert(l, piece[i].start, piece[i].end, prot, piece[i].flags))
			return -ENOMEM;
	return 0;
}

uint64_t vma_find_gap(const struct vma_list *l, uint64_t len, uint64_t align, uint64_t lo,
		      uint64_t hi)
{
	/* Walk gaps from the top: between v[i-1].end and v[i].start (or hi). */
	uint64_t top = hi;
	for (int i = (int)l->n; i >= 0; i--) {
		uint64_t gap_lo = i > 0 ? l->v[i - 1].end : lo;
		uint64_t gap_hi = i < (int)l->n && l->v[i].start < top ? l->v[i].start : top;
		if (gap_lo < lo)
			gap_lo = lo;
		if (gap_hi > gap_lo && gap_hi - gap_lo >= len) {
			uint64_t a = ALIGN_DOWN(gap_hi - len, align);
			if (a >= gap_lo)
				return a;
		}
		if (i > 0 && l->v[i - 1].end <= lo)
			break;
	}
	return 0;
}
