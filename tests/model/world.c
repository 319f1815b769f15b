/* SPDX-License-Identifier: MIT */
/* world.c: builds the test machine described in world.h. */
#include <string.h>

#include "world.h"

void world_build(struct world *w, int ept_level, bool nested)
{
	uint64_t cr3, ept, tea;

	memset(w, 0, sizeof(*w));
	w->nested = nested;
	fx_init(&w->g, W_GSIZE, 0x100000);
	fx_init(&w->h, W_HSIZE, 0x1000);
	w->lg.own = &w->g;
	w->lh.own = &w->h;
	/* guest tables: the 4 KiB VMA first so its PT pages are contiguous (TEA) */
	cr3 = fx_alloc(&w->g);
	w->ctx.cr3 = cr3;
	for (uint64_t o = 0; o < (4ULL << 20); o += 4096)
		fx_map(&w->g, cr3, W_VA4K + o, W_DATA4K + o, 1, false);
	w->gtea = *world_gentry(w, W_VA4K, 2) & 0x000ffffffffff000ULL;
	for (uint64_t o = 0; o < (4ULL << 20); o += 2ULL << 20)
		fx_map(&w->g, cr3, W_VA2M + o, W_DATA2M + o, 2, false);

	w->ctx.gpa.frame = fx_frame;
	w->ctx.gpa.ctx = &w->g;
	w->ctx.hpa.frame = fx_layer_frame;
	w->ctx.hpa.ctx = &w->lh;
	w->ctx.cr3 = cr3;
	w->ctx.asid = 1;
	w->ctx.n_guest_regs = 1;
	w->ctx.guest_regs[0].base = W_VA4K;
	w->ctx.guest_regs[0].limit = W_VA4K + (4ULL << 20);
	w->ctx.guest_regs[0].tea = w->gtea;
	w->ctx.guest_regs[0].page_shift = 12;
	if (!nested) {
		w->lh.child = &w->lg;
		w->lh.child_base = W_OFF;
		w->lh.child_size = W_GSIZE;
		ept = fx_ept_linear(&w->h, W_GSIZE, W_OFF, ept_level, &tea);
		w->ctx.ept_root = ept;
		w->ctx.guest_regs[0].tea_hpa = w->gtea + W_OFF;
		w->ctx.n_host_regs = 1;
		w->ctx.host_regs[0] =
		    (struct mmu_dmt_reg){0, W_GSIZE, tea, 0, ept_level == 2 ? 21 : 12, 0};
		w->htea = tea;
		return;
	}
	fx_init(&w->l1, W_L1SIZE, 0x1000);
	w->ll1.own = &w->l1;
	w->ll1.child = &w->lg;
	w->ll1.child_base = W_OFF12;
	w->ll1.child_size = W_GSIZE;
	w->lh.child = &w->ll1;
	w->lh.child_base = W_OFF;
	w->lh.child_size = W_L1SIZE;
	w->ctx.ept12_root = fx_ept_linear(&w->l1, W_GSIZE, W_OFF12, 1, &tea);
	w->ctx.n_ept12_regs = 1;
	w->ctx.ept12_regs[0] = (struct mmu_dmt_reg){0, W_GSIZE, tea, tea + W_OFF, 12, 0};
	w->ctx.ept_root = fx_ept_linear(&w->h, W_L1SIZE, W_OFF, ept_level, &tea);
	w->ctx.n_host_regs = 1;
	w->ctx.host_regs[0] =
	    (struct mmu_dmt_reg){0, W_L1SIZE, tea, 0, ept_level == 2 ? 21 : 12, 0};
	w->htea = tea;
	w->ctx.guest_regs[0].tea_hpa = w->gtea + W_OFF12 + W_OFF;
}

void world_free(struct world *w)
{
	fx_free(&w->g);
	fx_free(&w->h);
	if (w->nested)
		fx_free(&w->l1);
}

uint64_t *world_gentry(struct world *w, uint64_t va, int level)
{
	return fx_walk_entry(&w->g, w->ctx.cr3, va, level, false);
}
