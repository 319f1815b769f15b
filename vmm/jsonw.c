/* SPDX-License-Identifier: MIT */
/* jsonw.c: the JSON writer (see jsonw.h). */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = cap == 0;
	if (cap)
		buf[0] = 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow || n >= w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

void jsonw_raw(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

void jsonw_str(struct jsonw *w, const char *s)
{
	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		} else {
			put(w, (const char *)&c, 1);
		}
	}
	put(w, "\"", 1);
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	char b[24];
	put(w, b, (size_t)snprintf(b, sizeof(b), "%llu", (unsigned long long)v));
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	char b[24];
	put(w, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v));
}

void jsonw_key(struct jsonw *w, const char *key, bool *first)
{
	if (!*first)
		put(w, ",", 1);
	*first = false;
	jsonw_str(w, key);
	put(w, ":", 1);
}
