/* SPDX-License-Identifier: MIT */
/* report.h: the end-of-run report (stderr): one line, or one JSON object. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stdbool.h>

#include "vmm.h"

void vmm_report(struct vmm *vm, int exit_status, bool json);

#endif
