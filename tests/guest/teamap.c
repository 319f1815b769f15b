/* SPDX-License-Identifier: MIT */
/*
 * teamap.c: a guest program exercising DMT TEAs (guest-kernel/tea.c); the
 * kernel's dmtvm.selftest=tea checks the invariant at exit and prints the
 * counters, which the test compares exactly. Modes (argv[1]):
 *  basic    map 256 MiB, write one word per 256 KiB (fault-around maps 64
 *           KiB each time: 16 Ki pages, every page table), read them back;
 *           unmap 16 MiB in the middle, map it again (MAP_FIXED), rewrite
 *           every 4 KiB page of it.
 *  time N   benchmark: map N MiB, write one word per 4 KiB page; prints
 *           "teamap: mmap+touch N MiB: T ms" (a benchmark, not a test).
 *  migrate  a 64 KiB read-only mapping is touched first at a 2 MiB-aligned
 *           address; then 256 MiB are mapped right after it and touched
 *           (one word per 2 MiB: every page-table page, few frames): the
 *           TEA's first slot is the small mapping's existing page table,
 *           which the kernel copies into the TEA.
 *  many     three 64 MiB mappings with guards between them, touched as in
 *           migrate (run with dmtvm.tea_max=2: one fallback).
 *  merge    three adjacent 64 MiB mappings: the VMA grows twice, and each
 *           time its TEA is replaced by a bigger one (page tables migrate).
 * Prints "teamap: ok" and exits 0, or "teamap: FAIL ..." and 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define MIB (1ULL << 20)

static int fail(const char *what)
{
	printf("teamap: FAIL %s\n", what);
	return 1;
}

static void *map(void *at, uint64_t len, int prot)
{
	return mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
}

/* Write then check one word per stride bytes (fault-around maps 16 pages per fault). */
static int touch_stride(uint64_t *p, uint64_t len, uint64_t seed, uint64_t stride)
{
	for (uint64_t i = 0; i < len / 8; i += stride / 8)
		p[i] = i ^ seed;
	for (uint64_t i = 0; i < len / 8; i += stride / 8)
		if (p[i] != (i ^ seed))
			return -1;
	return 0;
}

static int touch(uint64_t *p, uint64_t len, uint64_t seed)
{
	return touch_stride(p, len, seed, 4096);
}

/* One 64 KiB fault-around window per 2 MiB: every page-table page, few frames. */
static int touch_sparse(uint64_t *p, uint64_t len, uint64_t seed)
{
	return touch_stride(p, len, seed, 2 * MIB);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "basic";
	if (!strcmp(mode, "basic")) {
		uint64_t *p = map(NULL, 256 * MIB, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED || touch_stride(p, 256 * MIB, 1, 256 * 1024))
			return fail("map/touch 256 MiB");
		uint64_t *hole = p + 100 * MIB / 8;
		if (munmap(hole, 16 * MIB) || map(hole, 16 * MIB, PROT_READ | PROT_WRITE) != hole)
			return fail("unmap/remap 16 MiB");
		if (hole[0] != 0 || touch(hole, 16 * MIB, 2) || touch(p, 100 * MIB, 1))
			return fail("touch after remap");
	} else if (!strcmp(mode, "migrate")) {
		char *base = (char *)0x500000000000ULL;
		volatile char *small = map(base, 64 * 1024, PROT_READ);
		if (small != (volatile char *)base || small[0] != 0 || small[65535] != 0)
			return fail("small read-only mapping");
		uint64_t *big = map(base + 64 * 1024, 256 * MIB, PROT_READ | PROT_WRITE);
		if (big == MAP_FAILED || touch_sparse(big, 256 * MIB, 3))
			return fail("map/touch 256 MiB after the small one");
		if (small[0] != 0 || small[4096] != 0)
			return fail("small mapping after migration");
	} else if (!strcmp(mode, "many") || !strcmp(mode, "merge")) {
		for (int i = 0; i < 3; i++) {
			uint64_t *p = map(NULL, 64 * MIB, PROT_READ | PROT_WRITE);
			if (p == MAP_FAILED || touch_sparse(p, 64 * MIB, (uint64_t)i))
				return fail("map/touch 64 MiB");
			/* A PROT_NONE guard below keeps the next mapping from merging. */
			if (!strcmp(mode, "many") && map(NULL, 2 * MIB, PROT_NONE) == MAP_FAILED)
				return fail("map guard");
		}
	} else if (!strcmp(mode, "time") && argc > 2) {
		uint64_t len = strtoull(argv[2], NULL, 0) * MIB;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t *p = map(NULL, len, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return fail("map");
		for (uint64_t i = 0; i < len / 8; i += 512)
			p[i] = i;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("teamap: mmap+touch %s MiB: %.0f ms\n", argv[2],
		       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	} else {
		return fail("unknown mode");
	}
	printf("teamap: ok\n");
	return 0;
}
