/* SPDX-License-Identifier: MIT */
/*
 * platform/ptrace_proc.c: the traced host processes of the ptrace platform.
 *
 * A child is forked from its vCPU's tracer thread and made bare before the
 * guest ever runs: default signal dispositions, no fd but guest RAM,
 * PTRACE_TRACEME (the tracer sets PTRACE_O_EXITKILL: it dies with us),
 * no_new_privs and a seccomp filter that allows exactly the calls the
 * platform injects (mmap of guest RAM, munmap). It then jumps to the stub
 * page (PT_STUB_VA, in the range dmtvm_abi.h reserves for the platform),
 * which unmaps everything else, the host's vDSO and stack included, and
 * stops on int3. From then on the guest runs under PTRACE_SYSEMU: a
 * `syscall` in guest code stops the tracer and never runs on the host. The
 * platform runs a call of its own by pointing rip at the stub's
 * `syscall; int3` and resuming with PTRACE_CONT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <sys/rseq.h>
#endif

#include "ptrace.h"

/*
 * The stub (position independent; copied to PT_STUB_VA): unmap all but
 * itself (and its batch table), stop; then `syscall; int3` for the
 * platform's injected calls, and a loop of mmaps over the batch table.
 */
__asm__(".pushsection .rodata\n"
	".globl pt_stub_start, pt_stub_syscall, pt_stub_batch, pt_stub_end\n"
	"pt_stub_start:\n"
	"	mov $11, %eax\n" /* munmap(0, PT_STUB_VA) */
	"	xor %edi, %edi\n"
	"	movabs $0x7fff00000000, %rsi\n"
	"	syscall\n"
	"	mov $11, %eax\n" /* munmap(after the batch table, to the top) */
	"	movabs $0x7fff00009000, %rdi\n"
	"	movabs $0xffff7000, %rsi\n"
	"	syscall\n"
	"	test %r12, %r12\n" /* spawned untraced: stop until a tracer seizes us */
	"	jz 1f\n"
	"	mov $39, %eax\n" /* getpid */
	"	syscall\n"
	"	mov %eax, %edi\n"
	"	mov $19, %esi\n" /* kill(pid, SIGSTOP) */
	"	mov $62, %eax\n"
	"	syscall\n"
	"1:	int3\n"
	"pt_stub_syscall:\n"
	"	syscall\n"
	"	int3\n"
	/* mmap of each {addr, len, prot, flags, fd, off} of the table at rbx, r12 of them */
	"pt_stub_batch:\n"
	"2:	test %r12, %r12\n"
	"	jz 3f\n"
	"	mov (%rbx), %rdi\n"
	"	mov 8(%rbx), %rsi\n"
	"	mov 16(%rbx), %rdx\n"
	"	mov 24(%rbx), %r10\n"
	"	mov 32(%rbx), %r8\n"
	"	mov 40(%rbx), %r9\n"
	"	mov $9, %eax\n"
	"	syscall\n"
	"	cmp %rdi, %rax\n"
	"	jne 3f\n" /* failed: rax = -errno, r12 = entries left */
	"	add $48, %rbx\n"
	"	dec %r12\n"
	"	jmp 2b\n"
	"3:	int3\n"
	"pt_stub_end:\n"
	".popsection\n");
extern const char pt_stub_start[], pt_stub_syscall[], pt_stub_batch[], pt_stub_end[];
_Static_assert(PT_STUB_VA == 0x7fff00000000ULL && PT_BATCH_VA == 0x7fff00001000ULL &&
		   PT_BATCH_VA + PT_BATCH_SIZE == 0x7fff00009000ULL &&
		   PT_HOST_TOP - PT_BATCH_VA - PT_BATCH_SIZE == 0xffff7000ULL,
	       "the stub's constants");

#define STUB_SYSCALL (PT_STUB_VA + (uint64_t)(pt_stub_syscall - pt_stub_start))
#define STUB_BATCH   (PT_STUB_VA + (uint64_t)(pt_stub_batch - pt_stub_start))

/*
 * The child's filter: mmap of guest RAM (fd = ram_fd) and munmap; any
 * other call that would really run (a vsyscall emulation, say) raises
 * SIGSYS, which the tracer turns into a guest exception.
 */
