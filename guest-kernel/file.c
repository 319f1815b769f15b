/* SPDX-License-Identifier: MIT */
/*
 * file.c: file descriptors and the file system calls over the initramfs
 * (a read-only cpio archive, cpio.c): open/openat, read/readv/pread64,
 * lseek, stat/fstat/newfstatat, access, close, fcntl, poll and ioctl's
 * dispatch. /dev/kvm is the one device (kvmdev.c). Linux's errnos: a
 * write-open of an initramfs file is -EACCES (read-only), a full table
 * -EMFILE, a closed fd -EBADF, lseek on a device -ESPIPE.
 * Every user pointer goes through copy_from_user/copy_to_user.
 */
#include "file.h"
#include "proc.h"
#include "cpio.h"
#include "kvmdev.h"
#include "ucopy.h"
#include "uiov.h"

#define O_ACCMODE     3
#define O_WRONLY      1
#define O_RDWR	      2
#define O_CREAT	      0100
#define O_TRUNC	      01000
#define O_DIRECTORY   0200000
#define O_CLOEXEC     02000000
#define AT_FDCWD      (-100)
#define AT_EMPTY_PATH 0x1000
#define SEEK_SET      0
#define SEEK_CUR      1
#define SEEK_END      2
#define F_GETFD	      1
#define F_SETFD	      2
#define F_GETFL	      3
#define F_SETFL	      4
#define FD_CLOEXEC    1
#define S_IFMT	      0170000
#define S_IFDIR	      0040000
#define S_IFCHR	      0020000
#define POLLIN	      0x001
#define POLLOUT	      0x004
#define POLLNVAL      0x020
#define POLLRDNORM    0x040
#define POLLWRNORM    0x100
#define PATH_MAX      256 /* longer initramfs paths do not exist here */
#define W_OK	      2

struct fdtable *file_current;
static const uint8_t *initrd;
static uint64_t initrd_len;

void file_set_initrd(const void *start, uint64_t len)
{
	initrd = start;
	initrd_len = len;
}

void file_table_init(struct fdtable *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 3; i++) {
		t->f[i].kind = FILE_CONSOLE;
		t->f[i].oflags = O_RDWR; /* as Linux's init: one /dev/console open, dup'ed */
		t->f[i].mode = S_IFCHR | 0620;
	}
}

struct file *file_get(struct fdtable *t, uint64_t fd)
{
	if (fd >= FILE_MAX || t->f[fd].kind == FILE_NONE)
		return NULL;
	return &t->f[fd];
}

long file_alloc(struct fdtable *t)
{
	for (long i = 0; i < FILE_MAX; i++)
		if (t->f[i].kind == FILE_NONE) {
			memset(&t->f[i], 0, sizeof(t->f[i]));
			return i;
		}
	return -EMFILE;
}

long file_close(struct fdtable *t, uint64_t fd)
{
	struct file *f = file_get(t, fd);
	if (!f)
		return -EBADF;
	if (f->kind == FILE_KVM)
		kvmdev_release(f);
	f->kind = FILE_NONE;
	return 0;
}

void file_exec(struct fdtable *t)
{
	for (uint64_t i = 0; i < FILE_MAX; i++)
		if (t->f[i].kind != FILE_NONE && (t->f[i].cloexec || t->f[i].kind == FILE_KVM))
			file_close(t, i);
}

void file_close_all(struct fdtable *t)
{
	for (uint64_t i = 0; i < FILE_MAX; i++)
		file_close(t, i);
}

void file_copy_out(const struct file *f, uint64_t off, void *dst, uint64_t n)
{
	uint64_t have = off < f->size ? f->size - off : 0;
	if (have > n)
		have = n;
	if (have)
		memcpy(dst, f->data + off, have);
	if (have < n)
		memset((char *)dst + have, 0, n - have);
}

