/* SPDX-License-Identifier: MIT */
/*
 * memops.c: mprotect, madvise(MADV_DONTNEED) and mremap in the guest
 * (guest-kernel/mman.c), each checked against Linux semantics by the data
 * the program sees; run with dmtvm.selftest=tea so that the kernel then
 * checks the DMT TEA invariant over everything these calls moved. Modes:
 *  all       every call on 128 MiB / 8 MiB mappings (TEA-sized ones too),
 *            plus the error codes; prints "memops: ok".
 *  malloc    musl's realloc growing one block 1 MiB -> 256 MiB (mremap
 *            MREMAP_MAYMOVE) with its contents checked, then free.
 *  ro-write  write to a page made read-only: must die with SIGSEGV (139).
 *  none-read read a page made PROT_NONE: must die with SIGSEGV (139).
 * Prints "memops: FAIL <what>" and exits 1 on a wrong result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("memops: FAIL %s (line %d, errno %d)\n", what, __LINE__, errno);    \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static uint64_t *map(void *at, uint64_t len, int prot)
{
	void *p = mmap(at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	return p;
}

/* One word per stride bytes: value = its index ^ seed. */
static void fill(uint64_t *p, uint64_t len, uint64_t seed, uint64_t stride)
{
	for (uint64_t i = 0; i < len / 8; i += stride / 8)
		p[i] = i ^ seed;
}

/* Byte offset of the first word that differs, or -1. */
static long long verify(const uint64_t *p, uint64_t len, uint64_t seed, uint64_t stride)
{
	for (uint64_t i = 0; i < len / 8; i += stride / 8)
		if (p[i] != (i ^ seed))
			return (long long)(i * 8);
	return -1;
}

static int zeroes(const uint64_t *p, uint64_t len, uint64_t stride)
{
	for (uint64_t i = 0; i < len / 8; i += stride / 8)
		if (p[i])
			return 0;
	return 1;
}

static void test_mprotect(uint64_t *p, uint64_t len)
{
	fill(p, len, 1, 256 * KIB);
	uint64_t *mid = p + 32 * MIB / 8;
	CHECK(mprotect(mid, 32 * MIB, PROT_READ) == 0, "mprotect 32 MiB read-only");
	CHECK(verify(p, len, 1, 256 * KIB) < 0, "data after mprotect");
	CHECK(mprotect(mid, 32 * MIB, PROT_READ | PROT_WRITE) == 0, "mprotect back");
	fill(mid, 32 * MIB, 5, 4 * KIB);
	CHECK(verify(mid, 32 * MIB, 5, 4 * KIB) < 0, "write after mprotect back");
	/* Two pages inside a 2 MiB block (a 2 MiB page is split), then PROT_NONE and back. */
	uint64_t *two = p + (MIB + 4 * KIB) / 8;
	CHECK(mprotect(two, 8 * KIB, PROT_NONE) == 0, "mprotect PROT_NONE");
	CHECK(mprotect(two, 8 * KIB, PROT_READ | PROT_WRITE) == 0, "mprotect PROT_NONE back");
	CHECK(two[0] == (((MIB + 4 * KIB) / 8) ^ 1) || two[0] == 0, "data after PROT_NONE");
	two[0] = 77;
	CHECK(two[0] == 77, "write after PROT_NONE");
	/* Errors: misaligned, bad prot, unmapped pages. */
	/* musl's mprotect() rounds addr down: the raw call sees the misaligned one. */
	CHECK(syscall(SYS_mprotect, (char *)p + 1, 4096, PROT_READ) == -1 && errno == EINVAL,
	      "EINVAL align");
	CHECK(mprotect(p, 4096, 0x100) == -1 && errno == EINVAL, "EINVAL prot");
	CHECK(mprotect((char *)p + len, 4096, PROT_READ) == -1 && errno == ENOMEM, "ENOMEM hole");
	CHECK(mprotect((char *)p + len - 4096, 8192, PROT_READ) == -1 && errno == ENOMEM,
	      "ENOMEM past the end");
}

static void test_madvise(uint64_t *p, uint64_t len)
{
	fill(p, len, 2, 64 * KIB);
	/* A partial 2 MiB block (THP: split) and a whole aligned one. */
	uint64_t *a = p + (64 * MIB + 12 * KIB) / 8, *b = p + 70 * MIB / 8;
	CHECK(madvise(a, MIB, MADV_DONTNEED) == 0, "madvise 1 MiB");
	CHECK(madvise(b, 2 * MIB, MADV_DONTNEED) == 0, "madvise 2 MiB");
	CHECK(zeroes(a, MIB, 4 * KIB) && zeroes(b, 2 * MIB, 4 * KIB), "zero after DONTNEED");
	CHECK(p[(64 * MIB) / 8] == (((64 * MIB) / 8) ^ 2), "page before the advised range");
	CHECK(p[(65 * MIB + 64 * KIB) / 8] == (((65 * MIB + 64 * KIB) / 8) ^ 2),
	      "page after the advised range");
	fill(a, MIB, 3, 4 * KIB);
	CHECK(verify(a, MIB, 3, 4 * KIB) < 0, "write after DONTNEED");
	CHECK(madvise(p, 4096, MADV_WILLNEED) == 0, "WILLNEED");
	CHECK(madvise(p, 4096, 12345) == -1 && errno == EINVAL, "EINVAL advice");
	CHECK(madvise((char *)p + 8, 4096, MADV_DONTNEED) == -1 && errno == EINVAL, "EINVAL align");
	CHECK(madvise((char *)p + len - 4096, 8192, MADV_DONTNEED) == -1 && errno == ENOMEM,
	      "ENOMEM past the end");
}

