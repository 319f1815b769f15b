/* SPDX-License-Identifier: MIT */
/*
 * kvmdev.c: the paravirtual /dev/kvm (dmtvm_abi.h "Nesting"). Every ioctl
 * on the system, VM or vCPU fd is one DMTVM_HC_KVM hypercall: target =
 * which fd, cmd = the Linux ioctl number, and the argument structure
 * (sized by kvmarg.c) in a kernel bounce buffer, copied back for _IOR
 * ioctls. Handled here: CHECK_EXTENSION(DMTVM_KVM_CAP_NESTED) (1, no
 * hypercall), DMTVM_KVM_PIN and DMTVM_KVM_ALLOC_TEA (pin.c, then pvDMT's
 * ALLOC_TEA hypercall), KVM_CREATE_VM / KVM_CREATE_VCPU (L0's target
 * becomes a new fd), KVM_SET_USER_MEMORY_REGION (the region is pinned and
 * userspace_addr becomes its L1 gPA) and KVM_RUN (the run area's gPA: L0
 * reads and writes kvm_run there, the kernel never copies it). Closing the
 * last fd of a VM / vCPU sends DMTVM_KVM_CLOSE.
 *
 * Ring 0 is emulated here (~1-2 us per instruction), so a forwarded ioctl
 * is: a size, one copy in, the hypercall, one copy out.
 */
#include "kvmdev.h"
#include "console.h"
#include "hypercall.h"
#include "kvmarg.h"
#include "pin.h"
#include "pmm.h"
#include "proc.h"

#define O_RDWR	      2
#define S_IFCHR	      0020000
#define RUN_MAX	      (16 * PAGE_SIZE) /* a bigger run area from L0 is refused */
#define GRANTS_MAX    16
#define TEA_PAGES_MAX (1ULL << 18) /* as L0: 1 GiB of TEA */
/* pvDMT ids of forwarded TEAs: distinct from tea.c's small ones, stable per gPA. */
#define FORWARDED_TEA_ID(gpa) ((1ULL << 62) | ((gpa) >> 12))

struct kvmdev_stats kvmdev_stats;
static struct dmtvm_hc_kvm hc;
/* The bounce buffer: contiguous frames taken at the first forwarded ioctl (not in .bss). */
static uint8_t *argbuf;
static unsigned vm_refs; /* the VM fd and every vCPU fd (a vCPU keeps its VM) */
static unsigned vcpu_refs[DMTVM_KVM_MAX_VCPUS];
static uint64_t run_pa[DMTVM_KVM_MAX_VCPUS];
static uint64_t run_len; /* KVM_GET_VCPU_MMAP_SIZE, asked of L0 once */
/* pvDMT ranges granted for the VM: returned when it closes. */
static struct {
	uint64_t gpa, pgcnt;
} grants[GRANTS_MAX];
static unsigned ngrants;

static int64_t kvm_hc(uint64_t target, uint64_t cmd, uint64_t arg, uint64_t len)
{
	hc = (struct dmtvm_hc_kvm){.target = target, .cmd = cmd, .arg = arg, .arg_len = len};
	if (!kernel_verbose)
		return hypercall_kimg(DMTVM_HC_KVM, &hc);
	uint64_t t0 = rdtsc();
	int64_t r = hypercall_kimg(DMTVM_HC_KVM, &hc);
	kvmdev_stats.calls++;
	kvmdev_stats.tsc += rdtsc() - t0;
	return r;
}

bool kvmdev_vm_live(void)
{
	return vm_refs != 0;
}

long kvmdev_open(struct file *f)
{
	/* A VMM without nesting answers ENOSYS: then there is no /dev/kvm. */
	if (kvm_hc(DMTVM_KVM_TARGET_SYSTEM, KVMARG_GET_API_VERSION, 0, 0) < 0)
		return -ENOENT;
	f->kind = FILE_KVM;
	f->mode = S_IFCHR | 0660;
	f->target = DMTVM_KVM_TARGET_SYSTEM;
	return 0;
}

static void alloc_tea_hc(uint64_t gpa, uint64_t pgcnt, uint64_t mode, struct dmtvm_hc_alloc_tea *h)
{
	*h = (struct dmtvm_hc_alloc_tea){
	    .id = FORWARDED_TEA_ID(gpa), .gpa = gpa, .pgcnt = pgcnt, .mode = mode};
	hypercall(DMTVM_HC_ALLOC_TEA, h);
}

static void drop_vm_ref(void)
{
	struct dmtvm_hc_alloc_tea h;
	if (!vm_refs || --vm_refs)
		return;
	kvm_hc(DMTVM_KVM_TARGET_VM, DMTVM_KVM_CLOSE, 0, 0);
	for (unsigned i = 0; i < ngrants; i++)
		alloc_tea_hc(grants[i].gpa, grants[i].pgcnt, DMTVM_TEA_MODE(0, 1, 0), &h);
	ngrants = 0;
}

