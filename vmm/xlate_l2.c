/* SPDX-License-Identifier: MIT */
/*
 * xlate_l2.c: the L2 level of the model at L0 (xlate.h, "Nesting"). L2's
 * measurement hypercalls reach L0 directly (nkvm.c: magic instructions) and
 * are served here with their own model instance and counters, so L1-level
 * and L2-level figures never mix. The nested context (mmu.h) is:
 *   gpa   L2 guest-physical memory: L2 gPA -> L1 gPA by L2's memslots, then
 *         this VM's RAM (the L1 frames backing L1 dmtvm's guest RAM);
 *   hpa   L0's hostmem: L1 RAM at its modelled hPAs, EPT01, host TEAs;
 *   EPT12 L1 dmtvm's table (L2 gPA -> L1 gPA, in L1 RAM) and its DMT
 *         registers, registered with DMTVM_KVM_SET_EPT12; an EPT12 TEA that
 *         L1 obtained from L0 with pvDMT is host-contiguous (tea_hpa);
 *   L2's DMT registers from L2's DMT_REGS (TEA gPAs are L2 gPAs; a pvDMT
 *         TEA's hPA through the memslots and hostmem).
 * x86-nested-ept02 keeps its own shadow EPT02 (as KVM does): its fills and
 * invalidations are the EPT02 maintenance work. Same argument checks and
 * error codes as the L1-level handlers (hc_xlate.c), with L2 gPAs checked
 * against the memslots. Every entry point takes x->lock.
 */
#include <stdlib.h>
#include <string.h>

#include "nkvm.h"
#include "vmm.h"
#include "dmtvm_trace.h"
#include "xlate_internal.h"

#define PAGE 4096ULL

struct xlate_l2 {
	struct vmm_xlate *x;
	struct xlate_sims model; /* nested schemes, split like L1's */
	struct mmu_ctx ctx;
	const struct vmm_xlate_l2_view *view; /* of the current call */
	struct xlate_as *as;		      /* L2 address spaces' DMT registers */
	unsigned nas, cap_as;
	uint64_t *buf;
	size_t buf_cap;
	enum xlate_roi roi;
	uint64_t records, flushes, simulated, pt_updates, model_ns;
	uint64_t progress_ns, progress_records;
};

/* A line every 2 s while L2 traces, as the L1 level's (xlate.c). */
static void progress(struct xlate_l2 *l2, uint64_t now)
{
	if (!l2->progress_ns) {
		l2->progress_ns = now;
		return;
	}
	if (now - l2->progress_ns < 2000000000ULL)
		return;
	double dt = (double)(now - l2->progress_ns) / 1e9;
	fprintf(stderr, "dmtvm: L2 model: %llu records traced (%.2f M/s over the last %.1f s)\n",
		(unsigned long long)l2->records,
		(double)(l2->records - l2->progress_records) / dt / 1e6, dt);
	l2->progress_ns = now;
	l2->progress_records = l2->records;
}

/* L2 guest-physical memory: through the memslots into L1 RAM. */
static const void *l2_frame(void *ctx, uint64_t gpa)
{
	const struct xlate_l2 *l2 = ctx;
	const struct vmm_xlate *x = l2->x;
	uint64_t l1;
	if (!l2->view ||
	    vmm_memslot_find(l2->view->slots, l2->view->nslots, gpa & ~(PAGE - 1), PAGE, &l1) < 0 ||
	    l1 >= x->mem_size || PAGE > x->mem_size - l1)
		return NULL;
	return x->ram + l1;
}

static struct xlate_l2 *get_l2(struct vmm_xlate *x)
{
	if (x->l2)
		return x->l2;
	struct xlate_l2 *l2 = calloc(1, sizeof(*l2));
	char err[160];
	if (!l2 || xlate_sims_create(x, &l2->model, x->l2_mask, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm: L2: cannot create the L2 model: %s\n",
			l2 ? err : "out of memory");
		free(l2);
		return NULL;
	}
	l2->x = x;
	x->l2 = l2;
	return l2;
}

/* Takes x->lock (always) and returns the L2 model looking through view v,
 * or NULL (host memory or the model could not be built). */
static struct xlate_l2 *lock_l2(struct vmm_xlate *x, const struct vmm_xlate_l2_view *v)
{
	pthread_mutex_lock(&x->lock);
	struct xlate_l2 *l2 = NULL;
	if (xlate_ensure_host(x) < 0 || !(l2 = get_l2(x)))
		return NULL;
	l2->view = v;
	return l2;
}

void xlate_l2_reset_counters(struct vmm_xlate *x)
{
	if (x->l2)
		xlate_sims_reset(&x->l2->model);
}

