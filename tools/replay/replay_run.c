/* SPDX-License-Identifier: MIT */
/*
 * replay_run.c: the replay engine (replay_run.h). Pass 1 reads the trace to
 * find each address space's VMAs (vma.h); stdin and pipes are spooled to
 * an unlinked temporary file for pass 2. Pass 2 reads it again in batches:
 * simos maps every first touch (guest tables, TEAs, EPTs) before the batch
 * that contains it goes to the model. Accesses before the first ROI begin
 * warm the model up; ROI begin zeroes its counters; accesses between an ROI
 * end and the next begin are mapped but not simulated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay_internal.h"
#include "vma.h"

/* ------------------------------------------------------------ pass 1 */

/* The chunk set of asid, created on first use; NULL when out of memory. */
static struct as_chunks *space(struct replay *r, uint64_t asid)
{
	uint64_t *i = u64map_find(&r->space_index, asid);
	if (i)
		return &r->spaces[*i];
	if (r->nspaces == r->cap_spaces) {
		unsigned ncap = r->cap_spaces ? 2 * r->cap_spaces : 16;
		struct as_chunks *n = realloc(r->spaces, ncap * sizeof(*n));
		if (!n)
			return NULL;
		r->spaces = n;
		r->cap_spaces = ncap;
	}
	if (u64map_put(&r->space_index, asid, r->nspaces) < 0)
		return NULL;
	r->spaces[r->nspaces].asid = asid;
	u64map_init(&r->spaces[r->nspaces].chunks);
	return &r->spaces[r->nspaces++];
}

static int pass1(struct replay *r, struct trace_rec *recs, size_t max)
{
	struct tee tee;
	struct trace_reader *tr = replay_reader(r, 1, &tee);
	if (!tr) {
		fprintf(stderr, "dmtvm replay: %s: cannot read: %s\n", r->name, strerror(errno));
		return 1;
	}
	uint64_t asid = 0, done = 0;
	struct as_chunks *sp = NULL;
	uint64_t last = UINT64_MAX;
	long n;
	while ((n = trace_reader_read(tr, recs, max)) > 0) {
		for (long i = 0; i < n; i++) {
			const struct trace_rec *t = &recs[i];
			if (t->kind == TRACE_ASID) {
				asid = t->va;
				sp = NULL;
				last = UINT64_MAX;
				r->controls++;
				continue;
			}
			if (t->kind == TRACE_INVALIDATE) {
				r->controls += 2; /* two records in the file */
				continue;
			}
			if (t->kind >= TRACE_ROI_BEGIN) {
				r->has_roi = 1;
				r->controls++;
				continue;
			}
			r->accesses++;
			if (!sp && r->nspaces == REPLAY_MAX_SPACES &&
			    !u64map_find(&r->space_index, asid)) {
				fprintf(
				    stderr,
				    "dmtvm replay: %s: record %llu: more than %d address spaces "
				    "(ASIDs)\n",
				    r->name, (unsigned long long)(done + (uint64_t)i + 1),
				    REPLAY_MAX_SPACES);
				trace_reader_close(tr);
				return 2;
			}
			if (!sp && !(sp = space(r, asid)))
				goto oom;
			uint64_t c0 = t->va >> VMA_CHUNK_SHIFT;
			uint64_t c1 = (t->va + t->size - 1) >> VMA_CHUNK_SHIFT;
			for (uint64_t c = c0; c <= c1; c++) {
				if (c == last)
					continue;
				if (u64map_put(&sp->chunks, c, 0) < 0)
					goto oom;
				last = c;
			}
		}
		done += (uint64_t)n;
		replay_progress(r, "pass 1 (VMAs)", done, 0);
	}
	if (n < 0) {
		int rc = replay_reader_failed(tr);
		trace_reader_close(tr);
		return rc;
	}
	r->fmt = trace_reader_format(tr);
	r->units = trace_reader_units(tr);
	r->bytes = trace_reader_bytes(tr);
	trace_reader_close(tr);
	return 0;
oom:
	trace_reader_close(tr);
	fprintf(stderr, "dmtvm replay: out of memory in pass 1\n");
	return 1;
}

/* Runs the batch through every world's model: on the model threads, both
 * worlds in one lanes_run (the same counters as one thread), except while
 * the model warms up (mmu_sim_run splits and zeroes around its end). */
static void flush(struct replay *r)
{
	struct lanes_job jobs[NWORLDS];
	unsigned nj = 0;

	if (r->nacc == 0)
		return;
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w])
			continue;
		replay_build_ctx(r, w);
		if (r->lanes && !mmu_sim_warming(r->sim[w]))
			jobs[nj++] = (struct lanes_job){r->sim[w], &r->ctx[w], r->acc, r->nacc};
		else
			mmu_sim_run(r->sim[w], &r->ctx[w], r->acc, r->nacc);
	}
	if (nj)
		lanes_run(r->lanes, jobs, nj);
	r->simulated += r->nacc;
	r->nacc = 0;
}

/* A new guest mapping: shadow-based schemes take a write-protect exit. */
static void new_mapping(struct replay *r, uint64_t va)
{
	unsigned shift = simos_page_shift(&r->os);
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w] || !(mmu_sim_schemes(r->sim[w]) & SHADOW_MASK))
			continue;
		replay_build_ctx(r, w);
		mmu_sim_invalidate(r->sim[w], &r->ctx[w], va >> shift << shift, 1ULL << shift);
	}
}

/* r->cur = the address space of r->cur_asid: 0, 1 if pass 1 saw none, -1 if inconsistent. */
static int replay_space(struct replay *r)
{
	uint64_t *k = u64map_find(&r->space_index, r->cur_asid);
	if (!k)
		return 1;
	if (*k >= r->os.nas)
		return -1;
	r->cur = &r->os.as[*k]; /* setup added them in this order */
	return 0;
}