void kvmdev_release(struct file *f)
{
	if (f->target == DMTVM_KVM_TARGET_SYSTEM)
		return;
	if (f->target >= DMTVM_KVM_TARGET_VCPU(0)) {
		uint64_t id = f->target - DMTVM_KVM_TARGET_VCPU(0);
		if (vcpu_refs[id] && !--vcpu_refs[id])
			kvm_hc(f->target, DMTVM_KVM_CLOSE, 0, 0);
	}
	drop_vm_ref();
}

static void install(struct fdtable *t, long fd, uint64_t target)
{
	/* KVM's anonymous-inode fds are O_RDWR | O_CLOEXEC. */
	t->f[fd] = (struct file){.kind = FILE_KVM,
				 .cloexec = true,
				 .oflags = O_RDWR,
				 .mode = S_IFCHR | 0600,
				 .target = target};
}

static long create_vm(struct fdtable *t, uint64_t type)
{
	long fd = file_alloc(t);
	if (fd < 0)
		return fd;
	int64_t r = kvm_hc(DMTVM_KVM_TARGET_SYSTEM, KVMARG_CREATE_VM, type, 0);
	if (r < 0)
		return r;
	if (r != DMTVM_KVM_TARGET_VM) {
		kprintf(
		    "dmtvm: L1 kernel: L0 answered KVM_CREATE_VM with target %ld, expected %d\n",
		    (long)r, DMTVM_KVM_TARGET_VM);
		return -EIO;
	}
	install(t, fd, DMTVM_KVM_TARGET_VM);
	vm_refs++;
	return fd;
}

static long create_vcpu(struct fdtable *t, uint64_t id)
{
	if (id >= DMTVM_KVM_MAX_VCPUS)
		return -EINVAL;
	long fd = file_alloc(t);
	if (fd < 0)
		return fd;
	if (!run_len) {
		int64_t sz = kvm_hc(DMTVM_KVM_TARGET_SYSTEM, KVMARG_GET_VCPU_MMAP_SIZE, 0, 0);
		if (sz <= 0 || (uint64_t)sz > RUN_MAX) {
			kprintf("dmtvm: L1 kernel: L0 answered KVM_GET_VCPU_MMAP_SIZE with %ld, "
				"expected 1..%lu\n",
				(long)sz, (unsigned long)RUN_MAX);
			return -EIO;
		}
		run_len = (uint64_t)sz;
	}
	uint64_t pages = ALIGN_UP(run_len, PAGE_SIZE) / PAGE_SIZE;
	if (!run_pa[id] && !(run_pa[id] = pmm_alloc_contig(pages)))
		return -ENOMEM;
	memset(phys_to_virt(run_pa[id]), 0, pages * PAGE_SIZE); /* nothing of an older vCPU */
	int64_t r = kvm_hc(DMTVM_KVM_TARGET_VM, KVMARG_CREATE_VCPU, id, 0);
	if (r < 0)
		return r;
	if ((uint64_t)r != DMTVM_KVM_TARGET_VCPU(id)) {
		kprintf("dmtvm: L1 kernel: L0 answered KVM_CREATE_VCPU %lu with target %ld, "
			"expected %lu\n",
			id, (long)r, (uint64_t)DMTVM_KVM_TARGET_VCPU(id));
		return -EIO;
	}
	install(t, fd, DMTVM_KVM_TARGET_VCPU(id));
	vcpu_refs[id]++;
	vm_refs++;
	return fd;
}

long kvmdev_mmap_gpa(const struct file *f, uint64_t len, uint64_t off, uint64_t *gpa)
{
	if (f->target < DMTVM_KVM_TARGET_VCPU(0))
		return -ENODEV; /* only a vCPU fd has something to map */
	if (off || len > ALIGN_UP(run_len, PAGE_SIZE))
		return -EINVAL;
	*gpa = run_pa[f->target - DMTVM_KVM_TARGET_VCPU(0)];
	return 0;
}

/* pin_range, timed under dmtvm.verbose. */
static long pin(uint64_t uaddr, uint64_t len, uint64_t *gpa)
{
	if (!kernel_verbose)
		return pin_range(&init_proc.mm, uaddr, len, gpa);
	const struct vma *v = vma_find(&init_proc.mm.vmas, uaddr);
	bool again = v && (v->flags & VMA_PINNED);
	uint64_t t0 = rdtsc();
	long r = pin_range(&init_proc.mm, uaddr, len, gpa);
	if (!r && !again) {
		kvmdev_stats.pins++;
		kvmdev_stats.pin_bytes += len;
		kvmdev_stats.pin_tsc += rdtsc() - t0;
	}
	return r;
}

static long ioctl_pin(uint64_t uarg)
{
	struct dmtvm_kvm_pin p;
	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	long r = pin(p.uaddr, p.len, &p.gpa);
	if (r)
		return r;
	return copy_to_user(uarg, &p, sizeof(p));
}

