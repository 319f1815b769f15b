/* SPDX-License-Identifier: MIT */
/*
 * test_nkvm.c: L0's side of nesting (vmm/nkvm.c, vmm/xlate_l2.c) without an
 * L1 kernel: the DMTVM_HC_KVM handler is called directly (and once through
 * the dispatcher) with argument structures in a malloc'd "L1 RAM", on the
 * real /dev/kvm (those tests skip without it):
 *   - argument validation: unknown commands, targets, sizes, bad gPAs,
 *     memory regions outside L1 RAM, a second VM, vCPU ids out of range,
 *     EPT12 outside L1 RAM: exact -errno values, nothing created;
 *   - a real L2 (long mode, 16 bytes of code in L1 RAM): its TRACE_FLUSH is
 *     served at L0 (L1 never sees it), its EXIT is reflected to L1's run
 *     area; CLOSE lets L1 create a new VM;
 *   - the L2 model (no KVM): L2 tables, EPT12 (vmm/ept12.c) and L0's EPT01
 *     in 3D, walk caches off: one cold access costs exactly 124 references
 *     under x86-3d, 24 under x86-nested-ept02 and 3 under pvdmt-nested.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "dmtvm_trace.h"
#include "ept12.h"
#include "hypercall.h"
#include "mmu.h"
#include "l2_long_mode.h"
#include "nkvm.h"
#include "vmm.h"
#include "xlate.h"

#define MEM (64ULL << 20)

void vmm_stop(struct vmm *vm, int status)
{
	(void)vm;
	(void)status;
}

static struct vmm vm;
static struct vmm_vcpu vcpu;

static const struct vmm_platform l2_on_kvm = {.name = "kvm", .l2 = &vmm_l2_kvm};

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.ram = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(vm.ram != MAP_FAILED);
	vm.mem_size = MEM;
	vm.mode = "pvdmt";
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm.platform = &l2_on_kvm; /* L2 as a real KVM VM (platform/kvm_nested.c) */
	vcpu.vm = &vm;
	vcpu.fd = -1;
}

static void need_kvm(void)
{
	if (vm.kvm_fd < 0)
		cr_skip_test("no /dev/kvm");
}

/* One KVM hypercall, argument structure copied to L1 gPA arg when len > 0. */
static int64_t kvm(uint64_t target, uint64_t cmd, uint64_t arg, uint64_t len)
{
	struct dmtvm_hc_kvm a = {.target = target, .cmd = cmd, .arg = arg, .arg_len = len};
	cr_assert_eq(vmm_hc_kvm(&vcpu, &a), VMM_HC_RESUME);
	return a.ret;
}

#define SYS  DMTVM_KVM_TARGET_SYSTEM
#define VM   DMTVM_KVM_TARGET_VM
#define VCPU DMTVM_KVM_TARGET_VCPU(0)

TestSuite(nkvm, .init = setup);

