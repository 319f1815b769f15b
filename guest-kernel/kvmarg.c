/* SPDX-License-Identifier: MIT */
/*
 * kvmarg.c: sizes of /dev/kvm ioctl arguments (kvmarg.h). Linux encodes a
 * fixed structure's size in the ioctl number; kvm_cpuid2 (8-byte header,
 * 40-byte entries), kvm_msrs (8, 16) and kvm_msr_list (4, 4) end in an
 * array whose length is the header's first u32.
 */
#include "kvmarg.h"

bool kvmarg_is_variable(uint32_t cmd)
{
	switch (cmd) {
	case KVMARG_GET_SUPPORTED_CPUID:
	case KVMARG_GET_EMULATED_CPUID:
	case KVMARG_SET_CPUID2:
	case KVMARG_GET_CPUID2:
	case KVMARG_GET_MSRS:
	case KVMARG_SET_MSRS:
	case KVMARG_GET_MSR_INDEX_LIST:
	case KVMARG_GET_MSR_FEATURE_INDEX_LIST:
		return true;
	default:
		return false;
	}
}

long kvmarg_len(uint32_t cmd, uint32_t count)
{
	uint64_t len;
	if (KVMARG_IOC_TYPE(cmd) != 0xae)
		return -ENOTTY;
	switch (cmd) {
	case KVMARG_GET_SUPPORTED_CPUID:
	case KVMARG_GET_EMULATED_CPUID:
	case KVMARG_SET_CPUID2:
	case KVMARG_GET_CPUID2:
		len = 8 + (uint64_t)count * 40;
		break;
	case KVMARG_GET_MSRS:
	case KVMARG_SET_MSRS:
		len = 8 + (uint64_t)count * 16;
		break;
	case KVMARG_GET_MSR_INDEX_LIST:
	case KVMARG_GET_MSR_FEATURE_INDEX_LIST:
		len = 4 + (uint64_t)count * 4;
		break;
	default:
		len = KVMARG_IOC_DIR(cmd) == KVMARG_IOC_NONE ? 0 : KVMARG_IOC_SIZE(cmd);
	}
	return len > DMTVM_KVM_ARG_MAX ? -E2BIG : (long)len;
}
