/* SPDX-License-Identifier: MIT */
/*
 * nkvm.c: the DMTVM_HC_KVM hypercall at L0 (nkvm.h). L1 is untrusted: every
 * target, ioctl number, argument size, gPA and memory region is checked
 * here, against an allow list of exactly the ioctls dmtvm itself uses (with
 * their exact argument sizes); anything else is refused and counted
 * (-ENOTTY, or -EINVAL for KVM_CREATE_IRQCHIP: L2 has no in-kernel
 * irqchip). Arguments are copied out of L1 RAM (any alignment), the real
 * ioctl runs on the real fds of the one L2 VM, results are copied back.
 *
 * L2's RAM is L1 RAM: KVM_SET_USER_MEMORY_REGION's userspace_addr is an L1
 * gPA (L1 pinned the range contiguous), mapped as vm->ram + gpa, and the
 * slot is recorded to translate L2 gPAs for the L2 model. KVM_RUN runs L2
 * on the calling L1 vCPU thread; L2's measurement hypercalls are served
 * here (magic instructions, L1 never sees them), L2's INIT_STARTED is
 * timed and reflected, every other exit is reflected to L1 by copying the
 * real kvm_run into L1's run area. A reflection costs the time from L2's
 * exit to L1's next KVM_RUN (counted per reason). L2 problems end as -errno
 * for L1 or as a reflected exit, never as an L0 crash; L0's --timeout still
 * ends a run whose L2 spins (the main thread's _exit).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmtvm_abi.h"
#include "hypercall.h"
#include "nkvm.h"
#include "xlate.h"

#define PAGE 4096ULL

struct nkvm_vcpu {
	bool exists, running;
	struct kvm_run *run; /* the platform's (platform.h vmm_l2_ops) */
	size_t run_size;
	uint64_t exit_ns; /* when the last reflected exit left L0; 0 = none pending */
};

struct vmm_nkvm {
	pthread_mutex_t lock; /* the state below; not held while L2 runs */
	struct vmm_l2vm *l2;  /* the L2 VM on L0's platform (platform.h), NULL = none */
	struct vmm_vcpu *l1;  /* the L1 vCPU that created it (its thread runs L2) */
	struct nkvm_vcpu vcpu[DMTVM_KVM_MAX_VCPUS];
	struct vmm_memslot slots[NKVM_MAX_SLOTS];
	unsigned nslots;
	uint64_t ept12_root; /* DMTVM_KVM_SET_EPT12; 0 = none */
	unsigned n_ept12;
	struct dmtvm_ept12_reg ept12[DMTVM_EPT12_REGS_MAX];
	uint64_t argbuf[DMTVM_KVM_ARG_MAX / 8]; /* the copied argument (lock held) */
	/* statistics (atomic: the control thread reads them) */
	_Atomic uint64_t vms_created, ioctls, refused, runs, l2_boot_ns;
	_Atomic uint64_t l2_hypercalls[DMTVM_HC_MAX + 1];
	_Atomic uint64_t reflected[NKVM_NREASONS], reflected_ns, reflected_timed;
};

enum { T_SYS, T_VM, T_VCPU };

/* L2 runs on L0's platform, through its operations (platform.h). */
static const struct vmm_l2_ops *ops(const struct vmm *vm)
{
	return vm->platform ? vm->platform->l2 : NULL;
}
#define VAR_CPUID 0xffffffffu /* struct kvm_cpuid2: 8 bytes + nent entries */

