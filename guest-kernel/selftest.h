/* SPDX-License-Identifier: MIT */
/*
 * selftest.h: kernel self-tests chosen on the command line (selftest.c):
 *   dmtvm.selftest=ring0-fault     a deliberate ring-0 #PF after boot (VMM exits 125)
 *   dmtvm.selftest=syscall-sysret  run a getpid through the normal (VMX) syscall
 *                                  path, sysretq included, then start /init
 *   dmtvm.selftest=tea             at exit, check the TEA invariant on sampled pages
 *                                  (tea_check) and print the TEA counters
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "kernel.h"

enum selftest { SELFTEST_NONE, SELFTEST_RING0_FAULT, SELFTEST_SYSCALL_SYSRET, SELFTEST_TEA };

extern enum selftest selftest;

__attribute__((noreturn)) void selftest_ring0_fault(void);
/* Needs /init loaded (its address space and stack); never returns. */
__attribute__((noreturn)) void selftest_sysret_run(void);
/* DMTVM_SYS_SELFTEST from the ring-3 half: report, then start /init. */
long selftest_sysret_done(uint64_t failed);

#endif /* SELFTEST_H */
