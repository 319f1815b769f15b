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

/* Why an access cannot be translated by a 4-level MMU, or NULL. */
static const char *range_error(uint64_t va, uint64_t size)
{
	uint64_t top = va >> 47;

	if (top != 0 && top != 0x1ffff)
		return "non-canonical address (bits 63..47 must agree)";
	if (trace_crosses_half(va, size))
		return "access crosses the end of its canonical half";
	return NULL;
}

/* The records of a line of kind op (I, L, S or M: a load, then a store)
 * into recs (room for 2); returns their number. */
static int line_recs(uint8_t op, uint64_t va, uint64_t size, struct trace_rec *recs)
{
	struct trace_rec rec = {.va = va, .size = (uint32_t)size};

	rec.kind = op == 'I' ? TRACE_FETCH : op == 'S' ? TRACE_STORE : TRACE_LOAD;
	recs[0] = rec;
	if (op != 'M')
		return 1;
	rec.kind = TRACE_STORE;
	recs[1] = rec;
	return 2;
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
	const char *why = range_error(va, size);
	if (why)
		return bad_line(r, line, len, why);
	return line_recs(op, va, size, recs);
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
	size_t i = 3, d;
	uint64_t va = 0, size = 0;
	int v;

	if (avail < LONGEST) /* near the end of the buffer: the general parser */
		return 0;
	if (!(p[0] == 'I' && p[1] == ' ' && p[2] == ' ') &&
	    !(p[0] == ' ' && p[2] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M')))
		return 0;
	for (; i < 3 + 16 && (v = hexval(p[i])) >= 0; i++)
		va = va << 4 | (uint64_t)v;
	if (i == 3 || p[i] != ',')
		return 0; /* no digit, more than 16, or no ',' after them */
	for (d = ++i; i < d + 4 && p[i] >= '0' && p[i] <= '9'; i++)
		size = size * 10 + (uint64_t)(p[i] - '0');
	if (p[i] != '\n' || size == 0 || size > TRACE_LACKEY_MAX_SIZE || range_error(va, size))
		return 0;
	*k = line_recs(p[0] == 'I' ? 'I' : p[1], va, size, recs);
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
