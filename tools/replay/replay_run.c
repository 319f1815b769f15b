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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmtvm_trace.h"
#include "replay_run.h"
#include "simhv.h"
#include "simos.h"
#include "trace.h"
#include "vma.h"

#define ERRLEN 512

/* Schemes walking one guest over one host (or natively), and nested ones. */
#define NESTED_MASK                                                                                \
	(MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |                       \
	 MMU_SCHEME_BIT(MMU_PVDMT_NESTED))
#define NATIVE_MASK                                                                                \
	(MMU_SCHEME_BIT(MMU_X86_NATIVE) | MMU_SCHEME_BIT(MMU_DMT_NATIVE) |                         \
	 MMU_SCHEME_BIT(MMU_FPT_NATIVE))
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
	unsigned nspaces;
	uint64_t accesses, controls, units, bytes;
	int has_roi;
	enum trace_format fmt;
	/* machine */
	struct simos os;
	struct physmem host[NWORLDS], l1;
	struct simhv hv_virt, hv01, hv12;
	bool world[NWORLDS];
	struct mmu_sim *sim[NWORLDS];
	struct mmu_ctx ctx;
	/* pass 2 */
	struct simos_as *cur;
	struct mmu_access *acc;
	size_t nacc;
	bool feeding, roi_seen;
	uint64_t simulated;
	struct timespec t0, last_progress;
	uint64_t invalidations;
};

/* ------------------------------------------------------------ input */

struct tee {
	struct trace_src in;
	int fd;
	int failed;
};

static ssize_t tee_read(void *ctx, void *buf, size_t len)
{
	struct tee *t = ctx;
	ssize_t n = t->in.read(t->in.ctx, buf, len);
	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(t->fd, (char *)buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->failed = errno ? errno : EIO;
			errno = t->failed;
			return -1;
		}
		off += w;
	}
	return n;
}

