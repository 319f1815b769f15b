/* SPDX-License-Identifier: MIT */
/*
 * test_trace.c: the trace readers on hand-written inputs: exact records,
 * streaming through 1-byte reads, and every malformed-input error message.
 */
#include <stdlib.h>

#include "check.h"
#include "dmtvm_trace.h"
#include "step_src.h"
#include "trace.h"

/* Reads everything; returns the record count, or -1 with err copied. */
static long read_all(const void *data, size_t len, size_t step, struct trace_rec *out, size_t max,
		     char *err, size_t errlen, enum trace_format *fmt)
{
	struct step_src s = {data, len, 0, step};
	struct trace_src src = {step_src_read, &s, "t"};
	struct trace_reader *r = trace_reader_open(src, TRACE_FMT_AUTO);
	long total = 0, n;
	struct trace_rec batch[3];
	err[0] = '\0';
	while ((n = trace_reader_read(r, batch, 3)) > 0) {
		for (long i = 0; i < n && (size_t)total < max; i++)
			out[total++] = batch[i];
	}
	if (n < 0) {
		snprintf(err, errlen, "%s", trace_reader_error(r));
		CHECK(trace_reader_error_is_input(r));
		total = -1;
	}
	if (fmt)
		*fmt = trace_reader_format(r);
	/* The error is sticky. */
	if (n < 0)
		CHECK_EQ(trace_reader_read(r, batch, 3), (uint64_t)-1);
	trace_reader_close(r);
	return total;
}

static void test_lackey_ok(void)
{
	const char *t = "==123== Lackey, an example Valgrind tool\n"
			"I  04000bd0,3\n"
			" S 1ffefffe68,8\r\n"
			" L 0x7f00,4\n"
			"\n"
			" M 04e1e6c8,8\n"
			"I  ffffffffff600000,2"; /* no final newline */
	for (size_t step = 1; step <= 64; step *= 4) {
		struct trace_rec r[16];
		char err[256];
		enum trace_format fmt;
		long n = read_all(t, strlen(t), step, r, 16, err, sizeof(err), &fmt);
		CHECK_EQ(n, 6);
		CHECK_EQ(fmt, TRACE_FMT_LACKEY);
		CHECK_EQ(r[0].kind, TRACE_FETCH);
		CHECK_EQ(r[0].va, 0x4000bd0);
		CHECK_EQ(r[0].size, 3);
		CHECK_EQ(r[1].kind, TRACE_STORE);
		CHECK_EQ(r[1].va, 0x1ffefffe68);
		CHECK_EQ(r[1].size, 8);
		CHECK_EQ(r[2].kind, TRACE_LOAD);
		CHECK_EQ(r[2].va, 0x7f00);
		CHECK_EQ(r[3].kind, TRACE_LOAD);
		CHECK_EQ(r[3].va, 0x4e1e6c8);
		CHECK_EQ(r[4].kind, TRACE_STORE);
		CHECK_EQ(r[4].va, 0x4e1e6c8);
		CHECK_EQ(r[5].va, 0xffffffffff600000ULL);
		CHECK_EQ(r[5].size, 2);
	}
}

static void expect_error(const char *t, size_t len, const char *msg)
{
	struct trace_rec r[16];
	char err[256];
	for (size_t step = 1; step <= 4096; step *= 64) {
		long n = read_all(t, len, step, r, 16, err, sizeof(err), NULL);
		CHECK_EQ(n, (uint64_t)-1);
		CHECK_STR(err, msg);
		CHECK(strchr(err, '\n') == NULL);
	}
}

static void test_lackey_errors(void)
{
	expect_error("I  10,1\n L 20,2\nX 30,3\n", 22, "t:3: malformed lackey line \"X 30,3\"");
	expect_error("I  10,1\n L zz,2\n", 16,
		     "t:2: malformed lackey line \" L zz,2\": expected a hex");
	expect_error(" L 10\n", 6, "t:1: malformed lackey line \" L 10\": expected ','");
	expect_error(" L 10,\n", 7, "expected a decimal size");
	expect_error(" L 10,0\n", 8, "size out of range");
	expect_error(" L 10,99999999999999999999\n", 27, "size out of range");
	expect_error(" L 10,4097\n", 11, "size out of range");
	expect_error(" L 123456789abcdef01,8\n", 23, "address wider than 64 bits");
	expect_error(" L 800000000000,8\n", 18, "non-canonical");
	expect_error(" L 10,8 x\n", 10, "trailing characters");
	expect_error(" L 7ffffffffffc,8\n", 18, "crosses the end of its canonical half");
	expect_error(" L ffffffffffffffff,2\n", 22, "crosses the end of its canonical half");
	expect_error(" L10,8\n", 7, "expected a blank");
	expect_error(" L 10,8\n\x01\x02\n", 11, "t:2: malformed lackey line \"\\x01\\x02\"");
	/* a line longer than TRACE_LINE_MAX, with and without a newline */
	char big[2000];
	memset(big, 'I', sizeof(big));
	expect_error(big, sizeof(big), "t:1: line longer than 512 bytes");
	big[1500] = '\n';
	expect_error(big, sizeof(big), "t:1: line longer than 512 bytes");
}

