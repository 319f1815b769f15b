/* SPDX-License-Identifier: MIT */
/*
 * lanes.c: the thread pool of lanes.h. A call publishes the jobs under the
 * lock, wakes the workers, runs lane 0 and waits until every worker has
 * finished its lane. The waits spin briefly before sleeping: a call's work
 * is a few milliseconds, and the wake-up of a sleeping thread can cost as
 * much on a shared virtual machine.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "lanes.h"

#define SPINS 2000

struct lanes;

struct lane_arg {
	struct lanes *l;
	unsigned lane;
};

struct lanes {
	unsigned nlanes;
	pthread_t th[MMU_MAX_LANES];
	struct lane_arg arg[MMU_MAX_LANES];
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	atomic_uint gen;     /* calls published */
	atomic_uint pending; /* workers still running the current call */
	const struct lanes_job *jobs;
	unsigned njobs;
	bool quit;
	double busy[MMU_MAX_LANES]; /* CPU seconds each lane spent in calls */
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_jobs(struct lanes *l, unsigned lane)
{
	double t0 = thread_cpu();

	for (unsigned k = 0; k < l->njobs; k++) {
		unsigned j = (k + lane) % l->njobs;
		mmu_sim_run_lane(l->jobs[j].sim, l->jobs[j].ctx, l->jobs[j].acc, l->jobs[j].n, lane,
				 l->nlanes);
	}
	l->busy[lane] += thread_cpu() - t0;
}

/* Waits until a call after call `seen` is published; returns its number. */
static unsigned wait_call(struct lanes *l, unsigned seen)
{
	unsigned x;

	for (int i = 0; i < SPINS; i++)
		if ((x = atomic_load_explicit(&l->gen, memory_order_acquire)) != seen)
			return x;
		else
			__builtin_ia32_pause();
	pthread_mutex_lock(&l->mu);
	while ((x = atomic_load_explicit(&l->gen, memory_order_acquire)) == seen)
		pthread_cond_wait(&l->go, &l->mu);
	pthread_mutex_unlock(&l->mu);
	return x;
}

/* Waits until every worker has finished the current call. */
static void wait_done(struct lanes *l)
{
	for (int i = 0; i < SPINS; i++)
		if (!atomic_load_explicit(&l->pending, memory_order_acquire))
			return;
		else
			__builtin_ia32_pause();
	pthread_mutex_lock(&l->mu);
	while (atomic_load_explicit(&l->pending, memory_order_acquire))
		pthread_cond_wait(&l->done, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

static void *worker(void *p)
{
	struct lane_arg *a = p;
	struct lanes *l = a->l;
	unsigned seen = 0;

	for (;;) {
		seen = wait_call(l, seen);
		if (l->quit)
			return NULL;
		run_jobs(l, a->lane);
		pthread_mutex_lock(&l->mu);
		if (atomic_fetch_sub_explicit(&l->pending, 1, memory_order_acq_rel) == 1)
			pthread_cond_signal(&l->done);
		pthread_mutex_unlock(&l->mu);
	}
}

static void publish(struct lanes *l)
{
	pthread_mutex_lock(&l->mu);
	atomic_store_explicit(&l->pending, l->nlanes - 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->gen, 1, memory_order_release);
	pthread_cond_broadcast(&l->go);
	pthread_mutex_unlock(&l->mu);
}

struct lanes *lanes_create(unsigned nlanes)
{
	struct lanes *l;

	if (!nlanes || nlanes > MMU_MAX_LANES || !(l = calloc(1, sizeof(*l))))
		return NULL;
	l->nlanes = nlanes;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->go, NULL);
	pthread_cond_init(&l->done, NULL);
	for (unsigned i = 1; i < nlanes; i++) {
		l->arg[i] = (struct lane_arg){l, i};
		if (pthread_create(&l->th[i], NULL, worker, &l->arg[i])) {
			l->nlanes = i; /* the ones started stop in lanes_destroy */
			lanes_destroy(l);
			return NULL;
		}
	}
	return l;
}

void lanes_destroy(struct lanes *l)
{
	if (!l)
		return;
	l->quit = true;
	publish(l);
	for (unsigned i = 1; i < l->nlanes; i++)
		pthread_join(l->th[i], NULL);
	pthread_cond_destroy(&l->go);
	pthread_cond_destroy(&l->done);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void lanes_run(struct lanes *l, const struct lanes_job *jobs, unsigned njobs)
{
	l->jobs = jobs;
	l->njobs = njobs;
	if (l->nlanes > 1)
		publish(l);
	run_jobs(l, 0);
	if (l->nlanes > 1)
		wait_done(l);
}

double lanes_busy_max(struct lanes *l, bool reset)
{
	double m = 0;

	for (unsigned i = 0; i < l->nlanes; i++) {
		if (l->busy[i] > m)
			m = l->busy[i];
		if (reset)
			l->busy[i] = 0;
	}
	return m;
}
