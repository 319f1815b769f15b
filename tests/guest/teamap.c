/* SPDX-License-Identifier: MIT */
/*
 * teamap.c: a guest program exercising DMT TEAs (guest-kernel/tea.c); the
 * kernel's dmtvm.selftest=tea checks the invariant at exit and prints the
 * counters, which the test compares exactly. Modes (argv[1]):
 *  basic    map 256 MiB, write one word per 256 KiB (a fault maps its whole
 *           2 MiB block with 4 KiB pages: every page table), read them back;
 *           unmap 16 MiB in the middle, map it again (MAP_FIXED), rewrite
 *           every 4 KiB page of it.
 *  time N [STRIDE]  benchmark: map N MiB, write one word per STRIDE bytes
 *           (default 4096: every page); prints
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
 *  many N M N mappings of M MiB (defaults 3, 64) with guards between them
 *           (with N = 17 and tea_min = M: the 17th falls back, counted).
 *  arrays   what a program's mallocs do (bfs: a 2 MiB array, one of 64 MiB
 *           minus 4 KiB, one of 4 MiB plus 4 KiB, each its own mmap, none
 *           at a chosen address): the kernel places them next to each
 *           other, so they merge into one VMA of >= tea_min and one TEA
 *           covers all three (2 MiB alignment only for whole 2 MiB
 *           lengths); alone, none of them would get a TEA.
 *  reuse N M  N rounds of: map M MiB, touch one word per 2 MiB, unmap
 *           (in a small guest, later rounds live on merged freed frames).
 *  check1g  map 1 GiB, write each page's own VA into its first word, then
 *           hand 4096 load records (one per 256 KiB) to the trace call so
 *           that `dmtvm run --debug-translate-check=4096` compares the
 *           model's walk with KVM_TRANSLATE for each; the kernel's tea
 *           self-test checks its sampled pages hold their own VA.
 *  grow free|taken  TEA growth at the VMA's high end (DMT.md: first the
 *           physically adjacent frames, else migration). A 2 MiB mapping C
 *           at 0x600020000000 is touched first (its data frames are carved
 *           just before the TEA's, so they lie right above it), then 64
 *           MiB A at 0x600000000000 (a 32-page TEA); "free" unmaps C, so the
 *           frames after the TEA are free; then 64 MiB B right after A
 *           (MAP_FIXED): the VMA grows to 128 MiB and its TEA to 64 pages,
 *           in place ("free") or by migrating A's 32 tables ("taken").
 *  grow1g   THP (PD-level TEA, 1 GiB per slot): 64 MiB A ending at the 1
 *           GiB boundary 0x600040000000, then 64 MiB B right after it: the
 *           TEA grows from 1 to 2 PD pages.
 * Prints "teamap: ok" and exits 0, or "teamap: FAIL ..." and 1.
 */
#include "dmtvm_trace.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

/* Write then check one word per stride bytes. */
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
		int n = argc > 2 ? atoi(argv[2]) : 3;
		uint64_t size = (argc > 3 ? strtoull(argv[3], NULL, 0) : 64) * MIB;
		for (int i = 0; i < n; i++) {
			uint64_t *p = map(NULL, size, PROT_READ | PROT_WRITE);
			if (p == MAP_FAILED || touch_sparse(p, size, (uint64_t)i))
				return fail("map/touch 64 MiB");
			/* A PROT_NONE guard below keeps the next mapping from merging. */
			if (!strcmp(mode, "many") && map(NULL, 2 * MIB, PROT_NONE) == MAP_FAILED)
				return fail("map guard");
		}
	} else if (!strcmp(mode, "arrays")) {
		static const uint64_t len[] = {2 * MIB, 64 * MIB - 4096, 4 * MIB + 4096};
		for (unsigned i = 0; i < 3; i++) {
			uint64_t *p = map(NULL, len[i], PROT_READ | PROT_WRITE);
			if (p == MAP_FAILED || touch(p, len[i], i))
				return fail("map/touch an array");
		}
	} else if (!strcmp(mode, "reuse") && argc > 3) {
		int n = atoi(argv[2]);
		uint64_t size = strtoull(argv[3], NULL, 0) * MIB;
		for (int i = 0; i < n; i++) {
			uint64_t *p = map(NULL, size, PROT_READ | PROT_WRITE);
			if (p == MAP_FAILED || touch_sparse(p, size, (uint64_t)i) ||
			    munmap(p, size))
				return fail("map/touch/unmap");
		}
	} else if (!strcmp(mode, "grow") && argc > 2) {
		char *base = (char *)0x600000000000ULL;
		uint64_t *c = map(base + 512 * MIB, 2 * MIB, PROT_READ | PROT_WRITE);
		if (c != (uint64_t *)(base + 512 * MIB) || touch(c, 2 * MIB, 5))
			return fail("map/touch C");
		uint64_t *a = map(base, 64 * MIB, PROT_READ | PROT_WRITE);
		if (a != (uint64_t *)base || touch_sparse(a, 64 * MIB, 6))
			return fail("map/touch A");
		if (!strcmp(argv[2], "free") && munmap(c, 2 * MIB))
			return fail("unmap C");
		uint64_t *b = map(base + 64 * MIB, 64 * MIB, PROT_READ | PROT_WRITE);
		if (b != (uint64_t *)(base + 64 * MIB) || touch_sparse(b, 64 * MIB, 7))
			return fail("map/touch B");
		if (touch_sparse(a, 128 * MIB, 8))
			return fail("touch A+B after growth");
	} else if (!strcmp(mode, "grow1g")) {
		char *edge = (char *)0x600040000000ULL;
		uint64_t *a = map(edge - 64 * MIB, 64 * MIB, PROT_READ | PROT_WRITE);
		if (a != (uint64_t *)(edge - 64 * MIB) || touch_sparse(a, 64 * MIB, 9))
			return fail("map/touch A");
		uint64_t *b = map(edge, 64 * MIB, PROT_READ | PROT_WRITE);
		if (b != (uint64_t *)edge || touch_sparse(b, 64 * MIB, 10))
			return fail("map/touch B");
		if (touch_sparse(a, 128 * MIB, 11))
			return fail("touch A+B after growth");
	} else if (!strcmp(mode, "check1g")) {
		static uint64_t recs[4098];
		uint64_t len = 1024 * MIB;
		uint64_t *p = map(NULL, len, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return fail("map 1 GiB");
		for (uint64_t off = 0; off < len; off += 4096)
			p[off / 8] = (uint64_t)p + off;
		recs[0] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_BEGIN, DMTVM_TRACE_CONTROL, 0);
		for (unsigned i = 0; i < 4096; i++)
			recs[1 + i] = dmtvm_trace_rec((uint64_t)p + i * 256 * 1024, 8, 0, 0);
		recs[4097] = dmtvm_trace_rec(0, DMTVM_TRACE_ROI_END, DMTVM_TRACE_CONTROL, 0);
		if (syscall(0x444d, recs, 4098) != 0)
			return fail("trace call (a VMM with the model is needed)");
		for (uint64_t off = 0; off < len; off += 256 * 1024)
			if (p[off / 8] != (uint64_t)p + off)
				return fail("read back");
	} else if (!strcmp(mode, "time") && argc > 2) {
		uint64_t len = strtoull(argv[2], NULL, 0) * MIB;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t *p = map(NULL, len, PROT_READ | PROT_WRITE);
		if (p == MAP_FAILED)
			return fail("map");
		uint64_t stride = argc > 3 ? strtoull(argv[3], NULL, 0) : 4096;
		for (uint64_t i = 0; i < len / 8; i += stride / 8)
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