static void put_hdr(uint8_t *p, const char *magic, uint32_t ver, uint32_t rsize, uint64_t flags)
{
	memset(p, 0, 32);
	memcpy(p, magic, 8);
	memcpy(p + 8, &ver, 4);
	memcpy(p + 12, &rsize, 4);
	memcpy(p + 16, &flags, 8);
}

static void test_binary_ok(void)
{
	uint8_t b[32 + 6 * 8];
	put_hdr(b, DMTVM_TRACE_MAGIC, 1, 8, 0);
	uint64_t recs[6] = {
	    dmtvm_trace_rec(0, DMTVM_TRACE_ROI_BEGIN, DMTVM_TRACE_CONTROL, 0),
	    dmtvm_trace_rec(0x7f0000001000ULL, 8, DMTVM_TRACE_LOAD, 3),
	    dmtvm_trace_rec(0xffff888000000000ULL, 255, DMTVM_TRACE_STORE, 63),
	    dmtvm_trace_rec(42, DMTVM_TRACE_ASID, DMTVM_TRACE_CONTROL, 0),
	    dmtvm_trace_rec(0x401000, 4, DMTVM_TRACE_FETCH, 0),
	    dmtvm_trace_rec(0, DMTVM_TRACE_ROI_END, DMTVM_TRACE_CONTROL, 0),
	};
	memcpy(b + 32, recs, sizeof(recs));
	for (size_t step = 1; step <= 64; step *= 2) {
		struct trace_rec r[8];
		char err[256];
		enum trace_format fmt;
		long n = read_all(b, sizeof(b), step, r, 8, err, sizeof(err), &fmt);
		CHECK_EQ(n, 6);
		CHECK_EQ(fmt, TRACE_FMT_DMTVM);
		CHECK_EQ(r[0].kind, TRACE_ROI_BEGIN);
		CHECK_EQ(r[1].kind, TRACE_LOAD);
		CHECK_EQ(r[1].va, 0x7f0000001000ULL);
		CHECK_EQ(r[1].size, 8);
		CHECK_EQ(r[1].vcpu, 3);
		CHECK_EQ(r[2].kind, TRACE_STORE);
		CHECK_EQ(r[2].va, 0xffff888000000000ULL); /* sign-extended */
		CHECK_EQ(r[2].size, 255);
		CHECK_EQ(r[2].vcpu, 63);
		CHECK_EQ(r[3].kind, TRACE_ASID);
		CHECK_EQ(r[3].va, 42);
		CHECK_EQ(r[4].kind, TRACE_FETCH);
		CHECK_EQ(r[5].kind, TRACE_ROI_END);
	}
	/* header only: an empty trace */
	struct trace_rec r[2];
	char err[64];
	CHECK_EQ(read_all(b, 32, 7, r, 2, err, sizeof(err), NULL), 0);
}

static void test_binary_errors(void)
{
	uint8_t b[32 + 16];
	put_hdr(b, "DMTVMTRX", 1, 8, 0);
	expect_error((char *)b, 32, "t: unknown trace format: bad magic \"DMTVMTRX\"");
	put_hdr(b, DMTVM_TRACE_MAGIC, 2, 8, 0);
	expect_error((char *)b, 32, "t: unsupported dmtvm trace version 2 (expected 1)");
	put_hdr(b, DMTVM_TRACE_MAGIC, 1, 16, 0);
	expect_error((char *)b, 32, "record size 16 (expected 8)");
	put_hdr(b, DMTVM_TRACE_MAGIC, 1, 8, 1);
	expect_error((char *)b, 32, "flags 0x1");
	put_hdr(b, DMTVM_TRACE_MAGIC, 1, 8, 0);
	expect_error((char *)b, 20, "truncated dmtvm trace header (20 of 32 bytes)");
	uint64_t ok = dmtvm_trace_rec(0x1000, 8, DMTVM_TRACE_LOAD, 0);
	memcpy(b + 32, &ok, 8);
	memcpy(b + 40, &ok, 8);
	expect_error((char *)b, 45, "truncated record 2 at byte offset 40 (5 of 8 bytes)");
	uint64_t z = dmtvm_trace_rec(0x1000, 0, DMTVM_TRACE_LOAD, 0);
	memcpy(b + 40, &z, 8);
	expect_error((char *)b, 48,
		     "record 2 (byte offset 40, 0x0000000000001000): access of size 0");
	uint64_t x = dmtvm_trace_rec(0xfffffffffffeULL, 8, DMTVM_TRACE_STORE, 0);
	memcpy(b + 40, &x, 8);
	expect_error((char *)b, 48,
		     "record 2 (byte offset 40, 0x0108fffffffffffe): access crosses");
	uint64_t c = dmtvm_trace_rec(0, 9, DMTVM_TRACE_CONTROL, 0);
	memcpy(b + 40, &c, 8);
	expect_error((char *)b, 48,
		     "record 2 (byte offset 40, 0x0309000000000000): unknown control");
	/* binary junk without the magic */
	expect_error("\x7f"
		     "ELF\x02\x01\x01\x00",
		     8, "unknown trace format: bad magic \"\\x7fELF");
}

