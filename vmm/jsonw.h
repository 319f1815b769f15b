/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h: a tiny JSON writer into a caller-owned fixed buffer. Output is
 * always NUL-terminated; overflow sets ->overflow instead of writing past
 * the end (callers then report an error rather than truncated JSON).
 */
#ifndef VMM_JSONW_H
#define VMM_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t cap, len;
	bool overflow;
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
void jsonw_raw(struct jsonw *w, const char *s);
void jsonw_str(struct jsonw *w, const char *s); /* quoted and escaped */
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
/* "key": helpers; comma handling is the caller's (pass first = true once). */
void jsonw_key(struct jsonw *w, const char *key, bool *first);

#endif
