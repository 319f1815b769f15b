/* SPDX-License-Identifier: MIT */
/*
 * syscall.c: the Linux x86-64 system calls /init may use, enough for an
 * unmodified static musl program: I/O on the console, initramfs files and
 * /dev/kvm (file.c, kvmdev.c), exit, memory (brk, mmap of anonymous memory,
 * of files and of a vCPU's run area, munmap), TLS (arch_prctl), time,
 * sysinfo, prlimit64 and identity. Others
 * return -ENOSYS and are reported once per number. Every user pointer goes
 * through copy_from_user/copy_to_user (range check + fault fixup), so a bad
 * pointer is -EFAULT, never a kernel fault. entry.S calls
 * syscall_table[nr] directly: no dispatcher in between (each emulated
 * ring-0 instruction costs ~1-2 us here).
 */
#include "syscall.h"
#include "console.h"
#include "file.h"
#include "hypercall.h"
#include "kvmdev.h"
#include "mman.h"
#include "pin.h"
#include "pmm.h"
#include "proc.h"
#include "selftest.h"
#include "trace.h"
#include "uiov.h"
#include "ucopy.h"
#include "syscall_names.h"

#define SYS_read	    0
#define SYS_write	    1
#define SYS_open	    2
#define SYS_close	    3
#define SYS_stat	    4
#define SYS_fstat	    5
#define SYS_lstat	    6
#define SYS_poll	    7
#define SYS_lseek	    8
#define SYS_mmap	    9
#define SYS_mprotect	    10
#define SYS_munmap	    11
#define SYS_brk		    12
#define SYS_rt_sigaction    13
#define SYS_rt_sigprocmask  14
#define SYS_ioctl	    16
#define SYS_pread64	    17
#define SYS_readv	    19
#define SYS_writev	    20
#define SYS_access	    21
#define SYS_sched_yield	    24
#define SYS_mremap	    25
#define SYS_madvise	    28
#define SYS_getpid	    39
#define SYS_execve	    59
#define SYS_exit	    60
#define SYS_kill	    62
#define SYS_uname	    63
#define SYS_fcntl	    72
#define SYS_sysinfo	    99
#define SYS_getuid	    102
#define SYS_getgid	    104
#define SYS_geteuid	    107
#define SYS_getegid	    108
#define SYS_getppid	    110
#define SYS_arch_prctl	    158
#define SYS_gettid	    186
#define SYS_tkill	    200
#define SYS_set_tid_address 218
#define SYS_clock_gettime   228
#define SYS_exit_group	    231
#define SYS_tgkill	    234
#define SYS_openat	    257
#define SYS_newfstatat	    262
#define SYS_prlimit64	    302
#define SYS_getcwd	    79
#define SYS_readlink	    89
#define SYS_clock_getres    229
#define SYS_readlinkat	    267
#define SYS_getrandom	    318

#define PROT_READ	    1
#define PROT_WRITE	    2
#define PROT_EXEC	    4
#define MAP_SHARED	    0x01
#define MAP_PRIVATE	    0x02
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define ARCH_SET_FS	    0x1002
#define TIOCGWINSZ	    0x5413

/* write(2)/writev(2) gather into this, so one write is one CONSOLE hypercall. */
static char console_buf[DMTVM_CONSOLE_MAX];

/* Copy user bytes into console_buf at *fill, flushing when full. */
static long console_gather(uint64_t ubuf, uint64_t len, size_t *fill)
{
	struct dmtvm_hc_console hc;
	while (len) {
		size_t n = sizeof(console_buf) - *fill;
		if (n > len)
			n = len;
		if (copy_from_user(console_buf + *fill, ubuf, n))
			return -EFAULT;
		*fill += n;
		ubuf += n;
		len -= n;
		if (*fill == sizeof(console_buf) && len) {
			hc.buf_gpa = kva_to_phys(console_buf);
			hc.len = *fill;
			hypercall(DMTVM_HC_CONSOLE, &hc);
			*fill = 0;
		}
	}
	return 0;
}

static void console_flush(size_t fill)
{
	struct dmtvm_hc_console hc = {.buf_gpa = kva_to_phys(console_buf), .len = fill};
	if (fill)
		hypercall(DMTVM_HC_CONSOLE, &hc);
}

