/* SPDX-License-Identifier: MIT */
/* initrd_add.c: the initramfs of `dmtvm run --add` (initrd_add.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio_newc.h"
#include "initrd_add.h"

/* The guest kernel refuses longer paths (ENAMETOOLONG). */
#define GUEST_PATH_MAX 255
/* Directory depth followed under a HOST directory (symlink loops end here). */
#define ADD_MAX_DEPTH 32

struct add_ctx {
	struct cpio_writer w;
	uint64_t max;
	char *err;
	size_t errlen;
};

static int add_fail(struct add_ctx *c, const char *fmt, const char *a, const char *b)
{
	char msg[512];
	/* Long host paths are cut: the message stays one line. */
	if (snprintf(msg, sizeof(msg), fmt, a, b) >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (snprintf(c->err, c->errlen, "--add: %s", msg) >= (int)c->errlen && c->errlen > 4)
		memcpy(c->err + c->errlen - 4, "...", 4);
	return -1;
}

/*
 * GUEST as stored (no leading '/'): absolute, no empty, "." or ".."
 * component, at most GUEST_PATH_MAX bytes. 0 or -1.
 */
static int too_big(struct add_ctx *c, const char *what)
{
	char ram[32];
	snprintf(ram, sizeof(ram), "%llu MiB", (unsigned long long)(c->max >> 20));
	return add_fail(c, "%s: the added files do not fit in the guest's RAM (%s, --mem)", what,
			ram);
}

static int guest_name(const char *guest, char *out, size_t cap)
{
	if (guest[0] != '/' || strlen(guest) > GUEST_PATH_MAX || strlen(guest) >= cap)
		return -1;
	const char *p = guest + 1;
	if (!*p)
		return -1;
	for (const char *s = p;;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return -1;
		if (!e)
			break;
		s = e + 1;
	}
	snprintf(out, cap, "%s", p);
	return 0;
}

static int add_file(struct add_ctx *c, const char *host, const char *name, const struct stat *st)
{
	if (st->st_size < 0 || (uint64_t)st->st_size > c->max ||
	    c->w.b.len + (uint64_t)st->st_size > c->max)
		return too_big(c, host);
	int fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return add_fail(c, "%s: %s", host, strerror(errno));
	size_t len = (size_t)st->st_size;
	uint8_t *d = malloc(len ? len : 1);
	size_t got = 0;
	while (d && got < len) {
		ssize_t r = read(fd, d + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	int e = errno;
	close(fd);
	if (!d || got < len) {
		free(d);
		return add_fail(c, "%s: %s", host,
				!d    ? "out of memory"
				: got ? "file shrank while read"
				      : strerror(e));
	}
	int r = cpio_newc_parents(&c->w, name) < 0 ||
			cpio_newc_entry(&c->w, name, 0100000 | (st->st_mode & 0777), d, len) < 0
		    ? add_fail(c, "%s: %s", host, "out of memory")
		    : 0;
	free(d);
	return r;
}

static int add_tree(struct add_ctx *c, const char *host, const char *name, unsigned depth);

static int add_dir(struct add_ctx *c, const char *host, const char *name, unsigned depth)
{
	if (depth > ADD_MAX_DEPTH)
		return add_fail(c, "%s: directories nested deeper than %s", host, "32");
	DIR *dir = opendir(host);
	if (!dir)
		return add_fail(c, "%s: %s", host, strerror(errno));
	/* The directory itself, so that an empty one exists in the guest too. */
	char self[GUEST_PATH_MAX + 3];
	snprintf(self, sizeof(self), "%s/x", name);
	int r =
	    cpio_newc_parents(&c->w, self) < 0 ? add_fail(c, "%s: %s", host, "out of memory") : 0;
	struct dirent *de;
	while (!r && (errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char h[4096], g[GUEST_PATH_MAX + 2];
		if ((size_t)snprintf(h, sizeof(h), "%s/%s", host, de->d_name) >= sizeof(h))
			r = add_fail(c, "%s/%s: path too long", host, de->d_name);
		else if ((size_t)snprintf(g, sizeof(g), "%s/%s", name, de->d_name) > GUEST_PATH_MAX)
			r = add_fail(c, "%s: guest path /%s... longer than 255 bytes", h, name);
		else
			r = add_tree(c, h, g, depth + 1);
	}
	if (!r && errno)
		r = add_fail(c, "%s: %s", host, strerror(errno));
	closedir(dir);
	return r;
}

static int add_tree(struct add_ctx *c, const char *host, const char *name, unsigned depth)
{
	struct stat st;
	if (stat(host, &st) < 0)
		return add_fail(c, "%s: %s", host, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return add_dir(c, host, name, depth);
	if (!S_ISREG(st.st_mode))
		return add_fail(c, "%s: %s", host, "not a regular file or directory");
	return add_file(c, host, name, &st);
}

static int add_spec(struct add_ctx *c, const char *spec)
{
	char host[4096], gbuf[4096], name[GUEST_PATH_MAX + 1];
	const char *eq = strchr(spec, '=');
	size_t hl = eq ? (size_t)(eq - spec) : strlen(spec);
	if (hl == 0 || hl >= sizeof(host))
		return add_fail(c, "%s: %s", spec, "expected HOST[=GUEST]");
	memcpy(host, spec, hl);
	host[hl] = 0;
	while (hl > 1 && host[hl - 1] == '/')
		host[--hl] = 0;
	struct stat st;
	if (stat(host, &st) < 0)
		return add_fail(c, "%s: %s", host, strerror(errno));
	const char *guest = eq ? eq + 1 : NULL;
	if (!guest) {
		const char *base = strrchr(host, '/');
		base = base ? base + 1 : host;
		if ((size_t)snprintf(gbuf, sizeof(gbuf), "%s/%s", S_ISDIR(st.st_mode) ? "" : "/bin",
				     base) >= sizeof(gbuf))
			return add_fail(c, "%s: %s", host, "path too long");
		guest = gbuf;
	}
	if (guest_name(guest, name, sizeof(name)) < 0)
		return add_fail(c,
				"%s: guest path '%s' is outside the guest's tree (an absolute "
				"path without '.' or '..' components, at most 255 bytes)",
				host, guest);
	return add_tree(c, host, name, 0);
}

int vmm_initrd_add(const uint8_t *initrd, size_t initrd_size, char *const *specs, int nspecs,
		   uint64_t max, uint8_t **out, size_t *out_size, char *err, size_t errlen)
{
	struct add_ctx c = {.max = max, .err = err, .errlen = errlen};
	int r = 0;
	for (int i = 0; i < nspecs && !r; i++)
		r = add_spec(&c, specs[i]);
	/* The image's archive ends with its own trailer; an empty one gets ours. */
	if (!r &&
	    (initrd_size ? cpio_buf_put(&c.w.b, initrd, initrd_size) : cpio_newc_trailer(&c.w)) < 0)
		r = add_fail(&c, "%s%s", "out of memory", "");
	if (!r && c.w.b.len > max)
		r = too_big(&c, specs[nspecs - 1]);
	cpio_writer_done(&c.w);
	if (r) {
		free(c.w.b.p);
		return -1;
	}
	*out = c.w.b.p;
	*out_size = c.w.b.len;
	return 0;
}
