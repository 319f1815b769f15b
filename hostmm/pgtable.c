/* SPDX-License-Identifier: MIT */
/* pgtable.c: building and reading 4-level x86-64 and EPT radix tables. */
#include <string.h>

#include "pgtable.h"

static uint64_t table_entry(enum pt_format fmt, uint64_t pa)
{
	return (pa & PTE_ADDR) | (fmt == PT_X86 ? (PTE_P | PTE_RW | PTE_US | PTE_A) : EPT_RWX);
}

static uint64_t leaf_entry(enum pt_format fmt, uint64_t pa, int level)
{
	uint64_t e = pa & PTE_ADDR;
	if (fmt == PT_X86)
		e |= PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
	else
		e |= EPT_RWX | EPT_MT_WB;
	if (level > 1)
		e |= PTE_PS; /* same bit 7 in both formats */
	return e;
}

static int present(enum pt_format fmt, uint64_t e)
{
	return fmt == PT_X86 ? (e & PTE_P) != 0 : (e & EPT_RWX) != 0;
}

static uint64_t *entry_ptr(uint8_t *table, uint64_t va, int level)
{
	return (uint64_t *)(table + ((va >> pt_shift(level)) & 511) * 8);
}

int pt_map(struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va, uint64_t pa,
	   int leaf_level, pt_alloc_fn alloc, void *ctx)
{
	uint64_t table = root;
	for (int level = 4;; level--) {
		uint8_t *t = physmem_materialize(pm, table);
		if (!t)
			return -1;
		uint64_t *e = entry_ptr(t, va, level);
		if (level == leaf_level) {
			if (present(fmt, *e))
				return 0;
			*e = leaf_entry(fmt, pa, level);
			return 1;
		}
		if (!present(fmt, *e)) {
			uint64_t npa;
			if (alloc(ctx, level - 1, va, &npa) < 0)
				return -1;
			if (!physmem_materialize(pm, npa))
				return -1;
			*e = table_entry(fmt, npa);
		} else if (*e & PTE_PS) {
			/* A larger page already covers va: mapped. */
			return 0;
		}
		table = *e & PTE_ADDR;
	}
}

int pt_set_leaf(struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va, uint64_t pa,
		int leaf_level)
{
	uint64_t table = root;
	for (int level = 4; level >= leaf_level; level--) {
		uint8_t *t = physmem_frame(pm, table);
		if (!t)
			return -1;
		uint64_t *e = entry_ptr(t, va, level);
		if (!present(fmt, *e))
			return -1;
		if (level == leaf_level) {
			*e = leaf_entry(fmt, pa, level);
			return 0;
		}
		if (*e & PTE_PS)
			return -1;
		table = *e & PTE_ADDR;
	}
	return -1;
}

int pt_lookup(const struct physmem *pm, enum pt_format fmt, uint64_t root, uint64_t va,
	      uint64_t *pa)
{
	uint64_t table = root;
	for (int level = 4; level >= 1; level--) {
		uint8_t *t = physmem_frame(pm, table);
		if (!t)
			return -1;
		uint64_t e = *entry_ptr(t, va, level);
		if (!present(fmt, e))
			return -1;
		if (level == 1 || (e & PTE_PS)) {
			uint64_t mask = (1ULL << pt_shift(level)) - 1;
			*pa = (e & PTE_ADDR & ~mask) | (va & mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -1;
}