/* Copy a user path into buf[PATH_MAX]; 0, -EFAULT, -ENAMETOOLONG or -ENOENT (empty). */
static long copy_path(uint64_t upath, char *buf)
{
	uint64_t got = 0;
	while (got < PATH_MAX) {
		/* Never across a page: the next one may be unmapped. */
		uint64_t n = PAGE_SIZE - ((upath + got) & (PAGE_SIZE - 1));
		if (n > PATH_MAX - got)
			n = PATH_MAX - got;
		if (copy_from_user(buf + got, upath + got, n))
			return -EFAULT;
		uint64_t len = mem_nul(buf + got, n);
		if (len < n)
			return got + len ? 0 : -ENOENT;
		got += n;
	}
	return -ENAMETOOLONG;
}

/* Resolve an absolute or cwd ("/") relative path to a file description (no fd yet). */
static long lookup(const char *path, struct file *out)
{
	struct cpio_file cf;
	const char *name = path;
	while (*name == '/')
		name++;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	memset(out, 0, sizeof(*out));
	if (!strncmp(name, "dev/kvm", 8))
		return kvmdev_open(out);
	if (!strncmp(name, "dev/console", 12)) {
		out->kind = FILE_CONSOLE;
		out->mode = S_IFCHR | 0620;
		return 0;
	}
	if (!initrd_len || cpio_find(initrd, initrd_len, name, &cf))
		return -ENOENT;
	out->kind = FILE_INITRD;
	out->data = cf.data;
	out->size = cf.size;
	out->mode = cf.mode;
	/* The header's place in the archive is unique: a stable inode number. */
	out->ino = (uint64_t)((const uint8_t *)cf.data - initrd) / 4;
	return 0;
}

static long do_open(int64_t dirfd, uint64_t upath, uint64_t flags)
{
	char path[PATH_MAX];
	struct file f;
	long r = copy_path(upath, path);
	if (r)
		return r;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		struct file *d = file_get(file_current, (uint64_t)dirfd);
		if (!d)
			return -EBADF;
		if ((d->mode & S_IFMT) != S_IFDIR)
			return -ENOTDIR;
		return -ENOENT; /* directories hold nothing openable by a relative name yet */
	}
	r = lookup(path, &f);
	if (r == -ENOENT && (flags & O_CREAT))
		return -EACCES; /* the initramfs is read-only */
	if (r)
		return r;
	if (f.kind == FILE_INITRD && ((flags & O_ACCMODE) || (flags & O_TRUNC)))
		return -EACCES;
	if ((flags & O_DIRECTORY) && (f.mode & S_IFMT) != S_IFDIR)
		return -ENOTDIR;
	long fd = file_alloc(file_current);
	if (fd < 0) {
		if (f.kind == FILE_KVM)
			kvmdev_release(&f);
		return fd;
	}
	f.oflags = (uint32_t)(flags & ~(uint64_t)O_CLOEXEC);
	f.cloexec = (flags & O_CLOEXEC) != 0;
	file_current->f[fd] = f;
	return fd;
}

long file_sys_open(struct syscall_args *a)
{
	return do_open(AT_FDCWD, a->a0, a->a1);
}

long file_sys_openat(struct syscall_args *a)
{
	return do_open((int32_t)a->a0, a->a1, a->a2);
}

long file_sys_close(struct syscall_args *a)
{
	return file_close(file_current, a->a0);
}

/*
 * read n bytes at *pos of f into user ubuf; advances *pos. With the
 * system call's registers (a), a large read is copied in ring 3 on the
 * way out (ucopy.c); keep_pos: *pos outlives the call (restored on -EFAULT).
 */
static long read_at(struct file *f, uint64_t ubuf, uint64_t n, uint64_t *pos,
		    struct syscall_args *a, bool keep_pos)
{
	if ((int64_t)n < 0)
		return -EINVAL;
	switch (f->kind) {
	case FILE_CONSOLE:
		return (f->oflags & O_ACCMODE) == O_WRONLY ? -EBADF : 0; /* stdin: EOF */
	case FILE_INITRD:
		if ((f->mode & S_IFMT) == S_IFDIR)
			return -EISDIR;
		break;
	default:
		return -EINVAL;
	}
	uint64_t have = *pos < f->size ? f->size - *pos : 0;
	if (n > have)
		n = have;
	if (a && n >= UCOPY_MIN &&
	    ucopy_start(a, ubuf, f->data + *pos, n, (long)n, keep_pos ? pos : NULL)) {
		*pos += n;
		return (long)n; /* the value ucopy_done returns once the ring-3 copy is done */
	}
	if (n && copy_to_user(ubuf, f->data + *pos, n))
		return -EFAULT;
	*pos += n;
	return (long)n;
}

