/* SPDX-License-Identifier: MIT */
/*
 * platbench.c: what the execution platform costs a guest program, measured
 * inside the guest with clock_gettime (the VMM's clock), medians of 7
 * batches. A benchmark, not a test: it prints
 *   platbench: getpid U us, clock_gettime U us, first touch 4k U us,
 *   first touch 2m U us (per 2 MiB page), mmap+touch 1 GiB 4k|2m T ms
 * (the kernel maps 4 KiB or 2 MiB pages by its dmtvm.thp setting).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median7(double v[7])
{
	qsort(v, 7, sizeof(v[0]), cmp);
	return v[3];
}

/* Per-call microseconds of a batch of n calls of f. */
static double batch(void (*f)(void), int n)
{
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i++)
		f();
	return (double)(now_ns() - t0) / n / 1000.0;
}

static void call_getpid(void)
{
	syscall(SYS_getpid);
}

static void call_clock(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
}

/* Microseconds per first touch of a page of `page` bytes over `len` bytes. */
static double touch(size_t len, size_t page)
{
	volatile char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("platbench: mmap");
		exit(1);
	}
	uint64_t t0 = now_ns();
	for (size_t o = 0; o < len; o += page)
		p[o] = 1;
	double us = (double)(now_ns() - t0) / (double)(len / page) / 1000.0;
	munmap((void *)p, len);
	return us;
}

int main(int argc, char **argv)
{
	size_t big = (argc > 1 ? (size_t)atol(argv[1]) : 1024) << 20;
	double g[7], c[7], t4[7], t2[7];
	for (int i = 0; i < 7; i++) {
		g[i] = batch(call_getpid, 200);
		c[i] = batch(call_clock, 200);
		t4[i] = touch(64 << 12, 4096);
		t2[i] = touch(8 << 21, 2 << 20);
	}
	uint64_t t0 = now_ns();
	touch(big, 4096);
	double ms = (double)(now_ns() - t0) / 1e6;
	printf("platbench: getpid %.1f us, clock_gettime %.1f us, first touch 4k %.1f us, "
	       "first touch 2m %.1f us, mmap+touch %zu MiB %.0f ms\n",
	       median7(g), median7(c), median7(t4), median7(t2), big >> 20, ms);
	return 0;
}
