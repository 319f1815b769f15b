/* SPDX-License-Identifier: MIT */
/*
 * mmu_json_read.c: reads a "dmtvm.counters/1" document back into counters.
 * A small recursive-descent JSON parser that tracks the key path; it accepts
 * any valid JSON and ignores keys it does not know (forward compatible).
 */
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

#define MAX_DEPTH 8

struct jp {
	const char *s, *p;
	char *err;
	size_t errlen;
	int depth;
	char key[MAX_DEPTH][64]; /* object key, or "" inside arrays */
	int idx[MAX_DEPTH];	 /* array index */
	struct mmu_counters *c;
	struct mmu_steps *st; /* NULL: steps not read */
	uint32_t *mask;
	bool schema_ok;
};

static int jerr(struct jp *j, const char *what)
{
	snprintf(j->err, j->errlen, "counters JSON: %s at offset %ld", what, (long)(j->p - j->s));
	return -1;
}

static void ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static int str(struct jp *j, char *out, size_t outlen)
{
	size_t n = 0;

	if (*j->p != '"')
		return jerr(j, "expected a string");
	j->p++;
	while (*j->p && *j->p != '"') {
		char ch = *j->p++;
		if (ch == '\\') {
			if (!*j->p)
				break;
			ch = *j->p++;
			if (ch == 'u') { /* keep it simple: skip \uXXXX, store '?' */
				for (int i = 0; i < 4; i++)
					if (*j->p)
						j->p++;
				ch = '?';
			} else if (ch == 'n') {
				ch = '\n';
			} else if (ch == 't') {
				ch = '\t';
			}
		}
		if (n + 1 < outlen)
			out[n++] = ch;
	}
	if (*j->p != '"')
		return jerr(j, "unterminated string");
	j->p++;
	if (outlen)
		out[n] = 0;
	return 0;
}

/* schemes.NAME.{trajectory_walks, trajectory_served.STEP.OUT,
 * formula_cycles2.DESIGN} */
static uint64_t *steps_target(struct jp *j, struct mmu_steps *st)
{
	const char *f = j->key[2];

	if (j->depth == 3 && !strcmp(f, "trajectory_walks"))
		return &st->walks;
	if (j->depth == 4 && !strcmp(f, "formula_cycles2")) {
		int d = mmu_design_from_name(j->key[3]);
		return d >= 0 ? &st->formula2[d] : NULL;
	}
	if (j->depth == 5 && !strcmp(f, "trajectory_served")) {
		for (unsigned i = 0; i < MMU_NTRAJ; i++)
			for (unsigned o = 0; o < MMU_NSTEP_OUT; o++)
				if (!strcmp(mmu_traj_name(i), j->key[3]) &&
				    !strcmp(mmu_step_out_name(o), j->key[4]))
					return &st->served[i][o];
	}
	return NULL;
}

static uint64_t *target(struct jp *j)
{
	int s;
	struct mmu_counters *c;
	const char *f;

	if (j->depth < 3 || strcmp(j->key[0], "schemes"))
		return NULL;
	s = mmu_scheme_from_name(j->key[1]);
	if (s < 0)
		return NULL;
	c = &j->c[s];
	f = j->key[2];
	if (j->st) {
		uint64_t *t = steps_target(j, &j->st[s]);
		if (t)
			return t;
	}
	if (j->depth == 3) {
		for (const struct mmu_field *m = mmu_fields; m->name; m++)
			if (!strcmp(m->name, f))
				return (uint64_t *)((char *)c + m->off);
		return NULL;
	}
	if (!strcmp(f, "served")) {
		for (unsigned i = 0; i < MMU_NSERVED; i++)
			if (!strcmp(mmu_served_name(i), j->key[3]))
				return &c->served[i];
	} else if (!strcmp(f, "trajectory")) {
		for (unsigned i = 0; i < MMU_NTRAJ; i++)
			if (!strcmp(mmu_traj_name(i), j->key[3]))
				return &c->traj[i];
	} else if (!strcmp(f, "refs_hist")) {
		char *end;
		long b = strtol(j->key[3], &end, 10);
		if (!*end && b >= 0 && b < MMU_HIST_REFS)
			return &c->refs_hist[b];
	} else if (!strcmp(f, "refs_by_dim_level") && j->depth == 5) {
		for (unsigned d = 0; d < MMU_NDIMS; d++)
			if (!strcmp(mmu_dim_name(d), j->key[3]) && j->idx[4] >= 0 && j->idx[4] < 5)
				return &c->refs_dim_level[d][j->idx[4]];
	}
	return NULL;
}