/* write(2) on fd: 0 if it is the console, else the errno Linux gives. */
static long writable(uint64_t fd)
{
	const struct file *f = file_get(file_current, fd);
	if (!f)
		return -EBADF;
	if (f->kind == FILE_CONSOLE)
		return 0;
	return f->kind == FILE_KVM ? -EINVAL : -EBADF; /* initramfs files open read-only */
}

static long sys_write(struct syscall_args *a)
{
	size_t fill = 0;
	long r = writable(a->a0);
	if (r)
		return r;
	if ((int64_t)a->a2 < 0)
		return -EINVAL;
	if (console_gather(a->a1, a->a2, &fill))
		return -EFAULT;
	console_flush(fill);
	return (long)a->a2;
}

struct writev_state {
	size_t fill, total;
};

static long writev_one(void *ctx, uint64_t base, uint64_t len)
{
	struct writev_state *w = ctx;
	if ((int64_t)len < 0)
		return -EINVAL;
	if (console_gather(base, len, &w->fill))
		return -EFAULT;
	w->total += len;
	return 0;
}

static long sys_writev(struct syscall_args *a)
{
	struct writev_state w = {0, 0};
	long r = writable(a->a0);
	if (r)
		return r;
	if ((r = uiov_each(a->a1, a->a2, writev_one, &w)))
		return r;
	console_flush(w.fill);
	return (long)w.total;
}

static long sys_exit_group(struct syscall_args *a)
{
	proc_exit((int)a->a0);
}

static long sys_kill(struct syscall_args *a)
{
	/* kill/tkill/tgkill: the only process is 1; no handlers run, so a signal kills. */
	uint64_t pid = a->nr == SYS_tgkill ? a->a1 : a->a0;
	int sig = (int)(a->nr == SYS_tgkill ? a->a2 : a->a1);
	if (pid != 1 && !(a->nr == SYS_kill && (pid == 0 || (int64_t)pid == -1)))
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	proc_kill(sig);
}

static long sys_brk(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t want = a->a0, old_end = ALIGN_UP(mm->brk, PAGE_SIZE);
	if (want < mm->brk_start || want > USER_MMAP_TOP)
		return (long)mm->brk;
	uint64_t new_end = ALIGN_UP(want, PAGE_SIZE);
	if (new_end > old_end) {
		if (vma_overlaps(&mm->vmas, old_end, new_end) ||
		    vma_insert(&mm->vmas, old_end, new_end, VMA_READ | VMA_WRITE, VMA_HEAP))
			return (long)mm->brk;
	} else if (new_end < old_end) {
		if (vma_remove(&mm->vmas, new_end, old_end))
			return (long)mm->brk;
		vm_unmap(mm, new_end, old_end);
	}
	mm->brk = want;
	return (long)want;
}

/*
 * A file mapping: an initramfs file is copied into anonymous pages (it is
 * read-only, so MAP_PRIVATE and a read-only MAP_SHARED look the same); a
 * vCPU fd maps its run area (kvmdev.c) writable and shared. 0 / -errno.
 */
static long map_file(struct mm *mm, struct file *f, uint64_t addr, uint64_t len, uint32_t prot,
		     uint64_t off, uint64_t run_pa)
{
	bool run = f->kind == FILE_KVM;
	/*
	 * Only the pages holding file bytes are filled (bounded by the file);
	 * pages past them demand-zero (Linux would raise SIGBUS there).
	 */
	uint64_t fill = run ? len : f->size > off ? ALIGN_UP(f->size - off, PAGE_SIZE) : 0;
	if (fill > len)
		fill = len;
	if (vma_insert(&mm->vmas, addr, addr + len, prot, run ? VMA_KVMRUN : VMA_ANON))
		return -ENOMEM;
	for (uint64_t o = 0; o < fill; o += PAGE_SIZE) {
		uint64_t pa = run ? run_pa + o : pmm_alloc(PMM_ORDER_4K, 0);
		int r = -ENOMEM;
		if (pa && !run)
			file_copy_out(f, off + o, phys_to_virt(pa), PAGE_SIZE);
		if (pa && (r = run ? vm_map_shared_4k(mm, addr + o, pa, prot)
				   : vm_map_4k(mm, addr + o, pa, prot ? prot : VMA_READ))) {
			if (!run)
				pmm_free(pa, PMM_ORDER_4K);
		}
		if (r) {
			vm_unmap(mm, addr, addr + o);
			vma_remove(&mm->vmas, addr, addr + len);
			return r;
		}
	}
	if (!prot)
		vm_protect(mm, addr, addr + len, 0);
	return 0;
}