#define ARG_LO(n)  (offsetof(struct seccomp_data, args) + 8 * (n))
#define FILTER_LEN 17
static void build_filter(struct sock_filter f[FILTER_LEN], int ram_fd)
{
	struct sock_filter prog[FILTER_LEN] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 10, 0),
	    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 9, 0),
	    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 5, 0),
	    /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 8),
	    /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(4)), /* fd */
	    /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)ram_fd, 0, 6),
	    /* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(4) + 4),
	    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 4),
	    /* 12: kill, only the stub's own SIGSTOP */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
	    /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGSTOP, 1, 2),
	    /* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	    /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    /* 16 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	memcpy(f, prog, sizeof(prog));
}

/* In the child, after fork: async-signal-safe calls only (other threads may hold locks). */
__attribute__((noreturn)) static void child_main(int ram_fd, int batch_fd,
						 const struct sock_fprog *prog, bool traced)
{
	/* The batch table: written by the tracer, read by the stub (read-only here). */
	if (mmap((void *)PT_BATCH_VA, PT_BATCH_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE,
		 batch_fd, 0) != (void *)PT_BATCH_VA)
		_exit(125);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (ram_fd > 0)
		syscall(SYS_close_range, 0, ram_fd - 1, 0);
	syscall(SYS_close_range, ram_fd + 1, ~0U, 0);
	if (traced && ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(120);
#ifdef __GLIBC__
	/*
	 * glibc registered the thread's rseq area; it is about to be unmapped,
	 * and the host would then fail every return to user mode (SIGSEGV).
	 */
	if (__rseq_size) {
		/* Registered with the area's length (32), not __rseq_size (20, its features). */
		char *area = (char *)__builtin_thread_pointer() + __rseq_offset;
		if (syscall(SYS_rseq, area, 32, 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG) < 0 &&
		    syscall(SYS_rseq, area, __rseq_size, 1, RSEQ_SIG) < 0)
			_exit(124);
	}
#endif
	void *stub = mmap((void *)PT_STUB_VA, PT_STUB_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (stub != (void *)PT_STUB_VA)
		_exit(121);
	memcpy(stub, pt_stub_start, (size_t)(pt_stub_end - pt_stub_start));
	if (mprotect(stub, PT_STUB_SIZE, PROT_READ | PROT_EXEC) < 0)
		_exit(122);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) < 0)
		_exit(123);
	__asm__ volatile("mov %1, %%r12\n\tjmp *%0" ::"r"(stub), "r"((long)!traced) : "r12");
	__builtin_unreachable();
}

/*
 * The next stop of p. Any of this thread's traced processes is waited for,
 * so that one killed while another runs (the user process while the guest
 * kernel spins) ends the run at once; another's stop is left pending.
 */
static int wait_stop(struct pt_proc *p, int *status, char *err, size_t errlen)
{
	for (;;) {
		pid_t r = waitpid(-1, status, __WALL | __WNOTHREAD);
		if (r == p->pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0 && (WIFEXITED(*status) || WIFSIGNALED(*status))) {
			snprintf(err, errlen, "ptrace: traced process %d %s %d", r,
				 WIFEXITED(*status) ? "exited with status" : "was killed by signal",
				 WIFEXITED(*status) ? WEXITSTATUS(*status) : WTERMSIG(*status));
			return -1;
		}
		if (r > 0)
			continue; /* another process's stop: it stays stopped until resumed */
		snprintf(err, errlen, "ptrace: waitpid of the %s process %d: %s", p->name, p->pid,
			 strerror(errno));
		return -1;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		snprintf(err, errlen, "ptrace: the %s process %d %s %d", p->name, p->pid,
			 WIFEXITED(*status) ? "exited with status" : "was killed by signal",
			 WIFEXITED(*status) ? WEXITSTATUS(*status) : WTERMSIG(*status));
		p->pid = 0;
		return -1;
	}
	return 0;
}

/* The tracer's side once the child stopped on the stub's int3. */
static int take(struct pt_proc *p, char *err, size_t errlen)
{
	int st;
	if (wait_stop(p, &st, err, errlen) < 0)
		return -1;
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) {
		snprintf(err, errlen, "ptrace: the %s process stopped with signal %d, not SIGTRAP",
			 p->name, WSTOPSIG(st));
		return -1;
	}
	if (ptrace(PTRACE_SETOPTIONS, p->pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0 ||
	    ptrace(PTRACE_GETREGS, p->pid, 0, &p->regs) < 0) {
		snprintf(err, errlen, "ptrace: PTRACE_SETOPTIONS: %s", strerror(errno));
		return -1;
	}
	p->dirty = false;
	return 0;
}

