/* SPDX-License-Identifier: MIT */
/*
 * args.c: parsing of option values and building of the guest's command
 * line for `dmtvm run` (kept apart from run.c so unit tests can reach them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int vmm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		return -1;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int vmm_parse_onoff(const char *s)
{
	if (!strcmp(s, "on"))
		return 1;
	if (!strcmp(s, "off"))
		return 0;
	return -1;
}

int vmm_bootargs(const char *cmdline, char **args, int nargs, char *out, size_t cap, char *err,
		 size_t errlen)
{
	/*
	 * Words after a "--" word of the image's command line are default
	 * arguments for /init (nested.img: run L1 dmtvm on /l2.img): the
	 * user's arguments replace them, kernel options before "--" stay.
	 */
	int keep = (int)strlen(cmdline);
	for (const char *p = cmdline; nargs > 0 && (p = strstr(p, "--")); p += 2)
		if ((p == cmdline || p[-1] == ' ') && (p[2] == 0 || p[2] == ' ')) {
			keep = (int)(p - cmdline);
			while (keep > 0 && cmdline[keep - 1] == ' ')
				keep--;
			break;
		}
	size_t n = (size_t)snprintf(out, cap, "%.*s", keep, cmdline);
	if (nargs > 0)
		n += (size_t)snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, "%s--",
				      keep ? " " : "");
	for (int i = 0; i < nargs; i++) {
		if (strchr(args[i], '"')) {
			snprintf(err, errlen, "argument for /init contains '\"': %s", args[i]);
			return -1;
		}
		/* The guest kernel splits on blanks and groups "double quoted" words. */
		const char *q = strpbrk(args[i], " \t\n") || !args[i][0] ? "\"" : "";
		n += (size_t)snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, " %s%s%s",
				      q, args[i], q);
	}
	if (n >= cap) {
		snprintf(err, errlen, "command line longer than %zu bytes", cap - 1);
		return -1;
	}
	return 0;
}
