/* SPDX-License-Identifier: MIT */
/*
 * musl_compat.c: linked only into the static musl build (dmtvm-static, the
 * binary a guest runs for nesting). Debian's libseccomp.a is built against
 * glibc with _FORTIFY_SOURCE and calls __fprintf_chk, which musl lacks.
 */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	(void)flag;
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}