static void test_mremap(void)
{
	/* Shrink, then grow in place into the freed tail. */
	uint64_t *q = map(NULL, 4 * MIB, PROT_READ | PROT_WRITE);
	fill(q, 4 * MIB, 4, 4 * KIB);
	CHECK(mremap(q, 4 * MIB, 2 * MIB, 0) == q, "shrink");
	CHECK(mremap(q, 2 * MIB, 3 * MIB, 0) == q, "grow in place");
	CHECK(verify(q, 2 * MIB, 4, 4 * KIB) < 0, "data after shrink/grow");
	CHECK(zeroes(q + 2 * MIB / 8, MIB, 4 * KIB), "grown part is zero");
	CHECK(mremap(q, 3 * MIB, 64 * MIB, 0) == MAP_FAILED && errno == ENOMEM,
	      "ENOMEM without MAYMOVE");

	/* Grow by moving, past tea_min: the new area gets a TEA. */
	uint64_t *r = map(NULL, 8 * MIB, PROT_READ | PROT_WRITE);
	fill(r, 8 * MIB, 6, 4 * KIB);
	uint64_t *r2 = mremap(r, 8 * MIB, 200 * MIB, MREMAP_MAYMOVE);
	CHECK(r2 != MAP_FAILED && r2 != r, "grow by moving");
	CHECK(verify(r2, 8 * MIB, 6, 4 * KIB) < 0, "data after the move");
	fill(r2 + 8 * MIB / 8, 192 * MIB, 7, 2 * MIB);
	CHECK(verify(r2 + 8 * MIB / 8, 192 * MIB, 7, 2 * MIB) < 0, "grown part after the move");
	CHECK(mremap(r2, 200 * MIB, MIB, 0) == r2, "shrink after the move");
	CHECK(verify(r2, MIB, 6, 4 * KIB) < 0, "data after shrinking the moved area");

	/* MREMAP_FIXED to another offset inside a 2 MiB block: leaves move one by one. */
	uint64_t *fixed = (uint64_t *)(0x600000000000ULL + 12 * KIB);
	CHECK(mremap(r2, MIB, MIB, MREMAP_MAYMOVE | MREMAP_FIXED, fixed) == fixed, "FIXED move");
	CHECK(verify(fixed, MIB, 6, 4 * KIB) < 0, "data after the FIXED move");
	/* A 2 MiB-aligned FIXED move of a THP-sized area over an existing mapping. */
	uint64_t *big = map(NULL, 96 * MIB, PROT_READ | PROT_WRITE);
	fill(big, 96 * MIB, 8, 64 * KIB);
	uint64_t *over = (uint64_t *)0x610000000000ULL;
	map(over, 4 * MIB, PROT_READ | PROT_WRITE)[0] = 99;
	CHECK(mremap(big, 96 * MIB, 96 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED, over) == over,
	      "aligned FIXED move over a mapping");
	CHECK(verify(over, 96 * MIB, 8, 64 * KIB) < 0, "data after the aligned FIXED move");
	/* The old range is gone: EFAULT for it now. */
	CHECK(mremap(big, 4096, 8192, 0) == MAP_FAILED && errno == EFAULT, "EFAULT old");
	CHECK(mremap(over, 4096, 8192, MREMAP_FIXED, (void *)0x620000000000ULL) == MAP_FAILED &&
		  errno == EINVAL,
	      "EINVAL FIXED without MAYMOVE");
	CHECK(mremap(over, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, over + 512) == MAP_FAILED &&
		  errno == EINVAL,
	      "EINVAL overlapping FIXED");
}

static void test_malloc(void)
{
	size_t n = MIB;
	unsigned char *p = malloc(n);
	CHECK(p, "malloc");
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	while (n < 256 * MIB) {
		size_t m = n + n / 2;
		p = realloc(p, m);
		CHECK(p, "realloc");
		for (size_t i = 0; i < n; i += 4096)
			CHECK(p[i] == (unsigned char)(i >> 12), "realloc data");
		for (size_t i = n & ~(size_t)4095; i < m; i += 4096)
			p[i] = (unsigned char)(i >> 12);
		n = m;
	}
	free(p);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	if (!strcmp(mode, "all")) {
		uint64_t len = 128 * MIB;
		uint64_t *p = map(NULL, len, PROT_READ | PROT_WRITE);
		test_mprotect(p, len);
		test_madvise(p, len);
		test_mremap();
	} else if (!strcmp(mode, "malloc")) {
		test_malloc();
	} else if (!strcmp(mode, "ro-write") || !strcmp(mode, "none-read")) {
		volatile uint64_t *p = map(NULL, 64 * KIB, PROT_READ | PROT_WRITE);
		p[0] = 1;
		int ro = !strcmp(mode, "ro-write");
		CHECK(mprotect((void *)p, 64 * KIB, ro ? PROT_READ : PROT_NONE) == 0, "mprotect");
		if (ro)
			p[0] = 2;
		else
			printf("memops: read %lu\n", (unsigned long)p[0]);
		printf("memops: FAIL no fault\n");
		return 1;
	} else {
		CHECK(0, "unknown mode");
	}
	printf("memops: ok\n");
	return 0;
}
