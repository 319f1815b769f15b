/* SPDX-License-Identifier: MIT */
/*
 * proc.c: /init's life: exec from the initramfs, the initial stack (argv,
 * envp, auxv laid out as Linux does), the first entry into ring 3, exit.
 *
 * argv: the kernel command line (bootargs) is "<kernel options> -- <args>".
 * Everything after the first "--" word becomes argv[1..]; words split on
 * spaces, and "double quotes" keep spaces inside a word (quotes removed).
 * argv[0] is "/init". envp is HOME=/ and TERM=linux, as Linux gives init.
 * Leading "dmtvm." words after "--" are kernel options (main.c), not args.
 *
 * execve replaces the image with another static ELF of the initramfs
 * (enough for a launcher /init): the new address space is built completely
 * before the old one is freed, so a failed execve returns to the caller
 * with its image intact.
 */
#include "proc.h"
#include "console.h"
#include "cpio.h"
#include "hypercall.h"
#include "kvmdev.h"
#include "selftest.h"
#include "ucopy.h"
#include "syscall.h"
#include "trace.h"

#define MAX_ARGS    64
#define MAX_ENV	    32
#define AT_NULL	    0
#define AT_PHDR	    3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_BASE	    7
#define AT_FLAGS    8
#define AT_ENTRY    9
#define AT_UID	    11
#define AT_EUID	    12
#define AT_GID	    13
#define AT_EGID	    14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_EXECFN   31

struct proc init_proc;
static const void *initrd; /* the initramfs, in the direct map */
static uint64_t initrd_len;
extern char boot_stack_top[];

void enter_user(uint64_t rip, uint64_t rsp) __attribute__((noreturn));

/* The stack image is built here, then copied to [sp, USER_STACK_TOP) in one go. */
static char stack_img[8192];
static char words[4096];

/* Split the part of bootargs after "--" into NUL-terminated words; returns their count. */
static unsigned split_args(const char *s, const char *argv[], unsigned max)
{
	unsigned n = 0;
	char *w = words, *wend = words + sizeof(words) - 1;
	bool after_dashes = false, leading_done = false;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		char *start = w;
		bool quoted = false;
		for (; *s && (quoted || *s != ' '); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (w < wend)
				*w++ = *s;
		}
		*w = '\0';
		if (!after_dashes) {
			after_dashes = !strncmp(start, "--", 3);
			w = start;
		} else if (n == 0 && !leading_done && !strncmp(start, "dmtvm.", 6)) {
			w = start; /* a kernel option (main.c), not an argument */
		} else if (n < max && w < wend) {
			leading_done = true;
			argv[n++] = start;
			w++;
		}
	}
	return n;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int build_stack(struct proc *p, const char *const *args, unsigned argc,
		       const char *const *env, unsigned envc)
{
	const uint64_t cap = sizeof(stack_img);
	const uint64_t base = USER_STACK_TOP - cap; /* user VA of stack_img[0] */
	uint64_t pos = cap;
	uint64_t argv_va[MAX_ARGS], env_va[MAX_ENV];

#define PUSH_STR(s)                                                                                \
	({                                                                                         \
		size_t l_ = strlen(s) + 1;                                                         \
		if (l_ + 512 > pos)                                                                \
			return -ENOMEM;                                                            \
		pos -= l_;                                                                         \
		memcpy(stack_img + pos, (s), l_);                                                  \
		base + pos;                                                                        \
	})

	uint64_t execfn = PUSH_STR(p->path);
	uint64_t platform = PUSH_STR("x86_64");
	for (unsigned i = 0; i < argc; i++)
		argv_va[i] = PUSH_STR(args[i]);
	for (unsigned i = 0; i < envc; i++)
		env_va[i] = PUSH_STR(env[i]);
	pos = ALIGN_DOWN(pos - 16, 16);
	uint64_t random = base + pos, seed = rdtsc();
	((uint64_t *)(stack_img + pos))[0] = mix64(seed);
	((uint64_t *)(stack_img + pos))[1] = mix64(seed + 0x9e3779b97f4a7c15ULL);

	uint32_t eax = 1, ebx, ecx = 0, edx;
	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	const uint64_t auxv[][2] = {
	    {AT_HWCAP, edx},
	    {AT_PAGESZ, PAGE_SIZE},
	    {AT_CLKTCK, 100},
	    {AT_PHDR, p->elf.phdr},
	    {AT_PHENT, p->elf.phent},
	    {AT_PHNUM, p->elf.phnum},
	    {AT_BASE, 0},
	    {AT_FLAGS, 0},
	    {AT_ENTRY, p->elf.entry},
	    {AT_UID, 0},
	    {AT_EUID, 0},
	    {AT_GID, 0},
	    {AT_EGID, 0},
	    {AT_SECURE, 0},
	    {AT_RANDOM, random},
	    {AT_EXECFN, execfn},
	    {AT_PLATFORM, platform},
	    {AT_NULL, 0},
	};
	uint64_t nvec = 1 + argc + 1 + envc + 1 + 2 * ARRAY_SIZE(auxv);
	if (nvec * 8 + 16 > pos)
		return -ENOMEM;
	pos = ALIGN_DOWN(pos - nvec * 8, 16); /* rsp % 16 == 0 at argc, as the ABI says */
	uint64_t *v = (uint64_t *)(stack_img + pos);
	*v++ = argc;
	for (unsigned i = 0; i < argc; i++)
		*v++ = argv_va[i];
	*v++ = 0;
	for (unsigned i = 0; i < envc; i++)
		*v++ = env_va[i];
	*v++ = 0;
	memcpy(v, auxv, sizeof(auxv));
#undef PUSH_STR

	p->sp = base + pos;
	return (int)copy_to_user(p->sp, stack_img + pos, cap - pos);
}