/* The allow list: what dmtvm does with /dev/kvm (kvm.c, cpu_x86_64.c, vcpu.c). */
static const struct nkvm_cmd {
	unsigned long cmd;
	uint8_t target;
	uint32_t size; /* exact argument bytes; 0: integer argument */
	bool out;      /* results copied back to L1 */
} cmds[] = {
    {KVM_GET_API_VERSION, T_SYS, 0, false},
    {KVM_CREATE_VM, T_SYS, 0, false},
    {KVM_GET_VCPU_MMAP_SIZE, T_SYS, 0, false},
    {KVM_CHECK_EXTENSION, T_SYS, 0, false},
    {KVM_GET_SUPPORTED_CPUID, T_SYS, VAR_CPUID, true},
    {KVM_SET_TSS_ADDR, T_VM, 0, false},
    {KVM_SET_IDENTITY_MAP_ADDR, T_VM, sizeof(uint64_t), false},
    {KVM_SET_USER_MEMORY_REGION, T_VM, sizeof(struct kvm_userspace_memory_region), false},
    {KVM_CREATE_VCPU, T_VM, 0, false},
    {DMTVM_KVM_SET_EPT12, T_VM, sizeof(struct dmtvm_kvm_ept12), false},
    {DMTVM_KVM_CLOSE, T_VM, 0, false},
    {DMTVM_KVM_CLOSE, T_VCPU, 0, false},
    {KVM_GET_TSC_KHZ, T_VCPU, 0, false},
    {KVM_SET_REGS, T_VCPU, sizeof(struct kvm_regs), false},
    {KVM_GET_REGS, T_VCPU, sizeof(struct kvm_regs), true},
    {KVM_SET_SREGS, T_VCPU, sizeof(struct kvm_sregs), false},
    {KVM_GET_SREGS, T_VCPU, sizeof(struct kvm_sregs), true},
    {KVM_SET_FPU, T_VCPU, sizeof(struct kvm_fpu), false},
    {KVM_SET_CPUID2, T_VCPU, VAR_CPUID, false},
    {KVM_SET_MP_STATE, T_VCPU, sizeof(struct kvm_mp_state), false},
    {KVM_TRANSLATE, T_VCPU, sizeof(struct kvm_translation), true},
    {KVM_RUN, T_VCPU, 0, false}, /* arg: gPA of the run area, arg_len its size */
};

static struct vmm_nkvm *get(struct vmm *vm)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	pthread_mutex_init(&n->lock, NULL);
	struct vmm_nkvm *none = NULL;
	if (!atomic_compare_exchange_strong(&vm->nkvm, &none, n)) {
		free(n); /* another L1 vCPU won */
		return none;
	}
	return n;
}

static void close_vcpu(struct vmm *vm, struct vmm_nkvm *n, int id)
{
	struct nkvm_vcpu *v = &n->vcpu[id];
	if (!v->exists)
		return;
	ops(vm)->vcpu_destroy(n->l2, id);
	*v = (struct nkvm_vcpu){0};
}

static int close_vm(struct vmm *vm, struct vmm_nkvm *n)
{
	for (int i = 0; i < DMTVM_KVM_MAX_VCPUS; i++)
		if (n->vcpu[i].running)
			return -EBUSY;
	for (int i = 0; i < DMTVM_KVM_MAX_VCPUS; i++)
		close_vcpu(vm, n, i);
	ops(vm)->destroy(n->l2);
	n->l2 = NULL;
	n->nslots = 0;
	n->ept12_root = 0;
	n->n_ept12 = 0;
	vmm_xlate_l2_forget(vm);
	return 0;
}

static int create_vm(struct vmm *vm, struct vmm_nkvm *n, uint64_t type)
{
	if (type != 0)
		return -EINVAL;
	if (n->l2)
		return -EBUSY; /* one L2 VM per L1 at a time */
	if (atomic_load(&n->vms_created) >= NKVM_MAX_VM_CREATES) {
		fprintf(stderr,
			"dmtvm: L1 created %u L2 VMs: limit reached, KVM_CREATE_VM refused\n",
			NKVM_MAX_VM_CREATES);
		return -ENOMEM;
	}
	int r = ops(vm)->create(n->l1, &n->l2);
	if (r < 0)
		return r;
	atomic_fetch_add(&n->vms_created, 1);
	return DMTVM_KVM_TARGET_VM;
}

static int create_vcpu(struct vmm *vm, struct vmm_nkvm *n, uint64_t id)
{
	if (id >= DMTVM_KVM_MAX_VCPUS)
		return -EINVAL;
	struct nkvm_vcpu *v = &n->vcpu[id];
	if (v->exists)
		return -EEXIST;
	void *run;
	size_t size;
	int r = ops(vm)->vcpu_create(vm, n->l2, (int)id, &run, &size);
	if (r < 0)
		return r;
	*v = (struct nkvm_vcpu){.exists = true, .run = run, .run_size = size};
	return DMTVM_KVM_TARGET_VCPU((int)id);
}

