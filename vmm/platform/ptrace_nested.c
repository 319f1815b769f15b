/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace_nested.c: L0's side of nesting on the ptrace platform.
 * L1's paravirtual /dev/kvm (nkvm.c) needs an L2 VM on L0's platform; on
 * KVM that is a second KVM VM, here it is a second emulated vCPU with its
 * own kernel and user processes (spawned with L1's, since the vCPU thread
 * cannot fork once its seccomp filter is on), whose guest-physical memory
 * is L2's memslots onto the L1 frames that back them (offsets in the same
 * memfd). This file serves the KVM ioctls dmtvm issues (nkvm.c's allow
 * list) with KVM's semantics: registers, special registers, KVM_TRANSLATE,
 * and KVM_RUN with its exits written into a kvm_run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptrace.h"
#include "vmm.h"

#define L2_RUN_SIZE (2 * 4096) /* kvm_run, then the port I/O data page */

struct vmm_l2vm {
	struct pt_vcpu c; /* one vCPU (DMTVM_KVM_MAX_VCPUS) */
	struct vmm_memslot slots[32];
	bool vcpu_made;
	struct vmm_vcpu *l1; /* whose spare processes run it */
	void *run;	     /* the vCPU's kvm_run area (L2_RUN_SIZE) */
};

