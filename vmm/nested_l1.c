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
#include <sys/sysinfo.h>
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
		int e = errno;
		struct sysinfo si;
		int n = snprintf(err, errlen, "DMTVM_KVM_PIN of %s (%llu bytes): %s", what,
				 (unsigned long long)len, strerror(e));
		if (e == ENOMEM && sysinfo(&si) == 0 && n > 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n,
				 " (L1 has %llu MiB free: lower --mem, or give L1 more with the "
				 "outer dmtvm's --mem)",
				 (unsigned long long)((uint64_t)si.freeram * si.mem_unit >> 20));
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

int vmm_l1_ram(struct vmm *vm, char *err, size_t errlen)
{
	struct vmm_l1 *l1 = vm->l1;
	uint64_t n = (vm->mem_size + VMM_L1_PIECE_MAX - 1) / VMM_L1_PIECE_MAX;
	if (n > VMM_L1_PIECES_MAX) {
		snprintf(err, errlen,
			 "L2 RAM of %llu bytes needs %llu pinned pieces of at most 1 GiB, "
			 "one memslot each; L0 allows %u",
			 (unsigned long long)vm->mem_size, (unsigned long long)n,
			 VMM_L1_PIECES_MAX);
		return -1;
	}
	l1->npieces = (unsigned)n;
	for (unsigned i = 0; i < l1->npieces; i++) {
		struct ept12_piece *p = &l1->piece[i];
		p->l2_gpa = i * VMM_L1_PIECE_MAX;
		p->size = vm->mem_size - p->l2_gpa;
		if (p->size > VMM_L1_PIECE_MAX)
			p->size = VMM_L1_PIECE_MAX;
		/* One piece (<= 1 GiB): the messages of a single pin and memslot, as before. */
		char what[96] = "L2 guest RAM";
		if (l1->npieces > 1)
			snprintf(what, sizeof(what), "L2 guest RAM piece %u of %u (L2 gPA %#llx)",
				 i, l1->npieces, (unsigned long long)p->l2_gpa);
		if (pin(vm, vm->ram + p->l2_gpa, p->size, &p->l1_gpa, what, err, errlen) < 0)
			return -1;
		/* The L1 kernel rewrites userspace_addr to the piece's L1 gPA (pinned already). */
		struct kvm_userspace_memory_region region = {
		    .slot = i,
		    .guest_phys_addr = p->l2_gpa,
		    .memory_size = p->size,
		    .userspace_addr = (uintptr_t)(vm->ram + p->l2_gpa),
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			if (l1->npieces > 1)
				snprintf(err, errlen,
					 "KVM_SET_USER_MEMORY_REGION slot %u (L2 gPA %#llx, %llu "
					 "bytes): %s",
					 i, (unsigned long long)p->l2_gpa,
					 (unsigned long long)p->size, strerror(errno));
			else
				snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION (%llu bytes): %s",
					 (unsigned long long)p->size, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int vmm_l1_ept12(struct vmm *vm, unsigned leaf_shift, bool pvdmt, char *err, size_t errlen)
{
	struct vmm_l1 *l1 = vm->l1;
	if (ept12_layout(vm->mem_size, leaf_shift, &l1->ept, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; leaf_shift == 21 && i < l1->npieces; i++)
		if (l1->piece[i].l1_gpa % (2ULL << 20)) {
			snprintf(err, errlen,
				 "EPT12 with 2 MiB leaves: L2 RAM at L1 gPA %#llx is not 2 MiB "
				 "aligned",
				 (unsigned long long)l1->piece[i].l1_gpa);
			return -1;
		}
	if (ept12_pieces_ok(&l1->ept, l1->piece, l1->npieces, err, errlen) < 0)
		return -1;
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
		if (ioctl(vm->vm_fd, DMTVM_KVM_ALLOC_TEA, &t) == 0) {
			l1->tea_hpa = t.hpa;
		} else if (errno == ENOSYS) {
			/* L0 models no host memory (--mode=native): nothing to back. */
			fprintf(stderr,
				"%s: L0 does not back TEAs (ALLOC_TEA: %s): the EPT12 TEA stays "
				"plain DMT\n",
				vmm_level_tag(), strerror(errno));
		} else {
			snprintf(err, errlen,
				 "DMTVM_KVM_ALLOC_TEA for the EPT12 TEA (%llu pages): %s",
				 (unsigned long long)t.pgcnt, strerror(errno));
			return -1;
		}
	}
	ept12_build_pieces(&l1->ept, p, l1->pool_gpa, l1->piece, l1->npieces);
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

/* The piece holding L2 gPA g (< mem_size). */
static const struct ept12_piece *piece_of(const struct vmm_l1 *l1, uint64_t g)
{
	unsigned i = 0;
	while (i + 1 < l1->npieces && g >= l1->piece[i].l2_gpa + l1->piece[i].size)
		i++;
	return &l1->piece[i];
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
	const struct ept12_piece *p = piece_of(vm->l1, a->gpa);
	uint64_t end = a->gpa + a->pgcnt * PAGE;
	if (end > p->l2_gpa + p->size) {
		/*
		 * A TEA must be host-contiguous: L2's DMT register holds ONE host
		 * base and indexes from it. The two pieces are separate runs in L1
		 * (and each forward gets its own host run from L0), so a split
		 * forward would hand L2 a TEA that is not contiguous: refused,
		 * and L2 keeps those tables as plain DMT or elsewhere.
		 */
		if (!vm->l1->tea_straddle_told)
			fprintf(stderr,
				"%s: L2's ALLOC_TEA of L2 gPA [%#llx, %#llx) straddles two pinned "
				"pieces of L2 RAM (boundary %#llx; a TEA must be host-contiguous): "
				"refused (EINVAL), further ones silently\n",
				vmm_level_tag(), (unsigned long long)a->gpa,
				(unsigned long long)end, (unsigned long long)(p->l2_gpa + p->size));
		vm->l1->tea_straddle_told = true;
		a->ret = -DMTVM_EINVAL;
		return VMM_HC_RESUME;
	}
	struct dmtvm_kvm_alloc_tea t = {.gpa = p->l1_gpa + (a->gpa - p->l2_gpa),
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