static struct mm old_mm; /* the image execve replaces, kept until the new one is complete */

/*
 * Replace p's image by the initramfs file path (argv/envp in kernel
 * memory). 0, or a negative errno with p's old image (if any) in force.
 */
static int exec_image(struct proc *p, const char *path, const char *const *argv, unsigned argc,
		      const char *const *envp, unsigned envc)
{
	struct cpio_file f;
	const char *name = path;
	int r;
	while (*name == '/')
		name++;
	if (!initrd_len || cpio_find(initrd, initrd_len, name, &f))
		return -ENOENT;
	bool had = p->mm.pml4_pa != 0;
	const char *old_path = p->path;
	if (had)
		memcpy(&old_mm, &p->mm, sizeof(old_mm));
	if ((r = vm_mm_init(&p->mm)))
		goto restore;
	vm_activate(&p->mm); /* user copies fault into p->mm (trap.c) */
	p->path = path;
	elf_load_name = path;
	if ((r = elf_load(&p->mm, f.data, f.size, &p->elf))) {
		if (r == -EINVAL)
			r = -ENOEXEC; /* as Linux: not an executable we can run */
		goto destroy;
	}
	p->entry = p->elf.entry;
	p->mm.brk_start = p->mm.brk = p->elf.load_end;
	p->mm.mmap_top = USER_MMAP_TOP;
	if ((r = vma_insert(&p->mm.vmas, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP,
			    VMA_READ | VMA_WRITE, VMA_STACK)))
		goto destroy;
	if ((r = build_stack(p, argv, argc, envp, envc))) {
		kprintf("dmtvm: cannot build %s's stack (arguments too long?)\n", path);
		goto destroy;
	}
	if (had) {
		/* Close-on-exec fds, and the VM that used the old image's pinned memory. */
		file_exec(&p->fds);
		vm_mm_destroy(&old_mm);
	}
	return 0;
destroy:
	ucopy_defer_cancel();
	if (had)
		vm_activate(&old_mm);
	vm_mm_destroy(&p->mm);
restore:
	if (had)
		memcpy(&p->mm, &old_mm, sizeof(old_mm));
	p->path = old_path;
	return r;
}

int proc_exec_init(const struct boot_info *bi)
{
	static const char *const env[] = {"HOME=/", "TERM=linux"};
	const char *args[MAX_ARGS];
	int r;
	init_proc.pid = 1;
	initrd = phys_to_virt(bi->initrd_start);
	initrd_len = bi->initrd_end > bi->initrd_start ? bi->initrd_end - bi->initrd_start : 0;
	file_set_initrd(initrd, initrd_len);
	file_table_init(&init_proc.fds);
	file_current = &init_proc.fds;
	args[0] = "/init";
	unsigned argc = 1 + split_args(bi->bootargs, args + 1, MAX_ARGS - 1);
	r = exec_image(&init_proc, "/init", args, argc, env, ARRAY_SIZE(env));
	if (r == -ENOENT)
		kprintf("dmtvm: no /init in the initramfs\n");
	return r;
}

/* strings of execve's path, argv and envp, copied from the caller */
static char exec_strs[6144];

