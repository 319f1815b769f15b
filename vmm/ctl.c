/* SPDX-License-Identifier: MIT */
/*
 * ctl.c: the control-socket server thread (protocol in ctl.h). poll() over
 * the listening socket and the clients; each client has a line buffer. A
 * line longer than VMM_CTL_REQ_MAX gets an error reply and is skipped up to
 * its newline; the connection stays usable. Replies are sent without
 * blocking: a client that does not read its replies is dropped. When all
 * slots are taken, a newcomer takes the slot of the client that has been
 * longest without a complete request, if that is VMM_CTL_IDLE_EVICT_NS or
 * more (it gets one error line first): idle or trickling clients cannot
 * lock the socket up, and busy ones are never cut off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "vmm_seccomp.h"
#include "vmm.h"

#define VMM_CTL_IDLE_EVICT_NS (2ULL * 1000000000ULL)

struct ctl_client {
	int fd;
	uint64_t active_ns; /* accepted or last complete request */
	size_t len;
	int discarding; /* inside an oversized line */
	char buf[VMM_CTL_REQ_MAX];
};

static struct ctl_state {
	struct vmm *vm;
	int listen_fd;
	struct ctl_client clients[VMM_CTL_MAX_CLIENTS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready; /* 1 filter loaded, -1 failed */
	char err[256];
} ctl = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void drop(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t r = send(fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static void reply_line(struct ctl_client *c, const char *line, size_t len)
{
	/* Replies carry the model's counters (tens of KiB): one buffer, one thread. */
	static char out[1u << 20];
	int quit;
	vmm_ctl_handle(ctl.vm, line, len, out, sizeof(out), &quit);
	if (send_all(c->fd, out, strlen(out)) < 0) {
		drop(c);
		return;
	}
	if (quit) {
		fprintf(stderr, "dmtvm: quit requested on the control socket\n");
		vmm_stop(ctl.vm, 0);
	}
}

static void client_input(struct ctl_client *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		drop(c);
		return;
	}
	c->len += (size_t)r;
	size_t start = 0;
	for (size_t i = 0; i < c->len && c->fd >= 0; i++) {
		if (c->buf[i] != '\n')
			continue;
		c->active_ns = vmm_now_ns();
		if (!c->discarding)
			reply_line(c, c->buf + start, i - start);
		c->discarding = 0;
		start = i + 1;
	}
	if (c->fd < 0)
		return;
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == sizeof(c->buf)) {
		/* No newline within the limit: refuse once, skip to the newline. */
		if (!c->discarding) {
			static const char e[] =
			    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"request longer "
			    "than 4096 bytes\"}}\n";
			if (send_all(c->fd, e, sizeof(e) - 1) < 0) {
				drop(c);
				return;
			}
		}
		c->discarding = 1;
		c->len = 0;
	}
}

/* The slot of the client idle longest, if idle long enough to evict; else NULL. */
static struct ctl_client *idlest(uint64_t now)
{
	struct ctl_client *best = NULL;
	for (int i = 0; i < VMM_CTL_MAX_CLIENTS; i++)
		if (ctl.clients[i].fd >= 0 && (!best || ctl.clients[i].active_ns < best->active_ns))
			best = &ctl.clients[i];
	return best && now - best->active_ns >= VMM_CTL_IDLE_EVICT_NS ? best : NULL;
}

/* One accepted connection: a free slot, an idle client's slot, or the busy reply and close. */
static void accept_fd(int fd)
{
	uint64_t now = vmm_now_ns();
	struct ctl_client *c = NULL;
	for (int i = 0; i < VMM_CTL_MAX_CLIENTS && !c; i++)
		if (ctl.clients[i].fd < 0)
			c = &ctl.clients[i];
	if (!c && (c = idlest(now))) {
		static const char idle[] =
		    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"closed: idle while the "
		    "server was full\"}}\n";
		send_all(c->fd, idle, sizeof(idle) - 1);
		drop(c);
	}
	if (c) {
		*c = (struct ctl_client){.fd = fd, .active_ns = now};
		return;
	}
	static const char busy[] =
	    "{\"error\":{\"class\":\"GenericError\",\"desc\":\"too many clients\"}}\n";
	send_all(fd, busy, sizeof(busy) - 1);
	close(fd);
}

/*
 * Drain the whole backlog per wakeup (the listening socket is non-blocking):
 * a burst of connections is served or refused at once instead of one per
 * poll() round, so connect() stalls (or EAGAIN) only for truly huge bursts.
 */
static void accept_clients(void)
{
	for (int k = 0; k < 4 * VMM_CTL_MAX_CLIENTS; k++) {
		int fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		accept_fd(fd);
	}
}

static void *ctl_thread(void *arg)
{
	(void)arg;
	int ok = 1;
	if (ctl.vm->seccomp && vmm_seccomp_ctl(ctl.vm, ctl.err, sizeof(ctl.err)) < 0)
		ok = -1;
	/* Before `ready`, so the probe's outcome precedes the guest's start. */
	if (ok > 0 && ctl.vm->seccomp_probe && strcmp(ctl.vm->seccomp_probe, "ctl-socket") == 0)
		vmm_seccomp_probe("socket");
	pthread_mutex_lock(&ctl.lock);
	ctl.ready = ok;
	pthread_cond_signal(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
	if (ok < 0)
		return NULL;
	for (;;) {
		struct pollfd pfd[VMM_CTL_MAX_CLIENTS + 1];
		int map[VMM_CTL_MAX_CLIENTS + 1];
		int n = 0;
		pfd[n].fd = ctl.listen_fd;
		pfd[n].events = POLLIN;
		map[n++] = -1;
		for (int i = 0; i < VMM_CTL_MAX_CLIENTS; i++) {
			if (ctl.clients[i].fd < 0)
				continue;
			pfd[n].fd = ctl.clients[i].fd;
			pfd[n].events = POLLIN;
			map[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		for (int k = 1; k < n; k++)
			if (pfd[k].revents)
				client_input(&ctl.clients[map[k]]);
		if (pfd[0].revents & POLLIN)
			accept_clients();
	}
	return NULL;
}

int vmm_ctl_start(struct vmm *vm, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--api-sock path longer than %zu bytes: %s",
			 sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	struct stat st;
	/* Replace a stale socket from an earlier run; refuse to clobber anything else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--api-sock %s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	ctl.vm = vm;
	for (int i = 0; i < VMM_CTL_MAX_CLIENTS; i++)
		ctl.clients[i].fd = -1;
	ctl.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl.listen_fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177); /* the socket file is created 0600 */
	int r = bind(ctl.listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(ctl.listen_fd, 8) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, ctl_thread, NULL) != 0) {
		snprintf(err, errlen, "cannot create the control thread");
		return -1;
	}
	pthread_detach(t);
	pthread_mutex_lock(&ctl.lock);
	while (!ctl.ready)
		pthread_cond_wait(&ctl.cond, &ctl.lock);
	pthread_mutex_unlock(&ctl.lock);
	if (ctl.ready < 0) {
		snprintf(err, errlen, "%s", ctl.err);
		return -1;
	}
	return 0;
}

void vmm_ctl_cleanup(const char *path)
{
	unlink(path);
}
