/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace_cpu.c: the CPU the ptrace platform emulates around
 * natively running guest code: exception delivery through the guest's IDT
 * and TSS (the frame written on the guest's kernel stack, as x86-64 does),
 * the ring changes between the kernel process K and the user process U,
 * and the privileged instructions of ring 0 (decoded by ptrace_insn.c).
 *
 * A ring-3 `syscall` enters the kernel as on the PVM-style KVM this
 * project's kernel already supports (guest-kernel/README.md "System
 * calls"): a #PF at LSTAR, error 0x15, RCX/R11 = user RIP/RFLAGS. That is
 * one exception delivery, where the VMX path (syscall_entry's swapgs,
 * swapgs, sysretq) would trap three times.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dmtvm_abi.h"
#include "ptrace.h"
#include "vmm.h"

#define RFLAGS_IF	 0x200ULL
#define RFLAGS_USER_MASK 0x240dd5ULL /* CF PF AF ZF SF TF DF OF AC ID: the host takes these */
#define RFLAGS_HOST_MASK 0x000cd5ULL /* ... minus TF and AC (traps, SIGBUS) */

#define MSR_EFER	   0xc0000080
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_SFMASK	   0xc0000084
#define MSR_FS_BASE	   0xc0000100
#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX	   0xc0000103

static uint64_t *gpr_of(struct user_regs_struct *r, int i)
{
	static const size_t off[16] = {
	    offsetof(struct user_regs_struct, rax), offsetof(struct user_regs_struct, rcx),
	    offsetof(struct user_regs_struct, rdx), offsetof(struct user_regs_struct, rbx),
	    offsetof(struct user_regs_struct, rsp), offsetof(struct user_regs_struct, rbp),
	    offsetof(struct user_regs_struct, rsi), offsetof(struct user_regs_struct, rdi),
	    offsetof(struct user_regs_struct, r8),  offsetof(struct user_regs_struct, r9),
	    offsetof(struct user_regs_struct, r10), offsetof(struct user_regs_struct, r11),
	    offsetof(struct user_regs_struct, r12), offsetof(struct user_regs_struct, r13),
	    offsetof(struct user_regs_struct, r14), offsetof(struct user_regs_struct, r15),
	};
	return (uint64_t *)((char *)r + off[i & 15]);
}

void pt_gprs(const struct user_regs_struct *r, uint64_t g[16])
{
	for (int i = 0; i < 16; i++)
		g[i] = *gpr_of((struct user_regs_struct *)r, i);
}

static enum pt_step shutdown(struct pt_vcpu *c, struct vmm_exit *e, const char *why)
{
	(void)c;
	e->kind = VMM_EXIT_SHUTDOWN;
	snprintf(e->why, sizeof(e->why), "guest triple fault (%s)", why);
	return PT_STEP_EXIT;
}

/*
 * Deliver vector vec from the running process's state r (its rip the one
 * the frame records) into K at the handler: the x86-64 interrupt frame
 * [err] rip cs rflags rsp ss on the stack the IDT/TSS name.
 */
static enum pt_step deliver(struct pt_vcpu *c, const struct user_regs_struct *r, unsigned vec,
			    bool has_err, uint64_t err, struct vmm_exit *e)
{
	uint64_t gate[2];
	char why[96];
	if ((uint32_t)vec * 16 + 15 > c->idt_limit ||
	    pt_kread(c, c->idt_base + (uint64_t)vec * 16, gate, 16) < 0 || !(gate[0] >> 47 & 1)) {
		snprintf(why, sizeof(why), "vector %u: no usable IDT gate", vec);
		return shutdown(c, e, why);
	}
	uint64_t handler = (gate[0] & 0xffff) | ((gate[0] >> 48 & 0xffff) << 16) |
			   ((gate[1] & 0xffffffffULL) << 32);
	unsigned ist = (unsigned)(gate[0] >> 32) & 7, type = (unsigned)(gate[0] >> 40) & 15;
	uint64_t rsp = r->rsp;
	if (ist && pt_kread(c, c->tr_base + 36 + 8 * (ist - 1), &rsp, 8) < 0)
		return shutdown(c, e, "IST stack unreadable");
	if (!ist && c->cpl == 3 && pt_kread(c, c->tr_base + 4, &rsp, 8) < 0)
		return shutdown(c, e, "TSS.RSP0 unreadable");
	rsp &= ~15ULL;
	uint64_t rflags = (r->eflags & RFLAGS_USER_MASK) | 2 | (c->intf ? RFLAGS_IF : 0);
	uint64_t frame[6];
	unsigned n = 0;
	if (has_err)
		frame[n++] = err;
	frame[n++] = r->rip;
	frame[n++] = c->cpl == 3 ? c->cs : c->cs ? c->cs : 0x08;
	frame[n++] = rflags;
	frame[n++] = r->rsp;
	frame[n++] = c->cpl == 3 ? c->ss : c->ss;
	rsp -= 8ULL * n;
	if (pt_kwrite(c, rsp, frame, 8ULL * n) < 0) {
		snprintf(why, sizeof(why), "vector %u: kernel stack %#llx not writable", vec,
			 (unsigned long long)rsp);
		return shutdown(c, e, why);
	}
	struct user_regs_struct k = *r;
	k.rip = handler;
	k.rsp = rsp;
	k.eflags = (r->eflags & RFLAGS_HOST_MASK & ~0x400ULL) | RFLAGS_IF | 2;
	k.orig_rax = ~0ULL;
	k.fs_base = c->fs_base;
	k.gs_base = c->gs_base;
	k.cs = c->k.regs.cs;
	k.ss = c->k.regs.ss;
	c->k.regs = k;
	c->k.dirty = true;
	if (c->cpl == 3)
		c->ss = 0; /* a CPL change loads a null SS */
	c->cpl = 0;
	c->cs = (uint16_t)(gate[0] >> 16);
	if (type == 0xe)
		c->intf = false;
	c->st.exceptions++;
	return PT_STEP_GO;
}

enum pt_step pt_exception(struct pt_vcpu *c, unsigned vec, bool has_err, uint64_t err,
			  struct vmm_exit *e)
{
	struct user_regs_struct r = pt_cur(c)->regs;
	return deliver(c, &r, vec, has_err, err, e);
}

enum pt_step pt_syscall(struct pt_vcpu *c, struct vmm_exit *e)
{
	struct user_regs_struct r = c->u.regs;
	c->st.syscalls++;
	r.rax = r.orig_rax; /* SYSEMU leaves -ENOSYS in rax */
	r.rcx = r.rip;
	r.r11 = (r.eflags & RFLAGS_USER_MASK) | 2 | (c->intf ? RFLAGS_IF : 0);
	r.rip = c->lstar;
	c->cr2 = c->lstar;
	return deliver(c, &r, 14, true, 0x15, e);
}

void pt_io_complete(struct pt_vcpu *c)
{
	if (!c->io.pending)
		return;
	c->io.pending = false;
	if (!c->io.in)
		return;
	uint64_t *rax = (uint64_t *)&c->k.regs.rax;
	uint64_t v = 0;
	memcpy(&v, c->io.data, c->io.size);
	if (c->io.size == 4)
		*rax = v;
	else if (c->io.size == 2)
		*rax = (*rax & ~0xffffULL) | v;
	else
		*rax = (*rax & ~0xffULL) | v;
	c->k.dirty = true;
}

/* Back to ring 3 (iretq, sysretq): the register file moves to U. */
static enum pt_step to_user(struct pt_vcpu *c, uint64_t rip, uint64_t rsp, uint64_t rflags,
			    uint16_t cs, uint16_t ss, struct vmm_exit *e)
{
	if (rip >= PT_HOST_TOP) /* non-canonical or kernel half: #GP in ring 0 */
		return pt_exception(c, 13, true, 0, e);
	struct user_regs_struct u = c->k.regs;
	u.rip = rip;
	u.rsp = rsp;
	u.eflags = (rflags & RFLAGS_HOST_MASK) | RFLAGS_IF | 2;
	u.orig_rax = ~0ULL;
	u.fs_base = c->fs_base;
	u.gs_base = c->gs_base;
	u.cs = c->u.regs.cs;
	u.ss = c->u.regs.ss;
	c->u.regs = u;
	c->u.dirty = true;
	c->intf = !!(rflags & RFLAGS_IF);
	c->cs = cs;
	c->ss = ss;
	c->cpl = 3;
	return PT_STEP_GO;
}

static int wrmsr(struct pt_vcpu *c, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case MSR_EFER:
		c->efer = v;
		return 0;
	case MSR_STAR:
		c->star = v;
		return 0;
	case MSR_LSTAR:
		c->lstar = v;
		return 0;
	case MSR_CSTAR:
		c->cstar = v;
		return 0;
	case MSR_SFMASK:
		c->sfmask = v;
		return 0;
	case MSR_FS_BASE:
		if (v >= PT_HOST_TOP)
			return -1;
		c->fs_base = v;
		return 0;
	case MSR_GS_BASE:
		if (v >= PT_HOST_TOP)
			return -1;
		c->gs_base = v;
		return 0;
	case MSR_KERNEL_GS_BASE:
		c->kgs_base = v;
		return 0;
	case MSR_TSC_AUX:
		c->tsc_aux = v;
		return 0;
	}
	return -1;
}

