/* SPDX-License-Identifier: MIT */
/*
 * dmtvm_abi.h: the contract between the dmtvm VMM and its guest kernel.
 *
 * Included by the VMM (hosted C) and by the guest kernel (freestanding C and
 * assembly: everything outside the __ASSEMBLER__ guard is plain #defines).
 * The guest is untrusted: the VMM validates every gPA, length and number it
 * finds in these structures.
 *
 * Boot protocol (x86-64)
 * ----------------------
 * - Guest RAM is one range of guest-physical memory [0, mem_size).
 * - The VMM loads the kernel ELF's PT_LOAD segments at their p_paddr
 *   (which must lie in RAM, above DMTVM_KERNEL_MIN_PADDR), zeroes p_memsz
 *   beyond p_filesz, and enters at e_entry in 64-bit long mode, CPL 0,
 *   interrupts off, RFLAGS = 0x2, with:
 *     rdi = gPA of the flattened device tree (FDT, libfdt format)
 *     rsi = DMTVM_BOOT_MAGIC
 *     rsp = 0 (the kernel sets its own stack first)
 *     CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = SCE|LME|LMA|NXE
 *     GDT at DMTVM_BOOT_GDT_GPA: 0x08 = 64-bit ring-0 code, 0x10 = ring-0 data
 *   and page tables built by the VMM (2 MiB pages, supervisor-only) that map
 *     [DMTVM_DIRECT_MAP_BASE, + mem_size)         -> gPA [0, mem_size) (RW, NX)
 *     [DMTVM_KERNEL_VIRT_BASE, + 1 GiB)           -> gPA [0, 1 GiB)    (RW, X)
 *     [DMTVM_LEGACY_DIRECT_MAP_BASE, + mem_size)  -> gPA [0, mem_size) (RW, NX)
 *     [DMTVM_LEGACY_KERNEL_VIRT_BASE, + 1 GiB)    -> gPA [0, 1 GiB)    (RW, X)
 *   and nothing else: nothing below DMTVM_USER_TOP and nothing in
 *   [DMTVM_PLATFORM_RESERVED_BASE, DMTVM_PLATFORM_RESERVED_END). The kernel
 *   links at DMTVM_KERNEL_VIRT_BASE + paddr (the legacy windows only serve
 *   kernels linked before the layout below: they boot on KVM, not on
 *   platforms that cannot map the upper half). The boot page tables (5
 *   pages plus one per GiB of RAM from DMTVM_BOOT_PT_GPA, which must end by
 *   DMTVM_KERNEL_MIN_PADDR: RAM is at most 235 GiB), GDT and FDT live in
 *   the ranges listed by /chosen/dmtvm,reserved; the kernel may reuse the
 *   boot PML4's kernel entries (index >= DMTVM_USER_TOP >> 39, i.e.
 *   DMTVM_KERNEL_PML4_FIRST..511) in every address space.
 *   All RAM outside the loaded segments, boot tables, GDT, FDT and initramfs
 *   reads as zero at entry (the guest kernel relies on it: it does not zero
 *   fresh frames).
 *
 * Guest-virtual layout (x86-64, 4-level paging; one layout for every
 * execution platform, KVM included). The guest kernel lives at the top of
 * the LOWER canonical half, so that a platform that runs guest kernel code
 * natively in an ordinary host user process (ptrace) can map it there:
 *   [0, DMTVM_USER_TOP)                        guest user space: PML4 slots
 *                                              0..251, owned by the process
 *   [DMTVM_DIRECT_MAP_BASE, + 512 GiB)         slot 252: all guest RAM
 *                                              (direct map, RW, NX, 2 MiB)
 *   slot 253                                   unused (never mapped)
 *   [DMTVM_KERNEL_VIRT_BASE, + 1 GiB)          slot 254: the kernel window,
 *                                              gPA [0, 1 GiB); the kernel
 *                                              image links at + 1 MiB
 *   [DMTVM_PLATFORM_RESERVED_BASE,             slot 255: reserved for the
 *    DMTVM_PLATFORM_RESERVED_END)              execution platform (e.g. the
 *                                              ptrace platform's stub code):
 *                                              the boot tables leave it
 *                                              empty, guest page tables must
 *                                              never map it
 *   upper half (slots 256..511)                legacy windows only (above)
 * The guest kernel treats [DMTVM_USER_TOP, 2^64) as kernel memory: a user
 * pointer, fault address or return rip at or above DMTVM_USER_TOP is not
 * user memory.
 *
 * FDT contents (all integers big-endian, as FDT requires)
 *   /#address-cells = <2>, /#size-cells = <2>, /compatible = "dmtvm,virt"
 *   /memory@0/device_type = "memory", reg = <0 0 hi lo>   (RAM size)
 *   /chosen/bootargs                 kernel command line (string)
 *   /chosen/linux,initrd-start       u64 gPA of the initramfs (cpio newc)
 *   /chosen/linux,initrd-end         u64 gPA one past its end
 *   /chosen/dmtvm,abi-version        u32 DMTVM_ABI_VERSION
 *   /chosen/dmtvm,mode               string: native|ept|spt|dmt|pvdmt
 *   /chosen/dmtvm,reserved           u64 pairs <gpa size>...: RAM the
 *                                    kernel must not allocate (boot tables,
 *                                    GDT, FDT, initramfs, kernel image)
 *   /chosen/dmtvm,tsc-khz            u32 guest TSC frequency in kHz
 *   /chosen/dmtvm,vcpus              u32 number of vCPUs
 *   /chosen/dmtvm,thp                u32 1: the kernel may map anonymous
 *                                    memory with 2 MiB pages (`--thp`);
 *                                    absent: on
 *
 * Hypercalls
 * ----------
 * From ring 0 only: `outl %eax, %dx` with dx = DMTVM_HC_PORT(nr) and eax =
 * the guest-physical address of the call's argument structure (which must
 * lie below 4 GiB, be 8-byte aligned and lie wholly inside RAM). Every
 * argument structure starts with `int64_t ret`: the VMM stores 0 or a
 * result >= 0 on success, or -errno (DMTVM_E*) on a bad call. Unknown
 * numbers get -DMTVM_ENOSYS. (vmcall is not usable on every KVM: see
 * ENVIRONMENT.md; port I/O from ring 3 may #GP, so only the kernel calls.)
 */
