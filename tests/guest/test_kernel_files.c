/* SPDX-License-Identifier: MIT */
/*
 * test_kernel_files.c: host unit tests of the guest kernel's fd table and
 * file system calls (file.c over cpio.c) and of the paravirtual /dev/kvm's
 * argument sizing (kvmarg.c), compiled from the kernel's sources. User
 * memory is host memory: copy_user_raw is a memcpy that faults (-EFAULT)
 * below 64 KiB, like an unmapped page. The kernel only takes user pointers
 * below USER_TOP (0x7e0000000000), where the host's stack and mmap area
 * usually are not: user buffers here are statics (the test binary's data).
 * kvmdev.c is faked: its open marks the fd, release counts, ioctl answers
 * 42. Also: pinned VMAs and run areas never merge (vma.c), so each pin stays
 * one contiguous run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest-kernel/file.h"
#include "../../guest-kernel/kvmarg.h"
#include "../../guest-kernel/kvmdev.h"
#include "../../guest-kernel/proc.h"
#include "../../guest-kernel/ucopy.h"
#include "../../guest-kernel/vma.h"

#define BAD_ADDR 0x1000ULL /* "unmapped" */

/*
 * Not instrumented: the kernel copies paths in page-bounded chunks, past the
 * NUL (legal for mapped user memory), which ASan would flag on host strings.
 */
__attribute__((no_sanitize_address)) long copy_user_raw(void *dst, const void *src, size_t n)
{
	if ((uint64_t)dst < 0x10000 || (uint64_t)src < 0x10000)
		return -EFAULT;
	volatile const char *s = src;
	char *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	return 0;
}

static unsigned kvm_releases;
long kvmdev_open(struct file *f)
{
	f->kind = FILE_KVM;
	f->target = DMTVM_KVM_TARGET_SYSTEM;
	return 0;
}
void kvmdev_release(struct file *f)
{
	(void)f;
	kvm_releases++;
}
long kvmdev_ioctl(struct fdtable *t, struct file *f, uint64_t cmd, uint64_t arg)
{
	(void)t, (void)f, (void)cmd, (void)arg;
	return 42;
}
/* readlink of /proc/self/exe reads the current image's path. */
struct proc init_proc = {.path = "/bin/prog"};
/* The ring-3 copy of large reads needs a guest: here every read copies in "ring 0". */
bool ucopy_start(struct syscall_args *a, uint64_t udst, const void *src, uint64_t n, long result,
		 uint64_t *pos)
{
	(void)a, (void)udst, (void)src, (void)n, (void)result, (void)pos;
	return false;
}

/* ---- a small initramfs ---- */
static char archive[65536];
static char data[5000];

static size_t cpio_add(size_t off, const char *name, uint32_t mode, const char *d, size_t len)
{
	size_t nlen = strlen(name) + 1;
	off += (size_t)sprintf(archive + off,
			       "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x", 1,
			       mode, 0, 0, 1, 0, len, 0, 0, 0, 0, nlen, 0);
	memcpy(archive + off, name, nlen);
	off += nlen;
	while (off % 4)
		archive[off++] = 0;
	memcpy(archive + off, d, len);
	off += len;
	while (off % 4)
		archive[off++] = 0;
	return off;
}

static struct fdtable table;

static void setup(void)
{
	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	size_t off = cpio_add(0, ".", 040755, "", 0);
	off = cpio_add(off, "dir", 040755, "", 0);
	off = cpio_add(off, "dir/data", 0100644, data, sizeof(data));
	off = cpio_add(off, "TRAILER!!!", 0, "", 0);
	file_set_initrd(archive, off);
	file_table_init(&table);
	file_current = &table;
	kvm_releases = 0;
}

#define U(p) ((uint64_t)(uintptr_t)(p))
static long sc(long (*fn)(struct syscall_args *), uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3)
{
	struct syscall_args a = {.a0 = a0, .a1 = a1, .a2 = a2, .a3 = a3};
	return fn(&a);
}

TestSuite(files, .init = setup);

