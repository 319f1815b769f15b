/* SPDX-License-Identifier: MIT */
/*
 * cpu.c: the CPU's descriptor tables and system-call MSRs: GDT (with the
 * selector order syscall/sysret require), TSS (RSP0 for ring-3 traps), IDT
 * for the 32 exception vectors, STAR/LSTAR/SFMASK and the swapgs per-CPU
 * block. One vCPU; no interrupts are ever enabled.
 */
#include "cpu.h"

/* Read by syscall_entry through %gs after swapgs (offsets in entry.S). */
struct percpu {
	uint64_t kstack_top;
	uint64_t user_rsp;
};

_Static_assert(offsetof(struct percpu, kstack_top) == 0 && offsetof(struct percpu, user_rsp) == 8,
	       "entry.S PERCPU_* offsets");

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint64_t lo, hi;
};

static struct percpu percpu;
static struct tss tss = {.iomap_base = sizeof(struct tss)}; /* no I/O bitmap */
static struct idt_gate idt[32];
/* #DF runs on its own stack (IST1): a kernel stack overflow then still reaches PANIC. */
static uint64_t df_stack[512] __attribute__((aligned(16)));

/*
 * 0x08 kernel code, 0x10 kernel data, then user code32 (a placeholder),
 * user data, user code64: sysretq takes SS = STAR[63:48] + 8 and
 * CS = STAR[63:48] + 16, so user data must precede user code64.
 */
static uint64_t gdt[8] = {
    0,
    0x00af9a000000ffffULL, /* 0x08 kernel code, L=1 */
    0x00cf92000000ffffULL, /* 0x10 kernel data */
    0x00cffa000000ffffULL, /* 0x18 user code32 (unused) */
    0x00cff2000000ffffULL, /* 0x20 user data (0x23) */
    0x00affa000000ffffULL, /* 0x28 user code64 (0x2b) */
    0,			   /* 0x30 TSS, low half */
    0,			   /* 0x38 TSS, high half */
};

extern char trap_vectors[], syscall_entry[], boot_stack_top[];

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void cpu_init(void)
{
	uint64_t t = (uint64_t)&tss;
	gdt[6] =
	    (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ULL << 40) | ((t >> 24 & 0xff) << 56);
	gdt[7] = t >> 32;
	tss.rsp0 = (uint64_t)boot_stack_top;
	tss.ist[0] = (uint64_t)(df_stack + ARRAY_SIZE(df_stack));
	percpu.kstack_top = (uint64_t)boot_stack_top;

	/* Interrupt gates, DPL 0: stubs are 16 bytes apart (entry.S). */
	uint64_t v = (uint64_t)trap_vectors;
	for (unsigned i = 0; i < ARRAY_SIZE(idt); i++, v += 16) {
		idt[i].lo = (v & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eULL << 40) |
			    ((v >> 16 & 0xffff) << 48);
		idt[i].hi = v >> 32;
	}
	idt[8].lo |= 1ULL << 32; /* IST1 */

	struct desc_ptr g = {sizeof(gdt) - 1, (uint64_t)gdt};
	struct desc_ptr d = {sizeof(idt) - 1, (uint64_t)idt};
	/* The boot GDT has the same 0x08/0x10 descriptors: no reload needed. */
	__asm__ volatile("lgdt %0\n\tlidt %1\n\tltr %w2" ::"m"(g), "m"(d), "r"(TSS_SEL));

	/* syscall: CS = 0x08, SS = 0x10; sysretq: CS = 0x2b, SS = 0x23. */
	wrmsr(MSR_STAR, ((uint64_t)(USER_DS - 8 - 3) << 48) | ((uint64_t)KERNEL_CS << 32));
	/* Always set: LSTAR = 0 would make `syscall` a jump to 0 here. */
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	/* TF DF IF IOPL NT AC, as Linux; on PVM the frame rflags is rebuilt from r11. */
	wrmsr(MSR_SFMASK, 0x47700);
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)&percpu);
}

/*
 * The LSTAR trick needs syscall_entry on a supervisor-only page: walk the
 * boot tables for its address and check U/S is clear at some level.
 */
bool cpu_lstar_supervisor(void)
{
	uint64_t va = (uint64_t)syscall_entry;
	uint64_t *t = phys_to_virt(read_cr3() & 0xffffffffff000ULL);
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];
		if (!(e & 1))
			return false;
		if (!(e & 4))
			return true;
		if (e & 0x80)
			return false;
		t = phys_to_virt(e & 0xffffffffff000ULL);
	}
	return false;
}
