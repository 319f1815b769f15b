/* SPDX-License-Identifier: MIT */
/*
 * console.c: the CONSOLE hypercall. Guest bytes go to dmtvm's stdout with
 * write(2), unbuffered, so they interleave correctly with the report and
 * survive any exit path.
 */
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "hypercall.h"

void vmm_console_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* stdout closed: the guest keeps running */
		p += r;
		len -= (size_t)r;
	}
}

enum vmm_hc_action vmm_hc_console(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_console *a = arg;
	uint64_t len = a->len > DMTVM_CONSOLE_MAX ? DMTVM_CONSOLE_MAX : a->len;
	const void *buf = vmm_gpa(vcpu->vm, a->buf_gpa, len);
	if (!buf) {
		a->ret = -DMTVM_EFAULT;
		return VMM_HC_RESUME;
	}
	/*
	 * A guest may print forever: past --console-limit its output is dropped
	 * (after one line saying so) while it keeps running; --timeout ends it.
	 */
	struct vmm *vm = vcpu->vm;
	uint64_t before = atomic_fetch_add(&vm->console_bytes, len);
	if (vm->console_limit && before + len > vm->console_limit) {
		if (before <= vm->console_limit) {
			vmm_console_write(1, buf, vm->console_limit - before);
			static const char msg[] = "\ndmtvm: guest console output reached "
						  "--console-limit; dropping the rest\n";
			vmm_console_write(2, msg, sizeof(msg) - 1);
		}
	} else {
		vmm_console_write(1, buf, len);
	}
	a->ret = (int64_t)len;
	return VMM_HC_RESUME;
}
