/* SPDX-License-Identifier: MIT */
/*
 * devkvm.c: the paravirtual /dev/kvm of the guest kernel
 * (guest-kernel/kvmdev.c, pin.c), run as /init under `dmtvm run
 * --mode=pvdmt`: a tiny L2 in 64-bit long mode (identity-mapped with
 * 2 MiB pages, as dmtvm starts its own guests) writes 'A' to port 0x3f8
 * and halts; L0 reflects both exits to this program as KVM_RUN results.
 * Checks on the way: CHECK_EXTENSION(DMTVM_KVM_CAP_NESTED) is 1, API 12,
 * DMTVM_KVM_PIN keeps the pinned bytes, is idempotent and refuses bad
 * ranges, munmap of pinned memory is refused while the VM lives (EBUSY,
 * EINVAL for a part) and allowed after close, ALLOC_TEA only inside pinned
 * memory, one VM at a time (EBUSY). Prints the cost of one forwarded ioctl
 * and of one reflected KVM_RUN, then "devkvm: ok" (exit 0); a failure
 * prints "devkvm: FAIL <what>" (exit 1). Argument "keep": the pinned RAM
 * stays mapped to the end (for dmtvm.selftest=tea).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "l2_long_mode.h"

#define RAM (4UL << 20)
/* L2 gPAs of its long-mode tables and GDT (not the code page, not the TEA's pages 2-3) */
#define L2_PML4 0x4000UL
#define L2_GDT	0x7000UL

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("devkvm: FAIL %s (line %d, errno %d)\n", what, __LINE__, errno);    \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	/* "keep": leave the pinned RAM mapped, so dmtvm.selftest=tea checks its tables at exit. */
	int keep = argc > 1 && !strcmp(argv[1], "keep");
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(kvm >= 3, "open /dev/kvm");
	CHECK(ioctl(kvm, KVM_CHECK_EXTENSION, DMTVM_KVM_CAP_NESTED) == 1, "CAP_NESTED is 1");
	CHECK(ioctl(kvm, KVM_GET_API_VERSION, 0) == 12, "API version 12");
	uint64_t t0 = now_ns();
	for (int i = 0; i < 200; i++)
		ioctl(kvm, KVM_GET_API_VERSION, 0);
	uint64_t ioctl_ns = (now_ns() - t0) / 200;
	t0 = now_ns();
	for (int i = 0; i < 200; i++)
		getppid(); /* the floor: a system call that does nothing */
	uint64_t syscall_ns = (now_ns() - t0) / 200;

	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	CHECK(vm > kvm, "KVM_CREATE_VM gives an fd");
	CHECK(ioctl(kvm, KVM_CREATE_VM, 0) == -1 && errno == EBUSY, "second VM: EBUSY");
	CHECK(fcntl(vm, F_GETFD) == FD_CLOEXEC, "VM fd is close-on-exec");
	uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ram != MAP_FAILED, "mmap RAM");
	/*
	 * 64-bit code at 0x1000: mov $'A',%al; mov $0x3f8,%dx; out %al,(%dx); hlt.
	 * Written before the pin, with L2's page tables and GDT.
	 */
	static const uint8_t code[] = {0xb0, 'A', 0x66, 0xba, 0xf8, 0x03, 0xee, 0xf4};
	memcpy(ram + 0x1000, code, sizeof(code));
	l2_tables(ram, RAM, L2_PML4, L2_GDT);
	ram[RAM - 1] = 0x5a;

	struct dmtvm_kvm_pin pin = {.uaddr = (uint64_t)ram + 4096, .len = 4095};
	CHECK(ioctl(vm, DMTVM_KVM_PIN, &pin) == -1 && errno == EINVAL, "unaligned pin: EINVAL");
	pin.len = RAM;
	CHECK(ioctl(vm, DMTVM_KVM_PIN, &pin) == -1 && errno == EFAULT, "pin past the VMA: EFAULT");
	pin = (struct dmtvm_kvm_pin){.uaddr = (uint64_t)ram, .len = RAM};
	CHECK(ioctl(vm, DMTVM_KVM_PIN, &pin) == 0 && pin.gpa && !(pin.gpa & 4095), "pin");
	uint64_t base = pin.gpa;
	CHECK(!memcmp(ram + 0x1000, code, sizeof(code)) && ram[RAM - 1] == 0x5a,
	      "pinned pages keep their bytes");
	pin = (struct dmtvm_kvm_pin){.uaddr = (uint64_t)ram + 8192, .len = 4096};
	CHECK(ioctl(vm, DMTVM_KVM_PIN, &pin) == 0 && pin.gpa == base + 8192, "pin is idempotent");
	CHECK(munmap(ram, 4096) == -1 && errno == EINVAL, "munmap part of a pin: EINVAL");
	CHECK(munmap(ram, RAM) == -1 && errno == EBUSY, "munmap pinned while the VM lives: EBUSY");
	CHECK(madvise(ram, RAM, MADV_DONTNEED) == 0 && ram[RAM - 1] == 0x5a,
	      "MADV_DONTNEED keeps pinned pages");

	struct dmtvm_kvm_alloc_tea tea = {.gpa = base + RAM, .pgcnt = 1, .mode = 0};
	CHECK(ioctl(vm, DMTVM_KVM_ALLOC_TEA, &tea) == -1 && errno == EFAULT,
	      "ALLOC_TEA outside pinned memory: EFAULT");
	tea = (struct dmtvm_kvm_alloc_tea){.gpa = base + 2 * 4096, .pgcnt = 2, .mode = 0};
	CHECK(ioctl(vm, DMTVM_KVM_ALLOC_TEA, &tea) == 0 && tea.hpa, "ALLOC_TEA in pinned memory");

	struct kvm_userspace_memory_region region = {
	    .slot = 0, .guest_phys_addr = 0, .memory_size = RAM, .userspace_addr = (uint64_t)ram};
	CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	CHECK(vcpu > vm, "KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	CHECK(size >= (int)sizeof(struct kvm_run), "KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	CHECK(run != MAP_FAILED, "mmap the vCPU fd");
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm, 0) == MAP_FAILED && errno == ENODEV,
	      "mmap a VM fd: ENODEV");

	struct kvm_sregs sregs;
	CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
	l2_sregs(&sregs, L2_PML4, L2_GDT);
	CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
	struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
	CHECK(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

	CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN 1");
	CHECK(run->exit_reason == KVM_EXIT_IO && run->io.port == 0x3f8 &&
		  run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1 &&
		  ((uint8_t *)run)[run->io.data_offset] == 'A',
	      "L2's out reflected as KVM_EXIT_IO 'A' on 0x3f8");
	t0 = now_ns();
	CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN 2");
	uint64_t run_ns = now_ns() - t0;
	CHECK(run->exit_reason == KVM_EXIT_HLT, "L2's hlt reflected as KVM_EXIT_HLT");
	CHECK(ioctl(vcpu, KVM_GET_REGS, &regs) == 0 && regs.rip == 0x1000 + sizeof(code),
	      "rip after hlt");

	CHECK(close(vcpu) == 0 && close(vm) == 0, "close vCPU and VM");
	CHECK(ioctl(vm, KVM_CREATE_VCPU, 0) == -1 && errno == EBADF, "closed VM fd: EBADF");
	CHECK(keep || munmap(ram, RAM) == 0, "munmap pinned after the VM closed");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	CHECK(vm >= 0 && close(vm) == 0, "a new VM after the close");
	printf(
	    "devkvm: forwarded ioctl %llu us (getppid %llu us), reflected KVM_RUN (hlt) %llu us\n",
	    (unsigned long long)(ioctl_ns / 1000), (unsigned long long)(syscall_ns / 1000),
	    (unsigned long long)(run_ns / 1000));
	printf("devkvm: ok\n");
	return 0;
}
