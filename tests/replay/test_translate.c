/* SPDX-License-Identifier: MIT */
/*
 * test_translate.c: simos tables against the model. simos maps pages in a
 * guest with a TEA VMA and small VMAs, over one hypervisor (virt world) and
 * over L1 on L0 (nested world); then for every mapped page the model's
 * stand-alone walk (mmu_translate) under EVERY scheme must reach the
 * physical address found by software walks of simos' own tables, without a
 * fault, and the DMT schemes must hit their registers with exactly the
 * paper's reference counts (DMT 1, DMT-virt 3, pvDMT 2, pvDMT-nested 3;
 * x86 4 / 24 / 124; 2 MiB pages: 3 / 15 / 1).
 */
#include <stdlib.h>

#include "check.h"
#include "mmu.h"
#include "pgtable.h"
#include "simhv.h"
#include "simos.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define VA0 0x7f0000000000ULL

static char err[512];

struct world {
	struct simos os;
	struct physmem host, l1, hostn;
	struct simhv hv, hv01, hv12;
	struct simos_as *as;
};

static struct mmu_dmt_reg reg_of(const struct simhv *hv)
{
	struct mmu_dmt_reg g = {0};
	uint64_t tea_hpa;
	simhv_dmt_reg(hv, &g.base, &g.limit, &g.tea, &tea_hpa, &g.page_shift);
	if (hv->below)
		g.tea_hpa = tea_hpa;
	return g;
}

/* The same context replay builds (replay_machine.c), per world. */
static void ctx_of(struct world *w, bool nested, struct mmu_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->gpa.frame = physmem_frame_cb;
	c->gpa.ctx = &w->os.mem;
	c->cr3 = w->as->cr3;
	for (unsigned i = 0; i < w->as->nteas; i++) {
		const struct simos_tea *t = &w->as->teas[i];
		uint64_t off = ((t->vma_start - t->va_base) >> t->page_shift) * 8;
		c->guest_regs[i].base = t->vma_start;
		c->guest_regs[i].limit = t->vma_end;
		c->guest_regs[i].tea = t->gpa + off;
		c->guest_regs[i].tea_hpa = t->hpa[nested ? 1 : 0] + off;
		c->guest_regs[i].page_shift = t->page_shift;
	}
	c->n_guest_regs = w->as->nteas;
	c->hpa.frame = physmem_frame_cb;
	c->n_host_regs = 1;
	if (!nested) {
		c->hpa.ctx = &w->host;
		c->ept_root = w->hv.ept_root;
		c->host_regs[0] = reg_of(&w->hv);
		return;
	}
	c->hpa.ctx = &w->hostn;
	c->l1.frame = physmem_frame_cb;
	c->l1.ctx = &w->l1;
	c->ept_root = w->hv01.ept_root;
	c->ept12_root = w->hv12.ept_root;
	c->host_regs[0] = reg_of(&w->hv01);
	c->ept12_regs[0] = reg_of(&w->hv12);
	c->n_ept12_regs = 1;
}

static void world_init(struct world *w, bool thp)
{
	struct simos_params p = {
	    .thp = thp, .tea_min = 64 * MiB, .tea_max = 16, .guest_mem = 2 * GiB};
	unsigned hs = thp ? 21 : 12;
	memset(w, 0, sizeof(*w));
	simos_init(&w->os, &p, err, sizeof(err));
	physmem_init(&w->host, "host", 1ULL << 36, 1ULL << 46);
	physmem_init(&w->l1, "L1", GiB, 6 * GiB);
	physmem_init(&w->hostn, "host (nested)", 1ULL << 37, 1ULL << 46);
	CHECK_EQ(
	    simhv_init(&w->hv, "EPT", &w->os.mem, &w->host, NULL, hs, 2 * GiB, err, sizeof(err)),
	    0);
	CHECK_EQ(
	    simhv_init(&w->hv01, "EPT01", &w->l1, &w->hostn, NULL, hs, 6 * GiB, err, sizeof(err)),
	    0);
	CHECK_EQ(simhv_init(&w->hv12, "EPT12", &w->os.mem, &w->l1, &w->hv01, hs, 2 * GiB, err,
			    sizeof(err)),
		 0);
	simos_attach_hv(&w->os, &w->hv);
	simos_attach_hv(&w->os, &w->hv12);
	/* A 1 GiB TEA VMA (1 GiB aligned, so THP gets a PD-level TEA), and small ones. */
	struct simos_vma v[3] = {{VA0, VA0 + GiB, -1, 0},
				 {0x400000, 0x800000, -1, 0},
				 {0x7ffffe000000ULL, 0x7ffffe400000ULL, -1, 0}};
	w->as = simos_add_as(&w->os, 0, v, 3);
	CHECK(w->as != NULL);
}

