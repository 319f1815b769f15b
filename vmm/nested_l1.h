/* SPDX-License-Identifier: MIT */
/*
 * nested_l1.h: dmtvm as an L1 hypervisor (ARCHITECTURE.md, "Nesting
 * without hardware nesting"). When /dev/kvm is the paravirtual one of a
 * dmtvm guest kernel (KVM_CHECK_EXTENSION(DMTVM_KVM_CAP_NESTED) == 1), the
 * L2 guest's RAM is pinned guest-physically contiguous in pieces of at most
 * 1 GiB (the L1 kernel's limit per pin, one buddy block), one KVM memslot
 * per piece, dmtvm builds EPT12
 * (ept12.h) and registers it with L0, and L2's pvDMT requests are
 * forwarded to L0 (level - 1). Everything else is ordinary dmtvm.
 */
#ifndef VMM_NESTED_L1_H
#define VMM_NESTED_L1_H

#include "ept12.h"
#include "hypercall.h"
#include "vmm.h"

/* Largest piece of L2 RAM pinned (and registered as one memslot) at once:
 * the L1 kernel's PIN_MAX (guest-kernel/pin.h). */
#define VMM_L1_PIECE_MAX (1ULL << 30)
/* Pieces, so L2 RAM, are bounded by L0's memslots (NKVM_MAX_SLOTS, vmm/nkvm.h). */
#define VMM_L1_PIECES_MAX 32

struct vmm_l1 {
	/* L2 RAM in L2-gPA order: piece i is memslot i, pinned contiguous at its
	 * L1 gPA; pieces are not contiguous with each other in L1. */
	struct ept12_piece piece[VMM_L1_PIECES_MAX];
	unsigned npieces;
	bool tea_straddle_told; /* the straddling-ALLOC_TEA line is printed once */
	void *pool;		/* EPT12 tables (pinned, contiguous) */
	uint64_t pool_gpa;
	struct ept12_layout ept;
	uint64_t tea_hpa; /* --mode=pvdmt: host-physical base of the EPT12 TEA, else 0 */
};

/* Early, before any message: sets the level tag (vmm_level_tag) when
 * /dev/kvm is the paravirtual one; silent when there is no /dev/kvm. */
void vmm_l1_probe(void);

/* After opening /dev/kvm: sets vm->l1 when it is the paravirtual one. */
void vmm_l1_detect(struct vmm *vm);

/* Pins [vm->ram, + mem_size) in pieces of at most VMM_L1_PIECE_MAX and
 * registers each as its own memslot (replaces kvm.c's single memslot). */
int vmm_l1_ram(struct vmm *vm, char *err, size_t errlen);

/* Builds EPT12 (leaf_shift 12 or 21), backs its TEA host-contiguously with
 * pvdmt, registers it with L0 (DMTVM_KVM_SET_EPT12). */
int vmm_l1_ept12(struct vmm *vm, unsigned leaf_shift, bool pvdmt, char *err, size_t errlen);

/* L2's ALLOC_TEA hypercall in a build without the model: forwarded to L0
 * when nested, -DMTVM_ENOSYS otherwise. */
enum vmm_hc_action vmm_l1_hc_alloc_tea(struct vmm_vcpu *vcpu, void *arg);

#endif
