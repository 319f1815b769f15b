/* SPDX-License-Identifier: MIT */
/* cpu.h: descriptor tables and system-call MSRs (cpu.c). */
#ifndef CPU_H
#define CPU_H

#include "kernel.h"

void cpu_init(void);
bool cpu_lstar_supervisor(void);

#endif /* CPU_H */
