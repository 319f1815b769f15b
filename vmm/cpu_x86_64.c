/* SPDX-License-Identifier: MIT */
/*
 * cpu_x86_64.c: the x86-64 boot state dmtvm_abi.h promises: the boot GDT,
 * the VMM-built page tables (2 MiB pages, direct map + kernel window, at
 * the top of the lower half and at their legacy upper-half addresses), the
 * vCPU's control/segment/general registers and CPUID (the KVM platform
 * sets them with vmm_cpu_init; the ptrace platform emulates the same state).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dmtvm_abi.h"
#include "vmm.h"

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)

#define CR4_PAE	       (1ULL << 5)
#define CR4_OSFXSR     (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)

#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

/*
 * Layout from DMTVM_BOOT_PT_GPA: PML4, PDPT (direct map), PDPT (kernel
 * window), PD (kernel window), PDPT (legacy kernel window), then one PD per
 * GiB of direct-mapped RAM. Everything is 4 KiB aligned; entries carry
 * U/S=0 (supervisor only). The legacy windows (DMTVM_LEGACY_*, for kernels
 * linked in the upper half) share the PD pages: the legacy direct map has
 * the same PDPT index as the new one (0), so it shares that PDPT too; the
 * legacy kernel window (PDPT index 510) has its own PDPT, so that neither
 * layout maps anything beyond its two windows (no aliases). PML4 slot 255
 * (DMTVM_PLATFORM_RESERVED_BASE) stays empty.
 */
#define PT_PML4	     0
#define PT_PDPT_DM   1
#define PT_PDPT_K    2
#define PT_PD_K	     3
#define PT_PDPT_LK   4
#define PT_FIXED     5 /* pages before the direct map's PDs */
#define PT_PD_DM(i)  (PT_FIXED + (i))
#define PML4_IDX(va) (((va) >> 39) & 511)
#define PDPT_IDX(va) (((va) >> 30) & 511)

_Static_assert(PDPT_IDX(DMTVM_DIRECT_MAP_BASE) == 0 && PDPT_IDX(DMTVM_LEGACY_DIRECT_MAP_BASE) == 0,
	       "both direct maps start a PDPT: they share it");
_Static_assert(PML4_IDX(DMTVM_DIRECT_MAP_BASE) != PML4_IDX(DMTVM_KERNEL_VIRT_BASE) &&
		   PML4_IDX(DMTVM_KERNEL_VIRT_BASE) != PML4_IDX(DMTVM_PLATFORM_RESERVED_BASE) &&
		   PML4_IDX(DMTVM_DIRECT_MAP_BASE) != PML4_IDX(DMTVM_PLATFORM_RESERVED_BASE) &&
		   PML4_IDX(DMTVM_LEGACY_DIRECT_MAP_BASE) != PML4_IDX(DMTVM_LEGACY_KERNEL_VIRT_BASE),
	       "every window has its own PML4 slot");
_Static_assert(PDPT_IDX(DMTVM_KERNEL_VIRT_BASE) == 0 && DMTVM_DIRECT_MAP_BASE >= DMTVM_USER_TOP,
	       "layout of dmtvm_abi.h");

uint64_t vmm_cpu_boot_tables_size(uint64_t mem_size)
{
	return (PT_FIXED + (mem_size + GIB - 1) / GIB) * 4096;
}

static uint64_t pt_gpa(unsigned idx)
{
	return DMTVM_BOOT_PT_GPA + (uint64_t)idx * 4096;
}

