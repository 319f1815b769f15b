/* SPDX-License-Identifier: MIT */
/*
 * report.h: the end-of-run report (stderr, or --report-file): one line plus
 * the MMU model's table when records were traced, or one JSON object.
 */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "vmm.h"

void vmm_report(struct vmm *vm, int exit_status, bool json, FILE *out);

#endif
