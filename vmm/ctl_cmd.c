/* SPDX-License-Identifier: MIT */
/*
 * ctl_cmd.c: control-socket commands: request line in, reply line out.
 * Error classes follow QMP: GenericError (malformed or oversized request),
 * CommandNotFound.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json.h"
#include "jsonw.h"
#include "status.h"
#include "xlate.h"

static void error_reply(struct jsonw *w, const char *cls, const char *desc)
{
	jsonw_raw(w, "{\"error\":{\"class\":");
	jsonw_str(w, cls);
	jsonw_raw(w, ",\"desc\":");
	jsonw_str(w, desc);
	jsonw_raw(w, "}}\n");
}

void vmm_ctl_handle(struct vmm *vm, const char *line, size_t len, char *out, size_t cap, int *quit)
{
	struct jsonw w;
	struct json_request req;
	char err[160];
	jsonw_init(&w, out, cap);
	*quit = 0;
	if (json_parse_request(line, len, &req, err, sizeof(err)) < 0) {
		error_reply(&w, "GenericError", err);
	} else if (!strcmp(req.command, "status")) {
		jsonw_raw(&w, "{\"return\":");
		vmm_status_json(vm, &w);
		jsonw_raw(&w, "}\n");
	} else if (!strcmp(req.command, "counters")) {
		jsonw_raw(&w, "{\"return\":");
		vmm_counters_json(vm, &w);
		jsonw_raw(&w, "}\n");
	} else if (!strcmp(req.command, "tables")) {
		jsonw_raw(&w, "{\"return\":");
		vmm_xlate_tables_json(vm, &w, true);
		jsonw_raw(&w, "}\n");
	} else if (!strcmp(req.command, "reset")) {
		vmm_status_reset(vm);
		jsonw_raw(&w, "{\"return\":{}}\n");
	} else if (!strcmp(req.command, "quit")) {
		jsonw_raw(&w, "{\"return\":{}}\n");
		*quit = 1;
	} else {
		snprintf(err, sizeof(err),
			 "unknown command \"%s\" (try status, counters, tables, reset, quit)",
			 req.command);
		error_reply(&w, "CommandNotFound", err);
	}
	if (w.overflow) {
		jsonw_init(&w, out, cap);
		error_reply(&w, "GenericError", "reply too large");
	}
}