#ifndef DMTVM_ABI_H
#define DMTVM_ABI_H

#define DMTVM_ABI_VERSION 1

#define DMTVM_BOOT_MAGIC 0x444d54564d424f4fULL /* "DMTVMBOO" */

/* Guest-physical layout fixed by the boot protocol. */
#define DMTVM_BOOT_GDT_GPA     0x1000ULL   /* one page */
#define DMTVM_BOOT_FDT_GPA     0x2000ULL   /* up to DMTVM_BOOT_FDT_MAX bytes */
#define DMTVM_BOOT_FDT_MAX     0xe000ULL   /* FDT fits in [0x2000, 0x10000) */
#define DMTVM_BOOT_PT_GPA      0x10000ULL  /* boot page tables start here */
#define DMTVM_KERNEL_MIN_PADDR 0x100000ULL /* kernel image at or above 1 MiB */

/*
 * Guest-virtual layout (see the top of this file). Assembly sees the values
 * without the ULL suffix (DMTVM_U64), so entry code can use them.
 */
#ifdef __ASSEMBLER__
#define DMTVM_U64(x) x
#else
#define DMTVM_U64(x) x##ULL
#endif
#define DMTVM_USER_TOP		      DMTVM_U64(0x7e0000000000) /* user: [0, this) */
#define DMTVM_DIRECT_MAP_BASE	      DMTVM_U64(0x7e0000000000) /* all RAM (slot 252) */
#define DMTVM_KERNEL_VIRT_BASE	      DMTVM_U64(0x7f0000000000) /* kernel window (254) */
#define DMTVM_PLATFORM_RESERVED_BASE DMTVM_U64(0x7f8000000000) /* platform only (255) */
#define DMTVM_PLATFORM_RESERVED_END  DMTVM_U64(0x800000000000) /* end of the lower half */
#define DMTVM_KERNEL_PML4_FIRST	      (DMTVM_USER_TOP >> 39)	   /* 252: first kernel slot */
/* The windows of the first layout (upper half, as Linux): still mapped by
 * the VMM's boot tables so older kernel images boot on KVM. */
#define DMTVM_LEGACY_DIRECT_MAP_BASE  DMTVM_U64(0xffff888000000000)
#define DMTVM_LEGACY_KERNEL_VIRT_BASE DMTVM_U64(0xffffffff80000000)

/* Hypercall ports. */
#define DMTVM_HC_PORT_BASE 0x500
#define DMTVM_HC_PORT_MAX  0x5ff
#define DMTVM_HC_PORT(nr)  (DMTVM_HC_PORT_BASE + (nr))

