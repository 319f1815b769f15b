/* SPDX-License-Identifier: MIT */
/*
 * test_initrd_add.c: `dmtvm run --add` (vmm/initrd_add.c) on real host files,
 * read back with the guest kernel's own lookup (guest-kernel/cpio.c): exact
 * archive bytes, added files shadowing the image's, directories, default
 * guest paths, and every refusal's message.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guest-kernel/cpio.h"
#include "../../vmm/cpio_newc.h"
#include "../../vmm/initrd_add.h"

static char dir[] = "/tmp/dmtvm-initrd-add-XXXXXX";
static char path[512];

static const char *put_file(const char *rel, const char *data)
{
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(data, f);
	fclose(f);
	return path;
}

static void setup(void)
{
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/dmtvm-initrd-add-XXXXXX");
}

TestSuite(initrd_add, .init = setup, .fini = teardown);

static uint8_t *add(const uint8_t *rd, size_t rdlen, char **specs, int n, uint64_t max, size_t *len,
		    char *err)
{
	uint8_t *out = NULL;
	int r = vmm_initrd_add(rd, rdlen, specs, n, max, &out, len, err, 512);
	return r == 0 ? out : NULL;
}

static const char *find(const uint8_t *rd, size_t len, const char *name, uint32_t *mode,
			uint64_t *size)
{
	struct cpio_file f;
	if (cpio_find(rd, len, name, &f))
		return NULL;
	*mode = f.mode;
	*size = f.size;
	return f.data;
}

Test(initrd_add, one_file_exact_bytes_on_an_empty_image)
{
	char spec[600], err[512];
	snprintf(spec, sizeof(spec), "%s=/bin/x", put_file("x", "12345"));
	char *specs[] = {spec};
	size_t len;
	uint8_t *rd = add(NULL, 0, specs, 1, 1 << 20, &len, err);
	cr_assert(rd, "%s", err);
	/* "bin" 110 + 4 -> 116; "bin/x" 116 + 5 -> 124; trailer 121 -> 124. */
	cr_assert_eq(len, 116 + 124 + 124);
	cr_assert_eq(memcmp(rd + 110, "bin", 4), 0);
	cr_assert_eq(memcmp(rd + 116 + 110, "bin/x", 6), 0);
	cr_assert_eq(memcmp(rd + 116 + 116, "12345\0\0\0", 8), 0);
	cr_assert_eq(memcmp(rd + 240 + 110, "TRAILER!!!", 11), 0);
	uint32_t mode;
	uint64_t size;
	const char *d = find(rd, len, "bin/x", &mode, &size);
	cr_assert(d);
	cr_assert_eq(size, 5);
	cr_assert_eq(memcmp(d, "12345", 5), 0);
	cr_assert_eq(mode & 0170000, 0100000);
	cr_assert(find(rd, len, "bin", &mode, &size));
	cr_assert_eq(mode, 0040755);
	free(rd);
}

Test(initrd_add, added_file_shadows_the_images_and_keeps_the_rest)
{
	struct cpio_writer w = {0};
	cr_assert_eq(cpio_newc_parents(&w, "bin/hello"), 0);
	cr_assert_eq(cpio_newc_entry(&w, "bin/hello", 0100755, "old", 3), 0);
	cr_assert_eq(cpio_newc_entry(&w, "bin/other", 0100755, "other", 5), 0);
	cr_assert_eq(cpio_newc_trailer(&w), 0);
	cpio_writer_done(&w);
	char spec[600], err[512];
	snprintf(spec, sizeof(spec), "%s=/bin/hello", put_file("new", "new!"));
	char *specs[] = {spec};
	size_t len;
	uint8_t *rd = add(w.b.p, w.b.len, specs, 1, 1 << 20, &len, err);
	cr_assert(rd, "%s", err);
	uint32_t mode;
	uint64_t size;
	const char *d = find(rd, len, "bin/hello", &mode, &size);
	cr_assert(d && size == 4 && !memcmp(d, "new!", 4), "the added file comes first");
	d = find(rd, len, "bin/other", &mode, &size);
	cr_assert(d && size == 5 && !memcmp(d, "other", 5), "the image's files stay");
	/* "bin" 116; "bin/hello" 110 + 10 -> 120, + "new!" -> 124; then the image's. */
	cr_assert_eq(len, 116 + 124 + w.b.len);
	free(rd);
	free(w.b.p);
}

