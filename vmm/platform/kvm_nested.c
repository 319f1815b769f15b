/* SPDX-License-Identifier: MIT */
/*
 * platform/kvm_nested.c: L0's side of nesting on the KVM platform
 * (platform.h struct vmm_l2_ops): the L2 VM is a second KVM VM of this
 * process, its vCPUs real KVM vCPUs whose kvm_run pages are KVM's own, and
 * every ioctl nkvm.c lets through (after its checks) is KVM's.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "vmm.h"

struct vmm_l2vm {
	int vm_fd;
	struct {
		int fd; /* -1: none */
		void *run;
		size_t size;
	} vcpu[DMTVM_KVM_MAX_VCPUS];
};

static int kvm_l2_create(struct vmm_vcpu *l1, struct vmm_l2vm **out)
{
	struct vmm_l2vm *l2 = calloc(1, sizeof(*l2));
	if (!l2)
		return -ENOMEM;
	if ((l2->vm_fd = ioctl(l1->vm->kvm_fd, KVM_CREATE_VM, 0)) < 0) {
		int e = errno;
		free(l2);
		return -e;
	}
	for (int i = 0; i < DMTVM_KVM_MAX_VCPUS; i++)
		l2->vcpu[i].fd = -1;
	*out = l2;
	return 0;
}

static void kvm_l2_vcpu_destroy(struct vmm_l2vm *l2, int id)
{
	if (l2->vcpu[id].fd < 0)
		return;
	munmap(l2->vcpu[id].run, l2->vcpu[id].size);
	close(l2->vcpu[id].fd);
	l2->vcpu[id].fd = -1;
}

static void kvm_l2_destroy(struct vmm_l2vm *l2)
{
	for (int i = 0; i < DMTVM_KVM_MAX_VCPUS; i++)
		kvm_l2_vcpu_destroy(l2, i);
	close(l2->vm_fd);
	free(l2);
}

static int kvm_l2_vcpu_create(struct vmm *vm, struct vmm_l2vm *l2, int id, void **run, size_t *size)
{
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return sz < 0 ? -errno : -EINVAL;
	int fd = ioctl(l2->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (fd < 0)
		return -errno;
	void *r = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	l2->vcpu[id].fd = fd;
	l2->vcpu[id].run = *run = r;
	l2->vcpu[id].size = *size = (size_t)sz;
	return 0;
}

static int kvm_l2_set_region(struct vmm_l2vm *l2, const void *host_region,
			     const struct vmm_memslot *slots, unsigned n)
{
	(void)slots;
	(void)n;
	return ioctl(l2->vm_fd, KVM_SET_USER_MEMORY_REGION, host_region) < 0 ? -errno : 0;
}

static long kvm_l2_ioctl(struct vmm *vm, struct vmm_l2vm *l2, int vcpu, unsigned long cmd,
			 void *arg, unsigned long iarg)
{
	int fd = !l2 ? vm->kvm_fd : vcpu < 0 ? l2->vm_fd : l2->vcpu[vcpu].fd;
	if (fd < 0)
		return -EBADF;
	int r = ioctl(fd, cmd, arg ? arg : (void *)(uintptr_t)iarg);
	return r < 0 ? -errno : r;
}

static long kvm_l2_run(struct vmm_l2vm *l2, int vcpu)
{
	return ioctl(l2->vcpu[vcpu].fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

const struct vmm_l2_ops vmm_l2_kvm = {
    .create = kvm_l2_create,
    .destroy = kvm_l2_destroy,
    .vcpu_create = kvm_l2_vcpu_create,
    .vcpu_destroy = kvm_l2_vcpu_destroy,
    .set_region = kvm_l2_set_region,
    .ioctl = kvm_l2_ioctl,
    .run = kvm_l2_run,
};
