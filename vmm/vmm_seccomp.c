/* SPDX-License-Identifier: MIT */
/*
 * vmm_seccomp.c: the allow lists. What each thread does after setup:
 *   vCPU:    the platform's own list (platform.h: KVM_RUN, register reads,
 *            KVM_TRANSLATE by ioctl request; ptrace: ptrace, waits), console
 *            and --trace-out write(2) (the file is opened before the filters),
 *            futex (stop signalling), clock_gettime, malloc internals; with
 *            the model (L0 of a nest) also the L2 VM's ioctls and close().
 *   control: poll/accept4/read/write/close on its sockets, the same basics.
 *   main:    waits (futex), prints the report, removes the socket file.
 * Everything else traps (SIGSYS), including socket(), open(), execve() and
 * mapping executable memory.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm_seccomp.h"
#include "vmm.h"

static const int common_syscalls[] = {
    SCMP_SYS(write),
    SCMP_SYS(writev),
    /* musl stdio */ SCMP_SYS(futex),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(munmap),
    SCMP_SYS(brk),
    SCMP_SYS(madvise),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(sched_yield),
    SCMP_SYS(restart_syscall),
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /*
     * Sanitizer builds only (make check-asan): the runtime queries and
     * removes a thread's alternate signal stack when the thread exits.
     * Harmless (the calling thread's own stack pointer for signals).
     */
    SCMP_SYS(sigaltstack),
#endif
};

static int load(const int *extra, size_t nextra, const unsigned long *ioctls, size_t nioctls,
		const char *who, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int r = ctx ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < sizeof(common_syscalls) / sizeof(int); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, common_syscalls[i], 0);
	/* malloc may map and protect memory, never executable memory. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	for (size_t i = 0; r == 0 && i < nextra; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0);
	for (size_t i = 0; r == 0 && i < nioctls; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	if (r == 0)
		r = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	if (r < 0) {
		snprintf(err, errlen, "seccomp filter for the %s thread: %s", who, strerror(-r));
		return -1;
	}
	return 0;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char msg[96];
	/* Only async-signal-safe calls, and only ones every filter allows. */
	int n =
	    snprintf(msg, sizeof(msg),
		     "dmtvm: seccomp: forbidden system call %d refused; exiting\n", si->si_syscall);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

void vmm_seccomp_install_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
}

int vmm_seccomp_vcpu(struct vmm *vm, char *err, size_t errlen)
{
	const struct vmm_platform *p = vm->platform;
	int extra[32];
	unsigned long ioctls[48];
	size_t ne = 0, ni = 0;
	for (size_t i = 0; i < p->n_vcpu_syscalls && ne < 31; i++)
		extra[ne++] = p->vcpu_syscalls[i];
	for (size_t i = 0; i < p->n_vcpu_ioctls && ni < 48; i++)
		ioctls[ni++] = p->vcpu_ioctls[i];
#ifdef DMTVM_HAVE_REPLAY
	/*
	 * L0 of a nest (nkvm.c): L1's /dev/kvm ioctls run here, on the L1 vCPU
	 * thread: exactly nkvm.c's allow list (by request number), close() of
	 * the L2 VM and vCPU fds, and mmap/munmap of L2's kvm_run (allowed
	 * above: never executable).
	 */
	static const unsigned long nkvm_ioctls[] = {
	    KVM_RUN,
	    KVM_GET_REGS,
	    KVM_GET_SREGS,
	    KVM_TRANSLATE,
	    KVM_GET_API_VERSION,
	    KVM_CREATE_VM,
	    KVM_GET_VCPU_MMAP_SIZE,
	    KVM_CHECK_EXTENSION,
	    KVM_GET_SUPPORTED_CPUID,
	    KVM_SET_TSS_ADDR,
	    KVM_SET_IDENTITY_MAP_ADDR,
	    KVM_SET_USER_MEMORY_REGION,
	    KVM_CREATE_VCPU,
	    KVM_GET_TSC_KHZ,
	    KVM_SET_REGS,
	    KVM_SET_SREGS,
	    KVM_SET_FPU,
	    KVM_SET_CPUID2,
	    KVM_SET_MP_STATE,
	};
	if (vm->kvm_fd >= 0) {
		for (size_t i = 0; i < sizeof(nkvm_ioctls) / sizeof(nkvm_ioctls[0]) && ni < 48; i++)
			ioctls[ni++] = nkvm_ioctls[i];
		extra[ne++] = SCMP_SYS(close);
	}
#endif
	return load(extra, ne, ioctls, ni, "vCPU", err, errlen);
}

int vmm_seccomp_ctl(struct vmm *vm, char *err, size_t errlen)
{
	(void)vm;
	static const int extra[] = {
	    SCMP_SYS(poll),  SCMP_SYS(ppoll),	 SCMP_SYS(accept4), SCMP_SYS(accept),
	    SCMP_SYS(read),  SCMP_SYS(recvfrom), SCMP_SYS(sendto),  SCMP_SYS(close),
	    SCMP_SYS(fcntl), SCMP_SYS(shutdown),
	};
	return load(extra, sizeof(extra) / sizeof(int), NULL, 0, "control", err, errlen);
}

int vmm_seccomp_main(struct vmm *vm, char *err, size_t errlen)
{
	(void)vm;
	static const int extra[] = {
	    SCMP_SYS(fstat),  SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	    SCMP_SYS(unlink), SCMP_SYS(close),	    SCMP_SYS(tgkill),
	};
	return load(extra, sizeof(extra) / sizeof(int), NULL, 0, "main", err, errlen);
}

void vmm_seccomp_probe(const char *what)
{
	fprintf(stderr, "dmtvm: seccomp probe: calling %s() after setup\n", what);
	int r;
	if (strcmp(what, "execve") == 0) {
		char *const argv[] = {"/bin/true", NULL};
		r = execve("/bin/true", argv, argv + 1);
	} else {
		r = socket(AF_UNIX, SOCK_STREAM, 0);
		if (r >= 0)
			close(r);
	}
	fprintf(stderr, "dmtvm: seccomp probe: %s() was allowed (returned %d)\n", what, r);
}
