/* SPDX-License-Identifier: MIT */
/*
 * ctl_client.c: `dmtvm ctl PATH CMD`: send {"execute":"CMD"} (or CMD itself
 * when it starts with '{'), print the reply line, exit 0 for a "return"
 * reply and 1 for an error or no reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "jsonw.h"

int vmm_ctl_client_main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dmtvm ctl PATH status|counters|tables|reset|quit\n");
		return 2;
	}
	const char *path = argv[1], *cmd = argv[2];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dmtvm ctl: socket path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "dmtvm ctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[VMM_CTL_REQ_MAX + 64];
	struct jsonw w;
	jsonw_init(&w, req, sizeof(req));
	if (cmd[0] == '{') {
		jsonw_raw(&w, cmd);
	} else {
		jsonw_raw(&w, "{\"execute\":");
		jsonw_str(&w, cmd);
		jsonw_raw(&w, "}");
	}
	jsonw_raw(&w, "\n");
	if (w.overflow) {
		fprintf(stderr, "dmtvm ctl: request too long\n");
		return 2;
	}
	if (send(fd, req, w.len, MSG_NOSIGNAL) != (ssize_t)w.len) {
		fprintf(stderr, "dmtvm ctl: send: %s\n", strerror(errno));
		return 1;
	}
	char reply[65536];
	size_t n = 0;
	while (n < sizeof(reply) - 1) {
		ssize_t r = read(fd, reply + n, sizeof(reply) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(reply, '\n', n))
			break;
	}
	close(fd);
	reply[n] = 0;
	if (n == 0) {
		fprintf(stderr, "dmtvm ctl: no reply from %s\n", path);
		return 1;
	}
	fputs(reply, stdout);
	if (reply[n - 1] != '\n')
		putchar('\n');
	return strncmp(reply, "{\"return\"", 9) == 0 ? 0 : 1;
}
