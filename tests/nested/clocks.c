/* SPDX-License-Identifier: MIT */
/*
 * clocks.c: times N clock_gettime(CLOCK_MONOTONIC) calls. In a dmtvm guest
 * each call is one TIME hypercall, i.e. one VM exit: run in L1 it measures
 * an exit to L0; run in L2 it measures a reflected exit (L2 -> L0 -> L1
 * dmtvm -> L0 -> L2). Prints "clocks: N calls, X ns per call"; status 0.
 * usage: clocks [N] (default 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	if (n < 1 || n > 100000000) {
		fprintf(stderr, "clocks: N must be 1..100000000\n");
		return 2;
	}
	struct timespec a, b, t;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	/* n + 1 calls between the two stamps' reads; count the loop's n. */
	printf("clocks: %ld calls, %lld ns per call\n", n, ns / n);
	return 0;
}
