/* SPDX-License-Identifier: MIT */
/*
 * xlate.c: the MMU model inside `dmtvm run` (xlate.h): creation from the
 * options, the translation context of a flush (guest CR3 and DMT registers,
 * EPT root and host DMT register), running trace records with ROI control,
 * --trace-out, the progress line, the KVM_TRANSLATE / EPT cross-checks and
 * the reports (counters JSON, `tables`, end-of-run table).
 *
 * Model threads: with two or more schemes on a host with two or more CPUs,
 * the schemes are split over two model instances; a flush runs one on the
 * calling vCPU thread and the other on a worker thread (created here, under
 * the vCPU seccomp filter), and returns when both are done. The counters
 * are the same as with one instance (no state is shared between schemes);
 * the instances only lose the per-call sharing of guest-walk memos.
 * DMTVM_MODEL_THREADS=1 in the environment keeps one instance.
 *
 * Region of interest (ROI control records in the flushed stream): records
 * before the first ROI begin warm the model up and count; ROI begin zeroes
 * the counters (mmu_sim_reset_counters, warm state kept) and warms the
 * model-kept shadow / Agile / EPT02 tables (mmu_sim_prefill); after an ROI end
 * accesses are not simulated until the next ROI begin. A guest that never
 * sends ROI records is simulated whole. Same rules as `dmtvm replay`.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dmtvm_trace.h"
#include "nkvm.h"
#include "pgtable.h"
#include "vmm.h"
#include "vmm_seccomp.h"

/* Weak: the hypercall fuzzer links xlate.c without the seccomp module (and runs no filters). */
#pragma weak vmm_seccomp_vcpu
#pragma weak vmm_seccomp_probe
#include "xlate_internal.h"

const void *xlate_l1_frame(void *ctx, uint64_t gpa)
{
	const struct vmm_xlate *x = ctx;
	return gpa < x->mem_size ? x->ram + (gpa & ~0xfffULL) : NULL;
}

/* The schemes each --mode models by default (as `dmtvm replay --mode`). */
static const char *mode_schemes(const char *mode)
{
	if (!strcmp(mode, "native"))
		return "x86-native,dmt-native";
	if (!strcmp(mode, "spt"))
		return "x86-2d,x86-shadow";
	if (!strcmp(mode, "dmt"))
		return "x86-2d,dmt-virt";
	if (!strcmp(mode, "pvdmt"))
		return "x86-2d,dmt-virt,pvdmt";
	return "x86-2d";
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *s = p;
	while (n) {
		ssize_t r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

struct xlate_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t posted, finished; /* job generations */
	bool ready;		   /* its seccomp filter is loaded */
	struct vmm_xlate *x;
	struct vmm *vm;
	struct mmu_sim *sim;	   /* the job: an instance, its context, records and */
	const struct mmu_ctx *ctx; /* the ROI state they start in */
	const uint64_t *recs;
	size_t n;
	enum xlate_roi roi;
};

/* xlate_internal.h: the ROI rules of a flush. */
enum xlate_roi xlate_run_records(struct mmu_sim *sim, const struct mmu_ctx *ctx,
				 const uint64_t *recs, size_t n, enum xlate_roi roi,
				 uint64_t *simulated)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && dmtvm_trace_kind(recs[i]) != DMTVM_TRACE_CONTROL)
			continue;
		if (i > start && roi != ROI_OUT) {
			mmu_sim_run_trace(sim, ctx, recs + start, i - start);
			*simulated += i - start;
		}
		if (i == n)
			break;
		start = i + 1;
		unsigned type = dmtvm_trace_size(recs[i]);
		if (type == DMTVM_TRACE_ROI_BEGIN) {
			mmu_sim_reset_counters(sim);
			mmu_sim_prefill(sim, ctx); /* shadow / EPT02 as after set-up */
			roi = ROI_IN;
		} else if (type == DMTVM_TRACE_ROI_END) {
			roi = ROI_OUT;
		}
		/* ASID records: the flush's cr3/asid are authoritative. */
	}
	return roi;
}

