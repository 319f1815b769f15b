/* SPDX-License-Identifier: MIT */
/*
 * trace_lackey.c: decoder of valgrind lackey `--trace-mem=yes` text.
 *
 * Lines: "I  addr,size" (instruction fetch), " L addr,size" (load),
 * " S addr,size" (store), " M addr,size" (modify: a load then a store);
 * addr is hex (an optional 0x), size decimal 1..TRACE_LACKEY_MAX_SIZE.
 * Lines starting with "==" (valgrind's own messages) and blank lines are
 * skipped. Anything else is an error naming the line number and content.
 */
#include <string.h>

#include "trace_impl.h"

/* A hex digit's value + 1, 0 for any other byte: one load per character
 * (the address loop runs for ~10 characters of every line). */
static const uint8_t hex_digit1[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,  ['6'] = 7,	['7'] = 8,
    ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(uint8_t c)
{
	return hex_digit1[c] - 1;
}

static int bad_line(struct trace_reader *r, const uint8_t *line, size_t len, const char *why)
{
	char esc[128];
	trace_escape(esc, sizeof(esc), line, len, 80);
	return trace_fail(r, 1, "%s:%llu: malformed lackey line \"%s\": %s", r->src.name,
			  (unsigned long long)r->units, esc, why);
}

/*
 * Parses one line (without its newline) into recs (room for 2). Returns
 * the number of records (0 for a skipped line) or -1.
 */
static int parse_line(struct trace_reader *r, const uint8_t *line, size_t len,
		      struct trace_rec *recs)
{
	size_t i = 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len >= 2 && line[0] == '=' && line[1] == '=')
		return 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 0;
	uint8_t op = line[i++];
	if (op != 'I' && op != 'L' && op != 'S' && op != 'M')
		return bad_line(r, line, len, "expected I, L, S or M then \"hexaddr,size\"");
	if (i == len || (line[i] != ' ' && line[i] != '\t'))
		return bad_line(r, line, len, "expected a blank after the access kind");
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i + 1 < len && line[i] == '0' && (line[i + 1] == 'x' || line[i + 1] == 'X'))
		i += 2;
	uint64_t va = 0;
	int digits = 0;
	for (int v; i < len && (v = hexval(line[i])) >= 0; i++) {
		if (++digits > 16)
			return bad_line(r, line, len, "address wider than 64 bits");
		va = va << 4 | (uint64_t)v;
	}
	if (digits == 0)
		return bad_line(r, line, len, "expected a hex address");
	if (i == len || line[i] != ',')
		return bad_line(r, line, len, "expected ',' after the address");
	i++;
	uint64_t size = 0;
	digits = 0;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		size = size * 10 + (uint64_t)(line[i] - '0');
		if (++digits > 10)
			break;
	}
	if (digits == 0)
		return bad_line(r, line, len, "expected a decimal size after ','");
	if (size == 0 || size > TRACE_LACKEY_MAX_SIZE)
		return bad_line(r, line, len, "size out of range 1..4096");
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i != len)
		return bad_line(r, line, len, "trailing characters after the size");
	/* Non-canonical addresses cannot be translated by a 4-level MMU. */
	uint64_t top = va >> 47;
	if (top != 0 && top != 0x1ffff)
		return bad_line(r, line, len, "non-canonical address (bits 63..47 must agree)");
	if ((va >> 47) != ((va + size - 1) >> 47))
		return bad_line(r, line, len, "access crosses the end of its canonical half");
	struct trace_rec rec = {.va = va, .size = (uint32_t)size};
	switch (op) {
	case 'I':
		rec.kind = TRACE_FETCH;
		break;
	case 'L':
		rec.kind = TRACE_LOAD;
		break;
	case 'S':
		rec.kind = TRACE_STORE;
		break;
	default: /* 'M': read-modify-write */
		rec.kind = TRACE_LOAD;
		recs[0] = rec;
		rec.kind = TRACE_STORE;
		recs[1] = rec;
		return 2;
	}
	recs[0] = rec;
	return 1;
}

