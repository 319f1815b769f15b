/* SPDX-License-Identifier: MIT */
/*
 * ctl.h: the control socket (--api-sock): a Unix stream socket (mode 0600)
 * served by its own thread with poll(), up to VMM_CTL_MAX_CLIENTS clients.
 * Protocol: newline-delimited JSON, one request object per line (at most
 * VMM_CTL_REQ_MAX bytes including the newline), one reply object per line:
 *   {"execute":"status"}  ->  {"return":{...}}  or  {"error":{"class":..,"desc":..}}
 * Commands: status, counters (the MMU model's dmtvm.counters/1), tables (EPT,
 * host TEAs, DMT registers, pvDMT TEAs), reset (zero exit/hypercall/model
 * counters), quit.
 */
#ifndef VMM_CTL_H
#define VMM_CTL_H

#include <stddef.h>

#define VMM_CTL_MAX_CLIENTS 16
#define VMM_CTL_REQ_MAX	    4096

struct vmm;

/* Create the socket and start the thread (its seccomp filter is loaded
 * before this returns). 0 or -1 + err. */
int vmm_ctl_start(struct vmm *vm, const char *path, char *err, size_t errlen);
void vmm_ctl_cleanup(const char *path);

/* ctl_cmd.c: handle one request line; the reply (with '\n') goes to out. */
void vmm_ctl_handle(struct vmm *vm, const char *line, size_t len, char *out, size_t cap, int *quit);

/* ctl_client.c: `dmtvm ctl PATH CMD`. */
int vmm_ctl_client_main(int argc, char **argv);

#endif
