/* SPDX-License-Identifier: MIT */
/*
 * mmu_prefill.c: warming the tables the model keeps for a scheme (shadow
 * page tables, Agile paging's shadow part, the composed EPT02) at the start
 * of a region of interest, so that they hold what a hypervisor that ran the
 * program's set-up phase holds: an entry for every translation the guest's
 * page tables then have. A trace covers the ROI only; without this, the
 * first use of every page in the ROI would count a fill VM exit that a real
 * hypervisor took during set-up (when the program first touched the page),
 * and dmt-eval's exit charge would fall on set-up work the ROI never did.
 *
 * The guest's x86 tables (ctx->cr3 in the gpa space) are enumerated leaf by
 * leaf. Shadow and Agile entries are filled per guest VA; EPT02 entries per
 * guest-physical page the ROI's walks can need: every page a guest leaf maps
 * and every guest page-table page. Each fill is the model's own on-demand
 * fill (mmu_walk_own.c) run silently: no counter, cache or walk cache moves.
 */
#include "mmu_walk.h"

struct prefill {
	struct mmu_scheme_state *st;
	const struct mmu_ctx *ctx;
	bool by_gpa; /* EPT02: fill guest-physical pages, not guest VAs */
};

/* Fills own entries for [addr, addr + len), skipping what one entry already covers. */
static void fill_range(const struct prefill *p, uint64_t addr, uint64_t len)
{
	for (uint64_t a = addr, end = addr + len; a < end;) {
		uint64_t span = mmu_walk_own_prefill(p->st, p->ctx, a);
		if (!span)
			span =
			    MMU_PAGE_SIZE; /* no translation (a guest or EPT fault): skip a page */
		a = (a & ~(span - 1)) + span;
	}
}

static void walk_table(const struct prefill *p, uint64_t table, int level, uint64_t va)
{
	const uint64_t *t = p->ctx->gpa.frame(p->ctx->gpa.ctx, table);

	if (!t)
		return;
	if (p->by_gpa)
		fill_range(p, table, MMU_PAGE_SIZE);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i], span = 1ULL << (12 + 9 * (level - 1));
		uint64_t sub = va | (uint64_t)i << (12 + 9 * (level - 1));
		if (!(e & X86_P))
			continue;
		if (level == 4 && (sub >> 47)) /* canonical upper half */
			sub |= 0xffff000000000000ULL;
		if (level == 1 || (level < 4 && (e & X86_PS))) {
			if (p->by_gpa)
				fill_range(p, e & ADDR_MASK & ~(span - 1), span);
			else
				fill_range(p, sub, span);
			continue;
		}
		walk_table(p, e & ADDR_MASK, level - 1, sub);
	}
}

void mmu_prefill_scheme(struct mmu_scheme_state *st, const struct mmu_ctx *ctx)
{
	struct prefill p = {st, ctx, st->id == MMU_X86_NESTED_EPT02};

	if (!ctx->cr3 || !ctx->gpa.frame)
		return;
	mmu_walk_select_root(st, ctx);
	if (!st->cur_root)
		return; /* the caller keeps this table (shadow_root / ept02_root) */
	walk_table(&p, ctx->cr3 & ADDR_MASK, 4, 0);
}
