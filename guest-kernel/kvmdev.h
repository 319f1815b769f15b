/* SPDX-License-Identifier: MIT */
/*
 * kvmdev.h: the paravirtual /dev/kvm (kvmdev.c): ioctls on its system, VM
 * and vCPU fds become DMTVM_HC_KVM hypercalls to L0 (dmtvm_abi.h
 * "Nesting"); the vCPU run area for mmap.
 */
#ifndef KVMDEV_H
#define KVMDEV_H

#include "file.h"

/* open("/dev/kvm"): f becomes a system fd. 0. */
long kvmdev_open(struct file *f);
/* The fd f is going away: DMTVM_KVM_CLOSE for a VM / vCPU when it held the last reference. */
void kvmdev_release(struct file *f);
/* ioctl(cmd, arg) on a KVM fd of table t (new VM / vCPU fds go into t). */
long kvmdev_ioctl(struct fdtable *t, struct file *f, uint64_t cmd, uint64_t arg);
/*
 * mmap(vCPU fd, len, offset off): the gPA of its run area (contiguous,
 * allocated once per vCPU id and kept for the kernel's life), or -errno.
 */
long kvmdev_mmap_gpa(const struct file *f, uint64_t len, uint64_t off, uint64_t *gpa);
/* True while L0 holds a VM for this process (its pinned memory must stay). */
bool kvmdev_vm_live(void);

/* Hypercalls made and pins done, and their TSC time, for dmtvm.verbose's exit report. */
struct kvmdev_stats {
	uint64_t calls, tsc;
	uint64_t pins, pin_bytes, pin_tsc; /* pins that moved memory (not idempotent repeats) */
};
extern struct kvmdev_stats kvmdev_stats;

#endif /* KVMDEV_H */