static int rdmsr(struct pt_vcpu *c, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case MSR_EFER:
		*v = c->efer;
		return 0;
	case MSR_STAR:
		*v = c->star;
		return 0;
	case MSR_LSTAR:
		*v = c->lstar;
		return 0;
	case MSR_CSTAR:
		*v = c->cstar;
		return 0;
	case MSR_SFMASK:
		*v = c->sfmask;
		return 0;
	case MSR_FS_BASE:
		*v = c->fs_base;
		return 0;
	case MSR_GS_BASE:
		*v = c->gs_base;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*v = c->kgs_base;
		return 0;
	case MSR_TSC_AUX:
		*v = c->tsc_aux;
		return 0;
	}
	return -1;
}

/* Read the instruction at rip (as many bytes as are mapped, up to 15). */
size_t pt_fetch(struct pt_vcpu *c, uint64_t rip, uint8_t buf[15])
{
	/* Up to the end of rip's page, then the rest if the next page is mapped. */
	size_t first = 4096 - (rip & 4095);
	if (first >= 15)
		return pt_kread(c, rip, buf, 15) == 0 ? 15 : 0;
	if (pt_kread(c, rip, buf, first) < 0)
		return 0;
	return pt_kread(c, rip + first, buf + first, 15 - first) == 0 ? 15 : first;
}