static long ioctl_alloc_tea(uint64_t uarg)
{
	struct dmtvm_kvm_alloc_tea a;
	struct dmtvm_hc_alloc_tea h;
	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!a.pgcnt || a.pgcnt > TEA_PAGES_MAX || (a.gpa & ~PAGE_MASK))
		return -EINVAL;
	if (!pin_contains(&init_proc.mm, a.gpa, a.pgcnt * PAGE_SIZE))
		return -EFAULT; /* only memory this process pinned */
	alloc_tea_hc(a.gpa, a.pgcnt, a.mode, &h);
	if (h.ret == 0 && DMTVM_TEA_MODE_FREE(a.mode)) {
		for (unsigned i = 0; i < ngrants; i++)
			if (grants[i].gpa == a.gpa && grants[i].pgcnt == a.pgcnt) {
				grants[i] = grants[--ngrants];
				break;
			}
	} else if (h.ret == 0 && ngrants < GRANTS_MAX) {
		grants[ngrants].gpa = a.gpa;
		grants[ngrants++].pgcnt = a.pgcnt;
	}
	a.hpa = h.hpa;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return h.ret;
}

/* Any other ioctl: its argument structure through the bounce buffer. */
static long forward(uint64_t target, uint32_t cmd, uint64_t uarg)
{
	uint32_t count = 0;
	if (kvmarg_is_variable(cmd) && copy_from_user(&count, uarg, sizeof(count)))
		return -EFAULT;
	long len = kvmarg_len(cmd, count);
	if (len <= 0)
		return len ? len : kvm_hc(target, cmd, uarg, 0);
	if (!argbuf) {
		uint64_t pa = pmm_alloc_contig(DMTVM_KVM_ARG_MAX / PAGE_SIZE);
		if (!pa)
			return -ENOMEM;
		argbuf = phys_to_virt(pa);
	}
	if (copy_from_user(argbuf, uarg, (size_t)len))
		return -EFAULT;
	if (cmd == KVMARG_SET_USER_MEMORY_REGION) {
		/* struct kvm_userspace_memory_region: memory_size at 16, userspace_addr at 24. */
		uint64_t *size = (uint64_t *)(argbuf + 16), *uaddr = (uint64_t *)(argbuf + 24),
			 gpa = 0;
		if (*size) {
			long r = pin(*uaddr, *size, &gpa);
			if (r)
				return r;
		}
		*uaddr = gpa; /* a deleted slot (size 0) maps nothing */
	}
	int64_t r = kvm_hc(target, cmd, kva_to_phys(argbuf), (uint64_t)len);
	if ((KVMARG_IOC_DIR(cmd) & KVMARG_IOC_READ) && copy_to_user(uarg, argbuf, (size_t)len))
		return -EFAULT;
	return r;
}

/* Every ioctl but a vCPU's KVM_RUN: out of line, so that path saves no registers. */
static __attribute__((noinline)) long ioctl_slow(struct fdtable *t, uint64_t target, uint32_t cmd,
						 uint64_t arg)
{
	bool is_vm = target == DMTVM_KVM_TARGET_VM, is_vcpu = target >= DMTVM_KVM_TARGET_VCPU(0);
	switch (cmd) {
	case KVMARG_CHECK_EXTENSION:
		if (arg == DMTVM_KVM_CAP_NESTED && !is_vcpu)
			return 1;
		break;
	case KVMARG_CREATE_VM:
		if (target == DMTVM_KVM_TARGET_SYSTEM)
			return create_vm(t, arg);
		return -ENOTTY;
	case KVMARG_CREATE_VCPU:
		if (is_vm)
			return create_vcpu(t, arg);
		return -ENOTTY;
	case KVMARG_RUN:
		if (!is_vcpu)
			return -ENOTTY;
		return kvm_hc(target, cmd, run_pa[target - DMTVM_KVM_TARGET_VCPU(0)], run_len);
	case (uint32_t)DMTVM_KVM_PIN:
		return is_vm ? ioctl_pin(arg) : -ENOTTY;
	case (uint32_t)DMTVM_KVM_ALLOC_TEA:
		return is_vm ? ioctl_alloc_tea(arg) : -ENOTTY;
	case (uint32_t)DMTVM_KVM_CLOSE:
		return -ENOTTY; /* the kernel's own, sent on close() */
	}
	return forward(target, cmd, arg);
}

long kvmdev_ioctl(struct fdtable *t, struct file *f, uint64_t cmd64, uint64_t arg)
{
	uint32_t cmd = (uint32_t)cmd64; /* ioctl's request is an unsigned int */
	uint64_t target = f->target;
	/* KVM_RUN, once per L2 exit: straight to the hypercall (~10 instructions here). */
	if (cmd == KVMARG_RUN && target >= DMTVM_KVM_TARGET_VCPU(0))
		return kvm_hc(target, cmd, run_pa[target - DMTVM_KVM_TARGET_VCPU(0)], run_len);
	return ioctl_slow(t, target, cmd, arg);
}