long file_sys_read(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	return f ? read_at(f, a->a1, a->a2, &f->pos, a, true) : -EBADF;
}

long file_sys_pread64(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	uint64_t pos = a->a3;
	if (!f)
		return -EBADF;
	if (f->kind != FILE_INITRD)
		return f->kind == FILE_CONSOLE ? -ESPIPE : -EINVAL;
	if ((int64_t)pos < 0)
		return -EINVAL;
	return read_at(f, a->a1, a->a2, &pos, a, false);
}

struct readv_state {
	struct file *f;
	long total, err;
};

static long readv_one(void *ctx, uint64_t base, uint64_t len)
{
	struct readv_state *s = ctx;
	long r = read_at(s->f, base, len, &s->f->pos, NULL, false);
	if (r < 0) {
		s->err = r;
		return 1;
	}
	s->total += r;
	return (uint64_t)r < len; /* end of file: stop */
}

long file_sys_readv(struct syscall_args *a)
{
	struct readv_state s = {file_get(file_current, a->a0), 0, 0};
	if (!s.f)
		return -EBADF;
	long r = uiov_each(a->a1, a->a2, readv_one, &s);
	if (r < 0)
		return r;
	return s.total ? s.total : s.err;
}

long file_sys_lseek(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	int64_t off = (int64_t)a->a1, base;
	if (!f)
		return -EBADF;
	if (f->kind != FILE_INITRD)
		return -ESPIPE;
	if (a->a2 == SEEK_SET)
		base = 0;
	else if (a->a2 == SEEK_CUR)
		base = (int64_t)f->pos;
	else if (a->a2 == SEEK_END)
		base = (int64_t)f->size;
	else
		return -EINVAL;
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

/* struct stat of x86-64 Linux (144 bytes). */
struct kstat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t times[6]; /* atime, mtime, ctime: sec and nsec */
	int64_t unused[3];
};
_Static_assert(sizeof(struct kstat) == 144, "struct stat is 144 bytes on x86-64");

static long put_stat(const struct file *f, uint64_t ubuf)
{
	struct kstat st = {.nlink = 1, .mode = f->mode, .blksize = 4096};
	if (f->kind == FILE_INITRD) {
		st.dev = 1;
		st.ino = f->ino;
		st.size = (int64_t)f->size;
		st.blocks = (int64_t)((f->size + 511) / 512);
	} else {
		st.dev = 5;
		/* makedev(5, 1) for the console, (10, 232) for /dev/kvm, as Linux. */
		st.rdev = f->kind == FILE_KVM ? (10 << 8 | 232) : (5 << 8 | 1);
		st.ino = f->kind == FILE_KVM ? 2 : 1;
	}
	return copy_to_user(ubuf, &st, sizeof(st));
}

long file_sys_fstat(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	return f ? put_stat(f, a->a1) : -EBADF;
}

static long stat_path(uint64_t upath, uint64_t ubuf)
{
	char path[PATH_MAX];
	struct file f;
	long r = copy_path(upath, path);
	if (r || (r = lookup(path, &f)))
		return r;
	r = put_stat(&f, ubuf);
	if (f.kind == FILE_KVM)
		kvmdev_release(&f);
	return r;
}

long file_sys_stat(struct syscall_args *a)
{
	return stat_path(a->a0, a->a1);
}

long file_sys_newfstatat(struct syscall_args *a)
{
	char c;
	int32_t dirfd = (int32_t)a->a0;
	if (a->a3 & AT_EMPTY_PATH) {
		if (copy_from_user(&c, a->a1, 1))
			return -EFAULT;
		if (!c) {
			struct file *f = file_get(file_current, (uint64_t)dirfd);
			return f ? put_stat(f, a->a2) : -EBADF;
		}
	}
	if (dirfd != AT_FDCWD && !file_get(file_current, (uint64_t)dirfd))
		return -EBADF;
	return stat_path(a->a1, a->a2);
}