static void *worker_main(void *arg)
{
	struct xlate_worker *w = arg;
	char err[160] = "seccomp module not linked in";
	/* Same filter as the vCPU thread whose model half it runs. */
	if (w->vm->seccomp &&
	    (!vmm_seccomp_vcpu || vmm_seccomp_vcpu(w->vm, err, sizeof(err)) < 0)) {
		fprintf(stderr, "dmtvm: model thread: %s\n", err);
		_exit(DMTVM_EXIT_VMM_ERROR);
	}
	if (w->vm->seccomp_probe && strcmp(w->vm->seccomp_probe, "model-socket") == 0 &&
	    vmm_seccomp_probe)
		vmm_seccomp_probe("socket");
	pthread_mutex_lock(&w->lock);
	w->ready = true;
	pthread_cond_broadcast(&w->cond);
	for (;;) {
		while (w->finished == w->posted)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		uint64_t simulated = 0;
		xlate_run_records(w->sim, w->ctx, w->recs, w->n, w->roi, &simulated);
		pthread_mutex_lock(&w->lock);
		w->finished = w->posted;
		pthread_cond_broadcast(&w->cond);
	}
	return NULL;
}

/* Two model instances for n schemes: two CPUs, and not DMTVM_MODEL_THREADS=1. */
static bool split_ok(uint32_t mask)
{
	const char *env = getenv("DMTVM_MODEL_THREADS");
	return __builtin_popcount(mask) >= 2 && sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
	       !(env && !strcmp(env, "1"));
}

/* The worker thread that runs sims[1] of whichever level flushes. */
static int create_worker(struct vmm *vm, struct vmm_xlate *x, char *err, size_t errlen)
{
	struct xlate_worker *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->x = x;
	w->vm = vm;
	if (pthread_create(&w->thread, NULL, worker_main, w)) {
		snprintf(err, errlen, "cannot create the model thread");
		return -1;
	}
	/* Like the other threads, it has its filter before the guest runs. */
	pthread_mutex_lock(&w->lock);
	while (!w->ready)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	x->worker = w;
	return 0;
}

/* Splits mask over two instances (first half of its schemes, second half). */
int xlate_sims_create(const struct vmm_xlate *x, struct xlate_sims *m, uint32_t mask, char *err,
		      size_t errlen)
{
	unsigned n = (unsigned)__builtin_popcount(mask);
	/* The worker exists only where splitting pays (split_ok at creation: sysconf
	 * reads /sys, which no filter allows once the guest runs). */
	bool two = x->worker && n >= 2;
	uint32_t part[2] = {mask, 0};
	if (two) {
		part[0] = 0;
		for (unsigned i = 0, k = 0; i < MMU_NSCHEMES; i++)
			if (mask & (1u << i))
				part[k++ < n / 2 ? 0 : 1] |= 1u << i;
	}
	m->n = two ? 2 : 1;
	for (unsigned i = 0; i < m->n; i++)
		if (!(m->sims[i] = mmu_sim_create(&x->cfg, part[i], err, errlen)))
			return -1;
	return 0;
}