/* Copy the user string at ustr into exec_strs at *w; its kernel copy, or NULL (*err set). */
static const char *copy_user_str(uint64_t ustr, char **w, long *err)
{
	char *start = *w, *end = exec_strs + sizeof(exec_strs);
	for (;;) {
		/* Up to 64 bytes, never across a page: the next page may be unmapped. */
		uint64_t n = PAGE_SIZE - (ustr & (PAGE_SIZE - 1));
		if (n > 64)
			n = 64;
		if (n > (uint64_t)(end - *w)) {
			*err = -E2BIG;
			return NULL;
		}
		if (copy_from_user(*w, ustr, n)) {
			*err = -EFAULT;
			return NULL;
		}
		uint64_t len = mem_nul(*w, n);
		if (len < n) {
			*w += len + 1;
			return start;
		}
		*w += n;
		ustr += n;
	}
}

/* Copy a NULL-terminated user array of string pointers; count or a negative errno. */
static long copy_user_strv(uint64_t uvec, const char **out, unsigned max, char **w)
{
	long err = 0;
	unsigned n = 0;
	for (; uvec; n++) {
		uint64_t ptr;
		if (copy_from_user(&ptr, uvec + n * 8, 8))
			return -EFAULT;
		if (!ptr)
			break;
		if (n == max)
			return -E2BIG;
		if (!(out[n] = copy_user_str(ptr, w, &err)))
			return err;
	}
	return n;
}

long proc_sys_execve(struct syscall_args *a)
{
	static const char *argv[MAX_ARGS], *envp[MAX_ENV];
	char *w = exec_strs;
	long err = 0, argc, envc;
	const char *path = copy_user_str(a->a0, &w, &err);
	if (!path)
		return err;
	if ((argc = copy_user_strv(a->a1, argv, MAX_ARGS, &w)) < 0)
		return argc;
	if ((envc = copy_user_strv(a->a2, envp, MAX_ENV, &w)) < 0)
		return envc;
	trace_flush_pending(&init_proc.mm, true); /* the old image's buffered records */
	if ((err = exec_image(&init_proc, path, argv, (unsigned)argc, envp, (unsigned)envc)))
		return err;
	wrmsr(MSR_FS_BASE, 0);
	/* The old frames below are dead: restart on an empty kernel stack. */
	__asm__ volatile("mov %0, %%rsp\n\tcall proc_enter_image" ::"r"(boot_stack_top) : "memory");
	__builtin_unreachable();
}

static bool init_started;

void proc_enter_image(void)
{
	ucopy_run_deferred(&init_proc.mm, init_proc.sp); /* returns once nothing is deferred */
	if (!init_started) {
		struct dmtvm_hc_ret hc = {0};
		init_started = true;
		if (kernel_verbose && kernel_tsc_khz)
			kprintf("dmtvm kernel: kmain to /init took %lu us\n",
				(rdtsc() - kernel_boot_tsc) * 1000 / kernel_tsc_khz);
		hypercall(DMTVM_HC_INIT_STARTED, &hc);
	}
	enter_user(init_proc.entry, init_proc.sp);
}

void proc_start_init(void)
{
	proc_enter_image();
}

void proc_exit(int status)
{
	struct dmtvm_hc_exit hc = {.status = status & 0xff};
	if (selftest == SELFTEST_TEA)
		tea_check(&init_proc.mm);
	if (kernel_verbose)
		vm_report_stats();
	if (kernel_verbose && kvmdev_stats.calls) {
		uint64_t khz = kernel_tsc_khz ? kernel_tsc_khz : 1;
		kprintf("dmtvm: L1 kernel: %lu KVM hypercalls, %lu us in them (KVM_RUN included); "
			"%lu pins of %lu KiB, %lu us\n",
			kvmdev_stats.calls, kvmdev_stats.tsc * 1000 / khz, kvmdev_stats.pins,
			kvmdev_stats.pin_bytes >> 10, kvmdev_stats.pin_tsc * 1000 / khz);
	}
	file_close_all(&init_proc.fds);		  /* DMTVM_KVM_CLOSE for a VM still open */
	trace_flush_pending(&init_proc.mm, true); /* records still in the runtime's buffer */
	vm_pt_update(&init_proc.mm, 0, 0); /* the address space is gone for the VMM's shadow */
	hypercall(DMTVM_HC_EXIT, &hc);
	panic("EXIT hypercall returned");
}

void proc_kill(int sig)
{
	proc_exit(128 + sig);
}