Test(initrd_add, directories_and_default_guest_paths)
{
	char err[512], sub[600], tool[600];
	snprintf(sub, sizeof(sub), "%s/data", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/data/empty", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	put_file("data/in.txt", "abc\n");
	snprintf(tool, sizeof(tool), "%s", put_file("tool", "T"));
	snprintf(sub, sizeof(sub), "%s/data/", dir); /* a trailing '/' is dropped */
	char *specs[] = {sub, tool};
	size_t len;
	uint8_t *rd = add(NULL, 0, specs, 2, 1 << 20, &len, err);
	cr_assert(rd, "%s", err);
	uint32_t mode;
	uint64_t size;
	const char *d = find(rd, len, "data/in.txt", &mode, &size);
	cr_assert(d && size == 4 && !memcmp(d, "abc\n", 4));
	cr_assert(find(rd, len, "data/empty", &mode, &size) && mode == 0040755,
		  "an empty directory exists too");
	cr_assert(find(rd, len, "data", &mode, &size) && mode == 0040755);
	d = find(rd, len, "bin/tool", &mode, &size);
	cr_assert(d && size == 1 && *d == 'T', "a file defaults to /bin/NAME");
	cr_assert_null(find(rd, len, "tool", &mode, &size));
	free(rd);
}

Test(initrd_add, refusals_name_the_fault)
{
	char err[512], spec[700];
	const char *f = put_file("f", "0123456789");
	static const struct {
		const char *guest, *msg;
	} bad[] = {
	    {"bin/x", "guest path 'bin/x' is outside the guest's tree"},
	    {"/bin/../x", "guest path '/bin/../x' is outside"},
	    {"/./x", "guest path '/./x' is outside"},
	    {"/bin//x", "guest path '/bin//x' is outside"},
	    {"/", "guest path '/' is outside"},
	    {"", "guest path '' is outside"},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "%s=%s", f, bad[i].guest);
		char *specs[] = {spec};
		size_t len;
		cr_assert_null(add(NULL, 0, specs, 1, 1 << 20, &len, err));
		cr_assert(strstr(err, bad[i].msg) && !strncmp(err, "--add: ", 7), "%s: %s",
			  bad[i].guest, err);
	}
	char *missing[] = {"/nonexistent/x"};
	size_t len;
	cr_assert_null(add(NULL, 0, missing, 1, 1 << 20, &len, err));
	cr_assert_str_eq(err, "--add: /nonexistent/x: No such file or directory");
	char *dev[] = {"/dev/null"};
	cr_assert_null(add(NULL, 0, dev, 1, 1 << 20, &len, err));
	cr_assert_str_eq(err, "--add: /dev/null: not a regular file or directory");
	char *empty[] = {"=/x"};
	cr_assert_null(add(NULL, 0, empty, 1, 1 << 20, &len, err));
	cr_assert_str_eq(err, "--add: =/x: expected HOST[=GUEST]");
	/* 10 bytes + headers: fits in 1 KiB, not in 300 bytes (the archive's bound). */
	snprintf(spec, sizeof(spec), "%s=/x", f);
	char *one[] = {spec};
	uint8_t *rd = add(NULL, 0, one, 1, 1024, &len, err);
	cr_assert(rd, "%s", err);
	free(rd);
	cr_assert_null(add(NULL, 0, one, 1, 200, &len, err));
	cr_assert(strstr(err, "the added files do not fit in the guest's RAM"), "%s", err);
}