/* munmap's work, also MAP_FIXED's over old mappings: pinned memory refuses. */
static long unmap_range(struct mm *mm, uint64_t start, uint64_t end)
{
	long r = pin_check_unmap(mm, start, end);
	if (r)
		return r;
	if (vma_remove(&mm->vmas, start, end))
		return -ENOMEM;
	vm_unmap(mm, start, end);
	return 0;
}

static long sys_mmap(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t addr = a->a0, len = a->a1, prot = a->a2, flags = a->a3, run_pa = 0;
	struct file *f = NULL;
	if (!(flags & MAP_ANONYMOUS)) {
		if (!(f = file_get(file_current, a->a4)))
			return -EBADF;
		if (f->kind == FILE_CONSOLE ||
		    (f->kind == FILE_INITRD && (f->mode & 0170000) != 0100000))
			return -ENODEV;
		if (f->kind == FILE_INITRD && (flags & MAP_SHARED) && (prot & PROT_WRITE))
			return -EACCES; /* read-only file */
		if (a->a5 & ~PAGE_MASK)
			return -EINVAL;
		if (f->kind == FILE_KVM) {
			long r = kvmdev_mmap_gpa(f, ALIGN_UP(len, PAGE_SIZE), a->a5, &run_pa);
			if (r)
				return r;
			if (!(flags & MAP_SHARED))
				return -EINVAL; /* kvm_run is shared with the kernel by nature */
		}
	}
	if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)))
		addr = ALIGN_DOWN(addr, PAGE_SIZE); /* only a hint */
	if (!len || (addr & ~PAGE_MASK) || !(flags & (MAP_PRIVATE | MAP_SHARED)) ||
	    (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0 || len > USER_MMAP_TOP)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (!user_range_ok(addr, len) || addr < PAGE_SIZE)
			return -EINVAL;
		if (vma_overlaps(&mm->vmas, addr, addr + len)) {
			if (flags & MAP_FIXED_NOREPLACE)
				return -EEXIST;
			long r = unmap_range(mm, addr, addr + len);
			if (r)
				return r;
		}
	} else {
		/*
		 * Hint if free, else top-down. 2 MiB alignment only for lengths that
		 * are whole 2 MiB blocks, as Linux (6.12, "limit THP alignment of
		 * anonymous mappings to PMD-aligned sizes"): aligning other lengths
		 * leaves a gap below each mapping, so consecutive mallocs never merge
		 * into one VMA and arrays under tea_min never reach a TEA.
		 */
		uint64_t align =
		    len >= HPAGE_SIZE && !(len & (HPAGE_SIZE - 1)) ? HPAGE_SIZE : PAGE_SIZE;
		if (!addr || !user_range_ok(addr, len) || vma_overlaps(&mm->vmas, addr, addr + len))
			addr = vma_find_gap(&mm->vmas, len, align, 1ULL << 32, mm->mmap_top);
		if (!addr)
			return -ENOMEM;
	}
	if (f) {
		long r = map_file(mm, f, addr, len, (uint32_t)prot, a->a5, run_pa);
		return r ? r : (long)addr;
	}
	if (vma_insert(&mm->vmas, addr, addr + len, (uint32_t)prot, VMA_ANON))
		return -ENOMEM;
	return (long)addr;
}

static long sys_munmap(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t addr = a->a0, len = ALIGN_UP(a->a1, PAGE_SIZE);
	if ((addr & ~PAGE_MASK) || !len || !user_range_ok(addr, len))
		return -EINVAL;
	return unmap_range(mm, addr, addr + len);
}

/*
 * Signals: no handler ever runs (a signal kills /init, see sys_kill), so
 * every disposition reads as SIG_DFL and every mask as empty. Old values
 * are written back so callers that read them see defined zeroes.
 */
static long sys_rt_sigaction(struct syscall_args *a)
{
	static const uint64_t dfl[4]; /* handler, flags, restorer, mask */
	if (a->a0 == 0 || a->a0 > 64 || a->a3 != 8)
		return -EINVAL;
	return a->a2 ? copy_to_user(a->a2, dfl, sizeof(dfl)) : 0;
}

static long sys_rt_sigprocmask(struct syscall_args *a)
{
	static const uint64_t empty;
	if (a->a3 != 8)
		return -EINVAL;
	return a->a2 ? copy_to_user(a->a2, &empty, sizeof(empty)) : 0;
}