static int open_input(struct replay *r)
{
	struct replay_opts *o = r->o;
	r->spool_fd = -1;
	r->fd = -1;
	if (o->synthetic) {
		r->name = "<synthetic>";
		return 0;
	}
	if (strcmp(o->trace, "-") == 0) {
		r->fd = 0;
		r->name = "<stdin>";
	} else {
		r->fd = open(o->trace, O_RDONLY | O_CLOEXEC);
		r->name = o->trace;
		if (r->fd < 0) {
			fprintf(stderr, "dmtvm replay: %s: %s\n", o->trace, strerror(errno));
			return 1;
		}
	}
	struct stat st;
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(r->fd, 0, SEEK_CUR) == 0)
		return 0;
	/* A pipe cannot be read twice: keep a copy for pass 2. */
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	snprintf(path, sizeof(path), "%s/dmtvm-replay-XXXXXX", dir);
	r->spool_fd = mkstemp(path);
	if (r->spool_fd < 0) {
		fprintf(stderr, "dmtvm replay: cannot create a spool file in %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	unlink(path);
	return 0;
}

/* A fresh reader at the start of the input (pass 1 spools, pass 2 reads it). */
static struct trace_reader *reader(struct replay *r, int pass, struct tee *tee)
{
	struct trace_src src;
	if (r->o->synthetic) {
		synth_rewind(&r->o->synth);
		src = synth_src(&r->o->synth);
	} else if (pass == 2) {
		int fd = r->spool_fd >= 0 ? r->spool_fd : r->fd;
		if (lseek(fd, 0, SEEK_SET) != 0)
			return NULL;
		src = trace_src_fd(fd, r->name);
	} else {
		src = trace_src_fd(r->fd, r->name);
		if (r->spool_fd >= 0) {
			tee->in = src;
			tee->fd = r->spool_fd;
			tee->failed = 0;
			src.read = tee_read;
			src.ctx = tee;
		}
	}
	return trace_reader_open(src, TRACE_FMT_AUTO);
}

/* Reports a reader failure; returns the exit status. */
static int reader_failed(struct trace_reader *tr)
{
	fprintf(stderr, "dmtvm replay: %s\n", trace_reader_error(tr));
	return trace_reader_error_is_input(tr) ? 2 : 1;
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void progress(struct replay *r, const char *what, uint64_t done, int final)
{
	if (r->o->quiet)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!final && secs(&r->last_progress, &now) < 2.0)
		return;
	r->last_progress = now;
	double t = secs(&r->t0, &now);
	fprintf(stderr, "dmtvm replay: %s: %llu records, %.1f s, %.2f M records/s%s", what,
		(unsigned long long)done, t, t > 0 ? (double)done / t / 1e6 : 0.0,
		isatty(2) && !final ? "\r" : "\n");
}

/* ------------------------------------------------------------ pass 1 */

static struct as_chunks *space(struct replay *r, uint64_t asid)
{
	for (unsigned i = 0; i < r->nspaces; i++)
		if (r->spaces[i].asid == asid)
			return &r->spaces[i];
	struct as_chunks *n = realloc(r->spaces, (r->nspaces + 1) * sizeof(*n));
	if (!n)
		return NULL;
	r->spaces = n;
	n[r->nspaces].asid = asid;
	u64map_init(&n[r->nspaces].chunks);
	return &n[r->nspaces++];
}

static int pass1(struct replay *r, struct trace_rec *recs, size_t max)
{
	struct tee tee;
	struct trace_reader *tr = reader(r, 1, &tee);
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
			if (t->kind >= TRACE_ROI_BEGIN) {
				r->has_roi = 1;
				r->controls++;
				continue;
			}
			r->accesses++;
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
		progress(r, "pass 1 (VMAs)", done, 0);
	}
	if (n < 0) {
		int rc = reader_failed(tr);
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

/* ------------------------------------------------------------ machine */

static uint64_t pow2ceil(uint64_t v)
{
	uint64_t p = 1;
	while (p < v && p < (1ULL << 45))
		p <<= 1;
	return p;
}

/* Guest RAM big enough for every touched chunk twice (data, tables, TEAs). */
static uint64_t guest_mem_size(struct replay *r)
{
	uint64_t chunks = 0;
	for (unsigned i = 0; i < r->nspaces; i++)
		chunks += r->spaces[i].chunks.count;
	uint64_t need = 2 * chunks * (2ULL << 20) + (256ULL << 20);
	uint64_t m = pow2ceil(need);
	return m < (1ULL << 30) ? (1ULL << 30) : m;
}

static int setup(struct replay *r)
{
	struct replay_opts *o = r->o;
	uint32_t virt_mask = o->mask & ~NESTED_MASK & ~NATIVE_MASK;
	r->world[WORLD_VIRT] = (o->mask & ~NESTED_MASK) != 0;
	r->world[WORLD_NESTED] = (o->mask & NESTED_MASK) != 0;
	struct simos_params p = {
		.thp = o->thp,
		.tea_min = o->tea_min,
		.tea_max = o->tea_max,
		.guest_mem = o->guest_mem ? o->guest_mem : guest_mem_size(r),
	};
	simos_init(&r->os, &p, r->err, ERRLEN);
	unsigned hs = o->host_shift;
	if (r->world[WORLD_VIRT] && virt_mask) {
		/* Host memory starts at 64 GiB so a gPA used as an hPA shows up. */
		physmem_init(&r->host[WORLD_VIRT], "host", 1ULL << 36, 1ULL << 46);
		if (simhv_init(&r->hv_virt, "EPT", &r->os.mem, &r->host[WORLD_VIRT], NULL, hs,
			       p.guest_mem, r->err, ERRLEN) < 0 ||
		    simos_attach_hv(&r->os, &r->hv_virt) < 0)
			return -1;
	}
	if (r->world[WORLD_NESTED]) {
		uint64_t l1_limit = (1ULL << 30) + 2 * p.guest_mem;
		physmem_init(&r->l1, "L1", 1ULL << 30, l1_limit);
		physmem_init(&r->host[WORLD_NESTED], "host (nested)", 1ULL << 36, 1ULL << 46);
		if (simhv_init(&r->hv01, "EPT01", &r->l1, &r->host[WORLD_NESTED], NULL, hs,
			       l1_limit, r->err, ERRLEN) < 0 ||
		    simhv_init(&r->hv12, "EPT12", &r->os.mem, &r->l1, &r->hv01, hs, p.guest_mem,
			       r->err, ERRLEN) < 0 ||
		    simos_attach_hv(&r->os, &r->hv12) < 0)
			return -1;
	}
	for (unsigned i = 0; i < r->nspaces; i++) {
		struct simos_vma *v;
		int nv = vma_cluster(&r->spaces[i].chunks, o->vma_gap, &v);
		if (nv < 0) {
			snprintf(r->err, ERRLEN, "out of memory clustering VMAs");
			return -1;
		}
		struct simos_as *as = simos_add_as(&r->os, r->spaces[i].asid, v, (unsigned)nv);
		free(v);
		if (!as)
			return -1;
	}
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->world[w])
			continue;
		uint32_t m = w == WORLD_NESTED ? (o->mask & NESTED_MASK) : (o->mask & ~NESTED_MASK);
		r->sim[w] = mmu_sim_create(&o->cfg, m, r->err, ERRLEN);
		if (!r->sim[w])
			return -1;
	}
	return 0;
}

