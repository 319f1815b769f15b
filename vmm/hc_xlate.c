/* SPDX-License-Identifier: MIT */
/*
 * hc_xlate.c: the translation hypercalls (dmtvm_abi.h), their argument
 * checks and error codes. The guest is untrusted: every gPA, VA, count and
 * flag is checked here before xlate.c touches anything.
 *   -DMTVM_EINVAL  malformed: reserved flags, misalignment, count over the
 *                  limit, bad page_shift, empty or overlapping ranges,
 *                  nested ALLOC_TEA (level > 0), unknown TEA to free
 *   -DMTVM_EFAULT  an address outside RAM, or records not mapped at va
 *   -DMTVM_ENOMEM  too many address spaces / TEAs, host space exhausted
 *   -DMTVM_ENOSYS  ALLOC_TEA in --mode=native (no hypervisor to ask)
 */
#include <stdlib.h>
#include <string.h>

#include "hypercall.h"
#include "vmm.h"
#include "xlate_internal.h"

#define PAGE 4096ULL

static bool canonical(uint64_t va)
{
	return va < (1ULL << 47) || va >= 0xffff800000000000ULL;
}

/* [va, va + len) canonical and in one half of the address space. */
bool xlate_va_range_ok(uint64_t va, uint64_t len)
{
	if (len == 0)
		return canonical(va);
	uint64_t last = va + len - 1;
	return last >= va && canonical(va) && canonical(last) && (va >> 63) == (last >> 63);
}

/* A PML4 gPA: -EINVAL unaligned, -EFAULT outside RAM, else 0. */
static int check_cr3(const struct vmm *vm, uint64_t cr3)
{
	if (cr3 & (PAGE - 1))
		return -DMTVM_EINVAL;
	return cr3 < vm->mem_size ? 0 : -DMTVM_EFAULT;
}

int xlate_read_virt(struct vmm_xlate *x, const struct mmu_space *sp, uint64_t cr3, uint64_t va,
		    uint64_t count, uint64_t **buf, size_t *cap)
{
	size_t bytes = count * 8;
	if (bytes > *cap) {
		uint64_t *b = realloc(*buf, bytes);
		if (!b)
			return -DMTVM_ENOMEM;
		*buf = b;
		*cap = bytes;
	}
	uint8_t *dst = (uint8_t *)*buf;
	for (size_t off = 0; off < bytes;) {
		uint64_t gpa;
		size_t n = PAGE - ((va + off) & (PAGE - 1));
		if (n > bytes - off)
			n = bytes - off;
		const uint8_t *f = xlate_gva_in(x, sp, cr3, va + off, &gpa) == 0
				       ? sp->frame(sp->ctx, gpa & ~(PAGE - 1))
				       : NULL;
		if (!f)
			return -DMTVM_EFAULT;
		memcpy(dst + off, f + (gpa & (PAGE - 1)), n);
		off += n;
	}
	return 0;
}

int xlate_flush_check(const struct dmtvm_hc_trace_flush *a, int cr3_err)
{
	if (a->flags || a->count > DMTVM_TRACE_FLUSH_MAX || (a->va & 7))
		return -DMTVM_EINVAL;
	if (cr3_err)
		return cr3_err;
	return xlate_va_range_ok(a->va, a->count * 8) ? 0 : -DMTVM_EFAULT;
}

enum vmm_hc_action vmm_hc_trace_flush(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_trace_flush *a = arg;
	struct vmm *vm = vcpu->vm;
	struct vmm_xlate *x = vm->xlate;
	int r = 0;
	if (!x)
		r = -DMTVM_ENOSYS;
	else
		r = xlate_flush_check(a, check_cr3(vm, a->cr3));
	if (r || a->count == 0) {
		a->ret = r;
		return VMM_HC_RESUME;
	}
	pthread_mutex_lock(&x->lock);
	if (xlate_ensure_host(x) < 0)
		r = -DMTVM_ENOMEM;
	else if ((r = xlate_read_virt(x, &(const struct mmu_space){xlate_l1_frame, x}, a->cr3,
				      a->va, a->count, &x->buf, &x->buf_cap)) == 0)
		xlate_run(x, vcpu, a->count, a->cr3, a->asid);
	pthread_mutex_unlock(&x->lock);
	a->ret = r ? r : (int64_t)a->count;
	return VMM_HC_RESUME;
}

bool xlate_regs_overlap(const struct dmtvm_dmt_reg *r, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		for (uint64_t j = i + 1; j < n; j++)
			if (r[i].base < r[j].limit && r[j].base < r[i].limit)
				return true;
	return false;
}

int xlate_reg_shape(const struct dmtvm_dmt_reg *r, uint64_t *bytes)
{
	if (r->page_shift != 12 && r->page_shift != 21)
		return -DMTVM_EINVAL;
	uint64_t mask = (1ULL << r->page_shift) - 1;
	if ((r->flags & ~DMTVM_DMT_REG_PV) || r->base >= r->limit ||
	    ((r->base | r->limit) & mask) || !xlate_va_range_ok(r->base, r->limit - r->base) ||
	    (r->tea_gpa & 7))
		return -DMTVM_EINVAL;
	*bytes = ((r->limit - r->base) >> r->page_shift) * 8;
	return 0;
}

static int check_reg(struct vmm_xlate *x, const struct dmtvm_dmt_reg *r)
{
	uint64_t bytes;
	int e = xlate_reg_shape(r, &bytes);
	if (e)
		return e;
	if (r->tea_gpa >= x->mem_size || bytes > x->mem_size - r->tea_gpa)
		return -DMTVM_EFAULT;
	/* A pvDMT register must describe a TEA the host backed contiguously. */
	if ((r->flags & DMTVM_DMT_REG_PV) &&
	    (!x->hm_ready || !vmm_hostmem_find_tea(&x->hm, r->tea_gpa, bytes)))
		return -DMTVM_EINVAL;
	return 0;
}

