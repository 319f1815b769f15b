/* SPDX-License-Identifier: MIT */
/*
 * lanes.h: the caller's threads for mmu_sim_run_lane (libmmu creates none):
 * a pool of nlanes - 1 workers plus the calling thread runs a list of jobs
 * (simulator, context, batch) per call, each lane through every job, and
 * returns when all lanes are done. Lane i starts at job i % njobs and goes
 * round: with two simulators (bench-model's and dmtvm replay's virtualized
 * and nested worlds) both begin at once, instead of the second lane
 * waiting on the first simulator's begins while the second one's could run.
 */
#ifndef MMU_LANES_H
#define MMU_LANES_H

#include <stdbool.h>
#include <stddef.h>

#include "mmu.h"

struct lanes_job {
	struct mmu_sim *sim;
	const struct mmu_ctx *ctx;
	const struct mmu_access *acc;
	size_t n;
};

struct lanes;

/* NULL if nlanes is 0 or above MMU_MAX_LANES, or a thread cannot start. */
struct lanes *lanes_create(unsigned nlanes);
void lanes_destroy(struct lanes *l);
/* Runs the jobs (distinct simulators) on all lanes; returns when done. */
void lanes_run(struct lanes *l, const struct lanes_job *jobs, unsigned njobs);

/* CPU seconds of the busiest lane in lanes_run calls (since the last
 * reset): the wall time the calls would take with a core per lane. */
double lanes_busy_max(struct lanes *l, bool reset);

#endif /* MMU_LANES_H */
