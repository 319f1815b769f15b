/* SPDX-License-Identifier: MIT */
/* gups_world.c: builds the machine described in gups_world.h. */
#include <string.h>

#include "gups_world.h"

#define HSIZE (8ULL << 30)   /* host's own table frames */
#define DATA0 (256ULL << 20) /* data frames in guest RAM from here */

/*
 * Guest (L2) RAM: 2 GiB, or twice the VMA for a larger one; L2 RAM sits in
 * L1 at OFF12 = its size, L1 RAM (twice that) in the host at OFF01 = 64 GiB,
 * where the VMM and replay place host RAM (so that the cache model sees
 * their addresses: an address fold that hit this range once cost replay
 * 26 % more instructions and did not show here). All memories are sparse
 * reservations: only table frames are touched (the model never reads data
 * frames).
 */
#define GRAM(w)	 ((w)->vsize <= (1ULL << 30) ? 2ULL << 30 : 2 * (w)->vsize)
#define OFF12(w) GRAM(w)
#define L1RAM(w) (2 * GRAM(w))
#define OFF01(w) (64ULL << 30)

void gups_world_build(struct gups_world *w, uint64_t vsize, int pshift)
{
	uint64_t npages = vsize >> pshift, cr3, tea, gtea;
	int lvl = pshift == 21 ? 2 : 1;
	struct mmu_ctx *v = &w->vctx, *n = &w->nctx;

	memset(w, 0, sizeof(*w));
	w->vsize = vsize;
	w->pshift = pshift;
	fx_init(&w->g, GRAM(w), 0x100000);
	fx_init(&w->l1, L1RAM(w), 0x1000);
	fx_init(&w->h, HSIZE, 0x1000);
	fx_init(&w->h2, HSIZE, 0x1000);
	w->lg.own = &w->g;
	/* guest tables: PT pages allocated in VA order = the VMA's TEA; data
	 * frames scattered over guest RAM by an odd-multiplier permutation */
	cr3 = fx_alloc(&w->g);
	for (uint64_t i = 0; i < npages; i++)
		fx_map(&w->g, cr3, GW_VMA + (i << pshift),
		       DATA0 + (((i * 0x9E3779B1ULL) & (npages - 1)) << pshift), lvl, false);
	gtea = *fx_walk_entry(&w->g, cr3, GW_VMA, lvl + 1, false) & 0x000ffffffffff000ULL;

	/* virtualized: guest RAM at hPA + OFF01, EPT with a host TEA */
	w->lh.own = &w->h;
	w->lh.child = &w->lg;
	w->lh.child_base = OFF01(w);
	w->lh.child_size = GRAM(w);
	v->gpa = (struct mmu_space){fx_frame, &w->g};
	v->hpa = (struct mmu_space){fx_layer_frame, &w->lh};
	v->cr3 = cr3;
	v->asid = 1;
	v->ept_root = fx_ept_linear(&w->h, GRAM(w), OFF01(w), lvl, &tea);
	v->n_guest_regs = 1;
	v->guest_regs[0] = (struct mmu_dmt_reg){GW_VMA,		 GW_VMA + vsize,   gtea,
						gtea + OFF01(w), (uint32_t)pshift, 0};
	v->n_host_regs = 1;
	v->host_regs[0] = (struct mmu_dmt_reg){0, GRAM(w), tea, 0, (uint32_t)pshift, 0};

	/* nested: L2 RAM in L1 at + OFF12, L1 RAM in host at + OFF01 */
	*n = *v;
	w->ll1.own = &w->l1;
	w->ll1.child = &w->lg;
	w->ll1.child_base = OFF12(w);
	w->ll1.child_size = GRAM(w);
	w->lh2.own = &w->h2;
	w->lh2.child = &w->ll1;
	w->lh2.child_base = OFF01(w);
	w->lh2.child_size = L1RAM(w);
	n->hpa = (struct mmu_space){fx_layer_frame, &w->lh2};
	n->ept12_root = fx_ept_linear(&w->l1, GRAM(w), OFF12(w), lvl, &tea);
	n->n_ept12_regs = 1;
	n->ept12_regs[0] =
	    (struct mmu_dmt_reg){0, GRAM(w), tea, tea + OFF01(w), (uint32_t)pshift, 0};
	n->ept_root = fx_ept_linear(&w->h2, L1RAM(w), OFF01(w), lvl, &tea);
	n->host_regs[0] = (struct mmu_dmt_reg){0, L1RAM(w), tea, 0, (uint32_t)pshift, 0};
	n->guest_regs[0].tea_hpa = gtea + OFF12(w) + OFF01(w);
}

void gups_world_free(struct gups_world *w)
{
	fx_free(&w->g);
	fx_free(&w->l1);
	fx_free(&w->h);
	fx_free(&w->h2);
}