int xlate_set_regs(struct xlate_as **set, unsigned *nas, unsigned *cap_as, uint64_t cr3,
		   uint64_t asid, const struct dmtvm_dmt_reg *regs, uint64_t n)
{
	struct xlate_as *as = xlate_find_as_in(*set, *nas, cr3);
	if (n == 0) {
		if (as)
			*as = (*set)[--*nas];
		return 0;
	}
	if (!as) {
		if (*nas == XLATE_MAX_SPACES)
			return -DMTVM_ENOMEM;
		if (*nas == *cap_as) {
			unsigned cap = *cap_as ? 2 * *cap_as : 16;
			struct xlate_as *na = realloc(*set, cap * sizeof(*na));
			if (!na)
				return -DMTVM_ENOMEM;
			*set = na;
			*cap_as = cap;
		}
		as = &(*set)[(*nas)++];
	}
	as->cr3 = cr3;
	as->asid = asid;
	as->nregs = (unsigned)n;
	memcpy(as->regs, regs, n * sizeof(*regs));
	return 0;
}

enum vmm_hc_action vmm_hc_dmt_regs(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_dmt_regs *a = arg;
	struct vmm *vm = vcpu->vm;
	struct vmm_xlate *x = vm->xlate;
	struct dmtvm_dmt_reg regs[DMTVM_DMT_REGS_MAX];
	int r = 0;
	if (!x)
		r = -DMTVM_ENOSYS;
	else if (a->count > DMTVM_DMT_REGS_MAX || (a->regs_gpa & 7))
		r = -DMTVM_EINVAL;
	else if ((r = check_cr3(vm, a->cr3)) == 0 && a->count) {
		const void *g = vmm_gpa(vm, a->regs_gpa, a->count * sizeof(regs[0]));
		if (!g)
			r = -DMTVM_EFAULT;
		else
			memcpy(regs, g, a->count * sizeof(regs[0]));
	}
	if (r) {
		a->ret = r;
		return VMM_HC_RESUME;
	}
	pthread_mutex_lock(&x->lock);
	if (xlate_ensure_host(x) < 0)
		r = -DMTVM_ENOMEM;
	for (uint64_t i = 0; r == 0 && i < a->count; i++)
		r = check_reg(x, &regs[i]);
	if (r == 0 && xlate_regs_overlap(regs, a->count))
		r = -DMTVM_EINVAL;
	if (r == 0)
		r = xlate_set_regs(&x->as, &x->nas, &x->cap_as, a->cr3, a->asid, regs, a->count);
	pthread_mutex_unlock(&x->lock);
	a->ret = r;
	return VMM_HC_RESUME;
}

enum vmm_hc_action vmm_hc_pt_update(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_pt_update *a = arg;
	struct vmm *vm = vcpu->vm;
	struct vmm_xlate *x = vm->xlate;
	int r = 0;
	if (!x)
		r = -DMTVM_ENOSYS;
	else if ((r = check_cr3(vm, a->cr3)) == 0 && a->len && a->va + a->len < a->va)
		r = -DMTVM_EINVAL;
	if (r) {
		a->ret = r;
		return VMM_HC_RESUME;
	}
	pthread_mutex_lock(&x->lock);
	if (xlate_ensure_host(x) < 0) {
		r = -DMTVM_ENOMEM;
	} else {
		/* Shadow schemes drop their entries and count the exit. */
		xlate_build_ctx(x, a->cr3, a->asid);
		xlate_invalidate(x, a->va, a->len);
		xlate_trace_invalidate(x, a->va, a->len, a->asid);
		x->pt_updates++;
	}
	pthread_mutex_unlock(&x->lock);
	a->ret = r;
	return VMM_HC_RESUME;
}

/* pgcnt bound: 1 GiB of TEA maps 512 GiB of 4 KiB pages. */
#define ALLOC_TEA_MAX_PAGES (1ULL << 18)

enum vmm_hc_action vmm_hc_alloc_tea(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_alloc_tea *a = arg;
	struct vmm *vm = vcpu->vm;
	struct vmm_xlate *x = vm->xlate;
	int r = 0;
	uint64_t reserved = a->mode & 0xfffffe00ULL; /* bits 9..31 */
	if (!x || !x->virt)
		r = -DMTVM_ENOSYS;
	else if (DMTVM_TEA_MODE_LEVEL(a->mode) != 0)
		r = -DMTVM_EINVAL; /* forwarding to the next hypervisor down: nesting */
	else if (reserved || (a->gpa & (PAGE - 1)) || a->pgcnt == 0 ||
		 a->pgcnt > ALLOC_TEA_MAX_PAGES)
		r = -DMTVM_EINVAL;
	else if (a->gpa >= vm->mem_size || a->pgcnt * PAGE > vm->mem_size - a->gpa)
		r = -DMTVM_EFAULT;
	if (r) {
		a->ret = r;
		return VMM_HC_RESUME;
	}
	pthread_mutex_lock(&x->lock);
	uint64_t hpa = 0;
	if (xlate_ensure_host(x) < 0)
		r = -DMTVM_ENOMEM;
	else if (DMTVM_TEA_MODE_FREE(a->mode))
		r = vmm_hostmem_free_tea(&x->hm, a->gpa, a->pgcnt * PAGE);
	else
		r = vmm_hostmem_alloc_tea(&x->hm, a->id, a->gpa, a->pgcnt * PAGE, &hpa);
	pthread_mutex_unlock(&x->lock);
	a->hpa = hpa;
	a->ret = r;
	return VMM_HC_RESUME;
}