Test(files, open_read_pread_lseek_exact_bytes)
{
	static char buf[6000];
	long fd = sc(file_sys_open, U("/dir/data"), 0, 0, 0);
	cr_assert_eq(fd, 3);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 100, 0), 100);
	cr_assert_eq(memcmp(buf, data, 100), 0);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), sizeof(buf), 0), 4900);
	cr_assert_eq(memcmp(buf, data + 100, 4900), 0);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 10, 0), 0, "EOF");
	cr_assert_eq(sc(file_sys_lseek, fd, 4090, 0, 0), 4090);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 20, 0), 20);
	cr_assert_eq(memcmp(buf, data + 4090, 20), 0);
	cr_assert_eq(sc(file_sys_lseek, fd, (uint64_t)-5, 1, 0), 4105, "SEEK_CUR");
	cr_assert_eq(sc(file_sys_lseek, fd, 4990, 0, 0), 4990);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 20, 0), 10, "short read at EOF");
	cr_assert_eq(memcmp(buf, data + 4990, 10), 0);
	cr_assert_eq(sc(file_sys_lseek, fd, (uint64_t)-1, 2, 0), 4999, "SEEK_END");
	cr_assert_eq(sc(file_sys_lseek, fd, (uint64_t)-1, 0, 0), -EINVAL);
	cr_assert_eq(sc(file_sys_lseek, fd, 0, 3, 0), -EINVAL);
	cr_assert_eq(sc(file_sys_lseek, fd, 1ULL << 40, 0, 0), 1LL << 40, "past EOF is fine");
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 10, 0), 0);
	cr_assert_eq(sc(file_sys_pread64, fd, U(buf), 64, 1000), 64);
	cr_assert_eq(memcmp(buf, data + 1000, 64), 0);
	cr_assert_eq(sc(file_sys_pread64, fd, U(buf), 64, (uint64_t)-1), -EINVAL);
	cr_assert_eq(sc(file_sys_lseek, fd, 0, 1, 0), 1LL << 40, "pread keeps the offset");
	cr_assert_eq(sc(file_sys_read, fd, BAD_ADDR, 10, 0), 0, "at EOF nothing is copied");
	sc(file_sys_lseek, fd, 0, 0, 0);
	cr_assert_eq(sc(file_sys_read, fd, BAD_ADDR, 10, 0), -EFAULT);
	cr_assert_eq(sc(file_sys_close, fd, 0, 0, 0), 0);
	cr_assert_eq(sc(file_sys_close, fd, 0, 0, 0), -EBADF);
	cr_assert_eq(sc(file_sys_read, fd, U(buf), 1, 0), -EBADF);
}

Test(files, readv_gathers_until_eof)
{
	static char a[3000], b[3000];
	static struct {
		uint64_t base, len;
	} iov[2];
	iov[0].base = U(a), iov[0].len = sizeof(a);
	iov[1].base = U(b), iov[1].len = sizeof(b);
	long fd = sc(file_sys_openat, (uint64_t)-100, U("dir/data"), 0, 0);
	cr_assert_eq(fd, 3);
	cr_assert_eq(sc(file_sys_readv, fd, U(iov), 2, 0), 5000);
	cr_assert_eq(memcmp(a, data, 3000), 0);
	cr_assert_eq(memcmp(b, data + 3000, 2000), 0);
	cr_assert_eq(sc(file_sys_readv, 0, U(iov), 2, 0), 0, "stdin reads EOF");
}

Test(files, open_errors)
{
	static char longpath[300];
	memset(longpath, 'a', sizeof(longpath));
	longpath[299] = 0;
	cr_assert_eq(sc(file_sys_open, U("/nope"), 0, 0, 0), -ENOENT);
	cr_assert_eq(sc(file_sys_open, U("/nope"), 0101, 0644, 0), -EACCES, "O_CREAT");
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 1, 0, 0), -EACCES, "O_WRONLY");
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 2, 0, 0), -EACCES, "O_RDWR");
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 01000, 0, 0), -EACCES, "O_TRUNC");
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 0200000, 0, 0), -ENOTDIR, "O_DIRECTORY");
	cr_assert_eq(sc(file_sys_open, U(""), 0, 0, 0), -ENOENT);
	cr_assert_eq(sc(file_sys_open, U(longpath), 0, 0, 0), -ENAMETOOLONG);
	cr_assert_eq(sc(file_sys_open, BAD_ADDR, 0, 0, 0), -EFAULT);
	cr_assert_eq(sc(file_sys_openat, 7, U("data"), 0, 0), -EBADF, "relative to a closed fd");
	long d = sc(file_sys_open, U("/dir"), 0200000, 0, 0);
	cr_assert_eq(d, 3);
	static char c;
	cr_assert_eq(sc(file_sys_read, d, U(&c), 1, 0), -EISDIR);
	cr_assert_eq(sc(file_sys_openat, (uint64_t)d, U("data"), 0, 0), -ENOENT);
	for (long i = 4; i < FILE_MAX; i++)
		cr_assert_eq(sc(file_sys_open, U("/dir/data"), 0, 0, 0), i);
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 0, 0, 0), -EMFILE);
	cr_assert_eq(sc(file_sys_close, 10, 0, 0, 0), 0);
	cr_assert_eq(sc(file_sys_open, U("/dir/data"), 0, 0, 0), 10, "the lowest free fd");
}