/* Hypercall numbers. 13 is the artifact's ALLOC_TEA number, kept on purpose. */
#define DMTVM_HC_CONSOLE      0	 /* struct dmtvm_hc_console */
#define DMTVM_HC_EXIT	      1	 /* struct dmtvm_hc_exit: /init's status */
#define DMTVM_HC_PANIC	      2	 /* struct dmtvm_hc_panic: kernel fault */
#define DMTVM_HC_INIT_STARTED 3	 /* struct dmtvm_hc_ret: /init about to run */
#define DMTVM_HC_TIME	      4	 /* struct dmtvm_hc_time */
#define DMTVM_HC_ZERO	      8	 /* struct dmtvm_hc_zero: zero guest RAM (a bulk memset) */
#define DMTVM_HC_TRACE_FLUSH  5	 /* struct dmtvm_hc_trace_flush: run the model */
#define DMTVM_HC_DMT_REGS     6	 /* struct dmtvm_hc_dmt_regs: program DMT registers */
#define DMTVM_HC_PT_UPDATE    7	 /* struct dmtvm_hc_pt_update: guest changed its tables */
#define DMTVM_HC_ALLOC_TEA    13 /* struct dmtvm_hc_alloc_tea (pvDMT) */
#define DMTVM_HC_KVM	      9	 /* struct dmtvm_hc_kvm: a /dev/kvm ioctl for L2 (nesting) */
#define DMTVM_HC_MAX	      63

/* Error codes returned in ret (negated), same values as Linux errno. */
#define DMTVM_EPERM  1
#define DMTVM_ENOMEM 12
#define DMTVM_EFAULT 14
#define DMTVM_EINVAL 22
#define DMTVM_ENOSYS 38

/* dmtvm's own exit statuses (the guest's /init status passes through). */
#define DMTVM_EXIT_VMM_ERROR   1   /* host-side failure */
#define DMTVM_EXIT_BAD_INPUT   2   /* usage, bad image, bad option value */
#define DMTVM_EXIT_GUEST_PANIC 125 /* guest kernel fault or panic */

/* Console: at most this many bytes per call (longer calls are cut). */
#define DMTVM_CONSOLE_MAX 4096

#ifndef __ASSEMBLER__
#include <stdint.h>

struct dmtvm_hc_ret {
	int64_t ret;
};

struct dmtvm_hc_console {
	int64_t ret; /* bytes written */
	uint64_t buf_gpa;
	uint64_t len;
};

struct dmtvm_hc_exit {
	int64_t ret;
	int64_t status; /* 0..255 as Linux exit_group; 128+sig for a signal */
};

struct dmtvm_hc_panic {
	int64_t ret;
	uint64_t vector; /* exception vector, or ~0 for a software panic */
	uint64_t error_code;
	uint64_t rip;
	uint64_t cr2;
	uint64_t rsp;
	uint64_t msg_gpa; /* optional NUL-free message, 0 if none */
	uint64_t msg_len;
};

struct dmtvm_hc_time {
	int64_t ret;
	uint64_t monotonic_ns; /* since VMM start */
	uint64_t realtime_ns;  /* since the Unix epoch */
};

/*
 * ZERO: fill guest-physical [gpa, gpa + len) with zeroes; gpa and len are
 * multiples of 4 KiB and the range lies in RAM, else -DMTVM_EINVAL. The
 * guest kernel uses it for recycled frames: a ring-0 write loop is slow
 * under emulation. A VMM without it answers -DMTVM_ENOSYS and the guest
 * zeroes by itself.
 */
struct dmtvm_hc_zero {
	int64_t ret;
	uint64_t gpa;
	uint64_t len;
};

/*
 * pvDMT: ask the hypervisor to back the guest-physical range
 * [gpa, gpa + pgcnt * 4 KiB) with host-physically contiguous frames, so a
 * guest TEA placed there is contiguous in gPA and hPA (DMT.md).
 * mode = vmid << 32 | is_free << 8 | nested_level, as in the artifact.
 * On success ret = 0 and hpa = the host-physical base of the range.
 */
struct dmtvm_hc_alloc_tea {
	int64_t ret;
	uint64_t id;
	uint64_t gpa;
	uint64_t pgcnt;
	uint64_t mode;
	uint64_t hpa; /* out */
};