/* userspace_addr is an L1 gPA: the range must lie in L1 RAM. */
static int set_region(struct vmm *vm, struct vmm_nkvm *n, struct kvm_userspace_memory_region *m)
{
	if (m->slot >= NKVM_MAX_SLOTS || m->flags)
		return -EINVAL;
	if ((m->guest_phys_addr | m->memory_size | m->userspace_addr) & (PAGE - 1))
		return -EINVAL;
	if (m->memory_size && !vmm_gpa(vm, m->userspace_addr, m->memory_size)) {
		fprintf(stderr,
			"dmtvm: L1: KVM_SET_USER_MEMORY_REGION slot %u: L1 gPA [%#llx, +%#llx) is "
			"not inside L1 RAM (%#llx bytes)\n",
			m->slot, (unsigned long long)m->userspace_addr,
			(unsigned long long)m->memory_size, (unsigned long long)vm->mem_size);
		return -EFAULT;
	}
	struct kvm_userspace_memory_region real = *m;
	real.userspace_addr = m->memory_size ? (uintptr_t)(vm->ram + m->userspace_addr) : 0;
	struct vmm_memslot keep[NKVM_MAX_SLOTS];
	unsigned nkeep = n->nslots;
	memcpy(keep, n->slots, sizeof(keep));
	for (unsigned i = 0; i < n->nslots; i++)
		if (n->slots[i].slot == m->slot)
			n->slots[i--] = n->slots[--n->nslots];
	if (m->memory_size)
		n->slots[n->nslots++] = (struct vmm_memslot){m->slot, m->guest_phys_addr,
							     m->memory_size, m->userspace_addr};
	int r = ops(vm)->set_region(n->l2, &real, n->slots, n->nslots);
	if (r < 0) { /* the platform refused: the slots stay as they were */
		memcpy(n->slots, keep, sizeof(keep));
		n->nslots = nkeep;
	}
	return r;
}

/* EPT12 as hardware would read VMCS12's EPTP: root and TEAs in L1 RAM. */
static int set_ept12(struct vmm *vm, struct vmm_nkvm *n, const struct dmtvm_kvm_ept12 *e)
{
	if ((e->root & (PAGE - 1)) || e->nregs > DMTVM_EPT12_REGS_MAX)
		return -EINVAL;
	if (!vmm_gpa(vm, e->root, PAGE))
		return -EFAULT;
	for (uint64_t i = 0; i < e->nregs; i++) {
		const struct dmtvm_ept12_reg *r = &e->regs[i];
		if (r->page_shift != 12 && r->page_shift != 21)
			return -EINVAL;
		uint64_t mask = (1ULL << r->page_shift) - 1;
		if (r->base >= r->limit || ((r->base | r->limit) & mask) || (r->tea & 7))
			return -EINVAL;
		if (!vmm_gpa(vm, r->tea, ((r->limit - r->base) >> r->page_shift) * 8))
			return -EFAULT;
	}
	n->ept12_root = e->root;
	n->n_ept12 = (unsigned)e->nregs;
	memcpy(n->ept12, e->regs, e->nregs * sizeof(e->regs[0]));
	return 0;
}