long file_sys_access(struct syscall_args *a)
{
	char path[PATH_MAX];
	struct file f;
	long r = copy_path(a->a0, path);
	if (r || (r = lookup(path, &f)))
		return r;
	if (f.kind == FILE_KVM)
		kvmdev_release(&f);
	return f.kind == FILE_INITRD && (a->a1 & W_OK) ? -EACCES : 0;
}

/*
 * readlink(at): the initramfs has no symbolic links, so an existing path is
 * -EINVAL as on Linux; /proc/self/exe reads the current image's path
 * (musl programs locating themselves, SQLite's shell, ...).
 */
static long readlink_path(uint64_t upath, uint64_t ubuf, uint64_t size)
{
	char path[PATH_MAX];
	long r;
	if ((int64_t)size <= 0)
		return -EINVAL;
	if ((r = copy_path(upath, path)))
		return r;
	if (strncmp(path, "/proc/self/exe", 15)) {
		struct file f;
		if ((r = lookup(path, &f)))
			return r;
		if (f.kind == FILE_KVM)
			kvmdev_release(&f);
		return -EINVAL;
	}
	const char *exe = init_proc.path ? init_proc.path : "/init";
	uint64_t n = strlen(exe);
	if (n > size)
		n = size;
	return copy_to_user(ubuf, exe, n) ? -EFAULT : (long)n; /* no NUL, as Linux */
}

long file_sys_readlink(struct syscall_args *a)
{
	return readlink_path(a->a0, a->a1, a->a2);
}

long file_sys_readlinkat(struct syscall_args *a)
{
	int32_t dirfd = (int32_t)a->a0;
	if (dirfd != AT_FDCWD && !file_get(file_current, (uint64_t)dirfd))
		return -EBADF;
	return readlink_path(a->a1, a->a2, a->a3);
}

/* getcwd: the initramfs has one working directory, "/". */
long file_sys_getcwd(struct syscall_args *a)
{
	if (a->a1 < 2)
		return -ERANGE;
	return copy_to_user(a->a0, "/", 2) ? -EFAULT : 2;
}

long file_sys_fcntl(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	if (!f)
		return -EBADF;
	switch (a->a1) {
	case F_GETFD:
		return f->cloexec ? FD_CLOEXEC : 0;
	case F_SETFD:
		f->cloexec = a->a2 & FD_CLOEXEC;
		return 0;
	case F_GETFL:
		return f->oflags;
	case F_SETFL:
		/* Only status flags change (O_NONBLOCK and friends): nothing here blocks. */
		f->oflags = (f->oflags & O_ACCMODE) | ((uint32_t)a->a2 & ~(uint32_t)O_ACCMODE &
						       ~(uint32_t)(O_CREAT | O_TRUNC | O_CLOEXEC));
		return 0;
	default:
		return -EINVAL; /* F_DUPFD and locks: no dup here */
	}
}

/*
 * Nothing here ever blocks: files, the console and KVM fds are always
 * ready for what they support, so poll answers at once.
 */
long file_sys_poll(struct syscall_args *a)
{
	struct {
		int32_t fd;
		int16_t events, revents;
	} p[FILE_MAX];
	uint64_t n = a->a1;
	long ready = 0;
	if (n > FILE_MAX)
		return -EINVAL;
	if (n && copy_from_user(p, a->a0, n * sizeof(p[0])))
		return -EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		struct file *f = p[i].fd < 0 ? NULL : file_get(file_current, (uint64_t)p[i].fd);
		p[i].revents = 0;
		if (p[i].fd < 0)
			continue;
		if (!f)
			p[i].revents = POLLNVAL;
		else
			p[i].revents = p[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
		ready += p[i].revents != 0;
	}
	if (n && copy_to_user(a->a0, p, n * sizeof(p[0])))
		return -EFAULT;
	return ready;
}

long file_sys_ioctl(struct syscall_args *a)
{
	struct file *f = file_get(file_current, a->a0);
	if (!f)
		return -EBADF;
	if (f->kind == FILE_KVM)
		return kvmdev_ioctl(file_current, f, a->a1, a->a2);
	return -ENOTTY; /* the console is not a terminal: musl then buffers stdout fully */
}
