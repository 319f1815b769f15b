/* SPDX-License-Identifier: MIT */
/*
 * time.c: the run's clock. Boot times are reported from dmtvm's own process
 * start; a constructor samples CLOCK_MONOTONIC before main() runs.
 */
#include <time.h>

#include "vmm.h"

static uint64_t start_ns;

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((constructor(101))) static void vmm_time_init(void)
{
	start_ns = monotonic_ns();
}

uint64_t vmm_process_start_monotonic_ns(void)
{
	return start_ns;
}

uint64_t vmm_now_ns(void)
{
	return monotonic_ns() - start_ns;
}