static void teardown(struct replay *r)
{
	for (int w = 0; w < NWORLDS; w++)
		if (r->sim[w])
			mmu_sim_destroy(r->sim[w]);
	if (r->hv_virt.host)
		simhv_free(&r->hv_virt);
	if (r->hv12.host)
		simhv_free(&r->hv12);
	if (r->hv01.host)
		simhv_free(&r->hv01);
	simos_free(&r->os);
	for (int w = 0; w < NWORLDS; w++)
		if (r->host[w].name)
			physmem_free(&r->host[w]);
	if (r->l1.name)
		physmem_free(&r->l1);
	for (unsigned i = 0; i < r->nspaces; i++)
		u64map_free(&r->spaces[i].chunks);
	free(r->spaces);
	free(r->acc);
}

static struct mmu_dmt_reg host_reg(const struct simhv *hv)
{
	struct mmu_dmt_reg g = {0};
	uint64_t tea_hpa;
	simhv_dmt_reg(hv, &g.base, &g.limit, &g.tea, &tea_hpa, &g.page_shift);
	if (hv->below)
		g.tea_hpa = tea_hpa; /* EPT12 TEA: L1 gPA, host-contiguous at tea_hpa */
	return g;
}

/* The modelled CPU state for the current address space in world w. */
static void build_ctx(struct replay *r, int w)
{
	struct mmu_ctx *c = &r->ctx;
	struct simos_as *as = r->cur;
	memset(c, 0, sizeof(*c));
	c->gpa.frame = physmem_frame_cb;
	c->gpa.ctx = &r->os.mem;
	c->cr3 = as->cr3;
	c->asid = as->asid;
	int hvi = -1;
	for (unsigned i = 0; i < r->os.nhv; i++)
		if ((w == WORLD_VIRT && r->os.hv[i] == &r->hv_virt) ||
		    (w == WORLD_NESTED && r->os.hv[i] == &r->hv12))
			hvi = (int)i;
	for (unsigned i = 0; i < as->nteas && i < MMU_MAX_DMT_REGS; i++) {
		const struct simos_tea *t = &as->teas[i];
		uint64_t off = ((t->vma_start - t->va_base) >> t->page_shift) * 8;
		struct mmu_dmt_reg *g = &c->guest_regs[i];
		g->base = t->vma_start;
		g->limit = t->vma_end;
		g->tea = t->gpa + off;
		g->tea_hpa = hvi >= 0 ? t->hpa[hvi] + off : 0;
		g->page_shift = t->page_shift;
	}
	c->n_guest_regs = as->nteas < MMU_MAX_DMT_REGS ? as->nteas : MMU_MAX_DMT_REGS;
	if (w == WORLD_VIRT && r->hv_virt.host) {
		c->hpa.frame = physmem_frame_cb;
		c->hpa.ctx = &r->host[WORLD_VIRT];
		c->ept_root = r->hv_virt.ept_root;
		c->host_regs[0] = host_reg(&r->hv_virt);
		c->n_host_regs = 1;
	} else if (w == WORLD_NESTED) {
		c->hpa.frame = physmem_frame_cb;
		c->hpa.ctx = &r->host[WORLD_NESTED];
		c->l1.frame = physmem_frame_cb;
		c->l1.ctx = &r->l1;
		c->ept_root = r->hv01.ept_root;
		c->ept12_root = r->hv12.ept_root;
		c->host_regs[0] = host_reg(&r->hv01);
		c->n_host_regs = 1;
		c->ept12_regs[0] = host_reg(&r->hv12);
		c->n_ept12_regs = 1;
	}
}

