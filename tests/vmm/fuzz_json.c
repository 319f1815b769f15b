/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c: libFuzzer target for the control-socket request reader
 * (vmm/json.c) and the command handler's reply path (error replies quote
 * parser output). Build with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ivmm \
 *     tests/vmm/fuzz_json.c vmm/json.c vmm/jsonw.c -o fuzz_json
 * Under meson test, fuzz_driver.c replays the seed corpus corpus/json/.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_request req;
	char err[160], out[512];
	struct jsonw w;
	jsonw_init(&w, out, sizeof(out));
	if (json_parse_request((const char *)data, size, &req, err, sizeof(err)) < 0) {
		jsonw_str(&w, err);
	} else {
		/* The command name is NUL-terminated ASCII within its buffer. */
		if (strlen(req.command) >= sizeof(req.command))
			__builtin_trap();
		jsonw_str(&w, req.command);
	}
	return 0;
}
