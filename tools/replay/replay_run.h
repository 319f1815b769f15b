/* SPDX-License-Identifier: MIT */
/*
 * replay_run.h: the replay engine behind `dmtvm replay`: two passes over a
 * trace (VMA discovery, then simos + the MMU model batch by batch) and the
 * report. replay_main.c turns the command line into struct replay_opts.
 */
#ifndef REPLAY_RUN_H
#define REPLAY_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu.h"
#include "synth.h"

struct replay_opts {
	struct mmu_config cfg;
	uint32_t mask;	     /* schemes to run */
	bool thp;	     /* 2 MiB guest data pages and 2 MiB host pages */
	unsigned host_shift; /* host (EPT) page size: 12 or 21 */
	uint64_t vma_gap;    /* VMA clustering gap, bytes */
	uint64_t tea_min;    /* TEA eligibility, bytes */
	unsigned tea_max;    /* TEAs per address space */
	uint64_t guest_mem;  /* 0: sized from the first pass */
	size_t batch;	     /* records per model batch */
	unsigned threads;    /* model lanes (1 = the calling thread only); 0 = auto */
	bool json;
	bool quiet; /* no progress lines */
	const char *report_file;
	const char *trace; /* path, "-" for stdin; NULL with synthetic */
	bool synthetic;
	struct synth synth;
	const char *write_trace; /* synthetic: write the trace here instead */
};

/* Runs a replay; returns the exit status (0, 1 environment, 2 bad input). */
int replay_run(struct replay_opts *o);

#endif /* REPLAY_RUN_H */
