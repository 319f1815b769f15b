/* SPDX-License-Identifier: MIT */
/*
 * nested_l1.c: dmtvm as an L1 hypervisor (nested_l1.h). The ioctls here are
 * the paravirtual /dev/kvm's extensions (pvdmt/dmtvm_abi.h, "Nesting"):
 * DMTVM_KVM_PIN and DMTVM_KVM_ALLOC_TEA are served by the L1 kernel,
 * DMTVM_KVM_SET_EPT12 by L0. On real KVM none of this runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "nested_l1.h"

#define PAGE 4096ULL

/* One VM per process. */
static struct vmm_l1 the_l1;

void vmm_l1_probe(void)
{
	/* Before the image is read, so its errors already name the level. */
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (ioctl(fd, KVM_CHECK_EXTENSION, DMTVM_KVM_CAP_NESTED) == 1)
		vmm_set_level(1);
	close(fd);
}

void vmm_l1_detect(struct vmm *vm)
{
	/* Real KVM answers 0 for an extension number it does not know. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, DMTVM_KVM_CAP_NESTED) == 1) {
		vm->l1 = &the_l1;
		vmm_set_level(1);
	}
}

static int pin(struct vmm *vm, void *p, uint64_t len, uint64_t *gpa, const char *what, char *err,
	       size_t errlen)
{
	struct dmtvm_kvm_pin a = {.uaddr = (uintptr_t)p, .len = len};
	if (ioctl(vm->vm_fd, DMTVM_KVM_PIN, &a) < 0) {
		snprintf(err, errlen, "DMTVM_KVM_PIN of %s (%llu bytes): %s", what,
			 (unsigned long long)len, strerror(errno));
		return -1;
	}
	if (a.gpa % PAGE) {
		snprintf(err, errlen, "DMTVM_KVM_PIN of %s: L1 gPA %#llx not page-aligned", what,
			 (unsigned long long)a.gpa);
		return -1;
	}
	*gpa = a.gpa;
	return 0;
}

int vmm_l1_pin_ram(struct vmm *vm, char *err, size_t errlen)
{
	return pin(vm, vm->ram, vm->mem_size, &vm->l1->ram_gpa, "L2 guest RAM", err, errlen);
}

int vmm_l1_ept12(struct vmm *vm, unsigned leaf_shift, bool pvdmt, char *err, size_t errlen)
{
	struct vmm_l1 *l1 = vm->l1;
	if (ept12_layout(vm->mem_size, leaf_shift, &l1->ept, err, errlen) < 0)
		return -1;
	if (leaf_shift == 21 && l1->ram_gpa % (2ULL << 20)) {
		snprintf(err, errlen,
			 "EPT12 with 2 MiB leaves: L2 RAM at L1 gPA %#llx is not 2 MiB aligned",
			 (unsigned long long)l1->ram_gpa);
		return -1;
	}
	void *p =
	    mmap(NULL, l1->ept.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %llu bytes for EPT12: %s",
			 (unsigned long long)l1->ept.size, strerror(errno));
		return -1;
	}
	l1->pool = p;
	if (pin(vm, p, l1->ept.size, &l1->pool_gpa, "the EPT12 tables", err, errlen) < 0)
		return -1;
	/* pvDMT: the EPT12 TEA host-contiguous too, so L0 can skip its EPT01 walk for it. */
	if (pvdmt) {
		struct dmtvm_kvm_alloc_tea t = {.gpa = l1->pool_gpa,
						.pgcnt = l1->ept.tea_pages,
						.mode = DMTVM_TEA_MODE(0, 0, 0)};
		if (ioctl(vm->vm_fd, DMTVM_KVM_ALLOC_TEA, &t) < 0) {
			snprintf(err, errlen,
				 "DMTVM_KVM_ALLOC_TEA for the EPT12 TEA (%llu pages): %s",
				 (unsigned long long)t.pgcnt, strerror(errno));
			return -1;
		}
		l1->tea_hpa = t.hpa;
	}
	ept12_build(&l1->ept, p, l1->pool_gpa, l1->ram_gpa);
	struct dmtvm_kvm_ept12 r = {.root = l1->pool_gpa + l1->ept.pml4_off, .nregs = 1};
	r.regs[0] = (struct dmtvm_ept12_reg){
	    .base = 0, .limit = vm->mem_size, .tea = l1->pool_gpa, .page_shift = leaf_shift};
	if (ioctl(vm->vm_fd, DMTVM_KVM_SET_EPT12, &r) < 0) {
		snprintf(err, errlen, "DMTVM_KVM_SET_EPT12 (root at L1 gPA %#llx): %s",
			 (unsigned long long)r.root, strerror(errno));
		return -1;
	}
	return 0;
}

/* As the model's handler: at most 1 GiB of TEA (maps 512 GiB of 4 KiB pages). */
#define ALLOC_TEA_MAX_PAGES (1ULL << 18)

enum vmm_hc_action vmm_l1_hc_alloc_tea(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_alloc_tea *a = arg;
	struct vmm *vm = vcpu->vm;
	uint64_t level = DMTVM_TEA_MODE_LEVEL(a->mode);
	a->hpa = 0;
	if (!vm->l1) {
		a->ret = -DMTVM_ENOSYS; /* no model and no hypervisor below: plain DMT */
		return VMM_HC_RESUME;
	}
	/*
	 * L2 asks its hypervisor (us) with its nesting level: an L2 kernel that
	 * knows its depth sends 1 (the artifact), ours may send 0. Either way
	 * only L0 owns host memory: forward with level - 1 (never below 0).
	 * Deeper nests are not supported.
	 */
	a->ret = 0;
	if ((a->mode & 0xfffffe00ULL) || level > 1 || (a->gpa & (PAGE - 1)) || a->pgcnt == 0 ||
	    a->pgcnt > ALLOC_TEA_MAX_PAGES)
		a->ret = -DMTVM_EINVAL;
	else if (a->gpa >= vm->mem_size || a->pgcnt * PAGE > vm->mem_size - a->gpa)
		a->ret = -DMTVM_EFAULT; /* outside L2 RAM */
	if (a->ret)
		return VMM_HC_RESUME;
	struct dmtvm_kvm_alloc_tea t = {.gpa = vm->l1->ram_gpa + a->gpa,
					.pgcnt = a->pgcnt,
					.mode = DMTVM_TEA_MODE(DMTVM_TEA_MODE_VMID(a->mode),
							       DMTVM_TEA_MODE_FREE(a->mode),
							       level ? level - 1 : 0)};
	if (ioctl(vm->vm_fd, DMTVM_KVM_ALLOC_TEA, &t) < 0) {
		a->ret = -errno;
		return VMM_HC_RESUME;
	}
	a->ret = 0;
	a->hpa = t.hpa;
	return VMM_HC_RESUME;
}
