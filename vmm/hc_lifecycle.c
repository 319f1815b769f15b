/* SPDX-License-Identifier: MIT */
/*
 * hc_lifecycle.c: hypercalls about the guest's life: EXIT (/init's status
 * becomes dmtvm's), PANIC (one line on stderr, exit 125), INIT_STARTED (the
 * boot-time mark) and TIME. As an L1 hypervisor these come from L2 (L0
 * reflects them), and a panic line says "dmtvm (L1)" (vmm_level_tag).
 */
#include <stdio.h>
#include <time.h>

#include "dmtvm_abi.h"
#include "hypercall.h"

/* Process-wide: one VM per dmtvm process. */
static int vmm_level;

void vmm_set_level(int level)
{
	vmm_level = level;
}

const char *vmm_level_tag(void)
{
	return vmm_level ? "dmtvm (L1)" : "dmtvm";
}

enum vmm_hc_action vmm_hc_exit(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_exit *a = arg;
	if (a->status < 0 || a->status > 255) {
		a->ret = -DMTVM_EINVAL;
		return VMM_HC_RESUME;
	}
	a->ret = 0;
	vmm_stop(vcpu->vm, (int)a->status);
	return VMM_HC_STOP;
}

static const char *vector_name(uint64_t v)
{
	static const char *const names[] = {
	    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	    "#NP", "#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "irq";
}

enum vmm_hc_action vmm_hc_panic(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_panic *a = arg;
	char msg[161];
	size_t n = 0;
	uint64_t len = a->msg_len > 160 ? 160 : a->msg_len;
	const char *m = a->msg_gpa ? vmm_gpa(vcpu->vm, a->msg_gpa, len) : NULL;
	if (m) {
		/* Keep the report on one line whatever the guest sent. */
		for (; n < len; n++)
			msg[n] = (m[n] >= 0x20 && m[n] < 0x7f) ? m[n] : '?';
	}
	msg[n] = 0;
	if (a->vector == ~0ULL)
		fprintf(stderr, "%s: guest kernel panic: software panic rip %#llx rsp %#llx%s%s\n",
			vmm_level_tag(), (unsigned long long)a->rip, (unsigned long long)a->rsp,
			n ? ": " : "", msg);
	else
		fprintf(stderr,
			"%s: guest kernel panic: vector %llu (%s) error %#llx rip %#llx cr2 %#llx "
			"rsp %#llx%s%s\n",
			vmm_level_tag(), (unsigned long long)a->vector, vector_name(a->vector),
			(unsigned long long)a->error_code, (unsigned long long)a->rip,
			(unsigned long long)a->cr2, (unsigned long long)a->rsp, n ? ": " : "", msg);
	a->ret = 0;
	vmm_stop(vcpu->vm, DMTVM_EXIT_GUEST_PANIC);
	return VMM_HC_STOP;
}

enum vmm_hc_action vmm_hc_init_started(struct vmm_vcpu *vcpu, void *arg)
{
	uint64_t expected = 0;
	uint64_t now = vmm_now_ns();
	/* The first call counts: boot ends when /init is about to run. */
	atomic_compare_exchange_strong(&vcpu->vm->boot_ns, &expected, now ? now : 1);
	((struct dmtvm_hc_ret *)arg)->ret = 0;
	return VMM_HC_RESUME;
}

enum vmm_hc_action vmm_hc_time(struct vmm_vcpu *vcpu, void *arg)
{
	(void)vcpu;
	struct dmtvm_hc_time *a = arg;
	a->monotonic_ns = vmm_now_ns();
	a->realtime_ns = vmm_realtime_ns(a->monotonic_ns);
	a->ret = 0;
	return VMM_HC_RESUME;
}