enum xlate_roi xlate_sims_run(struct vmm_xlate *x, const struct xlate_sims *m,
			      const struct mmu_ctx *ctx, const uint64_t *recs, size_t n,
			      enum xlate_roi roi, uint64_t *simulated)
{
	struct xlate_worker *w = m->n > 1 ? x->worker : NULL;
	if (w) {
		pthread_mutex_lock(&w->lock);
		w->sim = m->sims[1];
		w->ctx = ctx;
		w->recs = recs;
		w->n = n;
		w->roi = roi;
		w->posted++;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
	roi = xlate_run_records(m->sims[0], ctx, recs, n, roi, simulated);
	if (w) {
		pthread_mutex_lock(&w->lock);
		while (w->finished != w->posted)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
	}
	return roi;
}

void xlate_sims_invalidate(const struct xlate_sims *m, const struct mmu_ctx *ctx, uint64_t va,
			   uint64_t len)
{
	for (unsigned i = 0; i < m->n; i++)
		mmu_sim_invalidate(m->sims[i], ctx, va, len);
}

void xlate_sims_reset(const struct xlate_sims *m)
{
	for (unsigned i = 0; i < m->n; i++)
		mmu_sim_reset_counters(m->sims[i]);
}

/* Gathers every scheme's counters (and steps, when st is not NULL) from the
 * instance that runs it; returns the mask. */
static uint32_t sims_counters(const struct xlate_sims *m, struct mmu_counters *c,
			      struct mmu_steps *st)
{
	uint32_t mask = 0;
	memset(c, 0, sizeof(*c) * MMU_NSCHEMES);
	if (st)
		memset(st, 0, sizeof(*st) * MMU_NSCHEMES);
	for (unsigned i = 0; i < m->n; i++) {
		uint32_t ms = mmu_sim_schemes(m->sims[i]);
		for (unsigned s = 0; s < MMU_NSCHEMES; s++) {
			if (!(ms & (1u << s)))
				continue;
			c[s] = *mmu_sim_counters(m->sims[i], (enum mmu_scheme)s);
			if (st)
				st[s] = *mmu_sim_steps(m->sims[i], (enum mmu_scheme)s);
		}
		mask |= ms;
	}
	return mask;
}

void xlate_sims_json(const struct xlate_sims *m, FILE *f)
{
	struct mmu_counters c[MMU_NSCHEMES];
	struct mmu_steps *st = calloc(MMU_NSCHEMES, sizeof(*st)); /* NULL: steps left out */
	uint32_t mask = sims_counters(m, c, st);
	mmu_report_json_steps(mmu_sim_config(m->sims[0]), c, st, mask, f);
	free(st);
}

void xlate_sims_table(const struct xlate_sims *m, FILE *out)
{
	struct mmu_counters c[MMU_NSCHEMES];
	uint32_t mask = sims_counters(m, c, NULL);
	mmu_report_table_counters(mmu_sim_config(m->sims[0]), c, mask, out);
}

void xlate_invalidate(struct vmm_xlate *x, uint64_t va, uint64_t len)
{
	xlate_sims_invalidate(&x->model, &x->ctx, va, len);
}

int vmm_xlate_create(struct vmm *vm, const struct vmm_xlate_opts *o, char *err, size_t errlen)
{
	struct vmm_xlate *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&x->lock, NULL);
	x->ram = vm->ram;
	x->mem_size = vm->mem_size;
	x->virt = strcmp(o->mode, "native") != 0;
	x->host_tea = !strcmp(o->mode, "dmt") || !strcmp(o->mode, "pvdmt");
	x->hp = (struct vmm_hostmem_params){vm->mem_size, o->host_shift, o->fragmented, o->seed,
					    x->host_tea};
	x->trace_fd = -1;
	x->check_n = o->check_translate;
	mmu_config_default(&x->cfg);
	if (o->preset && mmu_config_preset(&x->cfg, o->preset, err, errlen) < 0)
		return -1;
	if (o->config && mmu_config_load(&x->cfg, o->config, err, errlen) < 0)
		return -1;
	for (int i = 0; i < o->nsets; i++) {
		char kv[256];
		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		char *eq = strchr(kv, '=');
		if (!eq) {
			snprintf(err, errlen, "--model-set=%s: expected key=value", o->sets[i]);
			return -1;
		}
		*eq = 0;
		if (mmu_config_set(&x->cfg, kv, eq + 1, err, errlen) < 0)
			return -1;
	}
	char perr[160];
	const char *list = o->schemes ? o->schemes : mode_schemes(o->mode);
	uint32_t mask = mmu_scheme_mask_parse(list, perr, sizeof(perr));
	if (!mask) {
		snprintf(err, errlen, "--schemes=%s: %s", list, perr);
		return -1;
	}
	/* L2 (nesting): the nested schemes asked for, else all of them. */
	uint32_t nested = 0;
	for (unsigned s = 0; s < MMU_NSCHEMES; s++)
		if (mmu_scheme_setup((enum mmu_scheme)s) == MMU_SETUP_NESTED)
			nested |= MMU_SCHEME_BIT(s);
	x->l2_mask = (mask & nested) ? (mask & nested) : nested;
	if ((split_ok(mask) || split_ok(x->l2_mask)) && create_worker(vm, x, err, errlen) < 0)
		return -1;
	if (xlate_sims_create(x, &x->model, mask, err, errlen) < 0)
		return -1;
	if (o->trace_out) {
		x->trace_fd = open(o->trace_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		struct dmtvm_trace_header h = {.version = DMTVM_TRACE_VERSION, .record_size = 8};
		memcpy(h.magic, DMTVM_TRACE_MAGIC, 8);
		if (x->trace_fd < 0 || write_all(x->trace_fd, &h, sizeof(h)) < 0) {
			snprintf(err, errlen, "--trace-out=%s: %s", o->trace_out, strerror(errno));
			return -1;
		}
	}
	vm->xlate = x;
	return 0;
}

int xlate_ensure_host(struct vmm_xlate *x)
{
	if (!x->virt || x->hm_ready)
		return 0;
	char err[320];
	if (vmm_hostmem_init(&x->hm, &x->hp, x->ram, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm: %s\n", err);
		return -1;
	}
	x->hm_ready = true;
	return 0;
}

struct xlate_as *xlate_find_as_in(struct xlate_as *set, unsigned nas, uint64_t cr3)
{
	for (unsigned i = 0; i < nas; i++)
		if (set[i].cr3 == cr3)
			return &set[i];
	return NULL;
}

struct xlate_as *xlate_find_as(struct vmm_xlate *x, uint64_t cr3)
{
	return xlate_find_as_in(x->as, x->nas, cr3);
}

void xlate_host_ctx(struct vmm_xlate *x, struct mmu_ctx *c)
{
	if (!x->virt || !x->hm_ready)
		return;
	c->hpa.frame = vmm_hostmem_hpa_frame;
	c->hpa.ctx = &x->hm;
	c->ept_root = x->hm.hv.ept_root;
	if (x->host_tea) {
		/* Host DMT register: all of RAM -> EPT leaves in the host TEA. */
		struct mmu_dmt_reg *h = &c->host_regs[0];
		uint64_t tea_hpa;
		simhv_dmt_reg(&x->hm.hv, &h->base, &h->limit, &h->tea, &tea_hpa, &h->page_shift);
		c->n_host_regs = 1;
	}
}

void xlate_guest_reg(const struct dmtvm_dmt_reg *r, struct mmu_dmt_reg *g)
{
	*g = (struct mmu_dmt_reg){
	    .base = r->base, .limit = r->limit, .tea = r->tea_gpa, .page_shift = r->page_shift};
}

void xlate_build_ctx(struct vmm_xlate *x, uint64_t cr3, uint64_t asid)
{
	struct mmu_ctx *c = &x->ctx;
	memset(c, 0, sizeof(*c));
	c->gpa.frame = xlate_l1_frame;
	c->gpa.ctx = x;
	c->cr3 = cr3;
	c->asid = asid;
	xlate_host_ctx(x, c);
	const struct xlate_as *as = xlate_find_as(x, cr3);
	for (unsigned i = 0; as && i < as->nregs; i++) {
		const struct dmtvm_dmt_reg *r = &as->regs[i];
		struct mmu_dmt_reg *g = &c->guest_regs[i];
		xlate_guest_reg(r, g);
		/* pvDMT: the TEA's hPA, from where the host placed it now. */
		if ((r->flags & DMTVM_DMT_REG_PV) && x->hm_ready)
			g->tea_hpa = vmm_hostmem_hpa(&x->hm, r->tea_gpa);
	}
	c->n_guest_regs = as ? as->nregs : 0;
}

int xlate_gva(struct vmm_xlate *x, uint64_t cr3, uint64_t va, uint64_t *gpa)
{
	const struct mmu_space sp = {xlate_l1_frame, x};
	return xlate_gva_in(x, &sp, cr3, va, gpa);
}

int xlate_gva_in(struct vmm_xlate *x, const struct mmu_space *sp, uint64_t cr3, uint64_t va,
		 uint64_t *gpa)
{
	struct mmu_ctx c;
	memset(&c, 0, sizeof(c));
	c.gpa = *sp;
	c.cr3 = cr3;
	struct mmu_walk_result res;
	mmu_translate(&x->cfg, &c, MMU_X86_NATIVE, va, MMU_LOAD, &res);
	if (res.fault != MMU_OK)
		return -1;
	*gpa = res.pa;
	return 0;
}

/*
 * --debug-translate-check: for a few access VAs of the flush, KVM's own
 * walker (KVM_TRANSLATE on the vCPU, when its CR3 is the flush's) must
 * give the gPA the model's guest walk gives, and the model's 2D walk must
 * end at the hPA where hostmem placed that gPA (EPT well-formedness).
 */
static void check_translations(struct vmm_xlate *x, struct vmm_vcpu *vcpu, const uint64_t *recs,
			       size_t n, uint64_t cr3)
{
	struct vmm_cpu_state st;
	const struct vmm_platform *pl = vcpu->vm->platform;
	bool kvm = pl->vcpu_state(vcpu, &st) == 0 && (st.cr3 & PTE_ADDR) == cr3;
	size_t step = n / x->check_n ? n / x->check_n : 1;
	for (size_t i = 0; i < n; i += step) {
		if (dmtvm_trace_kind(recs[i]) == DMTVM_TRACE_CONTROL)
			continue;
		uint64_t va = dmtvm_trace_va(recs[i]), gpa = 0;
		bool ok = xlate_gva(x, cr3, va, &gpa) == 0;
		if (!kvm) {
			x->kvm_skipped++;
		} else {
			uint64_t pgpa = 0;
			int valid = pl->translate(vcpu, va, &pgpa);
			if (valid < 0) {
				x->kvm_skipped++;
			} else {
				x->kvm_checked++;
				if (ok != (valid != 0) || (ok && gpa != pgpa)) {
					x->kvm_mismatches++;
					fprintf(stderr,
						"dmtvm: translate check: va %#llx: model %s %#llx, "
						"%s platform %s %#llx\n",
						(unsigned long long)va, ok ? "gpa" : "fault",
						(unsigned long long)gpa, pl->name,
						valid ? "gpa" : "invalid",
						(unsigned long long)pgpa);
				}
			}
		}
		if (!ok || !x->virt || !x->hm_ready || gpa >= x->mem_size)
			continue;
		struct mmu_walk_result res;
		mmu_translate(&x->cfg, &x->ctx, MMU_X86_2D, va, MMU_LOAD, &res);
		uint64_t want = vmm_hostmem_hpa(&x->hm, gpa);
		x->ept_checked++;
		if (res.fault != MMU_OK || res.pa != want) {
			x->ept_mismatches++;
			fprintf(stderr,
				"dmtvm: EPT check: va %#llx gpa %#llx: 2D walk %s %#llx, placement "
				"%#llx\n",
				(unsigned long long)va, (unsigned long long)gpa,
				res.fault ? "fault" : "hpa", (unsigned long long)res.pa,
				(unsigned long long)want);
		}
	}
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Has the trace file records of address space asid (or too many to tell)? */
static bool trace_space_seen(const struct vmm_xlate *x, uint64_t asid)
{
	for (unsigned i = 0; i < x->trace_nspaces; i++)
		if (x->trace_spaces[i] == asid)
			return true;
	return x->trace_nspaces == ARRAY_LEN(x->trace_spaces);
}

void xlate_trace_out(struct vmm_xlate *x, const uint64_t *recs, size_t n, uint64_t asid)
{
	if (x->trace_fd < 0)
		return;
	int r = 0;
	if (!x->trace_asid_valid || x->trace_asid != asid) {
		uint64_t rec = dmtvm_trace_rec(asid, DMTVM_TRACE_ASID, DMTVM_TRACE_CONTROL, 0);
		r = write_all(x->trace_fd, &rec, sizeof(rec));
		x->trace_asid = asid;
		x->trace_asid_valid = true;
	}
	if (r == 0)
		r = write_all(x->trace_fd, recs, n * sizeof(*recs));
	if (!trace_space_seen(x, asid) && x->trace_nspaces < ARRAY_LEN(x->trace_spaces))
		x->trace_spaces[x->trace_nspaces++] = asid;
	if (r < 0) {
		fprintf(stderr, "dmtvm: --trace-out: write failed (%s); trace file closed\n",
			strerror(errno));
		close(x->trace_fd);
		x->trace_fd = -1;
	}
}

void xlate_trace_invalidate(struct vmm_xlate *x, uint64_t va, uint64_t len, uint64_t asid)
{
	const uint64_t max = 0xffffffffffffULL;
	/* A space with no records has nothing in a replay's TLBs (nesting: L1's own). */
	if (x->trace_fd < 0 || !trace_space_seen(x, asid))
		return;
	uint64_t recs[2] = {
	    dmtvm_trace_rec(va & max, DMTVM_TRACE_INVALIDATE, DMTVM_TRACE_CONTROL, 0),
	    /* A length past 2^48 covers the whole user half anyway. */
	    dmtvm_trace_rec(len > max ? max & ~4095ULL : len, DMTVM_TRACE_INVALIDATE_LEN,
			    DMTVM_TRACE_CONTROL, 0),
	};
	xlate_trace_out(x, recs, 2, asid);
}

static void progress(struct vmm_xlate *x, uint64_t now)
{
	if (!x->first_ns) {
		x->first_ns = x->progress_ns = now;
		return;
	}
	if (now - x->progress_ns < 2000000000ULL)
		return;
	double dt = (double)(now - x->progress_ns) / 1e9;
	fprintf(stderr,
		"dmtvm: model: %llu records traced (%.2f M/s over the last %.1f s; model alone "
		"%.2f M/s)\n",
		(unsigned long long)x->records,
		(double)(x->records - x->progress_records) / dt / 1e6, dt,
		x->model_ns ? (double)x->simulated / ((double)x->model_ns / 1e9) / 1e6 : 0.0);
	x->progress_ns = now;
	x->progress_records = x->records;
}

void xlate_run(struct vmm_xlate *x, struct vmm_vcpu *vcpu, size_t n, uint64_t cr3, uint64_t asid)
{
	const uint64_t *recs = x->buf;
	xlate_build_ctx(x, cr3, asid);
	uint64_t t0 = vmm_now_ns();
	x->roi = xlate_sims_run(x, &x->model, &x->ctx, recs, n, x->roi, &x->simulated);
	uint64_t t1 = vmm_now_ns();
	x->model_ns += t1 - t0;
	x->records += n;
	x->flushes++;
	if (x->check_n)
		check_translations(x, vcpu, recs, n, cr3);
	xlate_trace_out(x, recs, n, asid);
	progress(x, t1);
}

uint64_t vmm_xlate_records(struct vmm *vm)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x)
		return 0;
	pthread_mutex_lock(&x->lock);
	uint64_t r = x->records;
	pthread_mutex_unlock(&x->lock);
	return r;
}

void vmm_xlate_reset(struct vmm *vm)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	xlate_sims_reset(&x->model);
	xlate_l2_reset_counters(x);
	pthread_mutex_unlock(&x->lock);
}

