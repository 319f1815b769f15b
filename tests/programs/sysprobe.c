/* SPDX-License-Identifier: MIT */
/*
 * sysprobe.c: the system calls real programs make at start-up, as the guest
 * kernel serves them (tests/programs, case add-syscalls): readlink of
 * /proc/self/exe, getcwd, getrandom, clock_getres, fstat of a file added
 * with --add, a file of an added directory, and a call the kernel lacks
 * (fanotify_init), twice: -ENOSYS both times, one kernel line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char exe[64], cwd[64], line[64] = "";
	unsigned char rnd[300];
	struct timespec res;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("exe %s\n", exe);
	printf("cwd %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
	printf("getrandom %zd\n", getrandom(rnd, sizeof(rnd), 0));
	int r = clock_getres(CLOCK_MONOTONIC, &res);
	printf("clock_getres %d %ld\n", r, res.tv_nsec);
	FILE *f = fopen(argc > 1 ? argv[1] : "/data/in.txt", "r");
	if (!f || fstat(fileno(f), &st) || !fgets(line, sizeof(line), f))
		printf("data: %s\n", strerror(errno));
	else
		printf("data %lld bytes: %s", (long long)st.st_size, line);
	for (int i = 0; i < 2; i++) {
		long e = syscall(SYS_fanotify_init, 0, 0);
		printf("fanotify_init %ld %s\n", e, strerror(errno));
	}
	return 0;
}
