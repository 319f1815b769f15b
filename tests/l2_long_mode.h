/* SPDX-License-Identifier: MIT */
/*
 * tests/l2_long_mode.h: an L2 that starts in 64-bit ring 0, the way dmtvm
 * starts its own guests (vmm.h VMM_BOOT_*), for the nesting tests that
 * drive an L2 through the KVM API (tests/guest/devkvm.c, the test guest's
 * tg=nkvm, tests/vmm/test_nkvm.c). The ptrace platform runs only 64-bit
 * code natively, so an L2 in real mode would not mean the same on both.
 * Header-only and free of libc: the test guest is freestanding.
 */
#ifndef TESTS_L2_LONG_MODE_H
#define TESTS_L2_LONG_MODE_H

#include <linux/kvm.h>
#include <stdint.h>

/*
 * In L2 RAM (ram = its first byte): PML4 at pml4, PDPT at pml4 + 4 KiB, PD
 * at pml4 + 8 KiB mapping [0, size) with 2 MiB pages (P|RW|PS, supervisor),
 * and a GDT at gdt: null, code64 0x08, data 0x10.
 */
static inline void l2_tables(uint8_t *ram, uint64_t size, uint64_t pml4, uint64_t gdt)
{
	uint64_t *t = (uint64_t *)(ram + pml4), *g = (uint64_t *)(ram + gdt);
	t[0] = (pml4 + 0x1000) | 3;   /* PML4[0]: P|RW */
	t[512] = (pml4 + 0x2000) | 3; /* PDPT[0] */
	for (uint64_t i = 0; i < (size + (2 << 20) - 1) >> 21; i++)
		t[1024 + i] = (i << 21) | 0x83; /* PD[i]: P|RW|PS */
	g[0] = 0;
	g[1] = 0x00af9a000000ffffULL;
	g[2] = 0x00cf92000000ffffULL;
}

/* 64-bit mode, paging on those tables, flat segments from that GDT. */
static inline void l2_sregs(struct kvm_sregs *s, uint64_t pml4, uint64_t gdt)
{
	s->cs = (struct kvm_segment){.limit = 0xffffffff,
				     .selector = 0x08,
				     .type = 11,
				     .present = 1,
				     .s = 1,
				     .l = 1,
				     .g = 1};
	s->ds = (struct kvm_segment){.limit = 0xffffffff,
				     .selector = 0x10,
				     .type = 3,
				     .present = 1,
				     .s = 1,
				     .db = 1,
				     .g = 1};
	s->es = s->fs = s->gs = s->ss = s->ds;
	/* A usable busy 64-bit TSS and LDT, as dmtvm sets them (platform/kvm_cpu.c). */
	s->tr = (struct kvm_segment){.limit = 0x67, .type = 11, .present = 1};
	s->ldt = (struct kvm_segment){.limit = 0xffff, .type = 2, .present = 1};
	s->gdt.base = gdt;
	s->gdt.limit = 3 * 8 - 1;
	s->cr3 = pml4;
	s->cr4 = 0x20 | 0x600;	 /* PAE, OSFXSR, OSXMMEXCPT */
	s->cr0 = 0x80050033;	 /* PE, MP, ET, NE, WP, PG */
	s->efer = 0x500 | 0x800; /* LME, LMA, NXE */
}

#endif