Test(nkvm, refuses_unknown_and_malformed)
{
	need_kvm();
	cr_assert_eq(kvm(SYS, KVM_GET_API_VERSION, 0, 0), KVM_API_VERSION);
	cr_assert_eq(kvm(SYS, KVM_CHECK_EXTENSION, DMTVM_KVM_CAP_NESTED, 0), 1);
	cr_assert_eq(kvm(SYS, 0xdeadbeef, 0, 0), -ENOTTY);
	cr_assert_eq(kvm(SYS, KVM_SET_REGS, 0, 0), -ENOTTY); /* a vCPU ioctl on /dev/kvm */
	cr_assert_eq(kvm(7, KVM_GET_API_VERSION, 0, 0), -EBADF);
	cr_assert_eq(kvm(DMTVM_KVM_TARGET_VCPU(1), KVM_RUN, 0, 0), -EBADF);
	/* No VM yet: VM and vCPU targets do not exist. */
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 0, 0), -EBADF);
	cr_assert_eq(kvm(VCPU, KVM_GET_TSC_KHZ, 0, 0), -EBADF);
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 1, 0), -EINVAL); /* machine type */
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 0, 0), VM);
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 0, 0), -EBUSY); /* one L2 VM at a time */
	cr_assert_eq(kvm(VM, KVM_CREATE_IRQCHIP, 0, 0), -EINVAL);
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 1, 0), -EINVAL); /* DMTVM_KVM_MAX_VCPUS */
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 1ULL << 32, 0), -EINVAL);
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 0, 0), VCPU);
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 0, 0), -EEXIST);
	/* Sizes: exact, and never above DMTVM_KVM_ARG_MAX. */
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, 0x1000, sizeof(struct kvm_regs) - 1), -EINVAL);
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, 0x1000, 0), -EINVAL);
	cr_assert_eq(kvm(SYS, KVM_GET_SUPPORTED_CPUID, 0x1000, DMTVM_KVM_ARG_MAX + 8), -EINVAL);
	cr_assert_eq(kvm(SYS, KVM_GET_SUPPORTED_CPUID, 0x1000, 4), -EINVAL);
	struct kvm_cpuid2 *cp = (struct kvm_cpuid2 *)(vm.ram + 0x1000);
	cp->nent = 2; /* 2 entries do not fit in 16 bytes */
	cr_assert_eq(kvm(SYS, KVM_GET_SUPPORTED_CPUID, 0x1000, 16), -EINVAL);
	/* gPAs: any alignment inside RAM; across its end or wrapping: -EFAULT. */
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, MEM - 8, sizeof(struct kvm_regs)), -EFAULT);
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, ~0ULL - 4, sizeof(struct kvm_regs)), -EFAULT);
	memset(vm.ram + 0x2003, 0x5a, sizeof(struct kvm_regs));
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, 0x2003, sizeof(struct kvm_regs)), 0);
	struct kvm_regs r;
	memcpy(&r, vm.ram + 0x2003, sizeof(r));
	cr_assert_eq(r.rip, 0xfff0); /* reset state, written back unaligned */
	/* KVM_RUN: the run area's size is KVM_GET_VCPU_MMAP_SIZE's. */
	int64_t sz = kvm(SYS, KVM_GET_VCPU_MMAP_SIZE, 0, 0);
	cr_assert_gt(sz, 0);
	cr_assert_eq(kvm(VCPU, KVM_RUN, 0x10000, (uint64_t)sz - 1), -EINVAL);
	cr_assert_eq(kvm(VCPU, KVM_RUN, MEM - 4096, (uint64_t)sz), -EFAULT);
}

Test(nkvm, memory_regions_and_ept12)
{
	need_kvm();
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 0, 0), VM);
	struct kvm_userspace_memory_region *m = (void *)(vm.ram + 0x1000);
	const uint64_t sz = sizeof(*m);
	*m = (struct kvm_userspace_memory_region){.slot = 0,
						  .guest_phys_addr = 0,
						  .memory_size = 16 << 20,
						  .userspace_addr = MEM - (8 << 20)};
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), -EFAULT); /* past L1 RAM */
	m->userspace_addr = ~0ULL << 12;
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), -EFAULT); /* wraps */
	m->userspace_addr = (16 << 20) + 8;
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), -EINVAL); /* unaligned */
	m->userspace_addr = 16 << 20;
	m->flags = KVM_MEM_READONLY;
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), -EINVAL);
	m->flags = 0;
	m->slot = NKVM_MAX_SLOTS;
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), -EINVAL);
	m->slot = 0;
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz - 1), -EINVAL);
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sz), 0);
	cr_assert_eq(m->userspace_addr, 16 << 20); /* L0's address is not leaked back */
	/* EPT12: root and TEAs in L1 RAM, sane registers. */
	struct dmtvm_kvm_ept12 *e = (void *)(vm.ram + 0x2000);
	const uint64_t esz = sizeof(*e);
	*e = (struct dmtvm_kvm_ept12){.root = MEM, .nregs = 0};
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EFAULT);
	e->root = 0x3008;
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EINVAL);
	e->root = 0x3000;
	e->nregs = DMTVM_EPT12_REGS_MAX + 1;
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EINVAL);
	e->nregs = 1;
	e->regs[0] = (struct dmtvm_ept12_reg){
	    .base = 0, .limit = 16 << 20, .tea = MEM - 4096, .page_shift = 12};
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EFAULT); /* 32 KiB of TEA */
	e->regs[0].page_shift = 13;
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EINVAL);
	e->regs[0].page_shift = 12;
	e->regs[0].tea = 0x8000;
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), 0);
	char buf[512];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf));
	vmm_nkvm_tables_json(&vm, &w);
	cr_assert_str_eq(buf,
			 "{\"vm\":true,\"slots\":[{\"slot\":0,\"l2_gpa\":0,\"size\":16777216,"
			 "\"l1_gpa\":16777216}],\"ept12_root\":12288,\"ept12_regs\":[{\"base\":0,"
			 "\"limit\":16777216,\"tea\":32768,\"page_shift\":12}]}");
	/* CLOSE: the VM goes, a new one can be created. */
	cr_assert_eq(kvm(VM, DMTVM_KVM_CLOSE, 0, 0), 0);
	cr_assert_eq(kvm(VM, DMTVM_KVM_SET_EPT12, 0x2000, esz), -EBADF);
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 0, 0), VM);
}