static long sys_zero(struct syscall_args *a)
{
	(void)a;
	return 0;
}

static long sys_getpid(struct syscall_args *a)
{
	(void)a;
	return 1;
}

static long sys_arch_prctl(struct syscall_args *a)
{
	if (a->a0 != ARCH_SET_FS)
		return -EINVAL;
	if (a->a1 >= USER_TOP)
		return -EPERM;
	wrmsr(MSR_FS_BASE, a->a1);
	return 0;
}

static long sys_uname(struct syscall_args *a)
{
	static const char fields[6][65] = {"Linux",    "dmtvm",	 "6.1.0-dmtvm",
					   "#1 dmtvm", "x86_64", "(none)"};
	return copy_to_user(a->a0, fields, sizeof(fields));
}

/* One TIME hypercall (one exit: tests/nested's clocks counts on it). */
static long sys_clock_gettime(struct syscall_args *a)
{
	static struct dmtvm_hc_time hc; /* in the image: its gPA is a constant */
	uint64_t clk = a->a0, uts = a->a1, ns;
	if (clk > 11)
		return -EINVAL;
	if (!user_range_ok(uts, 16))
		return -EFAULT;
	hypercall_kimg(DMTVM_HC_TIME, &hc);
	/* CLOCK_REALTIME (0), _COARSE (5), TAI (11) are wall clocks; the rest monotonic. */
	ns = ((1u << 0 | 1u << 5 | 1u << 11) >> clk) & 1 ? hc.realtime_ns : hc.monotonic_ns;
	return put_user_16(uts, ns / 1000000000, ns % 1000000000); /* struct timespec */
}

/* clock_getres: every clock counts nanoseconds (the TIME hypercall). */
static long sys_clock_getres(struct syscall_args *a)
{
	if (a->a0 > 11)
		return -EINVAL;
	if (!a->a1)
		return 0;
	if (!user_range_ok(a->a1, 16))
		return -EFAULT;
	return put_user_16(a->a1, 0, 1);
}

/*
 * getrandom: bytes of a xorshift64* generator seeded from the TSC at the
 * first call: never blocks, not for cryptography (GRND_* flags accepted).
 * Enough for hash seeds and temporary names (SQLite, compressors).
 */