/*
 * The run's guest changed its page tables (a PT_UPDATE in the run's
 * --trace-out): drop the TLB entries the run's model dropped, in the current
 * address space (none yet seen: nothing of it is cached). -1 on an internal
 * inconsistency.
 */
static int replay_invalidate(struct replay *r, const struct trace_rec *t)
{
	flush(r);
	int k = r->cur ? 0 : replay_space(r);
	if (k)
		return k < 0 ? -1 : 0;
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w])
			continue;
		replay_build_ctx(r, w);
		mmu_sim_invalidate(r->sim[w], &r->ctx[w], t->va, (uint64_t)t->size << 12);
	}
	return 0;
}

static int replay_access(struct replay *r, const struct trace_rec *t)
{
	uint64_t last = t->va + t->size - 1;
	int k = simos_touch(&r->os, r->cur, t->va);
	if (k < 0)
		return -1;
	/* Pending accesses do not touch this page, so the exit needs no flush. */
	if (k > 0 && r->feeding)
		new_mapping(r, t->va);
	if ((last >> simos_page_shift(&r->os)) != (t->va >> simos_page_shift(&r->os))) {
		k = simos_touch(&r->os, r->cur, last);
		if (k < 0)
			return -1;
		if (k > 0 && r->feeding)
			new_mapping(r, last);
	}
	if (!r->feeding)
		return 0;
	struct mmu_access *a = &r->acc[r->nacc++];
	a->va = t->va;
	a->size = t->size;
	a->kind = t->kind;
	a->vcpu = t->vcpu;
	a->pad = 0;
	if (r->nacc == r->o->batch)
		flush(r);
	return 0;
}

static int pass2(struct replay *r, struct trace_rec *recs, size_t max)
{
	struct trace_reader *tr = replay_reader(r, 2, NULL);
	if (!tr) {
		fprintf(stderr, "dmtvm replay: %s: cannot reread: %s\n", r->name, strerror(errno));
		return 1;
	}
	r->acc = malloc(r->o->batch * sizeof(*r->acc));
	if (!r->acc) {
		trace_reader_close(tr);
		fprintf(stderr, "dmtvm replay: out of memory for a batch\n");
		return 1;
	}
	r->cur = NULL;
	r->cur_asid = 0;
	r->feeding = true;
	uint64_t done = 0;
	long n;
	while ((n = trace_reader_read(tr, recs, max)) > 0) {
		for (long i = 0; i < n; i++) {
			const struct trace_rec *t = &recs[i];
			switch (t->kind) {
			case TRACE_ASID:
				flush(r);
				r->cur = NULL;
				r->cur_asid = t->va;
				continue;
			case TRACE_ROI_BEGIN:
				flush(r);
				if (!r->roi_seen) {
					for (int w = 0; w < NWORLDS; w++)
						if (r->sim[w])
							mmu_sim_reset_counters(r->sim[w]);
					r->simulated = 0;
				}
				r->roi_seen = true;
				r->feeding = true;
				continue;
			case TRACE_ROI_END:
				flush(r);
				r->feeding = false;
				continue;
			case TRACE_INVALIDATE:
				if (replay_invalidate(r, t) < 0)
					goto internal;
				continue;
			}
			if (!r->cur && replay_space(r) != 0)
				goto internal;
			if (t->vcpu >= r->o->cfg.max_vcpus) {
				trace_reader_close(tr);
				fprintf(stderr,
					"dmtvm replay: %s: record %llu: vcpu %u >= max_vcpus %u\n",
					r->name, (unsigned long long)(done + (uint64_t)i + 1),
					t->vcpu, r->o->cfg.max_vcpus);
				return 2;
			}
			if (replay_access(r, t) < 0) {
				trace_reader_close(tr);
				fprintf(stderr, "dmtvm replay: %s\n", r->err);
				return 1;
			}
		}
		done += (uint64_t)n;
		replay_progress(r, "pass 2 (model)", done, 0);
	}
	if (n < 0) {
		/* The input changed between passes (a file being written?). */
		int rc = replay_reader_failed(tr);
		trace_reader_close(tr);
		return rc;
	}
	flush(r);
	trace_reader_close(tr);
	return 0;
internal:
	trace_reader_close(tr);
	fprintf(stderr, "dmtvm replay: %s: the trace changed between passes\n", r->name);
	return 1;
}

/* ------------------------------------------------------------ entry */

int replay_run(struct replay_opts *o)
{
	if (o->synthetic && o->write_trace)
		return replay_write_synthetic(o);
	struct replay *r = calloc(1, sizeof(*r));
	size_t max = 1 << 16;
	struct trace_rec *recs = malloc(max * sizeof(*recs));
	if (!r || !recs) {
		free(r);
		free(recs);
		fprintf(stderr, "dmtvm replay: out of memory\n");
		return 1;
	}
	r->o = o;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->last_progress = r->t0;
	int rc = replay_open_input(r);
	if (rc == 0)
		rc = pass1(r, recs, max);
	if (rc == 0 && replay_setup(r) < 0) {
		fprintf(stderr, "dmtvm replay: %s\n", r->err);
		rc = 1;
	}
	if (rc == 0)
		rc = pass2(r, recs, max);
	if (rc == 0) {
		replay_progress(r, "done", r->units, 1);
		rc = replay_report(r);
	}
	replay_teardown(r);
	if (r->fd > 0)
		close(r->fd);
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	free(recs);
	free(r);
	return rc;
}