/*
 * L2 in 64-bit long mode at L2 gPA 0x1000 (L1 gPA 16 MiB + 0x1000), VA =
 * gPA through one 2 MiB page (tables at L2 gPA 0xa000-0xc000, GDT 0xd000):
 *   mov $0x2000, %eax; mov $TRACE_FLUSH port, %dx; out %eax, (%dx);
 *   mov $EXIT port, %dx; out %eax, (%dx); hlt
 */
Test(nkvm, run_serves_magic_and_reflects)
{
	need_kvm();
	const uint64_t l2_ram = 16 << 20, run_gpa = 0x10000;
	static const uint8_t code[] = {0xb8, 0x00, 0x20, 0x00, 0x00, 0x66, 0xba, 0x05,
				       0x05, 0xef, 0x66, 0xba, 0x01, 0x05, 0xef, 0xf4};
	memcpy(vm.ram + l2_ram + 0x1000, code, sizeof(code));
	l2_tables(vm.ram + l2_ram, 1 << 20, 0xa000, 0xd000);
	struct dmtvm_hc_trace_flush *tf = (void *)(vm.ram + l2_ram + 0x2000);
	*tf = (struct dmtvm_hc_trace_flush){.ret = 12345, .flags = 1};
	/* Through the dispatcher, as the L1 kernel calls it. */
	struct dmtvm_hc_kvm *h = (void *)(vm.ram + 0x100);
	*h = (struct dmtvm_hc_kvm){.target = SYS, .cmd = KVM_CREATE_VM};
	cr_assert_eq(vmm_hypercall(&vcpu, DMTVM_HC_PORT(DMTVM_HC_KVM), 0x100), 0);
	cr_assert_eq(h->ret, VM);
	struct kvm_userspace_memory_region *m = (void *)(vm.ram + 0x1000);
	*m = (struct kvm_userspace_memory_region){.memory_size = 1 << 20, .userspace_addr = l2_ram};
	cr_assert_eq(kvm(VM, KVM_SET_USER_MEMORY_REGION, 0x1000, sizeof(*m)), 0);
	cr_assert_eq(kvm(VM, KVM_CREATE_VCPU, 0, 0), VCPU);
	struct kvm_sregs *s = (void *)(vm.ram + 0x3000);
	cr_assert_eq(kvm(VCPU, KVM_GET_SREGS, 0x3000, sizeof(*s)), 0);
	l2_sregs(s, 0xa000, 0xd000);
	cr_assert_eq(kvm(VCPU, KVM_SET_SREGS, 0x3000, sizeof(*s)), 0);
	struct kvm_regs *r = (void *)(vm.ram + 0x4000);
	*r = (struct kvm_regs){.rip = 0x1000, .rflags = 2};
	cr_assert_eq(kvm(VCPU, KVM_SET_REGS, 0x4000, sizeof(*r)), 0);
	int64_t sz = kvm(SYS, KVM_GET_VCPU_MMAP_SIZE, 0, 0);
	cr_assert_eq(kvm(VCPU, KVM_RUN, run_gpa, (uint64_t)sz), 0);
	/* L1 sees EXIT (port 0x501) with the gPA; TRACE_FLUSH never reached it. */
	struct kvm_run *run = (void *)(vm.ram + run_gpa);
	cr_assert_eq(run->exit_reason, KVM_EXIT_IO);
	cr_assert_eq(run->io.port, DMTVM_HC_PORT(DMTVM_HC_EXIT));
	uint32_t gpa;
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, 4);
	cr_assert_eq(gpa, 0x2000);
	/* Served at L0 (this VM has no model: -ENOSYS in L2's memory). */
	cr_assert_eq(tf->ret, -DMTVM_ENOSYS);
	char buf[2048];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf));
	vmm_nkvm_status_json(&vm, &w);
	cr_assert(strstr(buf, "\"vms_created\":1,"), "%s", buf);
	cr_assert(strstr(buf, "\"refused\":0,\"runs\":1,\"reflected\":1,"), "%s", buf);
	cr_assert(strstr(buf, "\"reflected_by_reason\":{\"io\":1}"), "%s", buf);
	cr_assert(strstr(buf, "\"l2_hypercalls_at_l0\":{\"trace_flush\":1,\"dmt_regs\":0,"
			      "\"pt_update\":0}"),
		  "%s", buf);
	/* A vCPU in use cannot lose its VM; after CLOSE the fds are gone. */
	cr_assert_eq(kvm(VCPU, DMTVM_KVM_CLOSE, 0, 0), 0);
	cr_assert_eq(kvm(VCPU, KVM_GET_REGS, 0x4000, sizeof(*r)), -EBADF);
	cr_assert_eq(kvm(VM, DMTVM_KVM_CLOSE, 0, 0), 0);
	cr_assert_eq(kvm(SYS, KVM_CREATE_VM, 0, 0), VM);
}

