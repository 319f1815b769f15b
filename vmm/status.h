/* SPDX-License-Identifier: MIT */
/*
 * status.h: the VM's observable state as JSON, shared by the control
 * socket's `status`/`counters` and the end-of-run report.
 */
#ifndef VMM_STATUS_H
#define VMM_STATUS_H

#include "jsonw.h"
#include "vmm.h"

/* {"state":..., "mode":..., "uptime_us":..., "boot_us":..., ...} */
void vmm_status_json(struct vmm *vm, struct jsonw *w);
/* {"io": n, ...}: exits by reason, then hypercalls by name. */
/* {"syscalls": N, ...}: the platform's own counters ({} on KVM). */
void vmm_platform_json(struct vmm *vm, struct jsonw *w);
void vmm_exits_json(struct vmm *vm, struct jsonw *w);
void vmm_hypercalls_json(struct vmm *vm, struct jsonw *w);
/* The MMU model's counters (dmtvm.counters/1); no schemes without a model. */
void vmm_counters_json(struct vmm *vm, struct jsonw *w);
uint64_t vmm_total_exits(struct vmm *vm);
/* Zero the exit, hypercall and model counters (`reset`); boot time and the
 * model's warm state (TLBs, caches) are kept. */
void vmm_status_reset(struct vmm *vm);

#endif
