/* SPDX-License-Identifier: MIT */
/*
 * report.c: the end-of-run report on stderr. Times: boot = dmtvm process
 * start to the guest's INIT_STARTED hypercall; run = INIT_STARTED (or the
 * first KVM_RUN when the guest never sent it) to the end of the run;
 * vmm_setup_us = process start to the first KVM_RUN (the VMM's own share).
 */
#include <stdio.h>

#include "report.h"
#include "status.h"

void vmm_report(struct vmm *vm, int exit_status, bool json)
{
	uint64_t now = vmm_now_ns();
	uint64_t boot = atomic_load(&vm->boot_ns);
	uint64_t from = boot ? boot : atomic_load(&vm->start_ns);
	uint64_t run = now > from ? now - from : 0;
	char buf[4096];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf));
	if (json) {
		bool first = true;
		jsonw_raw(&w, "{");
		jsonw_key(&w, "exit_status", &first);
		jsonw_i64(&w, exit_status);
		jsonw_key(&w, "mode", &first);
		jsonw_str(&w, vm->mode);
		jsonw_key(&w, "boot_us", &first);
		if (boot)
			jsonw_u64(&w, boot / 1000);
		else
			jsonw_raw(&w, "null");
		jsonw_key(&w, "vmm_setup_us", &first);
		jsonw_u64(&w, atomic_load(&vm->start_ns) / 1000);
		jsonw_key(&w, "run_us", &first);
		jsonw_u64(&w, run / 1000);
		jsonw_key(&w, "total_us", &first);
		jsonw_u64(&w, now / 1000);
		jsonw_key(&w, "mem", &first);
		jsonw_u64(&w, vm->mem_size);
		jsonw_key(&w, "vcpus", &first);
		jsonw_u64(&w, (uint64_t)vm->nvcpus);
		jsonw_key(&w, "exits", &first);
		vmm_exits_json(vm, &w);
		jsonw_key(&w, "hypercalls", &first);
		vmm_hypercalls_json(vm, &w);
		jsonw_key(&w, "counters", &first);
		vmm_counters_json(vm, &w);
		jsonw_raw(&w, "}\n");
		fputs(w.overflow ? "{\"error\":\"report too large\"}\n" : buf, stderr);
		return;
	}
	int n = 0;
	if (boot)
		n = snprintf(buf, sizeof(buf), "dmtvm: boot %.1f ms, run %.1f ms, exits %llu (",
			     boot / 1e6, run / 1e6, (unsigned long long)vmm_total_exits(vm));
	else
		n = snprintf(buf, sizeof(buf),
			     "dmtvm: boot - (no INIT_STARTED), run %.1f ms, exits %llu (",
			     run / 1e6, (unsigned long long)vmm_total_exits(vm));
	const char *sep = "";
	for (int k = 0; k < VMM_EXIT_NKINDS && n > 0 && (size_t)n < sizeof(buf); k++) {
		uint64_t c = atomic_load(&vm->exits[k]);
		if (!c)
			continue;
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%s %llu", sep,
			      vmm_exit_kind_name(k), (unsigned long long)c);
		sep = ", ";
	}
	fprintf(stderr, "%s), status %d\n", buf, exit_status);
}