/*
 * Trace pipeline: the guest hands the VMM `count` dmtvm_trace.h records that
 * lie at guest-virtual `va` in the address space whose PML4 is at gPA `cr3`
 * (the VMM reads them through the guest's own page tables, so the guest
 * copies nothing). The VMM runs the MMU model on them while the vCPU is
 * stopped, with cr3 and the DMT registers of that address space, so the walks
 * see exactly the tables in force. At most DMTVM_TRACE_FLUSH_MAX records per
 * call; ret = records consumed.
 */
#define DMTVM_TRACE_FLUSH_MAX (1u << 20)

struct dmtvm_hc_trace_flush {
	int64_t ret;
	uint64_t va;	/* guest-virtual address of the records */
	uint64_t count; /* number of 8-byte records */
	uint64_t cr3;	/* gPA of the PML4 in force for these accesses */
	uint64_t asid;	/* address-space id (the process id) */
	uint64_t flags; /* reserved, 0 */
};

/*
 * DMT registers (DMT.md): per address space, up to DMTVM_DMT_REGS_MAX
 * (VMA range -> TEA) entries, switched with CR3. DMT_REGS replaces the whole
 * set of the address space (count 0 clears it, e.g. at exit). For a 4 KiB TEA
 * the PTE of va is at tea_gpa + ((va - base) >> 12) * 8; page_shift 21: the
 * PMD entries of a 2 MiB-page VMA, >> 21.
 */
#define DMTVM_DMT_REGS_MAX 64
#define DMTVM_DMT_REG_PV   1u /* TEA obtained with ALLOC_TEA (host-contiguous) */

struct dmtvm_dmt_reg {
	uint64_t base;	     /* VMA start, guest-virtual */
	uint64_t limit;	     /* VMA end, exclusive */
	uint64_t tea_gpa;    /* guest-physical base of the TEA */
	uint32_t page_shift; /* 12 or 21 */
	uint32_t flags;	     /* DMTVM_DMT_REG_* */
};

struct dmtvm_hc_dmt_regs {
	int64_t ret;
	uint64_t cr3; /* the address space (gPA of its PML4) */
	uint64_t asid;
	uint64_t count;	   /* 0..DMTVM_DMT_REGS_MAX */
	uint64_t regs_gpa; /* array of `count` struct dmtvm_dmt_reg */
};

/*
 * The guest changed page-table entries mapping [va, va + len) of an address
 * space (len 0: all of it, e.g. at exit), as a write-protection trap would
 * tell a shadow-paging hypervisor: the VMM drops shadow entries and counts
 * the exit. The guest sends it after the change (and flushes pending trace
 * records before any change that removes or alters a mapping).
 */
struct dmtvm_hc_pt_update {
	int64_t ret;
	uint64_t cr3;
	uint64_t asid;
	uint64_t va;
	uint64_t len;
};

/*
 * Nesting (ARCHITECTURE.md "Nesting without hardware nesting"). The guest
 * kernel offers /dev/kvm to its programs; every ioctl on it, its VM fd or a
 * vCPU fd becomes one KVM hypercall. The VMM below (L0) performs it on a
 * real KVM VM it creates for the nested guest (L2) beside this guest (L1),
 * and reflects each L2 exit back as the result of KVM_RUN.
 *   target: DMTVM_KVM_TARGET_SYSTEM (the /dev/kvm fd), DMTVM_KVM_TARGET_VM
 *           (the one L2 VM; KVM_CREATE_VM returns that value) or
 *           DMTVM_KVM_TARGET_VCPU(n) (KVM_CREATE_VCPU n returns that value).
 *   cmd:    the Linux ioctl number (linux/kvm.h) or a DMTVM_KVM_* extension.
 *   arg:    the ioctl's integer argument when arg_len is 0, else the gPA (in
 *           L1 RAM, any alignment) of arg_len bytes holding the ioctl's
 *           argument structure; results are written back there.
 * ret = the ioctl's result (>= 0) or -errno. L1 rewrites two arguments:
 *   KVM_SET_USER_MEMORY_REGION: userspace_addr = the L1 gPA of the region
 *     (L1 pins it guest-physically contiguous first); L0 maps that L1 RAM.
 *   KVM_RUN: arg = the L1 gPA of the vCPU's run area (what L1 mapped for
 *     mmap() on the vCPU fd: KVM_GET_VCPU_MMAP_SIZE bytes, contiguous),
 *     arg_len = its size. L0 copies it into KVM's kvm_run before KVM_RUN and
 *     back after, so L1's program sees kvm_run as on real KVM.
 * One L2 VM per L1 at a time; L0 checks every gPA, length and number.
 */