/* Emulate the decoded ring-0 instruction in at the running process's rip. */
static enum pt_step emulate(struct pt_vcpu *c, const struct ptrace_insn *ins, struct vmm_exit *e)
{
	struct pt_proc *p = pt_cur(c);
	struct user_regs_struct *r = &p->regs;
	const struct ptrace_insn in = *ins;
	c->st.emulated++;
	uint64_t g[16];
	pt_gprs(r, g);
	uint64_t next = r->rip + in.len, ea = 0;
	if (in.has_mem)
		ea = ptrace_insn_ea(&in.mem, g, next, c->fs_base, c->gs_base);
	uint64_t v;
	uint8_t desc[16];
	switch (in.op) {
	case PTRACE_INSN_OUT:
	case PTRACE_INSN_IN:
		e->kind = VMM_EXIT_IO;
		e->io.port = in.port_dx ? (uint16_t)r->rdx : in.port;
		e->io.out = in.op == PTRACE_INSN_OUT;
		e->io.size = in.size;
		e->io.count = 1;
		memcpy(c->io.data, &r->rax, in.size);
		e->io.data = c->io.data;
		c->io.pending = true;
		c->io.in = in.op == PTRACE_INSN_IN;
		c->io.size = in.size;
		r->rip = next;
		p->dirty = true;
		return PT_STEP_EXIT;
	case PTRACE_INSN_HLT:
		r->rip = next;
		p->dirty = true;
		e->kind = VMM_EXIT_HLT;
		return PT_STEP_EXIT;
	case PTRACE_INSN_CLI:
	case PTRACE_INSN_STI:
		c->intf = in.op == PTRACE_INSN_STI;
		break;
	case PTRACE_INSN_WRMSR:
		if (wrmsr(c, (uint32_t)r->rcx, (r->rdx << 32) | (uint32_t)r->rax) < 0)
			return pt_exception(c, 13, true, 0, e);
		r->fs_base = c->fs_base;
		r->gs_base = c->gs_base;
		break;
	case PTRACE_INSN_RDMSR:
		if (rdmsr(c, (uint32_t)r->rcx, &v) < 0)
			return pt_exception(c, 13, true, 0, e);
		r->rax = (uint32_t)v;
		r->rdx = v >> 32;
		break;
	case PTRACE_INSN_MOV_TO_CR:
		v = g[in.gpr];
		switch (in.reg) {
		case 0:
			c->cr0 = v;
			break;
		case 2:
			c->cr2 = v;
			break;
		case 3:
			c->cr3 = v;
			/* A new address space: the user half of both TLBs goes. */
			pt_tlb_flush(c, &c->k, true);
			pt_tlb_flush(c, &c->u, true);
			break;
		case 4:
			c->cr4 = v;
			break;
		case 8:
			break;
		default:
			return pt_exception(c, 6, false, 0, e);
		}
		break;
	case PTRACE_INSN_MOV_FROM_CR:
		switch (in.reg) {
		case 0:
			v = c->cr0;
			break;
		case 2:
			v = c->cr2;
			break;
		case 3:
			v = c->cr3;
			break;
		case 4:
			v = c->cr4;
			break;
		case 8:
			v = 0;
			break;
		default:
			return pt_exception(c, 6, false, 0, e);
		}
		*gpr_of(r, in.gpr) = v;
		break;
	case PTRACE_INSN_MOV_TO_DR:
		break;
	case PTRACE_INSN_MOV_FROM_DR:
		*gpr_of(r, in.gpr) = 0;
		break;
	case PTRACE_INSN_INVLPG:
		pt_tlb_invlpg(c, ea);
		break;
	case PTRACE_INSN_LGDT:
	case PTRACE_INSN_LIDT: {
		uint8_t d[10];
		if (pt_kread(c, ea, d, 10) < 0)
			return pt_exception(c, 14, true, 0, e);
		uint16_t lim;
		uint64_t base;
		memcpy(&lim, d, 2);
		memcpy(&base, d + 2, 8);
		if (in.op == PTRACE_INSN_LGDT) {
			c->gdt_limit = lim;
			c->gdt_base = base;
		} else {
			c->idt_limit = lim;
			c->idt_base = base;
		}
		break;
	}
	case PTRACE_INSN_LTR: {
		uint16_t sel;
		if (in.has_mem) {
			if (pt_kread(c, ea, &sel, 2) < 0)
				return pt_exception(c, 14, true, 0, e);
		} else {
			sel = (uint16_t)g[in.gpr];
		}
		uint64_t d[2];
		if ((sel & ~7U) + 15U > c->gdt_limit ||
		    pt_kread(c, c->gdt_base + (sel & ~7U), desc, 16) < 0)
			return pt_exception(c, 13, true, sel & ~3U, e);
		memcpy(d, desc, 16);
		if (((d[0] >> 40) & 0x1f) != 0x09 || !(d[0] >> 47 & 1))
			return pt_exception(c, 13, true, sel & ~3U, e);
		c->tr_sel = sel;
		c->tr_base = ((d[0] >> 16) & 0xffffff) | ((d[0] >> 56 & 0xff) << 24) |
			     ((d[1] & 0xffffffffULL) << 32);
		d[0] |= 2ULL << 40; /* busy */
		pt_kwrite(c, c->gdt_base + (sel & ~7U), d, 8);
		break;
	}
	case PTRACE_INSN_LLDT:
	case PTRACE_INSN_CLTS:
	case PTRACE_INSN_WBINVD:
	case PTRACE_INSN_INVD:
	case PTRACE_INSN_LMSW:
	case PTRACE_INSN_XSETBV:
		break;
	case PTRACE_INSN_SWAPGS:
		v = c->gs_base;
		c->gs_base = c->kgs_base;
		c->kgs_base = v;
		if (c->gs_base >= PT_HOST_TOP) {
			/* The host cannot hold it: keep it emulated, fault if used. */
			r->gs_base = 0;
		} else {
			r->gs_base = c->gs_base;
		}
		break;
	case PTRACE_INSN_IRETQ: {
		uint64_t f[5];
		if (pt_kread(c, r->rsp, f, sizeof(f)) < 0)
			return pt_exception(c, 14, true, 0, e);
		if ((f[1] & 3) == 3)
			return to_user(c, f[0], f[3], f[2], (uint16_t)f[1], (uint16_t)f[4], e);
		/* Same ring: a return within the kernel. */
		r->rip = f[0];
		r->rsp = f[3];
		r->eflags = (f[2] & RFLAGS_HOST_MASK) | RFLAGS_IF | 2;
		c->intf = !!(f[2] & RFLAGS_IF);
		c->cs = (uint16_t)f[1];
		c->ss = (uint16_t)f[4];
		p->dirty = true;
		return PT_STEP_GO;
	}
	case PTRACE_INSN_SYSRETQ: {
		uint16_t base = (uint16_t)(c->star >> 48);
		return to_user(c, r->rcx, r->rsp, r->r11, (uint16_t)((base + 16) | 3),
			       (uint16_t)((base + 8) | 3), e);
	}
	case PTRACE_INSN_INT: {
		struct user_regs_struct s = *r;
		s.rip = next;
		return deliver(c, &s, in.imm, false, 0, e);
	}
	case PTRACE_INSN_UD2:
		return pt_exception(c, 6, false, 0, e);
	default:
		return pt_exception(c, 13, true, 0, e);
	}
	r->rip = next;
	p->dirty = true;
	return PT_STEP_GO;
}

