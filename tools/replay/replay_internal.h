/* SPDX-License-Identifier: MIT */
/*
 * replay_internal.h: the state of one replay run shared by the replay
 * engine's files: replay_input.c (opening, spooling and rereading the
 * trace, progress), replay_machine.c (simos worlds, model instances and the
 * per-batch translation context), replay_run.c (the two passes) and
 * replay_report.c (table and JSON reports). Not part of the replay API.
 */
#ifndef REPLAY_INTERNAL_H
#define REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lanes.h"
#include "replay_run.h"
#include "simhv.h"
#include "simos.h"
#include "trace.h"

#define ERRLEN 512
/* Address spaces in one trace: each costs a PML4 and a model TLB flush. */
#define REPLAY_MAX_SPACES 4096

/* Schemes that keep shadow tables (a guest PTE write is an exit for them). */
#define SHADOW_MASK                                                                                \
	(MMU_SCHEME_BIT(MMU_X86_SHADOW) | MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) |                   \
	 MMU_SCHEME_BIT(MMU_AGILE))

enum { WORLD_VIRT = 0, WORLD_NESTED = 1, NWORLDS };

struct as_chunks {
	uint64_t asid;
	struct u64map chunks;
};

struct replay {
	struct replay_opts *o;
	char err[ERRLEN];
	/* input */
	int fd;
	int spool_fd; /* pass-1 copy of a non-seekable input, or -1 */
	const char *name;
	/* pass 1 */
	struct as_chunks *spaces;
	unsigned nspaces, cap_spaces;
	struct u64map space_index; /* asid -> index in spaces */
	uint64_t accesses, controls, units, bytes;
	int has_roi;
	enum trace_format fmt;
	/* machine */
	struct simos os;
	struct physmem host[NWORLDS], l1;
	struct simhv hv_virt, hv01, hv12;
	bool world[NWORLDS];
	struct mmu_sim *sim[NWORLDS];
	struct mmu_ctx ctx[NWORLDS]; /* each world's, for the current address space */
	/* the model threads (--threads > 1, two or more schemes), else NULL */
	struct lanes *lanes;
	/* pass 2 */
	struct simos_as *cur; /* NULL: look up cur_asid at the next access */
	uint64_t cur_asid;
	struct mmu_access *acc;
	size_t nacc;
	bool feeding, roi_seen;
	uint64_t simulated;
	struct timespec t0, last_progress;
};

struct tee {
	struct trace_src in;
	int fd;
	int failed;
};

/* replay_input.c */
int replay_open_input(struct replay *r);
/* A fresh reader at the start of the input; pass 1 spools through tee. */
struct trace_reader *replay_reader(struct replay *r, int pass, struct tee *tee);
/* Reports a reader failure on stderr; returns the exit status (1 or 2). */
int replay_reader_failed(struct trace_reader *tr);
/* A progress line every ~2 s (final: a summary line if the run was long). */
void replay_progress(struct replay *r, const char *what, uint64_t done, int final);
/* --synthetic with --write-trace: writes the trace; returns the exit status. */
int replay_write_synthetic(struct replay_opts *o);

/* replay_machine.c */
/* The schemes of mask that model the given setup (mmu_scheme_setup). */
uint32_t replay_setup_mask(uint32_t mask, enum mmu_setup setup);
/* Builds simos, the hypervisors and the model instances; 0 or -1 (r->err). */
int replay_setup(struct replay *r);
void replay_teardown(struct replay *r);
/* Fills r->ctx[w] for the current address space in world w. */
void replay_build_ctx(struct replay *r, int w);

/* replay_report.c */
int replay_report(struct replay *r);

#endif /* REPLAY_INTERNAL_H */