/* An L2 PML4 gPA: -EINVAL unaligned, -EFAULT not in a memslot, else 0. */
static int check_cr3(const struct vmm_xlate_l2_view *v, uint64_t cr3)
{
	uint64_t l1;
	if (cr3 & (PAGE - 1))
		return -DMTVM_EINVAL;
	return vmm_memslot_find(v->slots, v->nslots, cr3, PAGE, &l1) == 0 ? 0 : -DMTVM_EFAULT;
}

static void build_ctx(struct xlate_l2 *l2, uint64_t cr3, uint64_t asid)
{
	struct vmm_xlate *x = l2->x;
	const struct vmm_xlate_l2_view *v = l2->view;
	struct mmu_ctx *c = &l2->ctx;
	memset(c, 0, sizeof(*c));
	c->gpa.frame = l2_frame;
	c->gpa.ctx = l2;
	c->l1.frame = xlate_l1_frame;
	c->l1.ctx = x;
	c->cr3 = cr3;
	c->asid = asid;
	xlate_host_ctx(x, c); /* hpa space and EPT01 */
	if (x->hm_ready && v->ept12_root) {
		c->ept12_root = v->ept12_root;
		for (unsigned i = 0; i < v->n_ept12 && i < MMU_MAX_DMT_REGS; i++) {
			const struct dmtvm_ept12_reg *r = &v->ept12[i];
			struct mmu_dmt_reg *m = &c->ept12_regs[i];
			uint64_t bytes = ((r->limit - r->base) >> r->page_shift) * 8;
			m->base = r->base;
			m->limit = r->limit;
			m->tea = r->tea;
			m->page_shift = (uint32_t)r->page_shift;
			/* pvDMT nested: L1 got this TEA host-contiguous from us. */
			if (vmm_hostmem_find_tea(&x->hm, r->tea, bytes))
				m->tea_hpa = vmm_hostmem_hpa(&x->hm, r->tea);
		}
		c->n_ept12_regs = v->n_ept12;
	}
	const struct xlate_as *as = xlate_find_as_in(l2->as, l2->nas, cr3);
	for (unsigned i = 0; as && i < as->nregs; i++) {
		const struct dmtvm_dmt_reg *r = &as->regs[i];
		struct mmu_dmt_reg *g = &c->guest_regs[i];
		uint64_t bytes = ((r->limit - r->base) >> r->page_shift) * 8, l1;
		xlate_guest_reg(r, g);
		/* The memslots may have changed since DMT_REGS: look again. */
		if ((r->flags & DMTVM_DMT_REG_PV) && x->hm_ready &&
		    vmm_memslot_find(v->slots, v->nslots, r->tea_gpa, bytes, &l1) == 0)
			g->tea_hpa = vmm_hostmem_hpa(&x->hm, l1);
	}
	c->n_guest_regs = as ? as->nregs : 0;
}

void vmm_xlate_l2_trace_flush(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			      struct dmtvm_hc_trace_flush *a)
{
	struct vmm_xlate *x = vm->xlate;
	int r = 0;
	if (!x || !x->virt)
		r = -DMTVM_ENOSYS; /* no EPT01 under L1: nothing nested to model */
	else
		r = xlate_flush_check(a, check_cr3(v, a->cr3));
	if (r || a->count == 0) {
		a->ret = r;
		return;
	}
	struct xlate_l2 *l2 = lock_l2(x, v);
	if (!l2) {
		r = -DMTVM_ENOMEM;
	} else {
		if ((r = xlate_read_virt(x, &(const struct mmu_space){l2_frame, l2}, a->cr3, a->va,
					 a->count, &l2->buf, &l2->buf_cap)) == 0) {
			/* --trace-out: L2's records too, its address spaces tagged as L2's. */
			xlate_trace_out(x, l2->buf, a->count, DMTVM_TRACE_ASID_L2 | a->asid);
			build_ctx(l2, a->cr3, a->asid);
			uint64_t t0 = vmm_now_ns();
			l2->roi = xlate_sims_run(x, &l2->model, &l2->ctx, l2->buf, a->count,
						 l2->roi, &l2->simulated);
			l2->model_ns += vmm_now_ns() - t0;
			l2->records += a->count;
			l2->flushes++;
			progress(l2, vmm_now_ns());
		}
		l2->view = NULL;
	}
	pthread_mutex_unlock(&x->lock);
	a->ret = r ? r : (int64_t)a->count;
}

