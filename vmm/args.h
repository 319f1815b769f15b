/* SPDX-License-Identifier: MIT */
/* args.h: option values and the guest command line for `dmtvm run`. */
#ifndef VMM_ARGS_H
#define VMM_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* "256M", "2G", "4096": bytes; K/M/G/T are binary. 0, or -1 for bad syntax
 * or overflow. */
int vmm_parse_size(const char *s, uint64_t *out);

/* "on" -> 1, "off" -> 0, anything else -1 (--thp). */
int vmm_parse_onoff(const char *s);

/*
 * out = cmdline, then " -- ARG..." when nargs > 0 (an empty argument or one
 * with blanks is double-quoted; one containing '"' is refused). Words after
 * a "--" word in cmdline are the image's default /init arguments: dropped
 * when nargs > 0. 0, or -1 with err when refused or longer than cap - 1.
 */
int vmm_bootargs(const char *cmdline, char **args, int nargs, char *out, size_t cap, char *err,
		 size_t errlen);

#endif