/*
 * The lackey reader decodes valgrind's own line shapes ("I  hex,size",
 * " L hex,size" ...) in a fast path and everything else in the general
 * parser. A line led by a tab takes the general parser only (the tab is
 * skipped like any leading blank), so for each of many random lines near
 * valgrind's shapes (0x, case, 0 / 16 / 17 digits, sizes around the limits,
 * non-canonical and crossing ranges, CR, trailing blanks, stray bytes) both
 * must agree: the same records, or both an error.
 */
static uint64_t lrng = 0x2545F4914F6CDD1DULL;

static unsigned lpick(unsigned n)
{
	lrng ^= lrng << 13;
	lrng ^= lrng >> 7;
	lrng ^= lrng << 17;
	return (unsigned)(lrng % n);
}

static void test_lackey_fast_path_agrees(void)
{
	static const char *const heads[] = {"I  ", " L ", " S ", " M ", "I ", " L  ", "I\t"};
	static const char *const addrs[] = {"7fffffffffff",	"7ffffffffff8",	    "800000000000",
					    "ffff800000000000", "ffffffffffffffff", "0",
					    "0x1000",		"0X1000",	    "1ffefffe68",
					    "04000BD0",		"04000bd0"};
	static const char *const sizes[] = {"1",     "8",     "4096", "4097", "0",    "0004",
					    "00001", "12345", "",     "65",   "9999", "3"};
	static const char *const tails[] = {"", "", "", "", "\r", " ", "\t", "x", ",8"};
	static const char hex[] = "0123456789abcdefABCDEFgx";
#define MORE "I  1000,4\nI  1004,4\nI  1008,4\n"
	char line[128], tabbed[192];
	long fast = 0;

	for (int t = 0; t < 20000; t++) {
		size_t n = 0;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s",
				      heads[lpick(7) < 5 ? lpick(4) : lpick(7)]);
		if (lpick(3) == 0) {
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s", addrs[lpick(11)]);
		} else {
			unsigned digits = lpick(4) == 0 ? lpick(19) : 1 + lpick(12);
			for (unsigned d = 0; d < digits; d++)
				line[n++] =
				    hex[lpick(50) == 0 ? lpick(sizeof(hex) - 1) : lpick(16)];
		}
		if (lpick(30))
			line[n++] = lpick(40) ? ',' : ';';
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", sizes[lpick(12)],
				      tails[lpick(9)]);
		line[n] = '\0';
		/* valid lines after it: the fast path needs the longest line's
		 * bytes in the buffer */
		snprintf(tabbed, sizeof(tabbed), "\t%s\n%s", line, MORE);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\n%s", MORE);

		struct trace_rec a[8], b[8];
		char ea[256], eb[256];
		long na = read_all(line, n, 4096, a, 8, ea, sizeof(ea), NULL);
		long nb = read_all(tabbed, n + 1, 4096, b, 8, eb, sizeof(eb), NULL);
		CHECK_EQ(na, nb);
		if (na != nb)
			fprintf(stderr, "input \"%s\": %ld records against %ld (%s / %s)\n", line,
				na, nb, ea, eb);
		for (long i = 0; i < na && na == nb; i++) {
			CHECK_EQ(a[i].va, b[i].va);
			CHECK_EQ(a[i].size, b[i].size);
			CHECK_EQ(a[i].kind, b[i].kind);
		}
		fast += na > 3;
	}
	CHECK(fast > 2000); /* many lines were valid ones */
}

int main(void)
{
	test_lackey_ok();
	test_lackey_errors();
	test_lackey_fast_path_agrees();
	test_binary_ok();
	test_binary_errors();
	if (check_failures) {
		fprintf(stderr, "test_trace: %d check(s) failed\n", check_failures);
		return 1;
	}
	printf("test_trace: ok\n");
	return 0;
}