/* ---- the L2 model: 3D walks over real tables in L1 RAM ---- */

#define L2_RAM	(16ULL << 20) /* L1 gPA of L2 RAM */
#define L2_SIZE (8ULL << 20)
#define POOL	(32ULL << 20) /* L1 gPA of the EPT12 pool */
#define L2_PML4 0x1000ULL     /* L2 gPAs */
#define L2_PDPT 0x2000ULL
#define L2_PD	0x3000ULL
#define L2_PT	0x4000ULL /* the leaf PTEs of VA [4 MiB, 6 MiB): L2's TEA */
#define L2_RECS 0x400000ULL
#define L2_ARGS 0x5000ULL

static uint64_t *l2(uint64_t gpa)
{
	return (uint64_t *)(vm.ram + L2_RAM + gpa);
}

static void l1_alloc_tea(uint64_t gpa, uint64_t pages)
{
	struct dmtvm_hc_alloc_tea t = {.gpa = gpa, .pgcnt = pages};
	vmm_hc_alloc_tea(&vcpu, &t);
	cr_assert_eq(t.ret, 0, "ALLOC_TEA %#llx: %lld", (unsigned long long)gpa, (long long)t.ret);
}

/* The L2 level's counters (dmtvm.counters/1), read back; returns the schemes. */
static uint32_t l2_counters(struct mmu_counters *c)
{
	char err[160];
	uint32_t mask;
	char *doc = vmm_xlate_l2_counters_json(&vm);
	cr_assert(doc);
	cr_assert_eq(mmu_report_json_read(doc, c, &mask, err, sizeof(err)), 0, "%s", err);
	free(doc);
	return mask;
}

