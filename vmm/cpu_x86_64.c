/* SPDX-License-Identifier: MIT */
/*
 * cpu_x86_64.c: the x86-64 boot state dmtvm_abi.h promises: the boot GDT,
 * the VMM-built page tables (2 MiB pages, direct map + kernel window, at
 * the top of the lower half and at their legacy upper-half addresses), the
 * vCPU's registers at entry (vmm.h VMM_BOOT_*: the KVM platform sets them,
 * platform/kvm_cpu.c; the ptrace platform emulates the same state).
 */
#include <stdio.h>
#include <string.h>

#include "dmtvm_abi.h"
#include "vmm.h"

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)

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
		   PML4_IDX(DMTVM_LEGACY_DIRECT_MAP_BASE) !=
		       PML4_IDX(DMTVM_LEGACY_KERNEL_VIRT_BASE),
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
