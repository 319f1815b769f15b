/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hypercall.c: libFuzzer target for the hypercall dispatcher and its
 * handlers (vmm/hypercall.c, console.c, hc_lifecycle.c) with untrusted guest
 * RAM and arguments: the input's first 16 KiB become guest RAM, the rest a
 * list of (port, gPA) calls. Console output goes to /dev/null. The run loop
 * and vmm_stop() are not linked: a local vmm_stop records the stop, and
 * the dispatcher must never touch memory outside RAM (ASan watches).
 * Built with DMTVM_HAVE_REPLAY, the VM has the MMU model (--mode=pvdmt) and
 * the translation hypercalls run too; their state (address spaces, TEAs)
 * carries over from one input to the next, as in a real run; so do the
 * nesting hypercall's checks (KVM, without /dev/kvm: see below).
 * Build with libFuzzer:
 *   see tests/vmm/fuzz.sh (with the model: xlate, hostmem, hostmm's
 *   table builders and mmu-model/ are linked too).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "vmm.h"
#include "xlate.h"

#define FUZZ_RAM 16384

static int stops;

void vmm_stop(struct vmm *vm, int status)
{
	(void)vm;
	(void)status;
	stops++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm vm;
	static struct vmm_vcpu vcpu;
	static int devnull = -1;
	if (devnull < 0) {
		/* Console bytes are not the point here. */
		devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		/* Panic reports go to stdio's stderr; sanitizers keep fd 2. */
		stderr = fdopen(devnull, "w");
	}
	/* RAM is exactly FUZZ_RAM bytes on the heap so ASan sees overruns. */
	static uint8_t *ram;
	if (!ram && !(ram = malloc(FUZZ_RAM)))
		return 0;
	size_t n = size < FUZZ_RAM ? size : FUZZ_RAM;
	memset(ram, 0, FUZZ_RAM);
	memcpy(ram, data, n);
	vm.ram = ram;
	vm.mem_size = FUZZ_RAM;
	vm.mode = "pvdmt";
	/*
	 * No platform: DMTVM_HC_KVM (nesting, nkvm.c) runs its argument checks
	 * and then fails (-ENODEV) where L2 would need one, so fuzzing never
	 * creates real VMs (tests/vmm/test_nkvm.c covers the real ones).
	 */
	vm.kvm_fd = -1;
	vcpu.vm = &vm;
	vcpu.fd = -1;
#ifdef DMTVM_HAVE_REPLAY
	if (!vm.xlate) {
		struct vmm_xlate_opts o = {.mode = "pvdmt", .host_shift = 12, .seed = 1};
		char err[256];
		if (vmm_xlate_create(&vm, &o, err, sizeof(err)) < 0) {
			fprintf(stdout, "vmm_xlate_create: %s\n", err);
			abort();
		}
	}
#endif
	for (size_t off = n; off + 6 <= size; off += 6) {
		uint16_t port = (uint16_t)(DMTVM_HC_PORT_BASE + (data[off] % 0x100));
		uint32_t gpa;
		memcpy(&gpa, data + off + 2, 4);
		/* Half the calls aim inside RAM, where the handlers run. */
		if (data[off + 1] & 1)
			gpa %= FUZZ_RAM + 64;
		vmm_hypercall(&vcpu, port, gpa);
	}
	return 0;
}
