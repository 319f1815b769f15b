/* SPDX-License-Identifier: MIT */
/*
 * time.c: the run's clock. Boot times are reported from dmtvm's own process
 * start; a constructor samples CLOCK_MONOTONIC before main() runs. The
 * guest's wall clock is the wall clock at that start plus monotonic time
 * since (as a vDSO keeps it between updates): one clock read per TIME
 * hypercall, which matters in L1, where each read is an exit to L0.
 */
#include <time.h>

#include "vmm.h"

static uint64_t start_ns, start_realtime_ns;

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((constructor(101))) static void vmm_time_init(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_ns = monotonic_ns();
	start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t vmm_realtime_ns(uint64_t now_ns)
{
	return start_realtime_ns + now_ns;
}

uint64_t vmm_process_start_monotonic_ns(void)
{
	return start_ns;
}

uint64_t vmm_now_ns(void)
{
	return monotonic_ns() - start_ns;
}
