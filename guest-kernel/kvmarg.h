/* SPDX-License-Identifier: MIT */
/*
 * kvmarg.h: how many argument bytes a /dev/kvm ioctl carries (kvmarg.c):
 * the part of the paravirtual /dev/kvm (kvmdev.c) that reads only the
 * ioctl number and the argument's header, so the host unit tests check it.
 */
#ifndef KVMARG_H
#define KVMARG_H

#include "kernel.h"

#define KVMARG_IOC_NONE	     0U
#define KVMARG_IOC_WRITE     1U /* user -> kernel */
#define KVMARG_IOC_READ	     2U /* kernel -> user */
#define KVMARG_IOC_DIR(cmd)  (((cmd) >> 30) & 3U)
#define KVMARG_IOC_SIZE(cmd) (((cmd) >> 16) & 0x3fffU)
#define KVMARG_IOC_TYPE(cmd) (((cmd) >> 8) & 0xffU)

/* linux/kvm.h numbers the kernel treats specially. */
#define KVMARG_GET_API_VERSION		  0xae00U
#define KVMARG_CREATE_VM		  0xae01U
#define KVMARG_GET_MSR_INDEX_LIST	  0xc004ae02U
#define KVMARG_CHECK_EXTENSION		  0xae03U
#define KVMARG_GET_VCPU_MMAP_SIZE	  0xae04U
#define KVMARG_GET_SUPPORTED_CPUID	  0xc008ae05U
#define KVMARG_GET_EMULATED_CPUID	  0xc008ae09U
#define KVMARG_GET_MSR_FEATURE_INDEX_LIST 0xc004ae0aU
#define KVMARG_CREATE_VCPU		  0xae41U
#define KVMARG_SET_USER_MEMORY_REGION	  0x4020ae46U
#define KVMARG_RUN			  0xae80U
#define KVMARG_GET_MSRS			  0xc008ae88U
#define KVMARG_SET_MSRS			  0x4008ae89U
#define KVMARG_SET_CPUID2		  0x4008ae90U
#define KVMARG_GET_CPUID2		  0xc008ae91U

/*
 * Does cmd's size depend on a count in its argument's first 4 bytes
 * (nent of kvm_cpuid2, nmsrs of kvm_msrs / kvm_msr_list)?
 */
bool kvmarg_is_variable(uint32_t cmd);
/*
 * Bytes of cmd's argument structure: 0 for an integer-argument ioctl
 * (_IO), _IOC_SIZE for a fixed structure, header + count * entry for a
 * variable one (count = the header's first u32). -ENOTTY if cmd is not in
 * KVM's 0xAE space, -E2BIG if larger than DMTVM_KVM_ARG_MAX.
 */
long kvmarg_len(uint32_t cmd, uint32_t count);

#endif /* KVMARG_H */
