/* SPDX-License-Identifier: MIT */
/*
 * stress.c: system-call stress and edge cases. 10,000 getpid calls with
 * every register the ABI preserves checked after each, writes with checked
 * results, bad pointers that must give EFAULT (never a kernel fault), bad
 * fds, an unknown call (ENOSYS), time, uname, brk and anonymous mmap.
 * Exit 0 iff everything held; otherwise prints "stress: FAIL <what>".
 */
#include "dmtvm_abi.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ITERS 10000

static int failures;
static unsigned char big_bss[16 << 20]; /* demand-zero, anonymous past the file */

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("stress: FAIL %s\n", what);
		failures++;
	}
}

/* getpid with known values in every preserved register; returns 0 iff all came back. */
static long getpid_checked(long *ret)
{
	long bad;
	register long pid_r11 __asm__("r11");
	__asm__ volatile(
	    "push %%rbx\n\tpush %%rbp\n\t"
	    "movabs $0x1111111111111111, %%rdi\n\t"
	    "movabs $0x2222222222222222, %%rsi\n\t"
	    "movabs $0x3333333333333333, %%rdx\n\t"
	    "movabs $0x4444444444444444, %%r10\n\t"
	    "movabs $0x5555555555555555, %%r8\n\t"
	    "movabs $0x6666666666666666, %%r9\n\t"
	    "movabs $0x7777777777777777, %%rbx\n\t"
	    "movabs $0x8888888888888888, %%rbp\n\t"
	    "movabs $0x9999999999999999, %%r12\n\t"
	    "movabs $0xaaaaaaaaaaaaaaaa, %%r13\n\t"
	    "movabs $0xbbbbbbbbbbbbbbbb, %%r14\n\t"
	    "movabs $0xcccccccccccccccc, %%r15\n\t"
	    "mov $39, %%eax\n\t"
	    "syscall\n\t"
	    "mov %%rax, %%r11\n\t"
	    "xor %%eax, %%eax\n\t"
	    "movabs $0x1111111111111111, %%rcx\n\t xor %%rcx, %%rdi\n\t or %%rdi, %%rax\n\t"
	    "movabs $0x2222222222222222, %%rcx\n\t xor %%rcx, %%rsi\n\t or %%rsi, %%rax\n\t"
	    "movabs $0x3333333333333333, %%rcx\n\t xor %%rcx, %%rdx\n\t or %%rdx, %%rax\n\t"
	    "movabs $0x4444444444444444, %%rcx\n\t xor %%rcx, %%r10\n\t or %%r10, %%rax\n\t"
	    "movabs $0x5555555555555555, %%rcx\n\t xor %%rcx, %%r8\n\t or %%r8, %%rax\n\t"
	    "movabs $0x6666666666666666, %%rcx\n\t xor %%rcx, %%r9\n\t or %%r9, %%rax\n\t"
	    "movabs $0x7777777777777777, %%rcx\n\t xor %%rcx, %%rbx\n\t or %%rbx, %%rax\n\t"
	    "movabs $0x8888888888888888, %%rcx\n\t xor %%rcx, %%rbp\n\t or %%rbp, %%rax\n\t"
	    "movabs $0x9999999999999999, %%rcx\n\t xor %%rcx, %%r12\n\t or %%r12, %%rax\n\t"
	    "movabs $0xaaaaaaaaaaaaaaaa, %%rcx\n\t xor %%rcx, %%r13\n\t or %%r13, %%rax\n\t"
	    "movabs $0xbbbbbbbbbbbbbbbb, %%rcx\n\t xor %%rcx, %%r14\n\t or %%r14, %%rax\n\t"
	    "movabs $0xcccccccccccccccc, %%rcx\n\t xor %%rcx, %%r15\n\t or %%r15, %%rax\n\t"
	    "pop %%rbp\n\tpop %%rbx\n\t"
	    : "=a"(bad), "=r"(pid_r11)
	    :
	    : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r12", "r13", "r14", "r15", "memory",
	      "cc");
	*ret = pid_r11;
	return bad;
}

/* uname with DF=1 at the syscall: the kernel must clear it for itself and give it back. */
static int uname_with_df(struct utsname *u)
{
	long ret;
	unsigned long flags;
	__asm__ volatile("std\n\t"
			 "syscall\n\t"
			 "pushf\n\t"
			 "pop %1\n\t"
			 "cld"
			 : "=a"(ret), "=r"(flags)
			 : "a"(SYS_uname), "D"(u)
			 : "rcx", "r11", "memory", "cc");
	return ret == 0 && (flags & 0x400) ? 0 : -1;
}

