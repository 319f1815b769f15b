/* SPDX-License-Identifier: MIT */
/*
 * lanes.h: the caller's threads for mmu_sim_run_lane (libmmu creates none):
 * a pool of nlanes - 1 workers plus the calling thread runs a list of jobs
 * (simulator, context, batch) per call, each lane through every job in
 * order, and returns when all lanes are done.
 */
#ifndef MODEL_LANES_H
#define MODEL_LANES_H

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

#endif
