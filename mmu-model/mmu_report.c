/* SPDX-License-Identifier: MIT */
/*
 * mmu_report.c: the counters as JSON (schema "dmtvm.counters/1") and as a
 * human-readable table, plus the names used in both.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

static const char *const served_names[MMU_NSERVED] = {"pwc", "l1", "l2", "llc", "dram"};
static const char *const dim_names[MMU_NDIMS] = {"guest", "host", "mid"};

const char *mmu_traj_name(unsigned i)
{
	static const char *const names[MMU_NTRAJ] = {
	    "G4H4", "G4H3", "G4H2", "G4H1", "G3H4", "G3H3", "G3H2", "G3H1",
	    "G2H4", "G2H3", "G2H2", "G2H1", "G1H4", "G1H3", "G1H2", "G1H1",
	    "G4",   "G3",   "G2",   "G1",   "UDH4", "UDH3", "UDH2", "UDH1",
	};
	return i < MMU_NTRAJ ? names[i] : NULL;
}

const char *mmu_served_name(unsigned i)
{
	return i < MMU_NSERVED ? served_names[i] : NULL;
}

const char *mmu_dim_name(unsigned i)
{
	return i < MMU_NDIMS ? dim_names[i] : NULL;
}

/* Plain u64 fields, by JSON name (shared with the reader). */

#define F(n, f)                                                                                    \
	{                                                                                          \
		n, offsetof(struct mmu_counters, f)                                                \
	}
const struct mmu_field mmu_fields[] = {
    F("loads", accesses[0]),
    F("stores", accesses[1]),
    F("fetches", accesses[2]),
    F("skipped", skipped),
    F("tlb_l1_hits", tlb_l1_hits),
    F("tlb_l2_hits", tlb_l2_hits),
    F("tlb_misses", tlb_misses),
    F("walks", walks),
    F("faults", faults),
    F("refs", refs),
    F("walk_cycles", walk_cycles),
    F("dmt_hits", dmt_hits),
    F("dmt_misses", dmt_misses),
    F("dmt_fallbacks", dmt_fallbacks),
    F("shadow_fills", shadow_fills),
    F("shadow_invalidations", shadow_invalidations),
    F("data_cycles", data_cycles),
    {NULL, 0},
};

static uint64_t total_accesses(const struct mmu_counters *c)
{
	return c->accesses[0] + c->accesses[1] + c->accesses[2];
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* The step outcomes and formula designs of one scheme (mmu_formula.c). */
static void steps_json(enum mmu_scheme s, const struct mmu_steps *st, const struct mmu_config *cfg,
		       FILE *out)
{
	uint32_t designs = mmu_formula_designs(s);

	(void)cfg;
	if (!mmu_scheme_has_traj(s))
		return;
	fprintf(out, ", \"trajectory_walks\": %" PRIu64 ", \"trajectory_served\": {", st->walks);
	for (unsigned i = mmu_scheme_1d(s) ? 16 : 0, first = 1;
	     i < (mmu_scheme_1d(s) ? 20u : MMU_NTRAJ); i++, first = 0) {
		fprintf(out, "%s\"%s\": {", first ? "" : ", ", mmu_traj_name(i));
		for (unsigned o = 0; o < MMU_NSTEP_OUT; o++)
			fprintf(out, "%s\"%s\": %" PRIu64, o ? ", " : "", mmu_step_out_name(o),
				st->served[i][o]);
		fputc('}', out);
	}
	fputc('}', out);
	if (!designs)
		return;
	fprintf(out, ", \"formula\": {");
	for (unsigned d = 0, first = 1; d < MMU_NDESIGNS; d++) {
		if (!(designs & (1u << d)))
			continue;
		fprintf(out, "%s\"%s\": %.4f", first ? "" : ", ", mmu_design_name(d),
			ratio(st->formula2[d], 2 * st->walks));
		first = 0;
	}
	fprintf(out, "}, \"formula_cycles2\": {");
	for (unsigned d = 0, first = 1; d < MMU_NDESIGNS; d++) {
		if (!(designs & (1u << d)))
			continue;
		fprintf(out, "%s\"%s\": %" PRIu64, first ? "" : ", ", mmu_design_name(d),
			st->formula2[d]);
		first = 0;
	}
	fputc('}', out);
}

static void scheme_json(const struct mmu_counters *c, FILE *out)
{
	fprintf(out, "{\"accesses\": %" PRIu64, total_accesses(c));
	for (const struct mmu_field *f = mmu_fields; f->name; f++)
		fprintf(out, ", \"%s\": %" PRIu64, f->name,
			*(const uint64_t *)((const char *)c + f->off));
	fprintf(out, ", \"refs_per_walk\": %.4f, \"walk_cycles_per_walk\": %.4f",
		ratio(c->refs, c->walks), ratio(c->walk_cycles, c->walks));
	fprintf(out, ", \"served\": {");
	for (int i = 0; i < MMU_NSERVED; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "", served_names[i], c->served[i]);
	fprintf(out, "}, \"refs_by_dim_level\": {");
	for (int d = 0; d < MMU_NDIMS; d++) {
		fprintf(out, "%s\"%s\": [", d ? ", " : "", dim_names[d]);
		for (int l = 0; l < 5; l++)
			fprintf(out, "%s%" PRIu64, l ? ", " : "", c->refs_dim_level[d][l]);
		fputc(']', out);
	}
	fprintf(out, "}, \"refs_hist\": {");
	for (int i = 0, first = 1; i < MMU_HIST_REFS; i++) {
		if (!c->refs_hist[i])
			continue;
		fprintf(out, "%s\"%d\": %" PRIu64, first ? "" : ", ", i, c->refs_hist[i]);
		first = 0;
	}
	fprintf(out, "}, \"trajectory\": {");
	for (unsigned i = 0; i < MMU_NTRAJ; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "", mmu_traj_name(i), c->traj[i]);
	fputc('}', out);
}

void mmu_report_json_counters(const struct mmu_config *cfg, const struct mmu_counters *c,
			      uint32_t mask, FILE *out)
{
	mmu_report_json_steps(cfg, c, NULL, mask, out);
}

void mmu_report_json_steps(const struct mmu_config *cfg, const struct mmu_counters *c,
			   const struct mmu_steps *steps, uint32_t mask, FILE *out)
{
	int first = 1;

	fprintf(out, "{\"schema\": \"%s\", \"config\": ", MMU_COUNTERS_SCHEMA);
	mmu_config_json(cfg, out);
	fprintf(out, ", \"schemes\": {");
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		if (!(mask & MMU_SCHEME_BIT(s)))
			continue;
		fprintf(out, "%s\n  \"%s\": ", first ? "" : ",",
			mmu_scheme_name((enum mmu_scheme)s));
		scheme_json(&c[s], out);
		if (steps)
			steps_json((enum mmu_scheme)s, &steps[s], cfg, out);
		fputc('}', out);
		first = 0;
	}
	fprintf(out, "\n}}\n");
}