char *vmm_xlate_counters_json(struct vmm *vm)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	pthread_mutex_lock(&x->lock);
	xlate_sims_json(&x->model, f);
	pthread_mutex_unlock(&x->lock);
	return xlate_one_line(f, &buf, &len);
}

char *xlate_one_line(FILE *f, char **bufp, size_t *lenp)
{
	/* open_memstream sets *bufp and *lenp at fclose. */
	if (fclose(f) != 0) {
		free(*bufp);
		return NULL;
	}
	char *buf = *bufp;
	size_t len = *lenp;
	/* One line: newline-delimited JSON on the socket, one report line. */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	while (len && buf[len - 1] == ' ')
		buf[--len] = 0;
	return buf;
}

static void kv(struct jsonw *w, const char *k, uint64_t v, bool *first)
{
	jsonw_key(w, k, first);
	jsonw_u64(w, v);
}

/* Is [gpa, gpa + len) contiguous in host-physical memory right now? */
static bool host_contiguous(const struct vmm_hostmem *hm, uint64_t gpa, uint64_t len)
{
	uint64_t base = vmm_hostmem_hpa(hm, gpa);
	for (uint64_t off = 4096 - (gpa & 4095); off < len; off += 4096)
		if (vmm_hostmem_hpa(hm, gpa + off) != base + off)
			return false;
	return true;
}

