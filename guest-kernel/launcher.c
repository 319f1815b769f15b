/* SPDX-License-Identifier: MIT */
/*
 * launcher.c: /init of the default image (build/guest.img): runs the
 * program named by its first argument from /bin/ with the remaining
 * arguments, so `dmtvm run guest.img -- gups -m 64M -n 1M` runs /bin/gups.
 * A name containing '/' is used as a path. With no argument it runs
 * /bin/hello (make demo: one line, status 3). A program that cannot be
 * started: one line on stderr and status 127, as a shell does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	static char *hello[] = {"hello", NULL};
	char path[256];
	char **args = argc > 1 ? argv + 1 : hello;

	if (strchr(args[0], '/'))
		snprintf(path, sizeof(path), "%s", args[0]);
	else if ((size_t)snprintf(path, sizeof(path), "/bin/%s", args[0]) >= sizeof(path)) {
		fprintf(stderr, "init: program name too long: %.32s...\n", args[0]);
		return 127;
	}
	execve(path, args, environ);
	fprintf(stderr, "init: cannot run %s: %s\n", path, strerror(errno));
	return 127;
}
