/* SPDX-License-Identifier: MIT */
/*
 * sysfuzz.c: random system calls with hostile arguments (NULL, unmapped,
 * read-only, PROT_NONE, kernel, non-canonical and boundary addresses, huge
 * lengths). The kernel must answer each with a result or an error, never
 * fault itself; reaching the end prints "sysfuzz: ok N calls" and exits 0.
 * Calls that would end or wreck this process on purpose (exit, kill,
 * MAP_FIXED, munmap outside a scratch area, arch_prctl, close of fds 0-2)
 * are left out or tamed. Deterministic: a fixed seed.
 */
#include "dmtvm_abi.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALLS 5000

static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static char buf[8192];
static char *ro, *none, *scratch;

static uint64_t hostile(void)
{
	static const uint64_t fixed[] = {
	    0,
	    1,
	    8,
	    4095,
	    4096,
	    DMTVM_USER_TOP - 8,
	    DMTVM_USER_TOP,
	    DMTVM_DIRECT_MAP_BASE + 4096,
	    DMTVM_KERNEL_VIRT_BASE + 0x100000,
	    DMTVM_PLATFORM_RESERVED_BASE,
	    0x7ffffffff000ULL - 8,
	    0x7ffffffff000ULL,
	    0x7fffffffffffULL,
	    0x800000000000ULL,
	    0xffff800000000000ULL,
	    DMTVM_LEGACY_DIRECT_MAP_BASE,
	    DMTVM_LEGACY_KERNEL_VIRT_BASE + 0x100000,
	    ~0ULL,
	    ~0ULL - 4095,
	};
	switch (rnd() % 8) {
	case 0:
		return fixed[rnd() % (sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return (uint64_t)ro + rnd() % 8192;
	case 2:
		return (uint64_t)none + rnd() % 4096;
	case 3:
		return (uint64_t)buf + rnd() % sizeof(buf);
	case 4:
		return rnd() % 64;
	case 5:
		return rnd() % 0x100000;
	default:
		return rnd();
	}
}

/* writev to the console: a short vector of short hostile entries built in buf. */
static int iov_hostile(uint64_t arg)
{
	struct {
		uint64_t base, len;
	} *iov = (void *)(buf + 4096);
	int n = (int)(arg % 4);
	for (int i = 0; i < n; i++) {
		iov[i].base = hostile();
		iov[i].len = rnd() % 8;
	}
	return n;
}

int main(void)
{
	ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	scratch = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED || none == MAP_FAILED || scratch == MAP_FAILED)
		return 2;
	static const long nrs[] = {
	    SYS_read,
	    SYS_write,
	    SYS_writev,
	    SYS_readv,
	    SYS_close,
	    SYS_brk,
	    SYS_mmap,
	    SYS_munmap,
	    SYS_ioctl,
	    SYS_uname,
	    SYS_clock_gettime,
	    SYS_rt_sigaction,
	    SYS_rt_sigprocmask,
	    SYS_getpid,
	    SYS_gettid,
	    SYS_set_tid_address,
	    SYS_sched_yield,
	    SYS_mprotect,
	    SYS_open,
	    SYS_openat,
	    SYS_lseek,
	    SYS_pread64,
	    SYS_fstat,
	    SYS_stat,
	    SYS_newfstatat,
	    SYS_access,
	    SYS_fcntl,
	    SYS_poll,
	    SYS_sysinfo,
	    SYS_prlimit64,
	    400,
	    0x444d,
	};
	uint64_t brk0 = (uint64_t)syscall(SYS_brk, 0);
	for (int i = 0; i < CALLS; i++) {
		long nr = nrs[rnd() % (sizeof(nrs) / sizeof(nrs[0]))];
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = hostile();
		switch (nr) {
		case SYS_close:
			if (a[0] < 3)
				a[0] += 3; /* closing stdout would silence the verdict */
			break;
		case SYS_read:
		case SYS_readv:
			a[0] = rnd() % 4; /* stdin: EOF, others EBADF; never into our own data */
			break;
		case SYS_write:
		case SYS_writev:
			a[0] = 1 + rnd() % 8;
			if (a[0] <= 2 && nr == SYS_write)
				a[2] %= 8; /* readable bytes reach the console: keep it short */
			else if (a[0] <= 2)
				a[2] = (uint64_t)iov_hostile(a[2]);
			if (a[2] > (1 << 20))
				a[2] = rnd() % (1 << 20);
			break;
		case SYS_mmap:
			a[3] &= ~(uint64_t)(MAP_FIXED | 0x100000); /* no MAP_FIXED(_NOREPLACE) */
			break;
		case SYS_munmap:
			a[0] = (uint64_t)scratch + (rnd() % 4096) * 4096;
			a[1] = rnd() % (1 << 20);
			if (a[0] + a[1] > (uint64_t)scratch + (16 << 20))
				a[1] = 0;
			break;
		case SYS_brk:
			if (rnd() % 2)
				a[0] = brk0 + rnd() % (64 << 20);
			break;
		case SYS_set_tid_address:
			a[0] = (uint64_t)buf; /* musl keeps it; a bad one would hit at exit */
			break;
		}
		if (nr == SYS_writev && a[0] <= 2)
			a[1] = rnd() % 4 ? (uint64_t)(buf + 4096) : hostile();
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (nr == SYS_mmap && r > 0 && (uint64_t)r < DMTVM_USER_TOP)
			munmap((void *)r, a[1]);
	}
	syscall(SYS_brk, brk0);
	printf("\nsysfuzz: ok %d calls\n", CALLS);
	return 0;
}
