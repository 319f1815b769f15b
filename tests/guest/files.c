/* SPDX-License-Identifier: MIT */
/*
 * files.c: the guest kernel's file system calls (guest-kernel/file.c) on
 * the initramfs, with exact expected bytes: /data/lines.txt is
 * files-data.txt, 300 lines "line NNN: dmtvm initramfs test data\n"
 * (10800 bytes), rebuilt here to compare. open/openat, read, readv (stdio),
 * pread64 (reads >= 8 KiB copied in ring 3 too: bytes, offsets, EFAULT),
 * lseek, fstat/stat/newfstatat, mmap of the file (MAP_PRIVATE
 * copies, offsets, zero tail), fcntl, poll, close, and the errors Linux
 * gives (ENOENT, EACCES, EBADF, EMFILE, ESPIPE, EINVAL). Prints
 * "files: ok" and exits 0, else "files: FAIL <what>" and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH "/data/lines.txt"
#define SIZE 10800

static char want[SIZE + 1];
static char buf[3 * 4096];

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("files: FAIL %s (line %d, errno %d)\n", what, __LINE__, errno);     \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int check_errors(void)
{
	errno = 0;
	CHECK(open("/no/such", O_RDONLY) == -1 && errno == ENOENT, "open missing: ENOENT");
	CHECK(open(PATH, O_WRONLY) == -1 && errno == EACCES, "open O_WRONLY: EACCES");
	CHECK(open(PATH, O_RDWR) == -1 && errno == EACCES, "open O_RDWR: EACCES");
	CHECK(open("/new", O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES, "O_CREAT: EACCES");
	CHECK(read(42, buf, 1) == -1 && errno == EBADF, "read closed fd: EBADF");
	CHECK(close(42) == -1 && errno == EBADF, "close closed fd: EBADF");
	CHECK(lseek(1, 0, SEEK_SET) == -1 && errno == ESPIPE, "lseek console: ESPIPE");
	CHECK(read(1, buf, 1) == 0, "the console (O_RDWR, as Linux's) reads EOF on any of 0-2");
	int fds[64], n = 0;
	for (;;) {
		int fd = open(PATH, O_RDONLY);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	CHECK(errno == EMFILE && n == 61, "61 fds then EMFILE");
	CHECK(fds[0] == 3 && fds[60] == 63, "lowest free fds first");
	for (int i = 0; i < n; i++)
		CHECK(close(fds[i]) == 0, "close");
	return 0;
}

int main(void)
{
	for (int i = 0; i < 300; i++)
		sprintf(want + i * 36, "line %03d: dmtvm initramfs test data\n", i);

	int fd = open(PATH, O_RDONLY | O_CLOEXEC);
	CHECK(fd == 3, "open gives fd 3");
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == SIZE && S_ISREG(st.st_mode), "fstat");
	CHECK(stat(PATH, &st) == 0 && st.st_size == SIZE, "stat");
	CHECK(fstatat(AT_FDCWD, "data/lines.txt", &st, 0) == 0 && st.st_size == SIZE, "fstatat");
	CHECK(stat("/no/such", &st) == -1 && errno == ENOENT, "stat missing: ENOENT");

	/* read: in pieces, then EOF */
	CHECK(read(fd, buf, 100) == 100 && !memcmp(buf, want, 100), "read 100");
	size_t got = 100;
	ssize_t r;
	while ((r = read(fd, buf + got, 4000)) > 0)
		got += (size_t)r;
	CHECK(r == 0 && got == SIZE && !memcmp(buf, want, SIZE), "read to EOF");

	/* lseek and pread */
	CHECK(lseek(fd, 4090, SEEK_SET) == 4090, "lseek SET");
	CHECK(read(fd, buf, 20) == 20 && !memcmp(buf, want + 4090, 20), "read across a page");
	CHECK(lseek(fd, 6, SEEK_CUR) == 4116, "lseek CUR");
	CHECK(lseek(fd, -10, SEEK_END) == SIZE - 10, "lseek END");
	CHECK(read(fd, buf, 100) == 10 && !memcmp(buf, want + SIZE - 10, 10), "short read");
	CHECK(lseek(fd, -1, SEEK_SET) == -1 && errno == EINVAL, "lseek negative: EINVAL");
	CHECK(pread(fd, buf, 50, 8192) == 50 && !memcmp(buf, want + 8192, 50), "pread");
	CHECK(pread(fd, buf, 50, SIZE + 5) == 0, "pread past EOF");
	CHECK(lseek(fd, 0, SEEK_CUR) == SIZE, "pread keeps the offset");

	/* Reads of >= 8 KiB are copied in ring 3 (guest-kernel/ucopy.c):
	   exact bytes, file offsets, EFAULT. */
	memset(buf, 0, sizeof(buf));
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, sizeof(buf)) == SIZE &&
		  !memcmp(buf, want, SIZE) && lseek(fd, 0, SEEK_CUR) == SIZE,
	      "big read: whole file");
	CHECK(lseek(fd, 100, SEEK_SET) == 100 && read(fd, buf + 3, 10000) == 10000 &&
		  !memcmp(buf + 3, want + 100, 10000) && lseek(fd, 0, SEEK_CUR) == 10100,
	      "big read: unaligned source and destination");
	CHECK(pread(fd, buf, 9000, 1000) == 9000 && !memcmp(buf, want + 1000, 9000) &&
		  lseek(fd, 0, SEEK_CUR) == 10100,
	      "big pread keeps the offset");
	char *hole =
	    mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(hole != MAP_FAILED && munmap(hole + 2 * 4096, 4096) == 0, "mmap 3 pages, unmap 1");
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, hole, SIZE) == -1 && errno == EFAULT &&
		  lseek(fd, 0, SEEK_CUR) == 0,
	      "big read into a partly unmapped buffer: EFAULT, offset kept");
	CHECK(mprotect(hole, 2 * 4096, PROT_READ) == 0 && pread(fd, hole, 8192, 0) == -1 &&
		  errno == EFAULT,
	      "big pread into a read-only buffer: EFAULT");
	CHECK(mprotect(hole, 2 * 4096, PROT_READ | PROT_WRITE) == 0 &&
		  read(fd, hole, 8192) == 8192 && !memcmp(hole, want, 8192),
	      "big read works again after EFAULT");
	CHECK(read(fd, (char *)-4096L, 9000) == -1 && errno == EFAULT,
	      "big read to kernel: EFAULT");
	munmap(hole, 2 * 4096);
	/* The copy borrows free 2 MiB blocks right below the stack (the stack is
	   [0x7dffff600000, 0x7dffffe00000): guest-kernel/proc.h); blocks there
	   that kept a page table (2 MiB pages split, then unmapped) work and are
	   clean after. */
	char *hi = (char *)0x7dffff000000L;
	CHECK(mmap(hi, 6 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		   0) == hi,
	      "mmap below the stack");
	for (int i = 0; i < 6; i++)
		hi[i << 20] = 1;
	CHECK(munmap(hi + (2 << 20) + 4096, 4096) == 0 &&
		  munmap(hi + (4 << 20) + 4096, 4096) == 0 && munmap(hi, 6 << 20) == 0,
	      "split, then unmap all");
	CHECK(pread(fd, buf, SIZE, 0) == SIZE && !memcmp(buf, want, SIZE), "big pread after that");
	CHECK(mmap(hi, 6 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		   0) == hi,
	      "mmap there again");
	for (int i = 0; i < 6 << 20; i += 4096)
		CHECK(hi[i] == 0, "fresh memory reads zero there");
	CHECK(munmap(hi, 6 << 20) == 0, "munmap");

	/* mmap: a private copy; past EOF in the last page reads zero */
	char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED && !memcmp(m, want, SIZE), "mmap whole file");
	for (int i = SIZE; i < 3 * 4096; i++)
		CHECK(m[i] == 0, "zero tail");
	m[0] = 'X';
	CHECK(pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "line", 4), "MAP_PRIVATE write stays");
	CHECK(munmap(m, SIZE) == 0, "munmap");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 8192);
	CHECK(m != MAP_FAILED && !memcmp(m, want + 8192, SIZE - 8192), "mmap at offset 8192");
	munmap(m, 4096);
	CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
		  errno == EACCES,
	      "writable MAP_SHARED: EACCES");
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED && errno == EINVAL,
	      "unaligned offset: EINVAL");
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 42, 0) == MAP_FAILED && errno == EBADF,
	      "mmap closed fd: EBADF");

	/* fcntl and poll */
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD");
	CHECK(fcntl(fd, F_SETFD, 0) == 0 && fcntl(fd, F_GETFD) == 0, "F_SETFD");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "F_GETFL");
	struct pollfd p[3] = {{fd, POLLIN, -1}, {1, POLLOUT, -1}, {42, POLLIN, -1}};
	CHECK(poll(p, 3, 1000) == 3 && p[0].revents == POLLIN && p[1].revents == POLLOUT &&
		  p[2].revents == POLLNVAL,
	      "poll");
	CHECK(close(fd) == 0, "close");
	CHECK(read(fd, buf, 1) == -1 && errno == EBADF, "read after close: EBADF");

	/* stdio: fopen/fgets go through open and readv */
	FILE *f = fopen(PATH, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) &&
		  !strcmp(buf, "line 000: dmtvm initramfs test data\n"),
	      "fopen + fgets");
	CHECK(fgets(buf, sizeof(buf), f) && !strncmp(buf, "line 001", 8), "second line");
	fclose(f);
	int dfd = openat(AT_FDCWD, "/data/lines.txt", O_RDONLY);
	CHECK(dfd == 3 && close(dfd) == 0, "openat");

	if (check_errors())
		return 1;
	printf("files: ok\n");
	return 0;
}
