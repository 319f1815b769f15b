/* SPDX-License-Identifier: MIT */
/*
 * sim_fixture.h: the Criterion fixture the simulator tests share (each test
 * file its own copy): a configuration, the hand-built world and one
 * simulator. The file's setup fills cfg and W; sim_fixture_fini is the
 * teardown; mk() (re)creates the simulator from cfg.
 */
#ifndef MODEL_SIM_FIXTURE_H
#define MODEL_SIM_FIXTURE_H

#include <criterion/criterion.h>

#include "world.h"

static struct mmu_config cfg;
static struct world W;
static struct mmu_sim *sim;

static inline void sim_fixture_fini(void)
{
	mmu_sim_destroy(sim);
	sim = NULL;
	world_free(&W);
}

static inline void mk(uint32_t mask)
{
	char err[256];

	mmu_sim_destroy(sim);
	sim = mmu_sim_create(&cfg, mask, err, sizeof(err));
	cr_assert(sim, "%s", err);
}

#endif