/* The batch table shared with a child: our mapping in *table. */
static int batch_table(void **table, char *err, size_t errlen)
{
	int fd = memfd_create("dmtvm-ptrace-batch", MFD_CLOEXEC);
	void *t = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, PT_BATCH_SIZE) == 0)
		t = mmap(NULL, PT_BATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		snprintf(err, errlen, "ptrace: batch table: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*table = t;
	return fd;
}

static pid_t spawn(int ram_fd, bool traced, void **table, char *err, size_t errlen)
{
	struct sock_filter f[FILTER_LEN];
	build_filter(f, ram_fd);
	struct sock_fprog prog = {.len = FILTER_LEN, .filter = f};
	int bfd = batch_table(table, err, errlen);
	if (bfd < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		snprintf(err, errlen, "ptrace: fork: %s", strerror(errno));
	if (pid == 0)
		child_main(ram_fd, bfd, &prog, traced);
	close(bfd);
	return pid;
}

int pt_proc_spawn(struct pt_proc *p, int ram_fd, const char *name, char *err, size_t errlen)
{
	p->name = name;
	if ((p->pid = spawn(ram_fd, true, &p->batch, err, errlen)) < 0)
		return -1;
	return take(p, err, errlen);
}

pid_t pt_proc_spawn_stopped(int ram_fd, void **batch, char *err, size_t errlen)
{
	return spawn(ram_fd, false, batch, err, errlen);
}

int pt_proc_adopt(struct pt_proc *p, pid_t pid, void *batch, const char *name, char *err,
		  size_t errlen)
{
	p->name = name;
	p->pid = pid;
	p->batch = batch;
	/* It stops itself (SIGSTOP) once bare; seize it, wait for that, let it reach int3. */
	int st;
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0) {
		snprintf(err, errlen, "ptrace: PTRACE_SEIZE of the %s process: %s", name,
			 strerror(errno));
		return -1;
	}
	for (;;) {
		if (wait_stop(p, &st, err, errlen) < 0)
			return -1;
		if (WSTOPSIG(st) == SIGTRAP)
			break;
		/* The group stop (or its SIGSTOP): resume towards the int3. */
		if (ptrace(PTRACE_CONT, pid, 0, 0) < 0) {
			snprintf(err, errlen, "ptrace: PTRACE_CONT of the %s process: %s", name,
				 strerror(errno));
			return -1;
		}
	}
	if (ptrace(PTRACE_GETREGS, pid, 0, &p->regs) < 0) {
		snprintf(err, errlen, "ptrace: PTRACE_GETREGS: %s", strerror(errno));
		return -1;
	}
	p->dirty = false;
	return 0;
}

int pt_proc_run(struct pt_proc *p, int *sig, siginfo_t *si, char *err, size_t errlen)
{
	if (p->dirty) {
		if (ptrace(PTRACE_SETREGS, p->pid, 0, &p->regs) < 0) {
			snprintf(err, errlen, "ptrace: PTRACE_SETREGS (%s): %s", p->name,
				 strerror(errno));
			return -1;
		}
		p->dirty = false;
	}
	if (ptrace(PTRACE_SYSEMU, p->pid, 0, 0) < 0) {
		snprintf(err, errlen, "ptrace: PTRACE_SYSEMU (%s): %s", p->name, strerror(errno));
		return -1;
	}
	int st;
	if (wait_stop(p, &st, err, errlen) < 0)
		return -1;
	*sig = WSTOPSIG(st);
	if (ptrace(PTRACE_GETREGS, p->pid, 0, &p->regs) < 0) {
		snprintf(err, errlen, "ptrace: PTRACE_GETREGS (%s): %s", p->name, strerror(errno));
		return -1;
	}
	/* The caller asks for the siginfo it needs (pt_proc_siginfo): a ring-0
	 * privileged instruction is emulated without it. */
	(void)si;
	return 0;
}

void pt_proc_siginfo(struct pt_proc *p, siginfo_t *si)
{
	if (ptrace(PTRACE_GETSIGINFO, p->pid, 0, si) < 0)
		memset(si, 0, sizeof(*si));
}

long pt_proc_inject(struct pt_proc *p, long nr, long a0, long a1, long a2, long a3, long a4,
		    long a5)
{
	struct user_regs_struct r = p->regs;
	r.rip = STUB_SYSCALL;
	r.rax = (unsigned long)nr;
	r.orig_rax = ~0UL; /* no system-call restart on the way out */
	r.rdi = (unsigned long)a0;
	r.rsi = (unsigned long)a1;
	r.rdx = (unsigned long)a2;
	r.r10 = (unsigned long)a3;
	r.r8 = (unsigned long)a4;
	r.r9 = (unsigned long)a5;
	char err[128];
	int st;
	if (ptrace(PTRACE_SETREGS, p->pid, 0, &r) < 0 || ptrace(PTRACE_CONT, p->pid, 0, 0) < 0 ||
	    wait_stop(p, &st, err, sizeof(err)) < 0 || ptrace(PTRACE_GETREGS, p->pid, 0, &r) < 0)
		return -EIO;
	p->dirty = true; /* the guest's registers go back before it resumes */
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
		return -EIO;
	return (long)r.rax;
}

long pt_proc_inject_mmaps(struct pt_proc *p, const struct pt_mmap *m, unsigned n)
{
	if (n > PT_BATCH_MAX)
		return -EINVAL;
	memcpy(p->batch, m, n * sizeof(*m));
	struct user_regs_struct r = p->regs;
	r.rip = STUB_BATCH;
	r.rbx = PT_BATCH_VA;
	r.r12 = n;
	r.orig_rax = ~0UL;
	char err[128];
	int st;
	if (ptrace(PTRACE_SETREGS, p->pid, 0, &r) < 0 || ptrace(PTRACE_CONT, p->pid, 0, 0) < 0 ||
	    wait_stop(p, &st, err, sizeof(err)) < 0 || ptrace(PTRACE_GETREGS, p->pid, 0, &r) < 0)
		return -EIO;
	p->dirty = true;
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
		return -EIO;
	return r.r12 ? (long)r.rax : 0; /* entries left: the failed one's -errno */
}