/*
 * TEA coverage of one DMT register: how many of its slots (one per page of
 * the VMA at page_shift) hold a present leaf entry, read from guest RAM at
 * TEA base + index * 8, as the modelled MMU reads them. Read-only and racy
 * against a running vCPU by design: a snapshot for the `tables` command.
 */
static uint64_t tea_present(const struct vmm_xlate *x, const struct dmtvm_dmt_reg *r,
			    uint64_t *slots)
{
	uint64_t n = 0, present = 0;

	if (r->limit > r->base && r->page_shift >= 12 && r->page_shift < 64)
		n = (r->limit - r->base) >> r->page_shift;
	if (r->tea_gpa > x->mem_size || n > (x->mem_size - r->tea_gpa) / 8)
		n = 0; /* DMT_REGS validated it; be safe against a stale set */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e;
		memcpy(&e, x->ram + r->tea_gpa + i * 8, 8);
		present += e & 1;
	}
	*slots = n;
	return present;
}

void vmm_xlate_tables_json(struct vmm *vm, struct jsonw *w, bool build)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x) {
		jsonw_raw(w, "{\"model\":false}");
		return;
	}
	pthread_mutex_lock(&x->lock);
	bool first = true;
	jsonw_raw(w, "{");
	jsonw_key(w, "host_layout", &first);
	jsonw_str(w, x->hp.fragmented ? "fragmented" : "contiguous");
	kv(w, "seed", x->hp.seed, &first);
	kv(w, "host_page", 1ULL << x->hp.page_shift, &first);
	jsonw_key(w, "ept", &first);
	if (!x->virt || (build && xlate_ensure_host(x) < 0) || !x->hm_ready) {
		jsonw_raw(w, "null");
	} else {
		const struct simhv *hv = &x->hm.hv;
		bool f2 = true;
		jsonw_raw(w, "{");
		kv(w, "root", hv->ept_root, &f2);
		kv(w, "pages",
		   hv->ept_tables[1] + hv->ept_tables[2] + hv->ept_tables[3] + hv->ept_tables[4],
		   &f2);
		jsonw_key(w, "pages_by_level", &f2);
		jsonw_raw(w, "[");
		for (int l = 1; l <= 4; l++) {
			jsonw_raw(w, l > 1 ? "," : "");
			jsonw_u64(w, hv->ept_tables[l]);
		}
		jsonw_raw(w, "]");
		kv(w, "build_us", x->hm.build_ns / 1000, &f2);
		kv(w, "host_bytes", x->hm.host.frames_materialized * 4096, &f2);
		kv(w, "first_hpa", vmm_hostmem_hpa(&x->hm, 0), &f2);
		kv(w, "last_hpa", vmm_hostmem_hpa(&x->hm, x->mem_size - 4096), &f2);
		jsonw_raw(w, "}");
	}
	jsonw_key(w, "host_teas", &first);
	jsonw_raw(w, "[");
	if (x->host_tea && x->hm_ready) {
		bool f2 = true;
		uint64_t base, limit, tea, tea_hpa;
		uint32_t shift;
		simhv_dmt_reg(&x->hm.hv, &base, &limit, &tea, &tea_hpa, &shift);
		jsonw_raw(w, "{");
		kv(w, "gpa_base", base, &f2);
		kv(w, "gpa_limit", limit, &f2);
		kv(w, "hpa", tea, &f2);
		kv(w, "pages", x->hm.hv.tea_pages, &f2);
		kv(w, "page_shift", shift, &f2);
		jsonw_raw(w, "}");
	}
	jsonw_raw(w, "]");
	jsonw_key(w, "pv_teas", &first);
	jsonw_raw(w, "[");
	for (unsigned i = 0; x->hm_ready && i < x->hm.nteas; i++) {
		const struct vmm_pv_tea *t = &x->hm.teas[i];
		bool f2 = true;
		jsonw_raw(w, i ? ",{" : "{");
		kv(w, "id", t->id, &f2);
		kv(w, "gpa", t->gpa, &f2);
		kv(w, "pages", t->len / 4096, &f2);
		kv(w, "hpa", t->hpa, &f2);
		jsonw_key(w, "host_contiguous", &f2);
		jsonw_raw(w, host_contiguous(&x->hm, t->gpa, t->len) &&
				     vmm_hostmem_hpa(&x->hm, t->gpa) == t->hpa
				 ? "true"
				 : "false");
		jsonw_key(w, "moved", &f2);
		jsonw_raw(w, t->moved ? "true" : "false");
		jsonw_raw(w, "}");
	}
	jsonw_raw(w, "]");
	jsonw_key(w, "address_spaces", &first);
	jsonw_raw(w, "[");
	for (unsigned i = 0; i < x->nas; i++) {
		const struct xlate_as *as = &x->as[i];
		bool f2 = true;
		jsonw_raw(w, i ? ",{" : "{");
		kv(w, "cr3", as->cr3, &f2);
		kv(w, "asid", as->asid, &f2);
		jsonw_key(w, "dmt_regs", &f2);
		jsonw_raw(w, "[");
		for (unsigned j = 0; j < as->nregs; j++) {
			const struct dmtvm_dmt_reg *r = &as->regs[j];
			bool f3 = true;
			jsonw_raw(w, j ? ",{" : "{");
			kv(w, "base", r->base, &f3);
			kv(w, "limit", r->limit, &f3);
			kv(w, "tea_gpa", r->tea_gpa, &f3);
			kv(w, "page_shift", r->page_shift, &f3);
			kv(w, "flags", r->flags, &f3);
			if ((r->flags & DMTVM_DMT_REG_PV) && x->hm_ready)
				kv(w, "tea_hpa", vmm_hostmem_hpa(&x->hm, r->tea_gpa), &f3);
			uint64_t slots, present = tea_present(x, r, &slots);
			kv(w, "slots", slots, &f3);
			kv(w, "present", present, &f3);
			kv(w, "coverage_pct", slots ? present * 100 / slots : 0, &f3);
			jsonw_raw(w, "}");
		}
		jsonw_raw(w, "]}");
	}
	jsonw_raw(w, "]");
	kv(w, "records", x->records, &first);
	kv(w, "flushes", x->flushes, &first);
	kv(w, "simulated", x->simulated, &first);
	kv(w, "pt_updates", x->pt_updates, &first);
	kv(w, "model_us", x->model_ns / 1000, &first);
	pthread_mutex_unlock(&x->lock);
	/* L0 of a nest: L2's memslots and EPT12 (after the unlock: nkvm.c
	 * takes its lock before this one). */
	if (atomic_load(&vm->nkvm)) {
		jsonw_key(w, "nested", &first);
		vmm_nkvm_tables_json(vm, w);
	}
	jsonw_raw(w, "}");
}

