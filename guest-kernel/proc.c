/* SPDX-License-Identifier: MIT */
/*
 * proc.c: /init's life: exec from the initramfs, the initial stack (argv,
 * envp, auxv laid out as Linux does), the first entry into ring 3, exit.
 *
 * argv: the kernel command line (bootargs) is "<kernel options> -- <args>".
 * Everything after the first "--" word becomes argv[1..]; words split on
 * spaces, and "double quotes" keep spaces inside a word (quotes removed).
 * argv[0] is "/init". envp is HOME=/ and TERM=linux, as Linux gives init.
 */
#include "proc.h"
#include "console.h"
#include "cpio.h"
#include "hypercall.h"

#define MAX_ARGS    64
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

void enter_user(uint64_t rip, uint64_t rsp) __attribute__((noreturn));

/* The stack image is built here, then copied to [sp, USER_STACK_TOP) in one go. */
static char stack_img[8192];
static char words[4096];

/* Split the part of bootargs after "--" into NUL-terminated words; returns their count. */
static unsigned split_args(const char *s, const char *argv[], unsigned max)
{
	unsigned n = 0;
	char *w = words, *wend = words + sizeof(words) - 1;
	bool after_dashes = false;
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
		} else if (n < max && w < wend) {
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

static int build_stack(struct proc *p, const char *bootargs)
{
	const uint64_t cap = sizeof(stack_img);
	const uint64_t base = USER_STACK_TOP - cap; /* user VA of stack_img[0] */
	uint64_t pos = cap;
	const char *args[MAX_ARGS];
	const char *env[] = {"HOME=/", "TERM=linux"};
	uint64_t argv_va[MAX_ARGS + 1], env_va[ARRAY_SIZE(env)];

#define PUSH_STR(s)                                                                                \
	({                                                                                         \
		size_t l_ = strlen(s) + 1;                                                         \
		if (l_ + 512 > pos)                                                                \
			return -ENOMEM;                                                            \
		pos -= l_;                                                                         \
		memcpy(stack_img + pos, (s), l_);                                                  \
		base + pos;                                                                        \
	})

	uint64_t execfn = PUSH_STR("/init");
	uint64_t platform = PUSH_STR("x86_64");
	unsigned argc = 1 + split_args(bootargs, args, MAX_ARGS - 1);
	argv_va[0] = execfn;
	for (unsigned i = 1; i < argc; i++)
		argv_va[i] = PUSH_STR(args[i - 1]);
	for (unsigned i = 0; i < ARRAY_SIZE(env); i++)
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
	uint64_t nvec = 1 + argc + 1 + ARRAY_SIZE(env) + 1 + 2 * ARRAY_SIZE(auxv);
	if (nvec * 8 + 16 > pos)
		return -ENOMEM;
	pos = ALIGN_DOWN(pos - nvec * 8, 16); /* rsp % 16 == 0 at argc, as the ABI says */
	uint64_t *v = (uint64_t *)(stack_img + pos);
	*v++ = argc;
	for (unsigned i = 0; i < argc; i++)
		*v++ = argv_va[i];
	*v++ = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(env); i++)
		*v++ = env_va[i];
	*v++ = 0;
	memcpy(v, auxv, sizeof(auxv));
#undef PUSH_STR

	p->sp = base + pos;
	return (int)copy_to_user(p->sp, stack_img + pos, cap - pos);
}

int proc_exec_init(const struct boot_info *bi)
{
	struct proc *p = &init_proc;
	struct cpio_file f;
	int r;
	p->pid = 1;
	if (bi->initrd_end <= bi->initrd_start ||
	    cpio_find(phys_to_virt(bi->initrd_start), bi->initrd_end - bi->initrd_start, "init",
		      &f)) {
		kprintf("dmtvm: no /init in the initramfs\n");
		return -EINVAL;
	}
	if ((r = vm_mm_init(&p->mm)))
		return r;
	vm_activate(&p->mm);
	if ((r = elf_load(&p->mm, f.data, f.size, &p->elf)))
		return r;
	p->entry = p->elf.entry;
	p->mm.brk_start = p->mm.brk = p->elf.load_end;
	p->mm.mmap_top = USER_MMAP_TOP;
	if ((r = vma_insert(&p->mm.vmas, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_TOP,
			    VMA_READ | VMA_WRITE, VMA_STACK)))
		return r;
	if ((r = build_stack(p, bi->bootargs))) {
		kprintf("dmtvm: cannot build /init's stack (arguments too long?)\n");
		return r;
	}
	return 0;
}

void proc_start_init(void)
{
	struct dmtvm_hc_ret hc = {0};
	if (kernel_verbose && kernel_tsc_khz)
		kprintf("dmtvm kernel: kmain to /init took %lu us\n",
			(rdtsc() - kernel_boot_tsc) * 1000 / kernel_tsc_khz);
	hypercall(DMTVM_HC_INIT_STARTED, &hc);
	enter_user(init_proc.entry, init_proc.sp);
}

void proc_exit(int status)
{
	struct dmtvm_hc_exit hc = {.status = status & 0xff};
	hypercall(DMTVM_HC_EXIT, &hc);
	panic("EXIT hypercall returned");
}

void proc_kill(int sig)
{
	proc_exit(128 + sig);
}
