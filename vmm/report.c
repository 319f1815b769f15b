/* SPDX-License-Identifier: MIT */
/*
 * report.c: the end-of-run report on stderr. Times: boot = dmtvm process
 * start to the guest's INIT_STARTED hypercall; run = INIT_STARTED (or the
 * first KVM_RUN when the guest never sent it) to the end of the run;
 * vmm_setup_us = process start to the first KVM_RUN (the VMM's own share).
 * As L0 of a nest, also L2's line (boot from L0 start, reflected exits) and
 * the L2 model's table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "nkvm.h"
#include "report.h"
#include "status.h"
#include "xlate.h"

/* The JSON report holds the model's counters and tables: up to this much. */
#define REPORT_JSON_MAX (4u << 20)

void vmm_report(struct vmm *vm, int exit_status, bool json, FILE *out)
{
	uint64_t now = vmm_now_ns();
	uint64_t boot = atomic_load(&vm->boot_ns);
	uint64_t from = boot ? boot : atomic_load(&vm->start_ns);
	uint64_t run = now > from ? now - from : 0;
	char line[4096];
	char *buf = json ? malloc(REPORT_JSON_MAX) : line;
	struct jsonw w;
	if (!buf) {
		fputs("{\"error\":\"out of memory for the report\"}\n", out);
		return;
	}
	jsonw_init(&w, buf, json ? REPORT_JSON_MAX : sizeof(line));
	if (json) {
		bool first = true;
		jsonw_raw(&w, "{");
		jsonw_key(&w, "exit_status", &first);
		jsonw_i64(&w, exit_status);
		jsonw_key(&w, "mode", &first);
		jsonw_str(&w, vm->mode);
		jsonw_key(&w, "platform", &first);
		jsonw_str(&w, vm->platform ? vm->platform->name : "none");
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
		jsonw_key(&w, "platform_counters", &first);
		vmm_platform_json(vm, &w);
		jsonw_key(&w, "hypercalls", &first);
		vmm_hypercalls_json(vm, &w);
		jsonw_key(&w, "counters", &first);
		vmm_counters_json(vm, &w);
		jsonw_key(&w, "tables", &first);
		vmm_xlate_tables_json(vm, &w, false);
		jsonw_key(&w, "translate_check", &first);
		vmm_xlate_check_json(vm, &w);
		if (atomic_load(&vm->nkvm)) {
			/* L0 of a nest: l2_boot_us, reflected exits (counters hold "l2"). */
			jsonw_key(&w, "nested", &first);
			vmm_nkvm_status_json(vm, &w);
		}
		jsonw_raw(&w, "}\n");
		fputs(w.overflow ? "{\"error\":\"report too large\"}\n" : buf, out);
		free(buf);
		return;
	}
	int n = 0;
	if (boot)
		n = snprintf(line, sizeof(line), "%s: boot %.1f ms, run %.1f ms, exits %llu (",
			     vmm_level_tag(), boot / 1e6, run / 1e6,
			     (unsigned long long)vmm_total_exits(vm));
	else
		n = snprintf(line, sizeof(line),
			     "%s: boot - (no INIT_STARTED), run %.1f ms, exits %llu (",
			     vmm_level_tag(), run / 1e6, (unsigned long long)vmm_total_exits(vm));
	const char *sep = "";
	for (int k = 0; k < VMM_EXIT_NKINDS && n > 0 && (size_t)n < sizeof(line); k++) {
		uint64_t c = atomic_load(&vm->exits[k]);
		if (!c)
			continue;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s %llu", sep,
			      vmm_exit_kind_name(k), (unsigned long long)c);
		sep = ", ";
	}
	fprintf(out, "%s), status %d\n", line, exit_status);
	vmm_xlate_report_table(vm, out);
	vmm_nkvm_report(vm, out);
	vmm_xlate_l2_report_table(vm, out);
}