/*
 * The lines valgrind writes, "I  hex,size\n", " L hex,size\n", " S ...",
 * " M ...", with 1..16 hex digits (no 0x), a size of 1..4 decimal digits in
 * 1..4096 and a canonical address range, decoded in one pass with no search
 * for the newline. Returns the line's length with its newline and the
 * records in recs (as parse_line would give), or 0 for anything else, which
 * parse_line then reads (and names, if it is an error).
 */
static size_t fast_line(const uint8_t *p, size_t avail, struct trace_rec *recs, int *k)
{
	enum { LONGEST = 3 + 16 + 1 + 4 + 1 }; /* "I  " 16 digits "," 4 digits "\n" */
	static const uint8_t kinds[4] = {TRACE_FETCH, TRACE_LOAD, TRACE_STORE, TRACE_LOAD};
	size_t i = 3, d;
	uint64_t va = 0, size = 0;
	unsigned op, v;

	if (avail < LONGEST) /* near the end of the buffer: the general parser */
		return 0;
	if (p[0] == 'I' && p[1] == ' ' && p[2] == ' ')
		op = 0;
	else if (p[0] == ' ' && p[2] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M'))
		op = p[1] == 'L' ? 1 : p[1] == 'S' ? 2 : 3;
	else
		return 0;
	for (; i < 3 + 16 && (v = hex_digit1[p[i]]) != 0; i++)
		va = va << 4 | (v - 1);
	if (i == 3 || p[i] != ',')
		return 0; /* no digit, more than 16, or no ',' after them */
	for (d = ++i; i < d + 4 && p[i] >= '0' && p[i] <= '9'; i++)
		size = size * 10 + (uint64_t)(p[i] - '0');
	if (p[i] != '\n' || size == 0 || size > TRACE_LACKEY_MAX_SIZE)
		return 0;
	if (((va >> 47) != 0 && (va >> 47) != 0x1ffff) || (va >> 47) != ((va + size - 1) >> 47))
		return 0;
	recs[0] = (struct trace_rec){.va = va, .size = (uint32_t)size, .kind = kinds[op]};
	*k = 1;
	if (op == 3) { /* 'M': a load, then a store */
		recs[1] = recs[0];
		recs[1].kind = TRACE_STORE;
		*k = 2;
	}
	return i + 1;
}

long trace_lackey_read(struct trace_reader *r, struct trace_rec *recs, size_t max)
{
	size_t n = 0;
	/* Stop one short so an M line (two records) always fits. */
	while (n + 2 <= max) {
		const uint8_t *p = r->buf + r->start;
		size_t avail = r->end - r->start;
		int k;
		size_t fast = fast_line(p, avail, recs + n, &k);
		if (fast) {
			r->units++;
			r->start += fast;
			n += (size_t)k;
			continue;
		}
		const uint8_t *nl = memchr(p, '\n', avail);
		size_t len;
		if (nl) {
			len = (size_t)(nl - p);
		} else if (r->eof) {
			if (avail == 0)
				break;
			len = avail; /* the last line may lack a newline */
		} else {
			if (avail > TRACE_LINE_MAX) {
				r->units++;
				char esc[128];
				trace_escape(esc, sizeof(esc), p, avail, 80);
				return trace_fail(
				    r, 1, "%s:%llu: line longer than %d bytes: \"%s\"", r->src.name,
				    (unsigned long long)r->units, TRACE_LINE_MAX, esc);
			}
			if (n > 0)
				break; /* hand out what we have before blocking */
			if (trace_fill(r) < 0)
				return -1;
			continue;
		}
		r->units++;
		if (len > TRACE_LINE_MAX) {
			char esc[128];
			trace_escape(esc, sizeof(esc), p, len, 80);
			return trace_fail(r, 1, "%s:%llu: line longer than %d bytes: \"%s\"",
					  r->src.name, (unsigned long long)r->units, TRACE_LINE_MAX,
					  esc);
		}
		struct trace_rec two[2];
		k = parse_line(r, p, len, two);
		if (k < 0)
			return -1;
		for (int j = 0; j < k; j++)
			recs[n++] = two[j];
		r->start += len + (nl ? 1 : 0);
	}
	return (long)n;
}