Test(files, fstat_and_stat)
{
	static struct {
		uint64_t dev, ino, nlink;
		uint32_t mode, uid, gid, pad0;
		uint64_t rdev;
		int64_t size, blksize, blocks;
		uint64_t rest[9];
	} st, st2;
	long fd = sc(file_sys_open, U("/dir/data"), 0, 0, 0);
	cr_assert_eq(sc(file_sys_fstat, fd, U(&st), 0, 0), 0);
	cr_assert_eq(st.mode, 0100644);
	cr_assert_eq(st.size, 5000);
	cr_assert_eq(st.blocks, 10);
	cr_assert_eq(st.blksize, 4096);
	cr_assert_eq(sc(file_sys_stat, U("/dir/data"), U(&st2), 0, 0), 0);
	cr_assert_eq(st2.ino, st.ino, "one inode number per file");
	cr_assert_eq(sc(file_sys_newfstatat, fd, U(""), U(&st2), 0x1000), 0, "AT_EMPTY_PATH");
	cr_assert_eq(st2.size, 5000);
	cr_assert_eq(sc(file_sys_newfstatat, (uint64_t)-100, U("dir"), U(&st2), 0), 0);
	cr_assert_eq(st2.mode, 040755);
	cr_assert_eq(sc(file_sys_fstat, 1, U(&st), 0, 0), 0);
	cr_assert_eq(st.mode, 020620, "the console is a character device");
	cr_assert_eq(st.rdev, (5 << 8) | 1);
	cr_assert_eq(sc(file_sys_fstat, 9, U(&st), 0, 0), -EBADF);
	cr_assert_eq(sc(file_sys_fstat, fd, BAD_ADDR, 0, 0), -EFAULT);
	cr_assert_eq(sc(file_sys_access, U("/dir/data"), 4, 0, 0), 0, "R_OK");
	cr_assert_eq(sc(file_sys_access, U("/dir/data"), 2, 0, 0), -EACCES, "W_OK");
}

Test(files, fcntl_poll_ioctl_and_exec)
{
	long fd = sc(file_sys_open, U("/dir/data"), 02000000, 0, 0); /* O_CLOEXEC */
	long kvm = sc(file_sys_open, U("/dev/kvm"), 2, 0, 0);
	long keep = sc(file_sys_open, U("/dir/data"), 0, 0, 0);
	cr_assert_eq(fd, 3);
	cr_assert_eq(kvm, 4);
	cr_assert_eq(sc(file_sys_fcntl, fd, 1, 0, 0), 1, "F_GETFD: FD_CLOEXEC");
	cr_assert_eq(sc(file_sys_fcntl, keep, 1, 0, 0), 0);
	cr_assert_eq(sc(file_sys_fcntl, fd, 3, 0, 0), 0, "F_GETFL: O_RDONLY");
	cr_assert_eq(sc(file_sys_fcntl, fd, 4, 04000, 0), 0, "F_SETFL O_NONBLOCK");
	cr_assert_eq(sc(file_sys_fcntl, fd, 3, 0, 0), 04000);
	cr_assert_eq(sc(file_sys_fcntl, fd, 0, 0, 0), -EINVAL, "F_DUPFD: no dup here");
	cr_assert_eq(sc(file_sys_fcntl, 50, 1, 0, 0), -EBADF);
	cr_assert_eq(sc(file_sys_ioctl, kvm, 0xae00, 0, 0), 42, "a KVM fd goes to kvmdev");
	cr_assert_eq(sc(file_sys_ioctl, fd, 0x5413, 0, 0), -ENOTTY);
	cr_assert_eq(sc(file_sys_ioctl, 1, 0x5413, 0, 0), -ENOTTY, "console: not a tty");
	cr_assert_eq(sc(file_sys_ioctl, 33, 0, 0, 0), -EBADF);

	static struct {
		int32_t fd;
		int16_t events, revents;
	} p[4] = {{0, 1, -1}, {1, 4, -1}, {40, 1, -1}, {-1, 1, -1}};
	p[0].fd = (int32_t)fd;
	cr_assert_eq(sc(file_sys_poll, U(p), 4, 0, 0), 3);
	cr_assert_eq(p[0].revents, 1, "POLLIN");
	cr_assert_eq(p[1].revents, 4, "POLLOUT");
	cr_assert_eq(p[2].revents, 0x20, "POLLNVAL");
	cr_assert_eq(p[3].revents, 0, "negative fd ignored");
	cr_assert_eq(sc(file_sys_poll, U(p), FILE_MAX + 1, 0, 0), -EINVAL);

	file_exec(&table);
	cr_assert_null(file_get(&table, (uint64_t)fd), "O_CLOEXEC closed by exec");
	cr_assert_null(file_get(&table, (uint64_t)kvm), "KVM fds closed by exec");
	cr_assert_eq(kvm_releases, 1);
	cr_assert_not_null(file_get(&table, (uint64_t)keep));
	cr_assert_not_null(file_get(&table, 1), "stdout stays");
	file_close_all(&table);
	for (uint64_t i = 0; i < FILE_MAX; i++)
		cr_assert_null(file_get(&table, i));
}