static void world_free(struct world *w)
{
	simhv_free(&w->hv);
	simhv_free(&w->hv12);
	simhv_free(&w->hv01);
	physmem_free(&w->host);
	physmem_free(&w->l1);
	physmem_free(&w->hostn);
	simos_free(&w->os);
}

static void check_va(struct world *w, const struct mmu_config *cfg, struct mmu_ctx *cv,
		     struct mmu_ctx *cn, uint64_t va, bool thp)
{
	uint64_t gpa, hpa, l1pa, hpan;
	CHECK_EQ(pt_lookup(&w->os.mem, PT_X86, w->as->cr3, va, &gpa), 0);
	CHECK_EQ(pt_lookup(&w->host, PT_EPT, w->hv.ept_root, gpa, &hpa), 0);
	CHECK_EQ(pt_lookup(&w->l1, PT_EPT, w->hv12.ept_root, gpa, &l1pa), 0);
	CHECK_EQ(pt_lookup(&w->hostn, PT_EPT, w->hv01.ept_root, l1pa, &hpan), 0);
	bool tea = va >= VA0 && va < VA0 + GiB;
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		enum mmu_setup setup = mmu_scheme_setup((enum mmu_scheme)s);
		struct mmu_walk_result res;
		mmu_translate(cfg, setup == MMU_SETUP_NESTED ? cn : cv, (enum mmu_scheme)s, va,
			      MMU_LOAD, &res);
		uint64_t want = setup == MMU_SETUP_NATIVE ? gpa
				: setup == MMU_SETUP_VIRT ? hpa
							  : hpan;
		if (res.fault || res.pa != want) {
			fprintf(stderr,
				"%s: va 0x%llx: fault %d (dim %d level %d) pa 0x%llx, "
				"expected 0x%llx\n",
				mmu_scheme_name((enum mmu_scheme)s), (unsigned long long)va,
				res.fault, res.fault_dim, res.fault_level,
				(unsigned long long)res.pa, (unsigned long long)want);
			check_failures++;
			continue;
		}
		int refs = -1;
		switch (s) {
		case MMU_X86_NATIVE:
			refs = thp ? 3 : 4;
			break;
		case MMU_X86_2D:
			refs = thp ? 15 : 24;
			break;
		case MMU_X86_3D:
			refs = thp ? 63 : 124; /* (3+1)^3 - 1 with 2 MiB at every level */
			break;
		case MMU_DMT_NATIVE:
			refs = tea ? 1 : (thp ? 3 : 4);
			break;
		case MMU_DMT_VIRT:
			refs = tea ? 3 : -1;
			break;
		case MMU_PVDMT:
			refs = tea ? 2 : -1;
			break;
		case MMU_PVDMT_NESTED:
			refs = tea ? 3 : -1;
			break;
		}
		if (refs >= 0 && res.refs != (uint32_t)refs) {
			fprintf(stderr, "%s: va 0x%llx (%s, %s): %u refs, expected %d\n",
				mmu_scheme_name((enum mmu_scheme)s), (unsigned long long)va,
				tea ? "TEA" : "no TEA", thp ? "2M" : "4K", res.refs, refs);
			check_failures++;
		}
		bool dmt = s == MMU_DMT_NATIVE || s == MMU_DMT_VIRT || s == MMU_PVDMT ||
			   s == MMU_PVDMT_NESTED;
		if (dmt && tea && !res.dmt_hit) {
			fprintf(stderr, "%s: va 0x%llx: no DMT register hit\n",
				mmu_scheme_name((enum mmu_scheme)s), (unsigned long long)va);
			check_failures++;
		}
	}
}

static void run(bool thp)
{
	struct world *w = calloc(1, sizeof(*w));
	struct mmu_ctx *cv = malloc(sizeof(*cv)), *cn = malloc(sizeof(*cn));
	struct mmu_config cfg;
	mmu_config_default(&cfg);
	world_init(w, thp);
	uint64_t vas[64];
	unsigned n = 0;
	uint64_t x = 12345;
	for (; n < 48; n++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		vas[n] = VA0 + (x >> 20) % GiB;
	}
	vas[n++] = VA0;
	vas[n++] = VA0 + GiB - 1;
	vas[n++] = 0x400000;
	vas[n++] = 0x7ffffe3ffff8ULL; /* top of the stack-like VMA */
	for (unsigned i = 0; i < n; i++)
		CHECK(simos_touch(&w->os, w->as, vas[i]) >= 0);
	CHECK_EQ(w->as->nteas, 1);
	ctx_of(w, false, cv);
	ctx_of(w, true, cn);
	for (unsigned i = 0; i < n; i++)
		check_va(w, &cfg, cv, cn, vas[i], thp);
	world_free(w);
	free(w);
	free(cv);
	free(cn);
}

int main(void)
{
	run(false);
	run(true);
	if (check_failures) {
		fprintf(stderr, "test_translate: %d check(s) failed\n", check_failures);
		return 1;
	}
	printf("test_translate: ok\n");
	return 0;
}
