/* SPDX-License-Identifier: MIT */
/*
 * console.c: the kernel's console. Every message is formatted into one
 * buffer and sent with a single CONSOLE hypercall (an exit costs ~13 us;
 * formatting runs emulated, so messages are few and short).
 */
#include <stdarg.h>

#include "console.h"
#include "hypercall.h"

void console_write(const char *buf, size_t len)
{
	struct dmtvm_hc_console hc;
	while (len) {
		size_t n = len < DMTVM_CONSOLE_MAX ? len : DMTVM_CONSOLE_MAX;
		hc.buf_gpa = kva_to_phys(buf);
		hc.len = n;
		hypercall(DMTVM_HC_CONSOLE, &hc);
		buf += n;
		len -= n;
	}
}

static char *put_num(char *p, char *end, uint64_t v, unsigned base, int width, bool neg)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n && p < end) {
		*p++ = '0';
		width--;
	}
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

void kprintf(const char *fmt, ...)
{
	static char buf[256];
	char *p = buf, *end = buf + sizeof(buf);
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt && p < end; fmt++) {
		if (*fmt != '%') {
			*p++ = *fmt;
			continue;
		}
		fmt++;
		int width = 0, lng = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (*s && p < end)
				*p++ = *s++;
			break;
		}
		case 'c':
			*p++ = (char)va_arg(ap, int);
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			p = put_num(p, end, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			p = put_num(p, end, v, *fmt == 'u' ? 10 : 16, width, false);
			break;
		}
		case 'p':
			p = put_num(p, end, (uint64_t)va_arg(ap, void *), 16, width, false);
			break;
		case '%':
			*p++ = '%';
			break;
		default:
			fmt--; /* a lone '%' at the end */
			break;
		}
		if (!*fmt)
			break;
	}
	va_end(ap);
	console_write(buf, p - buf);
}