static struct vmm_l2vm *pt_l2_create(struct vmm_vcpu *l1, int *errp)
{
	struct pt_vcpu *p = l1->pl;
	char err[160];
	if (!p || pt_take_spares(l1->vm, p, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm: L2 on ptrace: %s\n", err);
		*errp = ENODEV;
		return NULL;
	}
	struct vmm_l2vm *l2 = calloc(1, sizeof(*l2));
	if (!l2) {
		*errp = ENOMEM;
		return NULL;
	}
	struct pt_vcpu *c = &l2->c;
	c->k = p->l2k;
	c->u = p->l2u;
	c->k.tlb = (struct pt_tlb){0};
	c->u.tlb = (struct pt_tlb){0};
	c->ram_fd = p->ram_fd;
	c->tlb_max = p->tlb_max;
	c->mem =
	    (struct pt_mem){.ram = p->mem.ram, .ram_size = p->mem.ram_size, .slots = l2->slots};
	/* KVM's reset state: real mode, until L1 sets the registers. */
	c->cr0 = 0x60000010;
	c->cs = 0xf000;
	l2->l1 = l1;
	return l2;
}

/* The spare processes go back to L1's vCPU, emptied. */
static void pt_l2_destroy(struct vmm_l2vm *l2)
{
	if (!l2)
		return;
	struct pt_vcpu *p = l2->l1->pl;
	pt_tlb_flush(&l2->c, &l2->c.k, false);
	pt_tlb_flush(&l2->c, &l2->c.u, false);
	p->l2k.regs = l2->c.k.regs;
	p->l2u.regs = l2->c.u.regs;
	p->l2k.dirty = p->l2u.dirty = true;
	free(l2->run);
	free(l2);
}

static int pt_l2_set_slots(struct vmm_l2vm *l2, const struct vmm_memslot *s, unsigned n)
{
	if (n > 32)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		l2->slots[i] = s[i];
	l2->c.mem.nslots = n;
	/* New memory behind the same gPAs: nothing cached may survive. */
	pt_tlb_flush(&l2->c, &l2->c.k, false);
	pt_tlb_flush(&l2->c, &l2->c.u, false);
	return 0;
}

static void seg_out(struct kvm_segment *g, uint16_t sel, bool code, bool l)
{
	*g = (struct kvm_segment){.selector = sel,
				  .limit = 0xffffffff,
				  .type = code ? 11 : 3,
				  .present = 1,
				  .dpl = sel & 3,
				  .s = 1,
				  .l = l,
				  .db = !l,
				  .g = 1};
}

static long get_sregs(struct pt_vcpu *c, struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	seg_out(&s->cs, c->cs, true, true);
	seg_out(&s->ss, c->ss, false, false);
	seg_out(&s->ds, 0, false, false);
	s->es = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->fs.base = c->fs_base;
	s->gs.base = c->gs_base;
	s->tr = (struct kvm_segment){
	    .selector = c->tr_sel, .base = c->tr_base, .limit = 0x67, .type = 11, .present = 1};
	s->gdt.base = c->gdt_base;
	s->gdt.limit = c->gdt_limit;
	s->idt.base = c->idt_base;
	s->idt.limit = c->idt_limit;
	s->cr0 = c->cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->cr3;
	s->cr4 = c->cr4;
	s->efer = c->efer;
	return 0;
}

static long set_sregs(struct pt_vcpu *c, const struct kvm_sregs *s)
{
	/* Only 64-bit mode runs natively: a guest in another mode cannot start. */
	if (!(s->efer & (1 << 10)) || !s->cs.l || !(s->cr0 & 0x80000000))
		return -EINVAL;
	c->cs = s->cs.selector;
	c->ss = s->ss.selector;
	c->cpl = s->cs.dpl ? 3 : 0;
	c->fs_base = s->fs.base;
	c->gs_base = s->gs.base;
	c->tr_sel = s->tr.selector;
	c->tr_base = s->tr.base;
	c->gdt_base = s->gdt.base;
	c->gdt_limit = s->gdt.limit;
	c->idt_base = s->idt.base;
	c->idt_limit = s->idt.limit;
	c->cr0 = s->cr0;
	c->cr2 = s->cr2;
	if (c->cr3 != s->cr3) {
		pt_tlb_flush(c, &c->k, true);
		pt_tlb_flush(c, &c->u, true);
	}
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->efer = s->efer;
	return 0;
}

static long get_regs(struct pt_vcpu *c, struct kvm_regs *k)
{
	const struct user_regs_struct *r = &pt_cur(c)->regs;
	*k = (struct kvm_regs){r->rax, r->rbx, r->rcx,
			       r->rdx, r->rsi, r->rdi,
			       r->rsp, r->rbp, r->r8,
			       r->r9,  r->r10, r->r11,
			       r->r12, r->r13, r->r14,
			       r->r15, r->rip, (r->eflags & ~0x200ULL) | (c->intf ? 0x200 : 0)};
	return 0;
}

static long set_regs(struct pt_vcpu *c, const struct kvm_regs *k)
{
	struct pt_proc *p = pt_cur(c);
	struct user_regs_struct *r = &p->regs;
	r->rax = k->rax;
	r->rbx = k->rbx;
	r->rcx = k->rcx;
	r->rdx = k->rdx;
	r->rsi = k->rsi;
	r->rdi = k->rdi;
	r->rsp = k->rsp;
	r->rbp = k->rbp;
	r->r8 = k->r8;
	r->r9 = k->r9;
	r->r10 = k->r10;
	r->r11 = k->r11;
	r->r12 = k->r12;
	r->r13 = k->r13;
	r->r14 = k->r14;
	r->r15 = k->r15;
	r->rip = k->rip;
	r->eflags = (k->rflags & 0xcd5) | 0x202;
	r->orig_rax = ~0UL;
	r->fs_base = c->fs_base < PT_HOST_TOP ? c->fs_base : 0;
	r->gs_base = c->gs_base < PT_HOST_TOP ? c->gs_base : 0;
	c->intf = !!(k->rflags & 0x200);
	p->dirty = true;
	return 0;
}

/* KVM_RUN: complete the last port read from the run area, run, write the exit. */
static long run(struct vmm_l2vm *l2, struct kvm_run *kr)
{
	struct pt_vcpu *c = &l2->c;
	uint8_t *data = (uint8_t *)kr + 4096;
	if (c->io.pending && c->io.in)
		memcpy(c->io.data, data, c->io.size);
	if (kr->immediate_exit) {
		kr->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	struct vmm_exit e;
	char err[160];
	pt_io_complete(c);
	if (pt_run(c, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm: L2: %s\n", err);
		return -EIO;
	}
	switch (e.kind) {
	case VMM_EXIT_IO:
		kr->exit_reason = KVM_EXIT_IO;
		kr->io.direction = e.io.out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
		kr->io.size = e.io.size;
		kr->io.port = e.io.port;
		kr->io.count = 1;
		kr->io.data_offset = 4096;
		memcpy(data, e.io.data, e.io.size);
		break;
	case VMM_EXIT_MMIO:
		kr->exit_reason = KVM_EXIT_MMIO;
		kr->mmio.phys_addr = e.mmio.gpa;
		kr->mmio.len = e.mmio.len ? e.mmio.len : 4;
		kr->mmio.is_write = e.mmio.write;
		break;
	case VMM_EXIT_HLT:
		kr->exit_reason = KVM_EXIT_HLT;
		break;
	case VMM_EXIT_SHUTDOWN:
		kr->exit_reason = KVM_EXIT_SHUTDOWN;
		break;
	case VMM_EXIT_INTR:
		kr->exit_reason = KVM_EXIT_INTR;
		break;
	default:
		kr->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		kr->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		break;
	}
	return 0;
}

static long supported_cpuid(struct kvm_cpuid2 *c)
{
	/* cpuid is not trapped on this platform: the guest sees the host's. */
	if (c->nent < 1)
		return -E2BIG;
	c->nent = 1;
	memset(&c->entries[0], 0, sizeof(c->entries[0]));
	return 0;
}

static long pt_l2_ioctl(struct vmm_l2vm *l2, unsigned long cmd, void *arg, unsigned long iarg)
{
	struct pt_vcpu *c = l2 ? &l2->c : NULL;
	switch (cmd) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return 0;
	case KVM_GET_VCPU_MMAP_SIZE:
		return L2_RUN_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return supported_cpuid(arg);
	}
	if (!c)
		return -EBADF;
	switch (cmd) {
	case KVM_SET_TSS_ADDR:
	case KVM_SET_IDENTITY_MAP_ADDR:
	case KVM_SET_FPU:
	case KVM_SET_CPUID2:
		return 0;
	case KVM_SET_MP_STATE:
		return ((struct kvm_mp_state *)arg)->mp_state == KVM_MP_STATE_RUNNABLE ? 0
										       : -EINVAL;
	case KVM_CREATE_VCPU:
		if (iarg != 0 || l2->vcpu_made)
			return iarg != 0 ? -EINVAL : -EEXIST;
		l2->vcpu_made = true;
		return 0;
	case KVM_GET_TSC_KHZ:
		return (long)vmm_platform_ptrace.tsc_khz(NULL);
	case KVM_GET_REGS:
		return get_regs(c, arg);
	case KVM_SET_REGS:
		return set_regs(c, arg);
	case KVM_GET_SREGS:
		return get_sregs(c, arg);
	case KVM_SET_SREGS:
		return set_sregs(c, arg);
	case KVM_TRANSLATE: {
		struct kvm_translation *t = arg;
		struct pt_walk w;
		t->valid = pt_walk(&c->mem, c->cr3, t->linear_address, &w) == 0;
		t->physical_address = t->valid ? w.gpa : 0;
		t->writeable = t->valid && w.w;
		t->usermode = t->valid && w.u;
		return 0;
	}
	case KVM_RUN:
		return run(l2, arg);
	}
	return -ENOTTY;
}

/* The operations nkvm.c runs L2 with (platform.h struct vmm_l2_ops). */
static int l2_create(struct vmm_vcpu *l1, struct vmm_l2vm **out)
{
	int e = 0;
	*out = pt_l2_create(l1, &e);
	return *out ? 0 : -e;
}

static int l2_vcpu_create(struct vmm *vm, struct vmm_l2vm *l2, int id, void **run, size_t *size)
{
	(void)vm;
	long r = pt_l2_ioctl(l2, KVM_CREATE_VCPU, NULL, (unsigned long)id);
	if (r < 0)
		return (int)r;
	if (!(l2->run = calloc(1, L2_RUN_SIZE))) {
		l2->vcpu_made = false;
		return -ENOMEM;
	}
	*run = l2->run;
	*size = L2_RUN_SIZE;
	return 0;
}

static void l2_vcpu_destroy(struct vmm_l2vm *l2, int id)
{
	(void)id;
	free(l2->run);
	l2->run = NULL;
	l2->vcpu_made = false;
}

static int l2_set_region(struct vmm_l2vm *l2, const void *host_region,
			 const struct vmm_memslot *slots, unsigned n)
{
	(void)host_region;
	return pt_l2_set_slots(l2, slots, n);
}

static long l2_ioctl(struct vmm *vm, struct vmm_l2vm *l2, int vcpu, unsigned long cmd, void *arg,
		     unsigned long iarg)
{
	(void)vm;
	if (vcpu >= 0 && (!l2 || !l2->vcpu_made))
		return -EBADF;
	return pt_l2_ioctl(l2, cmd, arg, iarg);
}

static long l2_run(struct vmm_l2vm *l2, int vcpu)
{
	(void)vcpu;
	return pt_l2_ioctl(l2, KVM_RUN, l2->run, 0);
}

const struct vmm_l2_ops vmm_l2_ptrace = {
    .create = l2_create,
    .destroy = pt_l2_destroy,
    .vcpu_create = l2_vcpu_create,
    .vcpu_destroy = l2_vcpu_destroy,
    .set_region = l2_set_region,
    .ioctl = l2_ioctl,
    .run = l2_run,
};