void vmm_xlate_check_json(struct vmm *vm, struct jsonw *w)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x || !x->check_n) {
		jsonw_raw(w, "null");
		return;
	}
	bool first = true;
	jsonw_raw(w, "{");
	kv(w, "kvm_checked", x->kvm_checked, &first);
	kv(w, "kvm_mismatches", x->kvm_mismatches, &first);
	kv(w, "kvm_skipped", x->kvm_skipped, &first);
	kv(w, "ept_checked", x->ept_checked, &first);
	kv(w, "ept_mismatches", x->ept_mismatches, &first);
	jsonw_raw(w, "}");
}

void vmm_xlate_report_table(struct vmm *vm, FILE *out)
{
	struct vmm_xlate *x = vm->xlate;
	if (!x || !x->records)
		return;
	double s = (double)x->model_ns / 1e9;
	fprintf(out,
		"dmtvm: model: %llu records in %llu flushes, %llu simulated, %.3f s in the model "
		"(%.2f M records/s)\n",
		(unsigned long long)x->records, (unsigned long long)x->flushes,
		(unsigned long long)x->simulated, s, s > 0 ? (double)x->simulated / s / 1e6 : 0.0);
	xlate_sims_table(&x->model, out);
	if (x->check_n)
		fprintf(out,
			"dmtvm: translate check: KVM_TRANSLATE %llu checked, %llu mismatches (%llu "
			"skipped); EPT %llu checked, %llu mismatches\n",
			(unsigned long long)x->kvm_checked, (unsigned long long)x->kvm_mismatches,
			(unsigned long long)x->kvm_skipped, (unsigned long long)x->ept_checked,
			(unsigned long long)x->ept_mismatches);
}