Test(files, mmap_copy_zero_tail)
{
	static char page[4096];
	long fd = sc(file_sys_open, U("/dir/data"), 0, 0, 0);
	const struct file *f = file_get(&table, (uint64_t)fd);
	memset(page, 0x55, sizeof(page));
	file_copy_out(f, 4096, page, 4096);
	cr_assert_eq(memcmp(page, data + 4096, 904), 0);
	for (int i = 904; i < 4096; i++)
		cr_assert_eq(page[i], 0, "past EOF reads zero");
	file_copy_out(f, 1ULL << 40, page, 4096);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(page[i], 0);
}

/* ---- /dev/kvm ioctl argument sizes ---- */
Test(kvmarg, fixed_integer_and_variable_sizes)
{
	cr_assert_eq(kvmarg_len(KVMARG_RUN, 0), 0);
	cr_assert_eq(kvmarg_len(KVMARG_CREATE_VM, 0), 0);
	cr_assert_eq(kvmarg_len(KVMARG_CHECK_EXTENSION, 0), 0);
	cr_assert_eq(kvmarg_len(KVMARG_SET_USER_MEMORY_REGION, 0), 32);
	cr_assert_eq(kvmarg_len(0x4090ae82 /* KVM_SET_REGS */, 0), 144);
	cr_assert_eq(kvmarg_len(0x8090ae81 /* KVM_GET_REGS */, 0), 144);
	cr_assert_eq(kvmarg_len(0x4138ae84 /* KVM_SET_SREGS */, 0), 312);
	cr_assert_eq(kvmarg_len(0x41a0ae8d /* KVM_SET_FPU */, 0), 416);
	cr_assert_eq(kvmarg_len(0xc018ae85 /* KVM_TRANSLATE */, 0), 24);
	cr_assert_eq(kvmarg_len((uint32_t)DMTVM_KVM_SET_EPT12, 0), 528);
	cr_assert_eq(kvmarg_len((uint32_t)DMTVM_KVM_PIN, 0), 24);
	cr_assert_eq(kvmarg_len((uint32_t)DMTVM_KVM_ALLOC_TEA, 0), 32);
	cr_assert(kvmarg_is_variable(KVMARG_SET_CPUID2));
	cr_assert(!kvmarg_is_variable(KVMARG_RUN));
	cr_assert_eq(kvmarg_len(KVMARG_SET_CPUID2, 3), 128);
	cr_assert_eq(kvmarg_len(KVMARG_GET_SUPPORTED_CPUID, 0), 8);
	cr_assert_eq(kvmarg_len(KVMARG_SET_MSRS, 2), 40);
	cr_assert_eq(kvmarg_len(KVMARG_GET_MSRS, 5), 88);
	cr_assert_eq(kvmarg_len(KVMARG_GET_MSR_INDEX_LIST, 10), 44);
	cr_assert_eq(kvmarg_len(KVMARG_SET_CPUID2, 1638), 65528, "largest that fits");
	cr_assert_eq(kvmarg_len(KVMARG_SET_CPUID2, 1639), -E2BIG);
	cr_assert_eq(kvmarg_len(KVMARG_SET_MSRS, 0xffffffffu), -E2BIG, "no overflow");
	cr_assert_eq(kvmarg_len(0x5413 /* TIOCGWINSZ */, 0), -ENOTTY, "not KVM's 0xAE space");
}

