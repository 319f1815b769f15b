/* SPDX-License-Identifier: MIT */
/*
 * kernel.h: types, address-space constants and helpers shared by every file
 * of the dmtvm guest kernel.
 *
 * Address spaces (dmtvm_abi.h "Guest-virtual layout"): [0, USER_TOP) belongs
 * to the process (/init), PML4 slots [0, USER_PML4_SLOTS); the slots above
 * are the VMM's boot mapping, shared by every address space: all RAM at
 * DMTVM_DIRECT_MAP_BASE and the kernel image at DMTVM_KERNEL_VIRT_BASE, both
 * at the top of the lower canonical half (slot 255 stays the platform's).
 */
#ifndef KERNEL_H
#define KERNEL_H

#include "dmtvm_abi.h"

/* Segment selectors (gdt in cpu.c); the order is what syscall/sysret need. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS	  0x23
#define USER_CS	  0x2b
#define TSS_SEL	  0x30

#ifndef __ASSEMBLER__ /* entry.S includes this file for the constants above */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE  4096ULL
#define HPAGE_SIZE (2ULL << 20)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define HPAGE_MASK (~(HPAGE_SIZE - 1))

#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define ALIGN_UP(x, a)	 (((x) + (uint64_t)(a)-1) & ~((uint64_t)(a)-1))
#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))

/*
 * User space is [0, USER_TOP): everything at or above it (the direct map,
 * the kernel window, the platform's slot, the upper half) is not user
 * memory. USER_TOP is far below the canonical boundary, so a `syscall`
 * anywhere in user space leaves a canonical RCX for sysret.
 */
#define USER_TOP	DMTVM_USER_TOP		     /* 0x7e0000000000 */
#define USER_PML4_SLOTS ((unsigned)(USER_TOP >> 39)) /* 252: PML4 slots a process owns */
_Static_assert((USER_TOP & ((1ULL << 39) - 1)) == 0, "USER_TOP on a PML4 slot boundary");
_Static_assert(DMTVM_DIRECT_MAP_BASE >= USER_TOP && DMTVM_KERNEL_VIRT_BASE >= USER_TOP,
	       "kernel windows above user space");

/* Segment selectors (gdt in cpu.c); the order is what syscall/sysret need. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS	  0x23
#define USER_CS	  0x2b
#define TSS_SEL	  0x30

/* Linux errno values the system calls return (negated). */
#define EPERM	     1
#define ENOENT	     2
#define ESRCH	     3
#define EIO	     5
#define E2BIG	     7
#define ENOEXEC	     8
#define EBADF	     9
#define ENOMEM	     12
#define EACCES	     13
#define EFAULT	     14
#define EBUSY	     16
#define EEXIST	     17
#define ENODEV	     19
#define ENOTDIR	     20
#define EISDIR	     21
#define EINVAL	     22
#define EMFILE	     24
#define ENOTTY	     25
#define ESPIPE	     29
#define ERANGE	     34
#define ENAMETOOLONG 36
#define ENOSYS	     38

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + DMTVM_DIRECT_MAP_BASE);
}

/*
 * gPA of a kernel object: in the image (text/data/bss/stack) or the direct map
 * (the kernel window lies above the direct map).
 */
_Static_assert(DMTVM_KERNEL_VIRT_BASE > DMTVM_DIRECT_MAP_BASE, "kva_to_phys: window order");
static inline uint64_t kva_to_phys(const void *p)
{
	uint64_t va = (uint64_t)p;
	if (va >= DMTVM_KERNEL_VIRT_BASE)
		return va - DMTVM_KERNEL_VIRT_BASE;
	return va - DMTVM_DIRECT_MAP_BASE;
}

/* string.S / string.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
void zero_page(void *p); /* rep stosq of 4 KiB */

/* Length of the string in p[0, n), or n if no NUL: one repne scasb (cheap when emulated). */
static inline size_t mem_nul(const char *p, size_t n)
{
	const char *q = p;
	size_t c = n;
	if (!n)
		return 0;
	__asm__ volatile("repne scasb" : "+D"(q), "+c"(c) : "a"(0) : "memory", "cc");
	return q[-1] == 0 ? (size_t)(q - p - 1) : n;
}

/* entry.S: copy to or from user memory; returns 0 or -EFAULT (fixup in trap.c) */
long copy_user_raw(void *dst, const void *src, size_t n);
extern char copy_user_insn[], copy_user_insn2[], copy_user_fault[];
long put_user_16(uint64_t udst, uint64_t lo, uint64_t hi); /* range checked by the caller */
extern char put_user_insn[], put_user_insn2[];

/* [addr, addr + len) lies below USER_TOP; no sum, so no overflow (one compare for a constant len).
 */
static inline bool user_range_ok(uint64_t addr, uint64_t len)
{
	return len <= USER_TOP && addr <= USER_TOP - len;
}

static inline long copy_from_user(void *dst, uint64_t usrc, size_t n)
{
	if (!user_range_ok(usrc, n))
		return -EFAULT;
	return copy_user_raw(dst, (const void *)usrc, n);
}

static inline long copy_to_user(uint64_t udst, const void *src, size_t n)
{
	if (!user_range_ok(udst, n))
		return -EFAULT;
	return copy_user_raw((void *)udst, src, n);
}

/* Control registers and MSRs. */
#define MSR_EFER	   0xc0000080
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_SFMASK	   0xc0000084
#define MSR_FS_BASE	   0xc0000100
#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Software panic: PANIC hypercall with a message; never returns. */
__attribute__((noreturn)) void panic(const char *msg);

/* Kernel command line switches and boot facts (main.c). */
extern bool kernel_verbose;
extern uint64_t kernel_boot_tsc; /* TSC at kmain entry */
extern uint32_t kernel_tsc_khz;
extern uint64_t kernel_mem_size; /* guest RAM bytes (/memory) */

#endif /* __ASSEMBLER__ */
#endif /* KERNEL_H */
