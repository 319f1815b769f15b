/* SPDX-License-Identifier: MIT */
/*
 * hostile.c: a guest program that tries what a platform must withstand
 * (tests/guest/meson.build "platform"). Modes (argv[1]):
 *  hostsys DIR   asks for host system calls every way x86-64 has: `syscall`
 *                with numbers the guest kernel does not serve (mkdir, fork,
 *                execve), `int $0x80` (32-bit mkdir), each with DIR as the
 *                path; the kernel must refuse each (-ENOSYS, or a signal for
 *                int $0x80) and the test checks DIR never appears on the host.
 *  stub          jumps to the platform-reserved range (dmtvm_abi.h); must
 *                die of SIGSEGV (139) as on KVM, never run what is there.
 *  storm N       N rounds of mmap 4 KiB at scattered addresses, touch,
 *                munmap, then touch again (must fault: SIGSEGV caught by
 *                nothing, so the round count is checked by reading back).
 *  touch N STRIDE  map N pages STRIDE bytes apart, write each page's index,
 *                read all back (more host mappings than the platform's TLB
 *                holds when STRIDE leaves no two pages adjacent).
 *  cr3           writes a marker at a fixed address, then execs itself as
 *                `cr3 child`, which maps the same address afresh and must
 *                read zero: the old address space's pages must be gone
 *                (the platform's TLB flushed at the CR3 switch).
 * Prints "hostile: MODE ok" on success, "hostile: FAIL ..." and exits 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dmtvm_abi.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("hostile: FAIL " __VA_ARGS__);                                              \
		printf("\n");                                                                      \
		exit(1);                                                                           \
	} while (0)

static long raw_syscall(long nr, long a0, long a1)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
	return r;
}

static int hostsys(const char *dir)
{
	long r = raw_syscall(SYS_mkdir, (long)dir, 0755);
	if (r != -ENOSYS)
		FAIL("mkdir via syscall returned %ld, expected -ENOSYS", r);
	r = raw_syscall(SYS_fork, 0, 0);
	if (r != -ENOSYS)
		FAIL("fork via syscall returned %ld", r);
	r = raw_syscall(SYS_execve, (long)"/bin/sh", 0);
	if (r >= 0)
		FAIL("execve /bin/sh returned %ld", r);
	printf("hostile: hostsys syscalls refused\n");
	fflush(stdout);
	/* The 32-bit entry: the guest kernel has no IDT gate for it (a fault kills us). */
	uint32_t d32 = (uint32_t)(uintptr_t)dir;
	long r32;
	__asm__ volatile("int $0x80" : "=a"(r32) : "a"(39L), "b"(d32), "c"(0755L) : "memory");
	FAIL("int $0x80 returned %ld", r32);
}

static void stub(void)
{
	void (*f)(void) =
	    (void (*)(void))(uintptr_t)(DMTVM_PLATFORM_RESERVED_BASE + (127ULL << 32));
	printf("hostile: calling %p\n", (void *)f);
	fflush(stdout);
	f();
	FAIL("returned from the reserved range");
}

static void storm(long n)
{
	for (long i = 0; i < n; i++) {
		uintptr_t a = 0x100000000000ULL + (uintptr_t)((i * 7919) % 65536) * 0x201000;
		volatile long *p = mmap((void *)a, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			FAIL("mmap %#lx: %s", (unsigned long)a, strerror(errno));
		if (*p != 0)
			FAIL("round %ld: fresh page at %#lx holds %ld", i, (unsigned long)a, *p);
		*p = i + 1;
		if (munmap((void *)p, 4096) < 0)
			FAIL("munmap: %s", strerror(errno));
	}
	printf("hostile: storm ok\n");
}

static void touch(long n, long stride)
{
	char *p = mmap(NULL, (size_t)(n * stride), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		FAIL("mmap %ld x %ld: %s", n, stride, strerror(errno));
	for (long i = 0; i < n; i++)
		*(long *)(p + i * stride) = i;
	for (long i = 0; i < n; i++)
		if (*(long *)(p + i * stride) != i)
			FAIL("page %ld reads %ld", i, *(long *)(p + i * stride));
	printf("hostile: touch ok\n");
}

#define CR3_VA 0x200000000000ULL

static void cr3(int argc, char **argv)
{
	volatile long *p = mmap((void *)CR3_VA, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));
	if (argc > 2) {
		if (*p != 0)
			FAIL("the new address space sees %#lx at %#llx", (unsigned long)*p, CR3_VA);
		printf("hostile: cr3 ok\n");
		return;
	}
	*p = 0x5afe5afe;
	char *args[] = {argv[0], "cr3", "child", NULL};
	execv(argv[0], args);
	FAIL("execv %s: %s", argv[0], strerror(errno));
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "hostsys") && argc > 2)
		return hostsys(argv[2]);
	if (!strcmp(m, "stub"))
		stub();
	else if (!strcmp(m, "storm"))
		storm(argc > 2 ? atol(argv[2]) : 1000);
	else if (!strcmp(m, "touch"))
		touch(argc > 2 ? atol(argv[2]) : 1000, argc > 3 ? atol(argv[3]) : 8192);
	else if (!strcmp(m, "cr3"))
		cr3(argc, argv);
	else
		FAIL("usage: hostile hostsys DIR | stub | storm N | touch N STRIDE | cr3");
	return 0;
}
