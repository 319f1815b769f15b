/* SPDX-License-Identifier: MIT */
/*
 * replay_machine.c: the simulated machines of a replay. The guest (simos)
 * is shared; the "virt" world puts one hypervisor (EPT) under it for the
 * native and virtualized schemes, the "nested" world puts L1 (EPT12 in L1
 * memory) on L0 (EPT01) under it for the nested schemes, each with its own
 * model instance (a context with ept12_root set runs only native and nested
 * schemes). Also the per-batch translation context: roots and DMT registers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"
#include "vma.h"

static uint64_t pow2ceil(uint64_t v)
{
	uint64_t p = 1;
	while (p < v && p < (1ULL << 45))
		p <<= 1;
	return p;
}

/* Guest RAM big enough for every touched chunk twice (data, tables, TEAs). */
static uint64_t guest_mem_size(struct replay *r)
{
	uint64_t chunks = 0;
	for (unsigned i = 0; i < r->nspaces; i++)
		chunks += r->spaces[i].chunks.count;
	uint64_t need = 2 * chunks * (2ULL << 20) + (256ULL << 20);
	uint64_t m = pow2ceil(need);
	return m < (1ULL << 30) ? (1ULL << 30) : m;
}

uint32_t replay_setup_mask(uint32_t mask, enum mmu_setup setup)
{
	uint32_t m = 0;
	for (int s = 0; s < MMU_NSCHEMES; s++)
		if ((mask & MMU_SCHEME_BIT(s)) && mmu_scheme_setup((enum mmu_scheme)s) == setup)
			m |= MMU_SCHEME_BIT(s);
	return m;
}

int replay_setup(struct replay *r)
{
	struct replay_opts *o = r->o;
	uint32_t nested_mask = replay_setup_mask(o->mask, MMU_SETUP_NESTED);
	uint32_t virt_mask = replay_setup_mask(o->mask, MMU_SETUP_VIRT);
	r->world[WORLD_VIRT] = (o->mask & ~nested_mask) != 0;
	r->world[WORLD_NESTED] = nested_mask != 0;
	struct simos_params p = {
	    .thp = o->thp,
	    .tea_min = o->tea_min,
	    .tea_max = o->tea_max,
	    .guest_mem = o->guest_mem ? o->guest_mem : guest_mem_size(r),
	};
	simos_init(&r->os, &p, r->err, ERRLEN);
	unsigned hs = o->host_shift;
	if (r->world[WORLD_VIRT] && virt_mask) {
		/* Host memory starts at 64 GiB so a gPA used as an hPA shows up. */
		physmem_init(&r->host[WORLD_VIRT], "host", 1ULL << 36, 1ULL << 46);
		if (simhv_init(&r->hv_virt, "EPT", &r->os.mem, &r->host[WORLD_VIRT], NULL, hs,
			       p.guest_mem, r->err, ERRLEN) < 0 ||
		    simos_attach_hv(&r->os, &r->hv_virt) < 0)
			return -1;
	}
	if (r->world[WORLD_NESTED]) {
		uint64_t l1_limit = (1ULL << 30) + 2 * p.guest_mem;
		physmem_init(&r->l1, "L1", 1ULL << 30, l1_limit);
		physmem_init(&r->host[WORLD_NESTED], "host (nested)", 1ULL << 36, 1ULL << 46);
		if (simhv_init(&r->hv01, "EPT01", &r->l1, &r->host[WORLD_NESTED], NULL, hs,
			       l1_limit, r->err, ERRLEN) < 0 ||
		    simhv_init(&r->hv12, "EPT12", &r->os.mem, &r->l1, &r->hv01, hs, p.guest_mem,
			       r->err, ERRLEN) < 0 ||
		    simos_attach_hv(&r->os, &r->hv12) < 0)
			return -1;
	}
	for (unsigned i = 0; i < r->nspaces; i++) {
		struct simos_vma *v;
		int nv = vma_cluster(&r->spaces[i].chunks, o->vma_gap, &v);
		if (nv < 0) {
			snprintf(r->err, ERRLEN, "out of memory clustering VMAs");
			return -1;
		}
		struct simos_as *as = simos_add_as(&r->os, r->spaces[i].asid, v, (unsigned)nv);
		free(v);
		if (!as)
			return -1;
	}
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->world[w])
			continue;
		uint32_t m = w == WORLD_NESTED ? nested_mask : (o->mask & ~nested_mask);
		r->sim[w] = mmu_sim_create(&o->cfg, m, r->err, ERRLEN);
		if (!r->sim[w])
			return -1;
	}
	/* one scheme is one task: more threads would only wait */
	if (o->threads > 1 && __builtin_popcount(o->mask) >= 2 &&
	    !(r->lanes = lanes_create(o->threads)))
		fprintf(stderr, "dmtvm replay: cannot start %u model threads; running on one\n",
			o->threads);
	return 0;
}

