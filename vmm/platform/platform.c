/* SPDX-License-Identifier: MIT */
/*
 * platform/platform.c: choosing the platform (--platform=auto|kvm|ptrace)
 * and the names of the exits every platform returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "platform.h"
#include "vmm.h"

int vmm_platform_open(struct vmm *vm, const char *which, char *err, size_t errlen)
{
	if (!strcmp(which, "kvm")) {
		vm->platform = &vmm_platform_kvm;
		return vm->platform->open(vm, err, errlen);
	}
	if (!strcmp(which, "ptrace")) {
		vm->platform = &vmm_platform_ptrace;
		return vm->platform->open(vm, err, errlen);
	}
	/* auto: KVM when /dev/kvm opens (it says why not), else ptrace. */
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		vm->platform = &vmm_platform_kvm;
		return vm->platform->open(vm, err, errlen);
	}
	fprintf(stderr, "%s: NOTE: /dev/kvm: %s; running on the ptrace platform\n", vmm_level_tag(),
		strerror(errno));
	vm->platform = &vmm_platform_ptrace;
	return vm->platform->open(vm, err, errlen);
}

const char *vmm_exit_kind_name(enum vmm_exit_kind k)
{
	static const char *const names[VMM_EXIT_NKINDS] = {
	    [VMM_EXIT_IO] = "io",
	    [VMM_EXIT_MMIO] = "mmio",
	    [VMM_EXIT_HLT] = "hlt",
	    [VMM_EXIT_INTR] = "intr",
	    [VMM_EXIT_SHUTDOWN] = "shutdown",
	    [VMM_EXIT_INTERNAL] = "internal_error",
	    [VMM_EXIT_FAIL_ENTRY] = "fail_entry",
	    [VMM_EXIT_OTHER] = "other",
	};
	return (unsigned)k < VMM_EXIT_NKINDS ? names[k] : "?";
}