int vmm_cpu_build_boot_tables(struct vmm *vm, char *err, size_t errlen)
{
	uint64_t size = vmm_cpu_boot_tables_size(vm->mem_size);
	if (DMTVM_BOOT_PT_GPA + size > DMTVM_KERNEL_MIN_PADDR) {
		snprintf(err, errlen, "boot page tables for %llu MiB of RAM do not fit below 1 MiB",
			 (unsigned long long)(vm->mem_size / MIB));
		return -1;
	}
	uint64_t *pml4 = vmm_gpa(vm, pt_gpa(PT_PML4), size);
	if (!pml4) {
		snprintf(err, errlen, "guest RAM too small for the boot page tables");
		return -1;
	}
	memset(pml4, 0, size);
	uint64_t *pdpt_dm = vmm_gpa(vm, pt_gpa(PT_PDPT_DM), 4096);
	uint64_t *pdpt_k = vmm_gpa(vm, pt_gpa(PT_PDPT_K), 4096);
	uint64_t *pd_k = vmm_gpa(vm, pt_gpa(PT_PD_K), 4096);
	uint64_t *pdpt_lk = vmm_gpa(vm, pt_gpa(PT_PDPT_LK), 4096);

	pml4[PML4_IDX(DMTVM_DIRECT_MAP_BASE)] = pt_gpa(PT_PDPT_DM) | PTE_P | PTE_RW;
	pml4[PML4_IDX(DMTVM_KERNEL_VIRT_BASE)] = pt_gpa(PT_PDPT_K) | PTE_P | PTE_RW;
	pml4[PML4_IDX(DMTVM_LEGACY_DIRECT_MAP_BASE)] = pt_gpa(PT_PDPT_DM) | PTE_P | PTE_RW;
	pml4[PML4_IDX(DMTVM_LEGACY_KERNEL_VIRT_BASE)] = pt_gpa(PT_PDPT_LK) | PTE_P | PTE_RW;

	/* Direct map: all RAM, RW, NX, 2 MiB pages (mem_size is 2 MiB aligned). */
	uint64_t npd = (vm->mem_size + GIB - 1) / GIB;
	for (uint64_t i = 0; i < npd; i++) {
		uint64_t *pd = vmm_gpa(vm, pt_gpa(PT_PD_DM(i)), 4096);
		pdpt_dm[PDPT_IDX(DMTVM_DIRECT_MAP_BASE) + i] = pt_gpa(PT_PD_DM(i)) | PTE_P | PTE_RW;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t pa = i * GIB + j * 2 * MIB;
			if (pa >= vm->mem_size)
				break;
			pd[j] = pa | PTE_P | PTE_RW | PTE_PS | PTE_NX;
		}
	}
	/* Kernel window: gPA [0, 1 GiB), RW, executable (new and legacy address). */
	pdpt_k[PDPT_IDX(DMTVM_KERNEL_VIRT_BASE)] = pt_gpa(PT_PD_K) | PTE_P | PTE_RW;
	pdpt_lk[PDPT_IDX(DMTVM_LEGACY_KERNEL_VIRT_BASE)] = pt_gpa(PT_PD_K) | PTE_P | PTE_RW;
	for (uint64_t j = 0; j < 512; j++)
		pd_k[j] = (j * 2 * MIB) | PTE_P | PTE_RW | PTE_PS;

	/* GDT: null, 0x08 64-bit ring-0 code, 0x10 ring-0 data. */
	uint64_t *gdt = vmm_gpa(vm, DMTVM_BOOT_GDT_GPA, 4096);
	memset(gdt, 0, 4096);
	gdt[1] = 0x00af9a000000ffffULL;
	gdt[2] = 0x00cf92000000ffffULL;
	return 0;
}

static int set_cpuid(struct vmm_vcpu *vcpu, char *err, size_t errlen)
{
	int n = 128;
	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->nent = n;
		if (ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
			free(c);
			if (errno == E2BIG && n < 4096) {
				n *= 2;
				continue;
			}
			snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -1;
		}
		int r = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
		free(c);
		if (r < 0) {
			snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
}

int vmm_cpu_init(struct vmm_vcpu *vcpu, char *err, size_t errlen)
{
	struct vmm *vm = vcpu->vm;
	if (set_cpuid(vcpu, err, errlen) < 0)
		return -1;

	if (vcpu->id != 0) {
		/* Application processors wait for INIT/SIPI from the guest. */
		struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_UNINITIALIZED};
		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
			snprintf(err, errlen, "KVM_SET_MP_STATE vcpu %d: %s", vcpu->id,
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	struct kvm_sregs s;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	struct kvm_segment code = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = 0x08,
	    .type = 11,
	    .present = 1,
	    .dpl = 0,
	    .db = 0,
	    .s = 1,
	    .l = 1,
	    .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	/* TR must be a usable busy 64-bit TSS for VM entry; the kernel loads its own. */
	struct kvm_segment tr = {.base = 0, .limit = 0x67, .selector = 0, .type = 11, .present = 1};
	s.tr = tr;
	struct kvm_segment ldt = {.selector = 0, .type = 2, .present = 1, .limit = 0xffff};
	s.ldt = ldt;
	/* Descriptor-table bases are linear addresses: use the direct map. */
	s.gdt.base = DMTVM_DIRECT_MAP_BASE + DMTVM_BOOT_GDT_GPA;
	s.gdt.limit = 3 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = pt_gpa(PT_PML4);
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}

	struct kvm_regs r = {0};
	r.rip = vm->entry;
	r.rflags = 0x2;
	r.rdi = vm->fdt_gpa;
	r.rsi = DMTVM_BOOT_MAGIC;
	r.rsp = 0;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}

	struct kvm_fpu fpu = {0};
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		snprintf(err, errlen, "KVM_SET_FPU: %s", strerror(errno));
		return -1;
	}
	return 0;
}