void replay_teardown(struct replay *r)
{
	lanes_destroy(r->lanes);
	for (int w = 0; w < NWORLDS; w++)
		if (r->sim[w])
			mmu_sim_destroy(r->sim[w]);
	if (r->hv_virt.host)
		simhv_free(&r->hv_virt);
	if (r->hv12.host)
		simhv_free(&r->hv12);
	if (r->hv01.host)
		simhv_free(&r->hv01);
	simos_free(&r->os);
	for (int w = 0; w < NWORLDS; w++)
		if (r->host[w].name)
			physmem_free(&r->host[w]);
	if (r->l1.name)
		physmem_free(&r->l1);
	for (unsigned i = 0; i < r->nspaces; i++)
		u64map_free(&r->spaces[i].chunks);
	free(r->spaces);
	u64map_free(&r->space_index);
	free(r->acc);
}

static struct mmu_dmt_reg host_reg(const struct simhv *hv)
{
	struct mmu_dmt_reg g = {0};
	uint64_t tea_hpa;
	simhv_dmt_reg(hv, &g.base, &g.limit, &g.tea, &tea_hpa, &g.page_shift);
	if (hv->below)
		g.tea_hpa = tea_hpa; /* EPT12 TEA: L1 gPA, host-contiguous at tea_hpa */
	return g;
}

/* The modelled CPU state for the current address space in world w. */
void replay_build_ctx(struct replay *r, int w)
{
	struct mmu_ctx *c = &r->ctx[w];
	struct simos_as *as = r->cur;
	memset(c, 0, sizeof(*c));
	c->gpa.frame = physmem_frame_cb;
	c->gpa.ctx = &r->os.mem;
	c->cr3 = as->cr3;
	c->asid = as->asid;
	int hvi = -1;
	for (unsigned i = 0; i < r->os.nhv; i++)
		if ((w == WORLD_VIRT && r->os.hv[i] == &r->hv_virt) ||
		    (w == WORLD_NESTED && r->os.hv[i] == &r->hv12))
			hvi = (int)i;
	for (unsigned i = 0; i < as->nteas && i < MMU_MAX_DMT_REGS; i++) {
		const struct simos_tea *t = &as->teas[i];
		uint64_t off = ((t->vma_start - t->va_base) >> t->page_shift) * 8;
		struct mmu_dmt_reg *g = &c->guest_regs[i];
		g->base = t->vma_start;
		g->limit = t->vma_end;
		g->tea = t->gpa + off;
		g->tea_hpa = hvi >= 0 ? t->hpa[hvi] + off : 0;
		g->page_shift = t->page_shift;
	}
	c->n_guest_regs = as->nteas < MMU_MAX_DMT_REGS ? as->nteas : MMU_MAX_DMT_REGS;
	if (w == WORLD_VIRT && r->hv_virt.host) {
		c->hpa.frame = physmem_frame_cb;
		c->hpa.ctx = &r->host[WORLD_VIRT];
		c->ept_root = r->hv_virt.ept_root;
		c->host_regs[0] = host_reg(&r->hv_virt);
		c->n_host_regs = 1;
	} else if (w == WORLD_NESTED) {
		c->hpa.frame = physmem_frame_cb;
		c->hpa.ctx = &r->host[WORLD_NESTED];
		c->l1.frame = physmem_frame_cb;
		c->l1.ctx = &r->l1;
		c->ept_root = r->hv01.ept_root;
		c->ept12_root = r->hv12.ept_root;
		c->host_regs[0] = host_reg(&r->hv01);
		c->n_host_regs = 1;
		c->ept12_regs[0] = host_reg(&r->hv12);
		c->n_ept12_regs = 1;
	}
}
