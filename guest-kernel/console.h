/* SPDX-License-Identifier: MIT */
/* console.h: kernel console output through the CONSOLE hypercall (console.c). */
#ifndef CONSOLE_H
#define CONSOLE_H

#include "kernel.h"

/* Write kernel bytes (at most DMTVM_CONSOLE_MAX per hypercall). */
void console_write(const char *buf, size_t len);
/* printf subset: %s %c %d %u %x %p, l/ll sizes, 0-padded widths; one hypercall per line. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CONSOLE_H */