/* L2's measurement hypercall at L0; false: not one (or a bad gPA), reflect it. */
static bool l2_hypercall(struct vmm *vm, struct vmm_nkvm *n, struct nkvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.size != 4 || run->io.count != 1 || run->io.port < DMTVM_HC_PORT_BASE ||
	    run->io.port > DMTVM_HC_PORT_MAX || run->io.data_offset > v->run_size - 4)
		return false;
	unsigned nr = run->io.port - DMTVM_HC_PORT_BASE;
	uint32_t gpa;
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, 4);
	if (nr == DMTVM_HC_INIT_STARTED) {
		uint64_t zero = 0, now = vmm_now_ns();
		atomic_compare_exchange_strong(&n->l2_boot_ns, &zero, now ? now : 1);
		return false; /* and L1 sees it too */
	}
	size_t size = nr == DMTVM_HC_TRACE_FLUSH ? sizeof(struct dmtvm_hc_trace_flush)
		      : nr == DMTVM_HC_DMT_REGS	 ? sizeof(struct dmtvm_hc_dmt_regs)
		      : nr == DMTVM_HC_PT_UPDATE ? sizeof(struct dmtvm_hc_pt_update)
						 : 0;
	uint64_t l1;
	uint64_t arg[8];
	_Static_assert(sizeof(struct dmtvm_hc_trace_flush) <= sizeof(arg), "arg buffer");
	pthread_mutex_lock(&n->lock);
	bool ok = size && gpa % 8 == 0 &&
		  vmm_memslot_find(n->slots, n->nslots, gpa, size, &l1) == 0 &&
		  vmm_gpa(vm, l1, size);
	if (ok) {
		struct vmm_xlate_l2_view view = {n->slots, n->nslots, n->ept12_root, n->n_ept12,
						 n->ept12};
		memcpy(arg, vm->ram + l1, size);
		if (nr == DMTVM_HC_TRACE_FLUSH)
			vmm_xlate_l2_trace_flush(vm, &view, (struct dmtvm_hc_trace_flush *)arg);
		else if (nr == DMTVM_HC_DMT_REGS)
			vmm_xlate_l2_dmt_regs(vm, &view, (struct dmtvm_hc_dmt_regs *)arg);
		else
			vmm_xlate_l2_pt_update(vm, &view, (struct dmtvm_hc_pt_update *)arg);
		memcpy(vm->ram + l1, arg, size);
		atomic_fetch_add_explicit(&n->l2_hypercalls[nr], 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&n->lock);
	return ok;
}

/* KVM_RUN: L1's run area in, L2 until an exit L1 must see, the run area out. */
static int64_t run_l2(struct vmm *vm, struct vmm_nkvm *n, int id, uint64_t gpa, uint64_t len)
{
	struct nkvm_vcpu *v = &n->vcpu[id];
	if (len != v->run_size)
		return -EINVAL;
	uint8_t *area = vmm_gpa(vm, gpa, len);
	if (!area)
		return -EFAULT;
	if (v->running)
		return -EBUSY;
	uint64_t now = vmm_now_ns();
	if (v->exit_ns) {
		atomic_fetch_add(&n->reflected_ns, now - v->exit_ns);
		atomic_fetch_add(&n->reflected_timed, 1);
		v->exit_ns = 0;
	}
	/*
	 * kvm_run and the PIO data page only: the pages after them are KVM's
	 * coalesced-MMIO ring, which L1 has no business writing.
	 */
	memcpy(v->run, area, len < 2 * PAGE ? len : 2 * PAGE);
	v->running = true;
	atomic_fetch_add(&n->runs, 1);
	pthread_mutex_unlock(&n->lock);
	int64_t ret = 0;
	for (;;) {
		long rr = ops(vm)->run(n->l2, id);
		if (rr < 0) {
			int e = (int)-rr;
			if (e != EINTR && e != EAGAIN)
				fprintf(stderr,
					"dmtvm: L2: vcpu %d: KVM_RUN: %s (returned to L1)\n", id,
					strerror(e));
			ret = -e;
			break;
		}
		if (l2_hypercall(vm, n, v))
			continue;
		unsigned reason = v->run->exit_reason;
		atomic_fetch_add(&n->reflected[reason < NKVM_NREASONS ? reason : NKVM_NREASONS - 1],
				 1);
		break;
	}
	pthread_mutex_lock(&n->lock);
	v->running = false;
	memcpy(area, v->run, len);
	if (ret == 0)
		v->exit_ns = vmm_now_ns();
	return ret;
}

