/* SPDX-License-Identifier: MIT */
/*
 * json.h: a small, strict JSON reader for control-socket requests (RFC 8259:
 * no comments, no trailing commas, no bare words, valid UTF-8, no control
 * characters in strings, nesting at most JSON_MAX_DEPTH). It validates the
 * whole text and extracts the command name.
 */
#ifndef VMM_JSON_H
#define VMM_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH	 32
#define JSON_COMMAND_MAX 64

struct json_request {
	char command[JSON_COMMAND_MAX]; /* "execute" (or "command") member */
};

/*
 * Parse one request object {"execute": "name", "arguments": {...}}.
 * "command" is accepted for "execute"; "arguments", if present, must be an
 * object; other members are ignored, duplicates refused.
 * Returns 0, or -1 with a one-line reason in err.
 */
int json_parse_request(const char *text, size_t len, struct json_request *req, char *err,
		       size_t errlen);

#endif
