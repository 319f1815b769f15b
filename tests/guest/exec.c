/* SPDX-License-Identifier: MIT */
/*
 * exec.c: execve(2) in the guest kernel (guest-kernel/proc.c). Packed as
 * /init and as /bin/exectest (plus a text file /bin/notelf):
 *  as /init: failing calls return with the image intact (ENOENT, EFAULT for
 *    a bad path or argv element, ENOEXEC for a non-ELF file), then it maps
 *    and dirties ~2 MiB and execs /bin/exectest with argv {"exectest",
 *    "child", "16", "two words", ""} and envp {"A=1", "B=two"};
 *  as the child: checks argv, envp and AT_EXECFN, maps and dirties ~2 MiB,
 *    and execs itself again with the count minus one; at 0 it prints
 *    "exec: ok" and exits 0. 16 generations of ~4 MiB (2 MiB stack page + 2 MiB) in a
 *    32 MiB guest
 *    fail (OOM) if execve leaks the old address space.
 * On failure: "exec: FAIL <what>", status 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

static void fail(const char *what)
{
	printf("exec: FAIL %s\n", what);
	exit(1);
}

static void expect_errno(long r, int err, const char *what)
{
	if (r != -1 || errno != err)
		fail(what);
}

/* 2 MiB - 4 KiB: 4 KiB pages (no 2 MiB page fits), recycled cheaply. */
#define DIRTY_BYTES ((2u << 20) - 4096)

static void dirty(void)
{
	char *p =
	    mmap(NULL, DIRTY_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	for (size_t i = 0; i < DIRTY_BYTES; i += 4096)
		p[i] = 1;
}

static void exec_child(int gen)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", gen);
	char *argv[] = {"exectest", "child", n, "two words", "", NULL};
	char *envp[] = {"A=1", "B=two", NULL};
	execve("/bin/exectest", argv, envp);
	fail("execve /bin/exectest");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "child")) {
		if (argc != 5 || strcmp(argv[0], "exectest") || strcmp(argv[3], "two words") ||
		    strcmp(argv[4], ""))
			fail("child argv");
		if (!environ[0] || strcmp(environ[0], "A=1") || !environ[1] ||
		    strcmp(environ[1], "B=two") || environ[2])
			fail("child envp");
		const char *fn = (const char *)getauxval(AT_EXECFN);
		if (!fn || strcmp(fn, "/bin/exectest"))
			fail("child AT_EXECFN");
		int gen = atoi(argv[2]);
		if (gen <= 0) {
			printf("exec: ok\n");
			return 0;
		}
		dirty();
		exec_child(gen - 1);
	}
	char *args[] = {"x", NULL};
	expect_errno(execve("/bin/nosuch", args, environ), ENOENT, "missing file: ENOENT");
	char *volatile bad_path = (char *)1; /* volatile: gcc would see the bad read */
	expect_errno(execve(bad_path, args, environ), EFAULT, "bad path: EFAULT");
	char *bad[] = {"x", (char *)16, NULL};
	expect_errno(execve("/bin/exectest", bad, environ), EFAULT, "bad argv[1]: EFAULT");
	expect_errno(execve("/bin/notelf", args, environ), ENOEXEC, "text file: ENOEXEC");
	dirty();
	exec_child(16);
}
