/* SPDX-License-Identifier: MIT */
/*
 * kvmbad.c: runs in L1 (as /init's program in nested.img) and hands the
 * paravirtual /dev/kvm bad arguments: unmapped or oversized memory regions,
 * bad pins, bad EPT12 registrations, NULL and invalid vCPU state, a second
 * VM or vCPU, an unknown ioctl. Each must fail with an error (ret -1), never
 * hang and never take L0 down; then a vCPU with no memory at its reset rip
 * is run: KVM_RUN must come back with an exit, not hang. One line per case,
 * "kvmbad: ok N cases" and status 0 when all behaved, else status 1;
 * status 77 when /dev/kvm is not the paravirtual one (not nested).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmtvm_abi.h"

static int ncases, nfail;

/* A call that must fail: ret < 0. */
static void expect_err(const char *what, long r)
{
	ncases++;
	if (r < 0) {
		printf("kvmbad: %-34s refused (%s)\n", what, strerror(errno));
	} else {
		nfail++;
		printf("kvmbad: FAIL %-29s accepted (ret %ld)\n", what, r);
	}
}

static void expect_ok(const char *what, long r)
{
	ncases++;
	if (r >= 0) {
		printf("kvmbad: %-34s ok\n", what);
	} else {
		nfail++;
		printf("kvmbad: FAIL %-29s %s\n", what, strerror(errno));
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0) {
		printf("kvmbad: cannot open /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(kvm, KVM_CHECK_EXTENSION, DMTVM_KVM_CAP_NESTED) != 1) {
		printf("kvmbad: /dev/kvm is not dmtvm's paravirtual one: not nested\n");
		return 77;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	expect_ok("KVM_CREATE_VM", vm);
	if (vm < 0)
		return 1;
	expect_err("second KVM_CREATE_VM (one L2 per L1)", ioctl(kvm, KVM_CREATE_VM, 0));

	/* Memory regions. */
	struct kvm_userspace_memory_region rg = {.slot = 0,
						 .guest_phys_addr = 0,
						 .memory_size = 2 << 20,
						 .userspace_addr =
						     0x100000000000ULL}; /* never mapped */
	expect_err("region at an unmapped address", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rg));
	uint8_t *mem =
	    mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		printf("kvmbad: mmap: %s\n", strerror(errno));
		return 1;
	}
	rg.userspace_addr = (uintptr_t)mem;
	rg.memory_size = 4097;
	expect_err("region of 4097 bytes", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rg));
	rg.memory_size = 1ULL << 40;
	expect_err("region of 1 TiB (beyond the mapping)",
		   ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rg));
	rg.memory_size = 2 << 20;
	rg.guest_phys_addr = 12345;
	expect_err("region at unaligned gPA", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rg));
	expect_err("region with a NULL argument", ioctl(vm, KVM_SET_USER_MEMORY_REGION, NULL));

	/* The extensions. */
	struct dmtvm_kvm_pin pin = {.uaddr = 0x100000000000ULL, .len = 4096};
	expect_err("DMTVM_KVM_PIN of unmapped memory", ioctl(vm, DMTVM_KVM_PIN, &pin));
	pin = (struct dmtvm_kvm_pin){.uaddr = (uintptr_t)mem + 1, .len = 4096};
	expect_err("DMTVM_KVM_PIN unaligned", ioctl(vm, DMTVM_KVM_PIN, &pin));
	pin = (struct dmtvm_kvm_pin){.uaddr = (uintptr_t)mem, .len = 0};
	expect_err("DMTVM_KVM_PIN of 0 bytes", ioctl(vm, DMTVM_KVM_PIN, &pin));
	struct dmtvm_kvm_alloc_tea tea = {.gpa = 1ULL << 46, .pgcnt = 1};
	expect_err("DMTVM_KVM_ALLOC_TEA outside pinned memory",
		   ioctl(vm, DMTVM_KVM_ALLOC_TEA, &tea));
	static struct dmtvm_kvm_ept12 ept;
	ept.root = ~0ULL & ~4095ULL;
	expect_err("DMTVM_KVM_SET_EPT12 root outside L1 RAM", ioctl(vm, DMTVM_KVM_SET_EPT12, &ept));
	ept.root = 0;
	ept.nregs = DMTVM_EPT12_REGS_MAX + 1;
	expect_err("DMTVM_KVM_SET_EPT12 with 17 registers", ioctl(vm, DMTVM_KVM_SET_EPT12, &ept));
	expect_err("unknown VM ioctl 0xAEff", ioctl(vm, _IO(KVMIO, 0xff), 0));

	/* A real region, then a vCPU with bad state. */
	pin = (struct dmtvm_kvm_pin){.uaddr = (uintptr_t)mem, .len = 2 << 20};
	expect_ok("DMTVM_KVM_PIN of 2 MiB", ioctl(vm, DMTVM_KVM_PIN, &pin));
	rg.guest_phys_addr = 0;
	expect_ok("region of 2 MiB at gPA 0", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rg));
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	expect_ok("KVM_CREATE_VCPU 0", vcpu);
	if (vcpu < 0)
		return 1;
	expect_err("KVM_CREATE_VCPU 1 (one vCPU)", ioctl(vm, KVM_CREATE_VCPU, 1));
	expect_err("KVM_SET_REGS with a NULL argument", ioctl(vcpu, KVM_SET_REGS, NULL));
	expect_err("KVM_GET_SREGS to an unmapped buffer",
		   ioctl(vcpu, KVM_GET_SREGS, (void *)0x100000000000ULL));
	struct kvm_sregs sr;
	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0) {
		printf("kvmbad: KVM_GET_SREGS: %s\n", strerror(errno));
		return 1;
	}
	struct kvm_sregs bad = sr;
	bad.cr0 |= 0x80000000u; /* paging on ... */
	bad.cr0 &= ~1ULL;	/* ... with protection off: invalid */
	expect_err("KVM_SET_SREGS CR0.PG without CR0.PE", ioctl(vcpu, KVM_SET_SREGS, &bad));
	bad = sr;
	bad.efer |= 0x400; /* EFER.LMA without LME and paging */
	expect_err("KVM_SET_SREGS EFER.LMA without paging", ioctl(vcpu, KVM_SET_SREGS, &bad));
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run =
	    sz > 0 ? mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0)
		   : MAP_FAILED;
	if (run == MAP_FAILED) {
		printf("kvmbad: mmap of the vCPU: %s\n", strerror(errno));
		return 1;
	}
	/* Reset state: rip 0xfff0 with CS base 0xffff0000, no memory there. */
	ncases++;
	long r = ioctl(vcpu, KVM_RUN, 0);
	if (r < 0)
		printf("kvmbad: %-34s returned: %s\n", "KVM_RUN with no code at rip",
		       strerror(errno));
	else if (run->exit_reason == KVM_EXIT_IO && run->io.port >= DMTVM_HC_PORT_BASE &&
		 run->io.port <= DMTVM_HC_PORT_MAX)
		printf("kvmbad: FAIL KVM_RUN: a hypercall exit from no code\n"), nfail++;
	else
		printf("kvmbad: %-34s exit reason %u\n", "KVM_RUN with no code at rip",
		       run->exit_reason);
	close(vcpu);
	close(vm);
	close(kvm);
	if (nfail) {
		printf("kvmbad: FAIL %d of %d cases\n", nfail, ncases);
		return 1;
	}
	printf("kvmbad: ok %d cases\n", ncases);
	return 0;
}
