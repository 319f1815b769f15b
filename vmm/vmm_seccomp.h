/* SPDX-License-Identifier: MIT */
/*
 * vmm_seccomp.h: per-thread allow-list filters, loaded by each thread for itself
 * before the first KVM_RUN (no TSYNC: vCPU, control and main threads need
 * different syscalls). A forbidden syscall raises SIGSYS: dmtvm names it on
 * stderr and exits with DMTVM_EXIT_VMM_ERROR.
 */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

#include <stddef.h>

struct vmm;

void vmm_seccomp_install_handler(void);
int vmm_seccomp_vcpu(struct vmm *vm, char *err, size_t errlen);
int vmm_seccomp_ctl(struct vmm *vm, char *err, size_t errlen);
int vmm_seccomp_main(struct vmm *vm, char *err, size_t errlen);
/* Hidden debug option: attempt a syscall no filter allows, report if it ran. */
void vmm_seccomp_probe(const char *what);

#endif
