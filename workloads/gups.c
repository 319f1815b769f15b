/* SPDX-License-Identifier: MIT */
/*
 * gups.c: HPCC RandomAccess (GUPS). A table of 2^k 64-bit words is updated
 * with table[r & (size-1)] ^= r for the HPCC pseudo-random stream r
 * (x^63 + x^2 + x + 1 LFSR), 128 independent streams interleaved as in the
 * HPCC serial reference, so a core can keep many misses in flight. The
 * measured phase is the update loop; the checksum folds the final table.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>

#define GUPS_POLY    0x7ULL
#define GUPS_PERIOD  1317624576693539401ULL
#define GUPS_STREAMS 128

static inline uint64_t gups_step(uint64_t r)
{
	return (r << 1) ^ ((int64_t)r < 0 ? GUPS_POLY : 0);
}

/* The n-th element of the stream, by repeated squaring in GF(2) (HPCC's starts). */
static uint64_t gups_starts(uint64_t n)
{
	uint64_t m2[64], t = 1, r = 2;
	int i;

	n %= GUPS_PERIOD;
	if (n == 0)
		return 1;
	for (i = 0; i < 64; i++) {
		m2[i] = t;
		t = gups_step(gups_step(t));
	}
	for (i = 62; i >= 0; i--)
		if ((n >> i) & 1)
			break;
	while (i > 0) {
		t = 0;
		for (int j = 0; j < 64; j++)
			if ((r >> j) & 1)
				t ^= m2[j];
		r = t;
		i--;
		if ((n >> i) & 1)
			r = gups_step(r);
	}
	return r;
}

int main(int argc, char **argv)
{
	uint64_t mem = 256ULL << 20, updates = 512ULL << 20, seed = 0;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "table bytes, rounded down to a power of two", &mem, 64, 1ULL << 46},
	    {'n', "N", "updates, rounded down to a multiple of 128 (HPCC: 4 x words; default 16 x)",
	     &updates, GUPS_STREAMS, 1ULL << 50},
	    {'s', "SEED", "stream offset: starts at element SEED x N", &seed, 0, 1ULL << 32},
	};
	wl_parse_args(argc, argv, "gups", "HPCC RandomAccess: random XOR updates of a table", opts,
		      sizeof(opts) / sizeof(opts[0]));

	uint64_t words = 1;
	while (words * 2 * 8 <= mem)
		words *= 2;
	uint64_t *table = wl_alloc("gups", words * 8);
	for (uint64_t i = 0; i < words; i++)
		table[i] = i;

	uint64_t per_stream = updates / GUPS_STREAMS;
	uint64_t ran[GUPS_STREAMS];
	for (int j = 0; j < GUPS_STREAMS; j++)
		ran[j] = gups_starts(seed * updates + per_stream * (uint64_t)j);

	printf("gups: table %llu words (%llu KiB), %llu updates\n", (unsigned long long)words,
	       (unsigned long long)(words >> 7), (unsigned long long)(per_stream * GUPS_STREAMS));
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t i = 0; i < per_stream; i++) {
		for (int j = 0; j < GUPS_STREAMS; j++) {
			ran[j] = gups_step(ran[j]);
			table[ran[j] & (words - 1)] ^= ran[j];
		}
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	uint64_t h = 0;
	for (uint64_t i = 0; i < words; i++)
		h = wl_mix(h, table[i]);
	printf("gups: %.4f GUP/s\n", (double)(per_stream * GUPS_STREAMS) / (double)dt);
	wl_finish("gups", dt, h);
	return 0;
}