int main(void)
{
	long pid;
	int reg_errors = 0, pid_errors = 0, write_errors = 0, writes = 0;
	for (int i = 0; i < ITERS; i++) {
		if (getpid_checked(&pid))
			reg_errors++;
		if (pid != 1)
			pid_errors++;
		if (i % 1000 == 999) {
			char line[64];
			int n = snprintf(line, sizeof(line), "stress: %d getpid calls\n", i + 1);
			if (write(1, line, n) != n)
				write_errors++;
			writes++;
		}
	}
	check(reg_errors == 0, "registers not preserved across syscall");
	check(pid_errors == 0, "getpid != 1");
	check(write_errors == 0, "write returned a short count");

	/* Bad pointers: EFAULT, and the kernel survives. */
	errno = 0;
	check(write(1, (void *)1, 10) == -1 && errno == EFAULT, "write(NULL-ish) != EFAULT");
	errno = 0;
	check(write(1, (void *)(DMTVM_KERNEL_VIRT_BASE + 0x100000), 10) == -1 && errno == EFAULT,
	      "write(kernel image pointer) != EFAULT");
	errno = 0;
	check(write(1, (void *)DMTVM_DIRECT_MAP_BASE, 10) == -1 && errno == EFAULT,
	      "write(direct map pointer) != EFAULT");
	errno = 0;
	check(write(1, (void *)0xffffffff80100000UL, 10) == -1 && errno == EFAULT,
	      "write(upper-half pointer) != EFAULT");
	errno = 0;
	check(write(1, (void *)(DMTVM_USER_TOP - 4), 8) == -1 && errno == EFAULT,
	      "write(across USER_TOP) != EFAULT");
	errno = 0;
	check(write(1, (void *)0x7ffffffff000UL - 4, 8) == -1 && errno == EFAULT,
	      "write(platform slot) != EFAULT");
	errno = 0;
	check(write(5, "x", 1) == -1 && errno == EBADF, "write(fd 5) != EBADF");
	errno = 0;
	check(syscall(333) == -1 && errno == ENOSYS, "syscall 333 != ENOSYS");
	errno = 0;
	check(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)16) == -1 && errno == EFAULT,
	      "clock_gettime(bad ptr) != EFAULT");
	char buf[8];
	check(read(0, buf, sizeof(buf)) == 0, "read(stdin) != 0 (EOF)");

	/* A read-only page: the kernel's write into it must fail, not fault. */
	struct timespec *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(ro != MAP_FAILED, "mmap(PROT_READ)");
	errno = 0;
	check(clock_gettime(CLOCK_MONOTONIC, ro) == -1 && errno == EFAULT,
	      "clock_gettime into a read-only page != EFAULT");
	check(munmap(ro, 4096) == 0, "munmap(ro)");

	/* Time moves forward. */
	struct timespec t0, t1;
	check(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock_gettime");
	check(clock_gettime(CLOCK_MONOTONIC, &t1) == 0, "clock_gettime 2");
	check(t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec),
	      "CLOCK_MONOTONIC went backwards");
	check(clock_gettime(CLOCK_REALTIME, &t0) == 0 && t0.tv_sec > 1600000000,
	      "CLOCK_REALTIME before 2020");

	/* Signal state reads back as defaults; bad pointers are EFAULT. */
	struct sigaction old;
	memset(&old, 0xff, sizeof(old));
	check(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_DFL && old.sa_flags == 0,
	      "sigaction old != SIG_DFL");
	sigset_t set;
	memset(&set, 0xff, sizeof(set));
	check(sigprocmask(SIG_BLOCK, NULL, &set) == 0 && !sigismember(&set, SIGINT),
	      "sigprocmask old mask not empty");
	errno = 0;
	check(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)8, 8) == -1 && errno == EFAULT,
	      "rt_sigprocmask(bad oldset) != EFAULT");

	struct utsname u;
	check(uname(&u) == 0 && !strcmp(u.machine, "x86_64"), "uname");
	memset(&u, 0, sizeof(u));
	check(uname_with_df(&u) == 0 && !strcmp(u.machine, "x86_64") && !strcmp(u.sysname, "Linux"),
	      "uname with DF=1 (copy direction, or DF not restored)");

	/* Anonymous memory: 6 MiB (2 MiB pages inside), written and read back. */
	size_t len = 6 << 20;
	unsigned char *m =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(m != MAP_FAILED, "mmap 6 MiB");
	if (m != MAP_FAILED) {
		int zero = 1;
		for (size_t i = 0; i < len; i += 4096)
			zero &= m[i] == 0;
		check(zero, "fresh anonymous memory not zero");
		for (size_t i = 0; i < len; i += 4096)
			m[i] = (unsigned char)(i >> 12);
		int same = 1;
		for (size_t i = 0; i < len; i += 4096)
			same &= m[i] == (unsigned char)(i >> 12);
		check(same, "anonymous memory lost writes");
		/* Partial unmap in the middle of a 2 MiB page, then the rest. */
		check(munmap(m + (3 << 20), 4096) == 0, "munmap inside a 2 MiB page");
		check(m[(3 << 20) + 4096] == (unsigned char)(((3 << 20) + 4096) >> 12),
		      "neighbour of a partial munmap lost");
		check(munmap(m, len) == 0, "munmap 6 MiB");
	}

	/* A large bss: zero, writable, kept. */
	int bss_ok = 1;
	for (size_t i = 0; i < sizeof(big_bss); i += 4096)
		bss_ok &= big_bss[i] == 0;
	for (size_t i = 0; i < sizeof(big_bss); i += 4096)
		big_bss[i] = (unsigned char)(i >> 12 | 1);
	for (size_t i = 0; i < sizeof(big_bss); i += 4096)
		bss_ok &= big_bss[i] == (unsigned char)(i >> 12 | 1);
	check(bss_ok, "16 MiB bss not zero or lost writes");

	/* brk (raw: musl's sbrk/brk refuse to move it): grow, write, shrink. */
	uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
	check(b0 && (uintptr_t)syscall(SYS_brk, b0 + (1 << 20)) == b0 + (1 << 20),
	      "brk grow 1 MiB");
	memset((void *)b0, 0x5a, 1 << 20);
	check(((unsigned char *)b0)[(1 << 20) - 1] == 0x5a, "brk memory");
	check((uintptr_t)syscall(SYS_brk, b0) == b0, "brk shrink");
	check((uintptr_t)syscall(SYS_brk, DMTVM_USER_TOP - 4096) == b0, "brk into the stack accepted");

	if (failures)
		return 1;
	printf("stress: ok (%d getpid, %d writes)\n", ITERS, writes);
	return 0;
}