static void flush(struct replay *r)
{
	if (r->nacc == 0)
		return;
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w])
			continue;
		build_ctx(r, w);
		mmu_sim_run(r->sim[w], &r->ctx, r->acc, r->nacc);
	}
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
		build_ctx(r, w);
		mmu_sim_invalidate(r->sim[w], &r->ctx, va >> shift << shift, 1ULL << shift);
	}
	r->invalidations++;
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
	struct trace_reader *tr = reader(r, 2, NULL);
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
	r->feeding = true;
	uint64_t done = 0;
	long n;
	while ((n = trace_reader_read(tr, recs, max)) > 0) {
		for (long i = 0; i < n; i++) {
			const struct trace_rec *t = &recs[i];
			switch (t->kind) {
			case TRACE_ASID:
				flush(r);
				r->cur = simos_find_as(&r->os, t->va);
				continue;
			case TRACE_ROI_BEGIN:
				flush(r);
				if (!r->roi_seen)
					for (int w = 0; w < NWORLDS; w++)
						if (r->sim[w])
							mmu_sim_reset_counters(r->sim[w]);
				r->roi_seen = true;
				r->feeding = true;
				continue;
			case TRACE_ROI_END:
				flush(r);
				r->feeding = false;
				continue;
			}
			if (!r->cur && !(r->cur = simos_find_as(&r->os, 0)))
				goto internal;
			if (replay_access(r, t) < 0) {
				trace_reader_close(tr);
				fprintf(stderr, "dmtvm replay: %s\n", r->err);
				return 1;
			}
		}
		done += (uint64_t)n;
		progress(r, "pass 2 (model)", done, 0);
	}
	if (n < 0) {
		/* The input changed between passes (a file being written?). */
		int rc = reader_failed(tr);
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

/* ------------------------------------------------------------ report */

static void simos_json(struct replay *r, FILE *f)
{
	const struct simos_stats *s = &r->os.st;
	fprintf(f,
		"{\"trace\": {\"name\": \"%s\", \"format\": \"%s\", \"bytes\": %llu, "
		"\"units\": %llu, \"accesses\": %llu, \"controls\": %llu, \"simulated\": %llu}, ",
		r->o->synthetic ? "<synthetic>" : r->name, trace_format_name(r->fmt),
		(unsigned long long)r->bytes, (unsigned long long)r->units,
		(unsigned long long)r->accesses, (unsigned long long)r->controls,
		(unsigned long long)r->simulated);
	unsigned nvmas = 0;
	for (unsigned i = 0; i < r->os.nas; i++)
		nvmas += r->os.as[i].nvmas;
	fprintf(f,
		"\"simos\": {\"address_spaces\": %u, \"vmas\": %u, \"guest_mem\": %llu, "
		"\"page_size\": %llu, \"data_pages\": %llu, \"table_pages\": [%llu, %llu, %llu, "
		"%llu], \"teas\": %llu, \"tea_pages\": %llu, \"tea_table_pages\": %llu, "
		"\"tea_fallbacks\": %llu, \"vmas_refused\": %llu, \"shadow_exits\": %llu",
		r->os.nas, nvmas, (unsigned long long)r->os.p.guest_mem,
		1ULL << simos_page_shift(&r->os), (unsigned long long)s->data_pages,
		(unsigned long long)s->table_pages[4], (unsigned long long)s->table_pages[3],
		(unsigned long long)s->table_pages[2], (unsigned long long)s->table_pages[1],
		(unsigned long long)s->teas, (unsigned long long)s->tea_pages,
		(unsigned long long)s->tea_table_pages, (unsigned long long)s->tea_fallbacks,
		(unsigned long long)s->vmas_refused, (unsigned long long)r->invalidations);
	const struct simhv *hvs[3] = {r->hv_virt.host ? &r->hv_virt : NULL,
				      r->hv12.host ? &r->hv12 : NULL,
				      r->hv01.host ? &r->hv01 : NULL};
	for (int i = 0; i < 3; i++) {
		const struct simhv *hv = hvs[i];
		if (!hv)
			continue;
		fprintf(f,
			", \"%s\": {\"page_size\": %llu, \"tables\": [%llu, %llu, %llu, %llu], "
			"\"host_tea_pages\": %llu, \"chunks_backed\": %llu, \"pvdmt_teas\": %llu, "
			"\"pvdmt_bytes\": %llu}",
			i == 2 ? "ept01" : i == 1 ? "ept12" : "ept", 1ULL << hv->page_shift,
			(unsigned long long)hv->ept_tables[4], (unsigned long long)hv->ept_tables[3],
			(unsigned long long)hv->ept_tables[2], (unsigned long long)hv->ept_tables[1],
			(unsigned long long)hv->tea_pages, (unsigned long long)hv->chunks_backed,
			(unsigned long long)hv->pv_teas, (unsigned long long)hv->pv_tea_bytes);
	}
	fprintf(f, "}}");
}

static void simos_table(struct replay *r, FILE *f)
{
	const struct simos_stats *s = &r->os.st;
	unsigned nvmas = 0;
	for (unsigned i = 0; i < r->os.nas; i++)
		nvmas += r->os.as[i].nvmas;
	fprintf(f, "trace: %s (%s), %llu accesses, %llu simulated, %llu control records\n",
		r->o->synthetic ? "<synthetic>" : r->name, trace_format_name(r->fmt),
		(unsigned long long)r->accesses, (unsigned long long)r->simulated,
		(unsigned long long)r->controls);
	fprintf(f,
		"simos: %u address space(s), %u VMA(s), %llu data pages of %llu KiB, "
		"tables PML4/PDPT/PD/PT %llu/%llu/%llu/%llu\n",
		r->os.nas, nvmas, (unsigned long long)s->data_pages,
		(1ULL << simos_page_shift(&r->os)) >> 10, (unsigned long long)s->table_pages[4],
		(unsigned long long)s->table_pages[3], (unsigned long long)s->table_pages[2],
		(unsigned long long)s->table_pages[1]);
	fprintf(f,
		"simos: %llu TEA(s) of %llu pages holding %llu leaf tables, %llu leaf tables "
		"outside TEAs in eligible VMAs, %llu VMA(s) refused a TEA\n",
		(unsigned long long)s->teas, (unsigned long long)s->tea_pages,
		(unsigned long long)s->tea_table_pages, (unsigned long long)s->tea_fallbacks,
		(unsigned long long)s->vmas_refused);
}

static int report(struct replay *r)
{
	FILE *f = stdout;
	if (r->o->report_file && !(f = fopen(r->o->report_file, "w"))) {
		fprintf(stderr, "dmtvm replay: %s: %s\n", r->o->report_file, strerror(errno));
		return 1;
	}
	/* One report: the worlds run disjoint schemes, so merge their counters. */
	struct mmu_counters *all = calloc(MMU_NSCHEMES, sizeof(*all));
	uint32_t mask = 0;
	if (!all) {
		fprintf(stderr, "dmtvm replay: out of memory\n");
		return 1;
	}
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w])
			continue;
		uint32_t m = mmu_sim_schemes(r->sim[w]);
		for (int s = 0; s < MMU_NSCHEMES; s++)
			if (m & MMU_SCHEME_BIT(s))
				all[s] = *mmu_sim_counters(r->sim[w], (enum mmu_scheme)s);
		mask |= m;
	}
	if (r->o->json) {
		/* The model's counters document plus a "replay" member. */
		char *doc = NULL, *extra = NULL;
		size_t dlen = 0, elen = 0;
		FILE *m1 = open_memstream(&doc, &dlen), *m2 = open_memstream(&extra, &elen);
		if (!m1 || !m2) {
			free(all);
			return 1;
		}
		mmu_report_json_counters(&r->o->cfg, all, mask, m1);
		simos_json(r, m2);
		fclose(m1);
		fclose(m2);
		char *close = strrchr(doc, '}');
		if (close)
			fprintf(f, "%.*s, \"replay\": %s}\n", (int)(close - doc), doc, extra);
		free(doc);
		free(extra);
	} else {
		simos_table(r, f);
		fprintf(f, "\n");
		mmu_report_table_counters(&r->o->cfg, all, mask, f);
	}
	free(all);
	int bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad) {
		fprintf(stderr, "dmtvm replay: cannot write the report\n");
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ entry */

static int write_synthetic(struct replay_opts *o)
{
	FILE *f = strcmp(o->write_trace, "-") == 0 ? stdout : fopen(o->write_trace, "wb");
	if (!f) {
		fprintf(stderr, "dmtvm replay: %s: %s\n", o->write_trace, strerror(errno));
		return 1;
	}
	struct trace_src src = synth_src(&o->synth);
	static uint8_t buf[1 << 16];
	ssize_t n;
	while ((n = src.read(src.ctx, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			break;
	int bad = ferror(f) != 0;
	bad |= (f == stdout ? fflush(f) : fclose(f)) != 0;
	if (bad) {
		fprintf(stderr, "dmtvm replay: %s: write error\n", o->write_trace);
		return 1;
	}
	return 0;
}

int replay_run(struct replay_opts *o)
{
	if (o->synthetic && o->write_trace)
		return write_synthetic(o);
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
	int rc = open_input(r);
	if (rc == 0)
		rc = pass1(r, recs, max);
	if (rc == 0 && setup(r) < 0) {
		fprintf(stderr, "dmtvm replay: %s\n", r->err);
		rc = 1;
	}
	if (rc == 0)
		rc = pass2(r, recs, max);
	if (rc == 0) {
		progress(r, "done", r->units, 1);
		rc = report(r);
	}
	teardown(r);
	if (r->fd > 0)
		close(r->fd);
	if (r->spool_fd >= 0)
		close(r->spool_fd);
	free(recs);
	free(r);
	return rc;
}