enum pt_step pt_privileged(struct pt_vcpu *c, struct vmm_exit *e)
{
	uint8_t buf[15];
	struct ptrace_insn in;
	size_t n = pt_fetch(c, pt_cur(c)->regs.rip, buf);
	if (c->cpl == 3 || ptrace_insn_decode(buf, n, &in) < 0) {
		/* A privileged instruction in ring 3, or a #GP of ordinary code. */
		return pt_exception(c, 13, true, 0, e);
	}
	return emulate(c, &in, e);
}

bool pt_privileged_fast(struct pt_vcpu *c, struct vmm_exit *e, enum pt_step *s)
{
	uint8_t buf[15];
	struct ptrace_insn in;
	size_t n = pt_fetch(c, c->k.regs.rip, buf);
	if (ptrace_insn_decode(buf, n, &in) < 0)
		return false;
	switch (in.op) {
	case PTRACE_INSN_IRETQ:
	case PTRACE_INSN_SYSRETQ:
	case PTRACE_INSN_OUT:
	case PTRACE_INSN_IN:
	case PTRACE_INSN_SWAPGS:
	case PTRACE_INSN_WRMSR:
	case PTRACE_INSN_RDMSR:
	case PTRACE_INSN_MOV_TO_CR:
	case PTRACE_INSN_MOV_FROM_CR:
	case PTRACE_INSN_CLI:
	case PTRACE_INSN_STI:
	case PTRACE_INSN_HLT:
		*s = emulate(c, &in, e);
		return true;
	default:
		return false;
	}
}