static int64_t dispatch(struct vmm *vm, struct vmm_nkvm *n, const struct nkvm_cmd *c,
			const struct dmtvm_hc_kvm *a, int vcpu)
{
	if (!ops(vm))
		return -ENODEV; /* no platform to run L2 on (the hypercall fuzzer) */
	void *buf = n->argbuf;
	switch (c->cmd) {
	case KVM_CREATE_VM:
		return create_vm(vm, n, a->arg);
	case KVM_CHECK_EXTENSION:
		if (a->arg == DMTVM_KVM_CAP_NESTED)
			return 1; /* this is the paravirtual /dev/kvm */
		break;
	case KVM_CREATE_VCPU:
		return create_vcpu(vm, n, a->arg);
	case KVM_SET_USER_MEMORY_REGION:
		return set_region(vm, n, buf);
	case DMTVM_KVM_SET_EPT12:
		return set_ept12(vm, n, buf);
	case DMTVM_KVM_CLOSE:
		if (c->target == T_VM)
			return close_vm(vm, n);
		if (n->vcpu[vcpu].running)
			return -EBUSY;
		close_vcpu(vm, n, vcpu);
		return 0;
	case KVM_RUN:
		return run_l2(vm, n, vcpu, a->arg, a->arg_len);
	case KVM_GET_SUPPORTED_CPUID:
	case KVM_SET_CPUID2: {
		const struct kvm_cpuid2 *cp = buf;
		if ((uint64_t)cp->nent * sizeof(struct kvm_cpuid_entry2) >
		    a->arg_len - sizeof(struct kvm_cpuid2))
			return -EINVAL;
		break;
	}
	}
	return ops(vm)->ioctl(vm, c->target == T_SYS ? NULL : n->l2, vcpu, c->cmd,
			      a->arg_len ? buf : NULL, a->arg_len ? 0 : a->arg);
}

static int64_t call(struct vmm *vm, struct vmm_nkvm *n, struct dmtvm_hc_kvm *a)
{
	int target, vcpu = -1;
	if (a->target == DMTVM_KVM_TARGET_SYSTEM) {
		target = T_SYS;
	} else if (a->target == DMTVM_KVM_TARGET_VM) {
		target = T_VM;
	} else if (a->target >= DMTVM_KVM_TARGET_VCPU(0) &&
		   a->target < DMTVM_KVM_TARGET_VCPU(DMTVM_KVM_MAX_VCPUS)) {
		target = T_VCPU;
		vcpu = (int)(a->target - DMTVM_KVM_TARGET_VCPU(0));
	} else {
		return -EBADF;
	}
	const struct nkvm_cmd *c = NULL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !c; i++)
		if (cmds[i].cmd == a->cmd && cmds[i].target == target)
			c = &cmds[i];
	if (!c) {
		atomic_fetch_add(&n->refused, 1);
		return a->cmd == KVM_CREATE_IRQCHIP ? -EINVAL : -ENOTTY;
	}
	/* Exact sizes: an integer argument has arg_len 0; KVM_RUN is checked by run_l2. */
	bool size_ok = c->cmd == KVM_RUN      ? true
		       : c->size == VAR_CPUID ? a->arg_len >= sizeof(struct kvm_cpuid2) &&
						    a->arg_len <= DMTVM_KVM_ARG_MAX
					      : a->arg_len == c->size;
	if (!size_ok) {
		atomic_fetch_add(&n->refused, 1);
		return -EINVAL;
	}
	uint8_t *g = NULL;
	if (c->cmd != KVM_RUN && a->arg_len && !(g = vmm_gpa(vm, a->arg, a->arg_len)))
		return -EFAULT;
	pthread_mutex_lock(&n->lock);
	int64_t r;
	bool exists = target == T_SYS  ? true
		      : target == T_VM ? n->l2 != NULL
				       : n->l2 && n->vcpu[vcpu].exists;
	if (!exists) {
		r = -EBADF; /* no such VM or vCPU (yet, or any more) */
	} else {
		if (g)
			memcpy(n->argbuf, g, a->arg_len);
		r = dispatch(vm, n, c, a, vcpu);
		if (r >= 0 && c->out)
			memcpy(g, n->argbuf, a->arg_len);
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

enum vmm_hc_action vmm_hc_kvm(struct vmm_vcpu *vcpu, void *arg)
{
	struct dmtvm_hc_kvm *a = arg;
	struct vmm_nkvm *n = get(vcpu->vm);
	if (!n) {
		a->ret = -DMTVM_ENOMEM;
		return VMM_HC_RESUME;
	}
	if (!n->l1)
		n->l1 = vcpu; /* ptrace: L2 runs on this vCPU's spare processes */
	atomic_fetch_add_explicit(&n->ioctls, 1, memory_order_relaxed);
	a->ret = call(vcpu->vm, n, a);
	return VMM_HC_RESUME;
}

uint64_t vmm_nkvm_l2_boot_ns(struct vmm *vm)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	return n ? atomic_load(&n->l2_boot_ns) : 0;
}