static long sys_getrandom(struct syscall_args *a)
{
	static uint64_t state;
	uint64_t ubuf = a->a0, len = a->a1, done = 0;
	if (a->a2 & ~7ULL)
		return -EINVAL;
	if (len > (1u << 25))
		len = 1u << 25; /* Linux returns at most 32 MiB per call */
	if (!user_range_ok(ubuf, len))
		return -EFAULT;
	if (!state)
		state = rdtsc() | 1;
	while (done < len) {
		uint64_t chunk[32];
		for (unsigned i = 0; i < ARRAY_SIZE(chunk); i++) {
			state ^= state >> 12;
			state ^= state << 25;
			state ^= state >> 27;
			chunk[i] = state * 0x2545f4914f6cdd1dULL;
		}
		uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (copy_to_user(ubuf + done, chunk, n))
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

/* struct sysinfo of x86-64 Linux: RAM in bytes (mem_unit 1), no swap. */
static long sys_sysinfo(struct syscall_args *a)
{
	struct {
		int64_t uptime;
		uint64_t loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
		uint16_t procs, pad;
		uint32_t pad2;
		uint64_t totalhigh, freehigh;
		uint32_t mem_unit;
		char pad3[4];
	} si = {
	    .totalram = kernel_mem_size, .freeram = pmm_free_bytes(), .procs = 1, .mem_unit = 1};
	_Static_assert(sizeof(si) == 112, "struct sysinfo is 112 bytes on x86-64");
	if (kernel_tsc_khz)
		si.uptime = (int64_t)((rdtsc() - kernel_boot_tsc) / kernel_tsc_khz / 1000);
	return copy_to_user(a->a0, &si, sizeof(si));
}

/* No resource limits here: every one reads as RLIM_INFINITY; setting one is refused. */
static long sys_prlimit64(struct syscall_args *a)
{
	static const uint64_t inf[2] = {~0ULL, ~0ULL};
	if (a->a0 != 0 && a->a0 != 1)
		return -ESRCH;
	if (a->a1 >= 16)
		return -EINVAL;
	if (a->a2)
		return -EPERM;
	return a->a3 ? copy_to_user(a->a3, inf, sizeof(inf)) : 0;
}

/* Report each unsupported number once (numbers past the table: the first 16 seen). */
static bool first_report(uint64_t nr)
{
	static uint64_t table_seen[(NR_SYSCALLS + 63) / 64];
	static uint64_t big_seen[16];
	static unsigned nbig;
	if (nr < NR_SYSCALLS) {
		bool first = !(table_seen[nr / 64] & (1ULL << (nr % 64)));
		table_seen[nr / 64] |= 1ULL << (nr % 64);
		return first;
	}
	for (unsigned i = 0; i < nbig; i++)
		if (big_seen[i] == nr)
			return false;
	if (nbig == ARRAY_SIZE(big_seen))
		return false;
	big_seen[nbig++] = nr;
	return true;
}

long syscall_unknown(struct syscall_args *a)
{
	long r;
	if (a->nr == DMTVM_SYS_TRACE_FLUSH)
		return trace_sys_flush(a);
	if (a->nr == DMTVM_SYS_SELFTEST && selftest == SELFTEST_SYSCALL_SYSRET)
		return selftest_sysret_done(a->a0);
	if (a->nr == DMTVM_SYS_UCOPY_DONE && (r = ucopy_done(a)) != -ENOSYS)
		return r;
	if (first_report(a->nr))
		kprintf("dmtvm: unsupported syscall %lu (%s): -ENOSYS\n", a->nr,
			a->nr < NR_SYSCALLS && syscall_names[a->nr] ? syscall_names[a->nr]
								    : "not a Linux call");
	return -ENOSYS;
}

#pragma GCC diagnostic ignored "-Woverride-init"
const syscall_fn syscall_table[NR_SYSCALLS] = {
    [0 ... NR_SYSCALLS - 1] = syscall_unknown,
    [SYS_read] = file_sys_read,
    [SYS_write] = sys_write,
    [SYS_open] = file_sys_open,
    [SYS_close] = file_sys_close,
    [SYS_stat] = file_sys_stat,
    [SYS_fstat] = file_sys_fstat,
    [SYS_lstat] = file_sys_stat,
    [SYS_poll] = file_sys_poll,
    [SYS_lseek] = file_sys_lseek,
    [SYS_mmap] = sys_mmap,
    [SYS_mprotect] = mman_sys_mprotect,
    [SYS_munmap] = sys_munmap,
    [SYS_brk] = sys_brk,
    [SYS_rt_sigaction] = sys_rt_sigaction,
    [SYS_rt_sigprocmask] = sys_rt_sigprocmask,
    [SYS_ioctl] = file_sys_ioctl,
    [SYS_pread64] = file_sys_pread64,
    [SYS_readv] = file_sys_readv,
    [SYS_writev] = sys_writev,
    [SYS_access] = file_sys_access,
    [SYS_sched_yield] = sys_zero,
    [SYS_mremap] = mman_sys_mremap,
    [SYS_madvise] = mman_sys_madvise,
    [SYS_getpid] = sys_getpid,
    [SYS_execve] = proc_sys_execve,
    [SYS_exit] = sys_exit_group, /* one thread: exit ends the process */
    [SYS_kill] = sys_kill,
    [SYS_uname] = sys_uname,
    [SYS_fcntl] = file_sys_fcntl,
    [SYS_sysinfo] = sys_sysinfo,
    [SYS_getuid] = sys_zero,
    [SYS_getgid] = sys_zero,
    [SYS_geteuid] = sys_zero,
    [SYS_getegid] = sys_zero,
    [SYS_getppid] = sys_zero,
    [SYS_arch_prctl] = sys_arch_prctl,
    [SYS_gettid] = sys_getpid,
    [SYS_tkill] = sys_kill,
    [SYS_set_tid_address] = sys_getpid, /* returns the tid */
    [SYS_clock_gettime] = sys_clock_gettime,
    [SYS_exit_group] = sys_exit_group,
    [SYS_tgkill] = sys_kill,
    [SYS_openat] = file_sys_openat,
    [SYS_newfstatat] = file_sys_newfstatat,
    [SYS_prlimit64] = sys_prlimit64,
    [SYS_getcwd] = file_sys_getcwd,
    [SYS_readlink] = file_sys_readlink,
    [SYS_clock_getres] = sys_clock_getres,
    [SYS_readlinkat] = file_sys_readlinkat,
    [SYS_getrandom] = sys_getrandom,
};