Test(nkvm, l2_model_cold_walks)
{
	const char *sets[] = {"pwc=0"};
	struct vmm_xlate_opts o = {.mode = "pvdmt",
				   .host_shift = 12,
				   .seed = 1,
				   .schemes = "all",
				   .sets = sets,
				   .nsets = 1};
	char err[256];
	setenv("DMTVM_MODEL_THREADS", "1", 1);
	cr_assert_eq(vmm_xlate_create(&vm, &o, err, sizeof(err)), 0, "%s", err);
	/* EPT12: L2 gPA [0, 8 MiB) -> L1 gPA L2_RAM + gPA, its TEA host-contiguous. */
	struct ept12_layout lay;
	cr_assert_eq(ept12_layout(L2_SIZE, 12, &lay, err, sizeof(err)), 0);
	l1_alloc_tea(POOL, lay.tea_pages);
	ept12_build(&lay, vm.ram + POOL, POOL, L2_RAM);
	/* L2's tables: VA [4 MiB, 6 MiB) -> L2 gPA [4 MiB, 6 MiB), 4 KiB pages. */
	*l2(L2_PML4) = L2_PDPT | 7;
	*l2(L2_PDPT) = L2_PD | 7;
	l2(L2_PD)[2] = L2_PT | 7;
	for (uint64_t i = 0; i < 512; i++)
		l2(L2_PT)[i] = (L2_RECS + i * 4096) | 7;
	l1_alloc_tea(L2_RAM + L2_PT, 1); /* L2's pvDMT TEA, forwarded by L1 */
	struct vmm_memslot slot = {0, 0, L2_SIZE, L2_RAM};
	struct dmtvm_ept12_reg ereg = {0, L2_SIZE, POOL, 12};
	struct vmm_xlate_l2_view v = {&slot, 1, POOL + lay.pml4_off, 1, &ereg};
	struct dmtvm_dmt_reg *reg = (void *)l2(L2_ARGS);
	*reg = (struct dmtvm_dmt_reg){L2_RECS, L2_RECS + (2 << 20), L2_PT, 12, DMTVM_DMT_REG_PV};
	struct dmtvm_hc_dmt_regs dr = {.cr3 = L2_PML4, .asid = 1, .count = 1, .regs_gpa = L2_ARGS};
	vmm_xlate_l2_dmt_regs(&vm, &v, &dr);
	cr_assert_eq(dr.ret, 0);
	/* Errors name nothing outside L2's memslots. */
	struct dmtvm_hc_dmt_regs bad = dr;
	bad.regs_gpa = L2_SIZE - 8;
	vmm_xlate_l2_dmt_regs(&vm, &v, &bad);
	cr_assert_eq(bad.ret, -DMTVM_EFAULT);
	bad = dr;
	bad.cr3 = L2_SIZE;
	vmm_xlate_l2_dmt_regs(&vm, &v, &bad);
	cr_assert_eq(bad.ret, -DMTVM_EFAULT);
	/* One load at VA 4 MiB + 0x1008; the record itself sits at VA 4 MiB. */
	*l2(L2_RECS) = dmtvm_trace_rec(L2_RECS + 0x1008, 8, DMTVM_TRACE_LOAD, 0);
	struct dmtvm_hc_trace_flush tf = {.va = L2_RECS, .count = 1, .cr3 = L2_PML4, .asid = 1};
	vmm_xlate_l2_trace_flush(&vm, &v, &tf);
	cr_assert_eq(tf.ret, 1);
	struct dmtvm_hc_trace_flush tbad = tf;
	tbad.va = 0x10000000; /* not mapped in L2 */
	vmm_xlate_l2_trace_flush(&vm, &v, &tbad);
	cr_assert_eq(tbad.ret, -DMTVM_EFAULT);
	struct mmu_counters c[MMU_NSCHEMES];
	uint32_t mask = l2_counters(c);
	cr_assert_eq(mask, MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |
			       MMU_SCHEME_BIT(MMU_PVDMT_NESTED));
	cr_assert_eq(c[MMU_X86_3D].walks, 1);
	cr_assert_eq(c[MMU_X86_3D].faults, 0);
	cr_assert_eq(c[MMU_X86_3D].refs, 124);
	cr_assert_eq(c[MMU_PVDMT_NESTED].refs, 3);
	/* Three DMT hits (L2 TEA, EPT12 TEA, host TEA), no fallback. */
	cr_assert_eq(c[MMU_PVDMT_NESTED].dmt_hits, 3);
	cr_assert_eq(c[MMU_PVDMT_NESTED].dmt_fallbacks, 0);
	/* EPT02 built on demand: 4 L2 table pages + the data page. */
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].shadow_fills, 5);
	/* 24 + 16 refs of the 5 EPT02 walks that missed (exits): 1 + 4 + 4 + 4 + 3. */
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].refs, 40);
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].faults, 0);
	/* PT_UPDATE reaches the model: an EPT02 invalidation. */
	struct dmtvm_hc_pt_update pu = {.cr3 = L2_PML4, .asid = 1, .va = 0, .len = 0};
	vmm_xlate_l2_pt_update(&vm, &v, &pu);
	cr_assert_eq(pu.ret, 0);
	l2_counters(c);
	/* L2's own tables changed: TLBs flush; EPT02 (EPT12 o EPT01) stays valid. */
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].shadow_invalidations, 0);
	/* The same access again: the TLBs dropped it. */
	vmm_xlate_l2_trace_flush(&vm, &v, &tf);
	cr_assert_eq(tf.ret, 1);
	l2_counters(c);
	/* Walk caches are off: 124 and 3 again; EPT02 is warm: 24, no new fill. */
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].walks, 2);
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].refs, 40 + 24);
	cr_assert_eq(c[MMU_X86_NESTED_EPT02].shadow_fills, 5);
	cr_assert_eq(c[MMU_X86_3D].refs, 2 * 124);
	cr_assert_eq(c[MMU_PVDMT_NESTED].refs, 2 * 3);
}
