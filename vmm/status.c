/* SPDX-License-Identifier: MIT */
/* status.c: VM state and statistics as JSON objects (see status.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "hypercall.h"
#include "nkvm.h"
#include "xlate.h"

static uint64_t load(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

uint64_t vmm_total_exits(struct vmm *vm)
{
	uint64_t n = 0;
	for (int k = 0; k < VMM_EXIT_NKINDS; k++)
		n += load(&vm->exits[k]);
	return n;
}

void vmm_status_reset(struct vmm *vm)
{
	for (int k = 0; k < VMM_EXIT_NKINDS; k++)
		atomic_store_explicit(&vm->exits[k], 0, memory_order_relaxed);
	for (int nr = 0; nr < 64; nr++)
		atomic_store_explicit(&vm->hypercalls[nr], 0, memory_order_relaxed);
	vmm_xlate_reset(vm);
	vmm_nkvm_reset(vm);
}

void vmm_platform_json(struct vmm *vm, struct jsonw *w)
{
	const char *names[16];
	uint64_t vals[16];
	int n = vm->platform && vm->platform->counters ? vm->platform->counters(vm, names, vals, 16)
						       : 0;
	bool first = true;
	jsonw_raw(w, "{");
	for (int i = 0; i < n; i++) {
		jsonw_key(w, names[i], &first);
		jsonw_u64(w, vals[i]);
	}
	jsonw_raw(w, "}");
}

void vmm_exits_json(struct vmm *vm, struct jsonw *w)
{
	bool first = true;
	jsonw_raw(w, "{");
	for (int k = 0; k < VMM_EXIT_NKINDS; k++) {
		jsonw_key(w, vmm_exit_kind_name(k), &first);
		jsonw_u64(w, load(&vm->exits[k]));
	}
	jsonw_raw(w, "}");
}

void vmm_hypercalls_json(struct vmm *vm, struct jsonw *w)
{
	bool first = true;
	jsonw_raw(w, "{");
	for (unsigned nr = 0; nr < 64; nr++) {
		const char *name = vmm_hypercall_name(nr);
		uint64_t n = load(&vm->hypercalls[nr]);
		if (!name && n == 0)
			continue;
		char unknown[16];
		if (!name) {
			snprintf(unknown, sizeof(unknown), "nr%u", nr);
			name = unknown;
		}
		jsonw_key(w, name, &first);
		jsonw_u64(w, n);
	}
	jsonw_raw(w, "}");
}

void vmm_counters_json(struct vmm *vm, struct jsonw *w)
{
	char *model = vmm_xlate_counters_json(vm);
	char *l2 = vmm_xlate_l2_counters_json(vm);
	size_t len = model ? strlen(model) : 0;
	if (l2 && len && model[len - 1] == '}') {
		/* Nesting: L1's document as ever, plus {"l2": L2's document}. */
		model[len - 1] = 0;
		jsonw_raw(w, model);
		jsonw_raw(w, ", \"l2\": ");
		jsonw_raw(w, l2);
		jsonw_raw(w, "}");
	} else {
		jsonw_raw(w, model ? model : "{\"schema\":\"dmtvm.counters/1\",\"schemes\":{}}");
	}
	free(model);
	free(l2);
}

void vmm_status_json(struct vmm *vm, struct jsonw *w)
{
	bool first = true;
	uint64_t boot = load(&vm->boot_ns);
	pthread_mutex_lock(&vm->lock);
	bool stopped = vm->stopped;
	pthread_mutex_unlock(&vm->lock);
	jsonw_raw(w, "{");
	jsonw_key(w, "state", &first);
	jsonw_str(w, stopped ? "stopped" : boot ? "running" : "booting");
	jsonw_key(w, "mode", &first);
	jsonw_str(w, vm->mode);
	jsonw_key(w, "platform", &first);
	jsonw_str(w, vm->platform ? vm->platform->name : "none");
	jsonw_key(w, "uptime_us", &first);
	jsonw_u64(w, vmm_now_ns() / 1000);
	jsonw_key(w, "boot_us", &first);
	if (boot)
		jsonw_u64(w, boot / 1000);
	else
		jsonw_raw(w, "null");
	jsonw_key(w, "mem", &first);
	jsonw_u64(w, vm->mem_size);
	jsonw_key(w, "vcpus", &first);
	jsonw_u64(w, (uint64_t)vm->nvcpus);
	jsonw_key(w, "exits", &first);
	vmm_exits_json(vm, w);
	jsonw_key(w, "platform_counters", &first);
	vmm_platform_json(vm, w);
	jsonw_key(w, "hypercalls", &first);
	vmm_hypercalls_json(vm, w);
	if (atomic_load(&vm->nkvm)) {
		/* L0 of a nest: L2's boot time, reflected exits. */
		jsonw_key(w, "nested", &first);
		vmm_nkvm_status_json(vm, w);
	}
	jsonw_raw(w, "}");
}