static const char *reason_name(unsigned r, char *buf, size_t len)
{
	switch (r) {
	case KVM_EXIT_IO:
		return "io";
	case KVM_EXIT_HLT:
		return "hlt";
	case KVM_EXIT_MMIO:
		return "mmio";
	case KVM_EXIT_SHUTDOWN:
		return "shutdown";
	case KVM_EXIT_FAIL_ENTRY:
		return "fail_entry";
	case KVM_EXIT_INTR:
		return "intr";
	case KVM_EXIT_INTERNAL_ERROR:
		return "internal_error";
	}
	snprintf(buf, len, "reason%u", r);
	return buf;
}

static uint64_t total_reflected(struct vmm_nkvm *n)
{
	uint64_t t = 0;
	for (unsigned r = 0; r < NKVM_NREASONS; r++)
		t += atomic_load(&n->reflected[r]);
	return t;
}

void vmm_nkvm_status_json(struct vmm *vm, struct jsonw *w)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	if (!n) {
		jsonw_raw(w, "null");
		return;
	}
	bool first = true, f2 = true;
	uint64_t boot = atomic_load(&n->l2_boot_ns), timed = atomic_load(&n->reflected_timed);
	char nb[24];
	jsonw_raw(w, "{");
	jsonw_key(w, "l2_boot_us", &first);
	if (boot)
		jsonw_u64(w, boot / 1000);
	else
		jsonw_raw(w, "null");
	jsonw_key(w, "vms_created", &first);
	jsonw_u64(w, atomic_load(&n->vms_created));
	jsonw_key(w, "ioctls", &first);
	jsonw_u64(w, atomic_load(&n->ioctls));
	jsonw_key(w, "refused", &first);
	jsonw_u64(w, atomic_load(&n->refused));
	jsonw_key(w, "runs", &first);
	jsonw_u64(w, atomic_load(&n->runs));
	jsonw_key(w, "reflected", &first);
	jsonw_u64(w, total_reflected(n));
	jsonw_key(w, "reflected_by_reason", &first);
	jsonw_raw(w, "{");
	for (unsigned r = 0; r < NKVM_NREASONS; r++) {
		uint64_t c = atomic_load(&n->reflected[r]);
		if (!c)
			continue;
		jsonw_key(w, reason_name(r, nb, sizeof(nb)), &f2);
		jsonw_u64(w, c);
	}
	jsonw_raw(w, "}");
	jsonw_key(w, "reflected_us", &first);
	jsonw_u64(w, atomic_load(&n->reflected_ns) / 1000);
	jsonw_key(w, "reflected_timed", &first);
	jsonw_u64(w, timed);
	jsonw_key(w, "l2_hypercalls_at_l0", &first);
	jsonw_raw(w, "{");
	f2 = true;
	static const unsigned magic[] = {DMTVM_HC_TRACE_FLUSH, DMTVM_HC_DMT_REGS,
					 DMTVM_HC_PT_UPDATE};
	for (unsigned i = 0; i < 3; i++) {
		jsonw_key(w, vmm_hypercall_name(magic[i]), &f2);
		jsonw_u64(w, atomic_load(&n->l2_hypercalls[magic[i]]));
	}
	jsonw_raw(w, "}}");
}

static void kv(struct jsonw *w, const char *k, uint64_t v, bool *first)
{
	jsonw_key(w, k, first);
	jsonw_u64(w, v);
}