#define DMTVM_KVM_TARGET_SYSTEM 0
#define DMTVM_KVM_TARGET_VM	1
#define DMTVM_KVM_TARGET_VCPU(n) (0x100 + (n))
#define DMTVM_KVM_MAX_VCPUS	 1
#define DMTVM_KVM_ARG_MAX	 65536 /* largest argument structure (kvm_cpuid2 etc.) */
struct dmtvm_hc_kvm {
	int64_t ret;
	uint64_t target;
	uint64_t cmd;
	uint64_t arg;
	uint64_t arg_len;
};

/*
 * The paravirtual /dev/kvm's extensions (ioctl numbers in KVM's 0xAE space,
 * numbers KVM does not use). KVM_CHECK_EXTENSION(DMTVM_KVM_CAP_NESTED) on
 * the system fd returns 1 only on the paravirtual /dev/kvm (0 on real KVM):
 * that is how dmtvm knows it is an L1 hypervisor.
 *   DMTVM_KVM_PIN (VM fd, handled by the L1 kernel): pins the calling
 *     process's anonymous memory [uaddr, uaddr + len) (page-aligned) onto
 *     guest-physically contiguous frames (idempotent) and returns their L1
 *     gPA base: L1 dmtvm builds EPT12 with real L1 gPAs from it.
 *   DMTVM_KVM_ALLOC_TEA (VM fd, handled by the L1 kernel): pvDMT forwarding:
 *     gpa must lie in memory the caller pinned; the kernel issues
 *     DMTVM_HC_ALLOC_TEA to L0 with it and returns ret/hpa.
 *   DMTVM_KVM_SET_EPT12 (VM fd, forwarded to L0 as a KVM hypercall): the
 *     L1 hypervisor's EPT for L2 (EPT12: L2 gPA -> L1 gPA, in L1 RAM), its
 *     root and its DMT registers (the EPT12 leaf TEA), as hardware reads
 *     VMCS12's EPTP. L0's model walks L2 accesses through it.
 */
#define DMTVM_KVM_CAP_NESTED 0x444d
#define DMTVM_IOWR(nr, size) ((3UL << 30) | ((unsigned long)(size) << 16) | (0xAEUL << 8) | (nr))
struct dmtvm_kvm_pin {
	uint64_t uaddr;
	uint64_t len;
	uint64_t gpa; /* out */
};
struct dmtvm_kvm_alloc_tea {
	uint64_t gpa; /* L1 gPA, inside pinned memory */
	uint64_t pgcnt;
	uint64_t mode; /* DMTVM_TEA_MODE() */
	uint64_t hpa;  /* out */
};
#define DMTVM_EPT12_REGS_MAX 16
struct dmtvm_kvm_ept12 {
	uint64_t root; /* L1 gPA of the EPT12 PML4 */
	uint64_t nregs;
	struct dmtvm_ept12_reg {
		uint64_t base, limit; /* L2 gPA range */
		uint64_t tea;	      /* L1 gPA of its EPT12 leaf entries */
		uint64_t page_shift;  /* 12 or 21 */
	} regs[DMTVM_EPT12_REGS_MAX];
};
#define DMTVM_KVM_PIN	    DMTVM_IOWR(0xe0, sizeof(struct dmtvm_kvm_pin))
#define DMTVM_KVM_ALLOC_TEA DMTVM_IOWR(0xe1, sizeof(struct dmtvm_kvm_alloc_tea))
#define DMTVM_KVM_SET_EPT12 DMTVM_IOWR(0xe2, sizeof(struct dmtvm_kvm_ept12))
/*
 * DMTVM_KVM_CLOSE (hypercall cmd only, target VM or vCPU, arg 0): the L1
 * kernel closed the last fd of that VM or vCPU (close(), exit); L0 destroys
 * it so the L1 frames that backed L2 can be reused.
 */
#define DMTVM_KVM_CLOSE DMTVM_IOWR(0xe3, 0)

#define DMTVM_TEA_MODE(vmid, is_free, level)                                                       \
	(((uint64_t)(vmid) << 32) | ((uint64_t)((is_free)&1) << 8) | ((uint64_t)(level)&0xff))
#define DMTVM_TEA_MODE_LEVEL(mode) ((mode)&0xff)
#define DMTVM_TEA_MODE_FREE(mode)  (((mode) >> 8) & 1)
#define DMTVM_TEA_MODE_VMID(mode)  ((mode) >> 32)

#endif /* __ASSEMBLER__ */
#endif /* DMTVM_ABI_H */
