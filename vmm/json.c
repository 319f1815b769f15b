/* SPDX-License-Identifier: MIT */
/*
 * json.c: the strict JSON reader (see json.h). A recursive-descent
 * validator with a depth limit; only the top-level object's members are
 * interpreted. Input is untrusted bytes of known length (NULs refused).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

struct parser {
	const unsigned char *p, *end;
	const char *err;
};

static void ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool fail(struct parser *ps, const char *why)
{
	if (!ps->err)
		ps->err = why;
	return false;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of a valid UTF-8 sequence at p (shortest form, no surrogates), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	int n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (end - p < n)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A string; its ASCII-decoded value goes to out (if any), cut at cap - 1. */
static bool string(struct parser *ps, char *out, size_t cap, bool *truncated)
{
	size_t n = 0;
	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, "expected a string");
	ps->p++;
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		unsigned char c = *ps->p;
		int ch = -1; /* decoded byte to store, if ASCII */
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c == '\\') {
			if (ps->end - ps->p < 2)
				return fail(ps, "unterminated escape");
			unsigned char e = ps->p[1];
			const char *simple = strchr("\"\\/bfnrt", e);
			if (e && simple) {
				static const char map[] = "\"\\/\b\f\n\r\t";
				ch = map[simple - "\"\\/bfnrt"];
				ps->p += 2;
			} else if (e == 'u') {
				if (ps->end - ps->p < 6)
					return fail(ps, "short \\u escape");
				int v = 0;
				for (int i = 2; i < 6; i++) {
					int h = hexval(ps->p[i]);
					if (h < 0)
						return fail(ps, "bad \\u escape");
					v = v << 4 | h;
				}
				ch = v > 0 && v < 0x80 ? v : 0x80;
				ps->p += 6;
			} else {
				return fail(ps, "bad escape");
			}
		} else {
			int l = utf8_len(ps->p, ps->end);
			if (!l)
				return fail(ps, "invalid UTF-8");
			ch = l == 1 ? c : 0x80;
			ps->p += l;
		}
		if (out) {
			/* Non-ASCII never matches a command name: keep a marker. */
			if (n + 1 < cap)
				out[n++] = ch < 0x80 ? (char)ch : '?';
			else
				*truncated = true;
		}
	}
	if (out)
		out[n] = 0;
	return true;
}

static bool number(struct parser *ps)
{
	const unsigned char *s = ps->p;
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return fail(ps, "bad number");
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return fail(ps, "bad number");
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	return ps->p > s;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "unexpected token");
	ps->p += n;
	return true;
}

static bool value(struct parser *ps, int depth);

static bool object(struct parser *ps, int depth, struct json_request *req)
{
	bool have_cmd = false, have_args = false;
	ps->p++; /* '{' */
	ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return true;
	}
	for (;;) {
		char key[16];
		bool trunc = false;
		ws(ps);
		if (!string(ps, key, sizeof(key), &trunc))
			return false;
		ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, "expected ':'");
		ps->p++;
		ws(ps);
		bool is_cmd = req && !trunc && (!strcmp(key, "execute") || !strcmp(key, "command"));
		bool is_args = req && !trunc && !strcmp(key, "arguments");
		if (is_cmd) {
			bool ctrunc = false;
			if (have_cmd)
				return fail(ps, "more than one execute/command member");
			have_cmd = true;
			if (!string(ps, req->command, sizeof(req->command), &ctrunc))
				return fail(ps, "execute must be a string");
			if (ctrunc)
				return fail(ps, "command name too long");
		} else if (is_args) {
			if (have_args)
				return fail(ps, "more than one arguments member");
			have_args = true;
			if (ps->p >= ps->end || *ps->p != '{')
				return fail(ps, "arguments must be an object");
			if (!value(ps, depth + 1))
				return false;
		} else if (!value(ps, depth + 1)) {
			return false;
		}
		ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		return fail(ps, "expected ',' or '}'");
	}
	if (req && !have_cmd)
		return fail(ps, "missing \"execute\" member");
	return true;
}

static bool value(struct parser *ps, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return fail(ps, "nesting too deep");
	ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		return object(ps, depth, NULL);
	case '[':
		ps->p++;
		ws(ps);
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return true;
		}
		for (;;) {
			if (!value(ps, depth + 1))
				return false;
			ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == ']') {
				ps->p++;
				return true;
			}
			return fail(ps, "expected ',' or ']'");
		}
	case '"': {
		bool t = false;
		return string(ps, NULL, 0, &t);
	}
	case 't':
		return literal(ps, "true");
	case 'f':
		return literal(ps, "false");
	case 'n':
		return literal(ps, "null");
	default:
		return number(ps);
	}
}

int json_parse_request(const char *text, size_t len, struct json_request *req, char *err,
		       size_t errlen)
{
	struct parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, NULL};
	memset(req, 0, sizeof(*req));
	ws(&ps);
	bool ok;
	if (ps.p >= ps.end || *ps.p != '{')
		ok = fail(&ps, "request must be a JSON object");
	else
		ok = object(&ps, 0, req);
	if (ok) {
		ws(&ps);
		if (ps.p != ps.end)
			ok = fail(&ps, "trailing characters after the object");
	}
	if (!ok) {
		snprintf(err, errlen, "malformed request at byte %zu: %s",
			 (size_t)(ps.p - (const unsigned char *)text), ps.err);
		return -1;
	}
	return 0;
}
