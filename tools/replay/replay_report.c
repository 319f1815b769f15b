/* SPDX-License-Identifier: MIT */
/*
 * replay_report.c: the report of a replay: the model's counters (both
 * worlds merged into one report; their schemes are disjoint) as a table or
 * as the model's JSON document with a "replay" member (trace and simos
 * statistics), to stdout or --report-file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"

/* Writes s as a JSON string (file names may hold quotes or control bytes). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void simos_json(struct replay *r, FILE *f)
{
	const struct simos_stats *s = &r->os.st;
	fprintf(f, "{\"trace\": {\"name\": ");
	json_str(f, r->o->synthetic ? "<synthetic>" : r->name);
	fprintf(f,
		", \"format\": \"%s\", \"bytes\": %llu, "
		"\"units\": %llu, \"accesses\": %llu, \"controls\": %llu, \"simulated\": %llu}, ",
		trace_format_name(r->fmt), (unsigned long long)r->bytes,
		(unsigned long long)r->units, (unsigned long long)r->accesses,
		(unsigned long long)r->controls, (unsigned long long)r->simulated);
	unsigned nvmas = 0;
	for (unsigned i = 0; i < r->os.nas; i++)
		nvmas += r->os.as[i].nvmas;
	fprintf(f,
		"\"simos\": {\"address_spaces\": %u, \"vmas\": %u, \"guest_mem\": %llu, "
		"\"page_size\": %llu, \"data_pages\": %llu, \"table_pages\": [%llu, %llu, %llu, "
		"%llu], \"teas\": %llu, \"tea_pages\": %llu, \"tea_table_pages\": %llu, "
		"\"tea_fallbacks\": %llu, \"vmas_refused\": %llu, \"new_mappings\": %llu",
		r->os.nas, nvmas, (unsigned long long)r->os.p.guest_mem,
		1ULL << simos_page_shift(&r->os), (unsigned long long)s->data_pages,
		(unsigned long long)s->table_pages[4], (unsigned long long)s->table_pages[3],
		(unsigned long long)s->table_pages[2], (unsigned long long)s->table_pages[1],
		(unsigned long long)s->teas, (unsigned long long)s->tea_pages,
		(unsigned long long)s->tea_table_pages, (unsigned long long)s->tea_fallbacks,
		(unsigned long long)s->vmas_refused, (unsigned long long)s->new_mappings);
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
			i == 2	 ? "ept01"
			: i == 1 ? "ept12"
				 : "ept",
			1ULL << hv->page_shift, (unsigned long long)hv->ept_tables[4],
			(unsigned long long)hv->ept_tables[3],
			(unsigned long long)hv->ept_tables[2],
			(unsigned long long)hv->ept_tables[1], (unsigned long long)hv->tea_pages,
			(unsigned long long)hv->chunks_backed, (unsigned long long)hv->pv_teas,
			(unsigned long long)hv->pv_tea_bytes);
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

int replay_report(struct replay *r)
{
	FILE *f = stdout;
	if (r->o->report_file && !(f = fopen(r->o->report_file, "w"))) {
		fprintf(stderr, "dmtvm replay: %s: %s\n", r->o->report_file, strerror(errno));
		return 1;
	}
	/* One report: the worlds run disjoint schemes, so merge their counters. */
	struct mmu_counters *all = calloc(MMU_NSCHEMES, sizeof(*all));
	struct mmu_steps *steps = calloc(MMU_NSCHEMES, sizeof(*steps));
	uint32_t mask = 0;
	if (!all || !steps) {
		free(all);
		free(steps);
		fprintf(stderr, "dmtvm replay: out of memory\n");
		return 1;
	}
	for (int w = 0; w < NWORLDS; w++) {
		if (!r->sim[w])
			continue;
		uint32_t m = mmu_sim_schemes(r->sim[w]);
		for (int s = 0; s < MMU_NSCHEMES; s++)
			if (m & MMU_SCHEME_BIT(s)) {
				all[s] = *mmu_sim_counters(r->sim[w], (enum mmu_scheme)s);
				steps[s] = *mmu_sim_steps(r->sim[w], (enum mmu_scheme)s);
			}
		mask |= m;
	}
	if (r->o->json) {
		/* The model's counters document plus a "replay" member. */
		char *doc = NULL, *extra = NULL;
		size_t dlen = 0, elen = 0;
		FILE *m1 = open_memstream(&doc, &dlen), *m2 = open_memstream(&extra, &elen);
		if (!m1 || !m2) {
			free(all);
			free(steps);
			return 1;
		}
		mmu_report_json_steps(&r->o->cfg, all, steps, mask, m1);
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
	free(steps);
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