static int check_reg(struct vmm_xlate *x, const struct vmm_xlate_l2_view *v,
		     const struct dmtvm_dmt_reg *r)
{
	uint64_t bytes, l1;
	int e = xlate_reg_shape(r, &bytes);
	if (e)
		return e;
	if (vmm_memslot_find(v->slots, v->nslots, r->tea_gpa, bytes, &l1) < 0)
		return -DMTVM_EFAULT;
	/* A pvDMT register: L1 forwarded the TEA to us and we backed it. */
	if ((r->flags & DMTVM_DMT_REG_PV) && !vmm_hostmem_find_tea(&x->hm, l1, bytes))
		return -DMTVM_EINVAL;
	return 0;
}

void vmm_xlate_l2_dmt_regs(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			   struct dmtvm_hc_dmt_regs *a)
{
	struct vmm_xlate *x = vm->xlate;
	struct dmtvm_dmt_reg regs[DMTVM_DMT_REGS_MAX];
	uint64_t l1;
	int r = 0;
	if (!x || !x->virt)
		r = -DMTVM_ENOSYS;
	else if (a->count > DMTVM_DMT_REGS_MAX || (a->regs_gpa & 7))
		r = -DMTVM_EINVAL;
	else if ((r = check_cr3(v, a->cr3)) == 0 && a->count) {
		if (vmm_memslot_find(v->slots, v->nslots, a->regs_gpa, a->count * sizeof(regs[0]),
				     &l1) < 0 ||
		    !vmm_gpa(vm, l1, a->count * sizeof(regs[0])))
			r = -DMTVM_EFAULT;
		else
			memcpy(regs, vm->ram + l1, a->count * sizeof(regs[0]));
	}
	if (r) {
		a->ret = r;
		return;
	}
	pthread_mutex_lock(&x->lock);
	struct xlate_l2 *l2 = NULL;
	if (xlate_ensure_host(x) < 0 || !(l2 = get_l2(x)))
		r = -DMTVM_ENOMEM;
	for (uint64_t i = 0; r == 0 && i < a->count; i++)
		r = check_reg(x, v, &regs[i]);
	if (r == 0 && xlate_regs_overlap(regs, a->count))
		r = -DMTVM_EINVAL;
	if (r == 0)
		r = xlate_set_regs(&l2->as, &l2->nas, &l2->cap_as, a->cr3, a->asid, regs, a->count);
	pthread_mutex_unlock(&x->lock);
	a->ret = r;
}

void vmm_xlate_l2_pt_update(struct vmm *vm, const struct vmm_xlate_l2_view *v,
			    struct dmtvm_hc_pt_update *a)
{
	struct vmm_xlate *x = vm->xlate;
	int r = 0;
	if (!x || !x->virt)
		r = -DMTVM_ENOSYS;
	else if ((r = check_cr3(v, a->cr3)) == 0 && a->len && a->va + a->len < a->va)
		r = -DMTVM_EINVAL;
	if (r) {
		a->ret = r;
		return;
	}
	struct xlate_l2 *l2 = lock_l2(x, v);
	if (!l2) {
		r = -DMTVM_ENOMEM;
	} else {
		/* EPT02 and the TLBs drop what the change touched; counted by the model. */
		build_ctx(l2, a->cr3, a->asid);
		xlate_sims_invalidate(&l2->model, &l2->ctx, a->va, a->len);
		l2->view = NULL;
		l2->pt_updates++;
	}
	pthread_mutex_unlock(&x->lock);
	a->ret = r;
}

void vmm_xlate_l2_forget(struct vmm *vm)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	if (x->l2)
		x->l2->nas = 0;
	pthread_mutex_unlock(&x->lock);
}

char *vmm_xlate_l2_counters_json(struct vmm *vm)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	pthread_mutex_lock(&x->lock);
	FILE *f = x->l2 ? open_memstream(&buf, &len) : NULL;
	if (f)
		xlate_sims_json(&x->l2->model, f);
	pthread_mutex_unlock(&x->lock);
	return f ? xlate_one_line(f, &buf, &len) : NULL;
}

void vmm_xlate_l2_report_table(struct vmm *vm, FILE *out)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x || !x->l2 || !x->l2->records)
		return;
	const struct xlate_l2 *l2 = x->l2;
	double s = (double)l2->model_ns / 1e9;
	fprintf(out,
		"dmtvm: L2 model (nested: L2 tables x EPT12 x EPT01): %llu records in %llu "
		"flushes, %llu simulated, %llu page-table updates, %.3f s in the model\n",
		(unsigned long long)l2->records, (unsigned long long)l2->flushes,
		(unsigned long long)l2->simulated, (unsigned long long)l2->pt_updates, s);
	xlate_sims_table(&l2->model, out);
}