void vmm_nkvm_tables_json(struct vmm *vm, struct jsonw *w)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	if (!n) {
		jsonw_raw(w, "null");
		return;
	}
	bool first = true;
	pthread_mutex_lock(&n->lock);
	jsonw_raw(w, "{");
	jsonw_key(w, "vm", &first);
	jsonw_raw(w, n->l2 ? "true" : "false");
	jsonw_key(w, "slots", &first);
	jsonw_raw(w, "[");
	for (unsigned i = 0; i < n->nslots; i++) {
		bool f = true;
		jsonw_raw(w, i ? ",{" : "{");
		kv(w, "slot", n->slots[i].slot, &f);
		kv(w, "l2_gpa", n->slots[i].l2_gpa, &f);
		kv(w, "size", n->slots[i].size, &f);
		kv(w, "l1_gpa", n->slots[i].l1_gpa, &f);
		jsonw_raw(w, "}");
	}
	jsonw_raw(w, "]");
	kv(w, "ept12_root", n->ept12_root, &first);
	jsonw_key(w, "ept12_regs", &first);
	jsonw_raw(w, "[");
	for (unsigned i = 0; i < n->n_ept12; i++) {
		bool f = true;
		jsonw_raw(w, i ? ",{" : "{");
		kv(w, "base", n->ept12[i].base, &f);
		kv(w, "limit", n->ept12[i].limit, &f);
		kv(w, "tea", n->ept12[i].tea, &f);
		kv(w, "page_shift", n->ept12[i].page_shift, &f);
		jsonw_raw(w, "}");
	}
	jsonw_raw(w, "]}");
	pthread_mutex_unlock(&n->lock);
}

void vmm_nkvm_report(struct vmm *vm, FILE *out)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	if (!n || !atomic_load(&n->vms_created))
		return; /* L1 never had an L2 (refused calls are in the JSON report) */
	uint64_t boot = atomic_load(&n->l2_boot_ns), timed = atomic_load(&n->reflected_timed);
	char line[512], nb[24];
	int len = 0;
	if (boot)
		len = snprintf(line, sizeof(line), "dmtvm: L2: boot %.1f ms (from L0 start)",
			       boot / 1e6);
	else
		len = snprintf(line, sizeof(line), "dmtvm: L2: boot - (no INIT_STARTED)");
	len += snprintf(line + len, sizeof(line) - (size_t)len, ", %llu exits reflected to L1 (",
			(unsigned long long)total_reflected(n));
	const char *sep = "";
	for (unsigned r = 0; r < NKVM_NREASONS && (size_t)len < sizeof(line); r++) {
		uint64_t c = atomic_load(&n->reflected[r]);
		if (!c)
			continue;
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%s %llu", sep,
				reason_name(r, nb, sizeof(nb)), (unsigned long long)c);
		sep = ", ";
	}
	uint64_t magic = 0;
	for (unsigned i = 0; i <= DMTVM_HC_MAX; i++)
		magic += atomic_load(&n->l2_hypercalls[i]);
	if (!*sep && (size_t)len < sizeof(line))
		len += snprintf(line + len, sizeof(line) - (size_t)len, "none");
	fprintf(out, "%s), %.1f us per reflection, %llu L2 hypercalls served at L0\n", line,
		timed ? (double)atomic_load(&n->reflected_ns) / (double)timed / 1e3 : 0.0,
		(unsigned long long)magic);
}

void vmm_nkvm_reset(struct vmm *vm)
{
	struct vmm_nkvm *n = atomic_load(&vm->nkvm);
	if (!n)
		return;
	atomic_store(&n->refused, 0);
	atomic_store(&n->ioctls, 0);
	atomic_store(&n->runs, 0);
	atomic_store(&n->reflected_ns, 0);
	atomic_store(&n->reflected_timed, 0);
	for (unsigned r = 0; r < NKVM_NREASONS; r++)
		atomic_store(&n->reflected[r], 0);
	for (unsigned i = 0; i <= DMTVM_HC_MAX; i++)
		atomic_store(&n->l2_hypercalls[i], 0);
}