static int value(struct jp *j);

static int number(struct jp *j)
{
	const char *start = j->p;
	bool integer = true;
	uint64_t v = 0;
	uint64_t *t;

	if (*j->p == '-')
		j->p++, integer = false;
	if (*j->p < '0' || *j->p > '9')
		return jerr(j, "bad value");
	while (*j->p >= '0' && *j->p <= '9') {
		v = v * 10 + (uint64_t)(*j->p - '0');
		j->p++;
	}
	if (*j->p == '.' || *j->p == 'e' || *j->p == 'E') {
		integer = false;
		j->p++;
		while ((*j->p >= '0' && *j->p <= '9') || *j->p == '+' || *j->p == '-' ||
		       *j->p == 'e' || *j->p == 'E')
			j->p++;
	}
	(void)start;
	if (integer && (t = target(j)) != NULL) {
		*t = v;
		*j->mask |= MMU_SCHEME_BIT(mmu_scheme_from_name(j->key[1]));
	}
	return 0;
}

static int push(struct jp *j, const char *key, int idx)
{
	if (j->depth >= MAX_DEPTH)
		return jerr(j, "nesting too deep");
	snprintf(j->key[j->depth], sizeof(j->key[0]), "%s", key);
	j->idx[j->depth] = idx;
	j->depth++;
	return 0;
}

static int value(struct jp *j)
{
	ws(j);
	if (*j->p == '{') {
		j->p++;
		ws(j);
		if (*j->p == '}') {
			j->p++;
			goto scheme_seen;
		}
		for (;;) {
			char k[64];
			ws(j);
			if (str(j, k, sizeof(k)))
				return -1;
			ws(j);
			if (*j->p != ':')
				return jerr(j, "expected ':'");
			j->p++;
			if (push(j, k, -1) || value(j))
				return -1;
			j->depth--;
			ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == '}') {
				j->p++;
				break;
			}
			return jerr(j, "expected ',' or '}'");
		}
	scheme_seen:
		/* an object at schemes.NAME marks the scheme present */
		if (j->depth == 2 && !strcmp(j->key[0], "schemes")) {
			int s = mmu_scheme_from_name(j->key[1]);
			if (s >= 0)
				*j->mask |= MMU_SCHEME_BIT(s);
		}
		return 0;
	}
	if (*j->p == '[') {
		int i = 0;
		j->p++;
		ws(j);
		if (*j->p == ']') {
			j->p++;
			return 0;
		}
		for (;; i++) {
			if (push(j, "", i) || value(j))
				return -1;
			j->depth--;
			ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == ']') {
				j->p++;
				return 0;
			}
			return jerr(j, "expected ',' or ']'");
		}
	}
	if (*j->p == '"') {
		char v[64];
		if (str(j, v, sizeof(v)))
			return -1;
		if (j->depth == 1 && !strcmp(j->key[0], "schema")) {
			if (strcmp(v, MMU_COUNTERS_SCHEMA))
				return jerr(j, "unsupported schema (expected \"" MMU_COUNTERS_SCHEMA
					       "\")");
			j->schema_ok = true;
		}
		return 0;
	}
	if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
		j->p += 4;
		return 0;
	}
	if (!strncmp(j->p, "false", 5)) {
		j->p += 5;
		return 0;
	}
	return number(j);
}

int mmu_report_json_read(const char *text, struct mmu_counters *counters, uint32_t *mask, char *err,
			 size_t errlen)
{
	return mmu_report_json_read_steps(text, counters, NULL, mask, err, errlen);
}

int mmu_report_json_read_steps(const char *text, struct mmu_counters *counters,
			       struct mmu_steps *steps, uint32_t *mask, char *err, size_t errlen)
{
	struct jp j;

	memset(&j, 0, sizeof(j));
	j.s = j.p = text;
	j.err = err;
	j.errlen = errlen;
	j.c = counters;
	j.st = steps;
	j.mask = mask;
	memset(counters, 0, sizeof(*counters) * MMU_NSCHEMES);
	if (steps)
		memset(steps, 0, sizeof(*steps) * MMU_NSCHEMES);
	*mask = 0;
	ws(&j);
	if (*j.p != '{')
		return jerr(&j, "expected an object");
	if (value(&j))
		return -1;
	ws(&j);
	if (*j.p)
		return jerr(&j, "trailing data");
	if (!j.schema_ok)
		return jerr(&j, "missing \"schema\"");
	/* accesses by kind are stored; total "accesses" is derived */
	return 0;
}