static void gather(const struct mmu_sim *sim, struct mmu_counters *c)
{
	for (int s = 0; s < MMU_NSCHEMES; s++)
		c[s] = *mmu_sim_counters(sim, (enum mmu_scheme)s);
}

void mmu_report_json(const struct mmu_sim *sim, FILE *out)
{
	struct mmu_counters *buf = malloc(sizeof(*buf) * MMU_NSCHEMES);
	struct mmu_steps *st = malloc(sizeof(*st) * MMU_NSCHEMES);

	if (buf && st) {
		gather(sim, buf);
		for (int s = 0; s < MMU_NSCHEMES; s++)
			st[s] = *mmu_sim_steps(sim, (enum mmu_scheme)s);
		mmu_report_json_steps(mmu_sim_config(sim), buf, st, mmu_sim_schemes(sim), out);
	}
	free(buf);
	free(st);
}

/* The x86 baseline of a scheme's setup. */
static enum mmu_scheme baseline(enum mmu_scheme s)
{
	int g = mmu_scheme_group(s);

	return g == 0 ? MMU_X86_NATIVE : g == 1 ? MMU_X86_2D : MMU_X86_NESTED_EPT02;
}

void mmu_report_table_counters(const struct mmu_config *cfg, const struct mmu_counters *c,
			       uint32_t mask, FILE *out)
{
	(void)cfg;
	fprintf(out, "%-17s %12s %9s %12s %9s %11s %8s\n", "scheme", "accesses", "tlb-miss%",
		"walks", "refs/walk", "cycles/walk", "speedup");
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		const struct mmu_counters *x = &c[s];
		enum mmu_scheme b = baseline((enum mmu_scheme)s);
		double cpw = ratio(x->walk_cycles, x->walks);
		char sp[32] = "-";

		if (!(mask & MMU_SCHEME_BIT(s)))
			continue;
		if ((mask & MMU_SCHEME_BIT(b)) && cpw > 0 && c[b].walks)
			snprintf(sp, sizeof(sp), "%.3fx",
				 ratio(c[b].walk_cycles, c[b].walks) / cpw);
		fprintf(out, "%-17s %12" PRIu64 " %8.3f%% %12" PRIu64 " %9.3f %11.2f %8s\n",
			mmu_scheme_name((enum mmu_scheme)s), total_accesses(x),
			100.0 * ratio(x->tlb_misses, total_accesses(x)), x->walks,
			ratio(x->refs, x->walks), cpw, sp);
	}
}

void mmu_report_table(const struct mmu_sim *sim, FILE *out)
{
	struct mmu_counters *buf = malloc(sizeof(struct mmu_counters) * MMU_NSCHEMES);

	if (!buf)
		return;
	gather(sim, buf);
	mmu_report_table_counters(mmu_sim_config(sim), buf, mmu_sim_schemes(sim), out);
	free(buf);
}
