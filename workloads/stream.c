/* SPDX-License-Identifier: MIT */
/*
 * stream.c: the STREAM kernels (copy, scale, add, triad) over three arrays
 * of doubles, N times over, as in McCalpin's STREAM. Sequential, bandwidth
 * bound: the TLB sees one miss per page, the opposite of gups. The checksum
 * folds the bits of the three arrays' sums, which are exact functions of
 * the operations done (same order in every build).
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	uint64_t mem = 384ULL << 20, iters = 200;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "bytes of the three arrays together", &mem, 3 * 64, 1ULL << 46},
	    {'n', "N", "iterations of copy, scale, add, triad", &iters, 1, 1ULL << 40},
	};
	wl_parse_args(argc, argv, "stream", "STREAM: copy/scale/add/triad bandwidth", opts,
		      sizeof(opts) / sizeof(opts[0]));

	uint64_t n = mem / 3 / sizeof(double);
	double *a = wl_alloc("stream", n * sizeof(double));
	double *b = wl_alloc("stream", n * sizeof(double));
	double *c = wl_alloc("stream", n * sizeof(double));
	const double s = 3.0;
	for (uint64_t i = 0; i < n; i++) {
		a[i] = 1.0 + (double)(i & 7);
		b[i] = 2.0;
		c[i] = 0.0;
	}
	printf("stream: 3 arrays of %llu doubles, %llu iterations\n", (unsigned long long)n,
	       (unsigned long long)iters);

	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t k = 0; k < iters; k++) {
		for (uint64_t i = 0; i < n; i++)
			c[i] = a[i];
		for (uint64_t i = 0; i < n; i++)
			b[i] = s * c[i];
		for (uint64_t i = 0; i < n; i++)
			c[i] = a[i] + b[i];
		for (uint64_t i = 0; i < n; i++)
			a[i] = b[i] + s * c[i];
		/* Keep a finite over many iterations (a grows 15x per pass). */
		if (a[0] > 1e200)
			for (uint64_t i = 0; i < n; i++)
				a[i] *= 0x1p-600;
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	double sa = 0, sb = 0, sc = 0;
	for (uint64_t i = 0; i < n; i++) {
		sa += a[i];
		sb += b[i];
		sc += c[i];
	}
	uint64_t h = 0, bits;
	memcpy(&bits, &sa, 8);
	h = wl_mix(h, bits);
	memcpy(&bits, &sb, 8);
	h = wl_mix(h, bits);
	memcpy(&bits, &sc, 8);
	h = wl_mix(h, bits);
	printf("stream: %.2f GB/s (10 x 8 bytes moved per element per iteration)\n",
	       (double)(10 * 8 * n * iters) / (double)dt);
	wl_finish("stream", dt, h);
	return 0;
}