Test(kvmarg, every_number_is_bounded)
{
	/* Any 32-bit number and count: a size in [0, ARG_MAX] or an error, never more. */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t cmd = (uint32_t)x, count = (uint32_t)(x >> 32);
		if (i & 1)
			cmd = (cmd & ~0xff00u) | 0xae00u;
		long len = kvmarg_len(cmd, count);
		cr_assert(len == -ENOTTY || len == -E2BIG || (len >= 0 && len <= DMTVM_KVM_ARG_MAX),
			  "cmd %#x count %u: %ld", cmd, count, len);
	}
}

/* ---- VMA kinds of /dev/kvm ---- */
Test(vma_kinds, pinned_and_run_areas_never_merge)
{
	static struct vma_list l;
	memset(&l, 0, sizeof(l));
	cr_assert_eq(vma_insert(&l, 0x10000, 0x20000, 3, VMA_ANON | VMA_PINNED), 0);
	cr_assert_eq(vma_insert(&l, 0x20000, 0x30000, 3, VMA_ANON | VMA_PINNED), 0);
	cr_assert_eq(l.n, 2, "two adjacent pins stay two VMAs");
	cr_assert_eq(vma_insert(&l, 0x30000, 0x31000, 3, VMA_KVMRUN), 0);
	cr_assert_eq(vma_insert(&l, 0x31000, 0x32000, 3, VMA_KVMRUN), 0);
	cr_assert_eq(l.n, 4);
	cr_assert_eq(vma_insert(&l, 0x40000, 0x50000, 3, VMA_ANON), 0);
	cr_assert_eq(vma_insert(&l, 0x50000, 0x60000, 3, VMA_ANON), 0);
	cr_assert_eq(l.n, 5, "plain anonymous VMAs still merge");
	cr_assert_eq(vma_protect(&l, 0x18000, 0x20000, 1), 0);
	cr_assert_eq(l.n, 6);
	cr_assert_eq(l.v[0].flags, VMA_ANON | VMA_PINNED, "mprotect keeps the kind");
	cr_assert_eq(l.v[1].flags, VMA_ANON | VMA_PINNED);
	cr_assert_eq(l.v[1].start, 0x18000);
	cr_assert_eq(l.v[1].prot, 1);
}

Test(files, readlink_proc_self_exe_getcwd)
{
	static char buf[64];
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(sc(file_sys_readlink, U("/proc/self/exe"), U(buf), sizeof(buf), 0), 9);
	cr_assert_eq(memcmp(buf, "/bin/progx", 10), 0, "no NUL, as Linux");
	cr_assert_eq(sc(file_sys_readlink, U("/proc/self/exe"), U(buf), 4, 0), 4, "truncated");
	cr_assert_eq(sc(file_sys_readlinkat, (uint64_t)-100, U("/proc/self/exe"), U(buf), 64), 9);
	cr_assert_eq(sc(file_sys_readlinkat, 9, U("/proc/self/exe"), U(buf), 64), -EBADF);
	cr_assert_eq(sc(file_sys_readlink, U("/dir/data"), U(buf), 64, 0), -EINVAL, "no symlinks");
	cr_assert_eq(sc(file_sys_readlink, U("/nope"), U(buf), 64, 0), -ENOENT);
	cr_assert_eq(sc(file_sys_readlink, U("/proc/self/exe"), U(buf), 0, 0), -EINVAL);
	cr_assert_eq(sc(file_sys_readlink, U("/proc/self/exe"), BAD_ADDR, 64, 0), -EFAULT);
	cr_assert_eq(sc(file_sys_readlink, BAD_ADDR, U(buf), 64, 0), -EFAULT);
	cr_assert_eq(sc(file_sys_getcwd, U(buf), sizeof(buf), 0, 0), 2);
	cr_assert_str_eq(buf, "/");
	cr_assert_eq(sc(file_sys_getcwd, U(buf), 1, 0, 0), -ERANGE);
}
