/* SPDX-License-Identifier: MIT */
/*
 * main.c: a tiny ring-0 test guest for the VMM tests (not the real kernel).
 * It checks the boot state dmtvm_abi.h promises (magic, FDT, page tables)
 * and does what `tg=WHAT` on the command line asks, to exercise one VMM
 * path at a time: hello (exit 3), fdt (print FDT facts), panic, fault
 * (ring-0 #PF without an IDT: triple fault), badgpa, enosys, efault, badexit,
 * spin (never exits), hlt (cli; hlt), mmio (read outside RAM), ports
 * (non-hypercall port I/O), outb (wrong-size hypercall access), time.
 */
#include <stddef.h>
#include <stdint.h>

#include "dmtvm_abi.h"

#define VA(gpa) ((void *)(DMTVM_DIRECT_MAP_BASE + (uint64_t)(gpa)))
/* Both the kernel window and the direct map are linear: undo either. */
#define GPA(ptr)                                                                                   \
	((uint32_t)((uint64_t)(ptr) >= DMTVM_KERNEL_VIRT_BASE                                      \
			? (uint64_t)(ptr)-DMTVM_KERNEL_VIRT_BASE                                   \
			: (uint64_t)(ptr)-DMTVM_DIRECT_MAP_BASE))

static void hc(unsigned nr, void *arg)
{
	uint32_t gpa = GPA(arg);
	__asm__ volatile("outl %0, %w1" : : "a"(gpa), "d"((uint16_t)DMTVM_HC_PORT(nr)) : "memory");
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int64_t cons(const char *s, size_t n)
{
	struct dmtvm_hc_console a = {0, GPA(s), n};
	hc(DMTVM_HC_CONSOLE, &a);
	return a.ret;
}

static void puts_(const char *s)
{
	cons(s, slen(s));
}

static void putu(uint64_t v, int base)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	puts_(b + i);
}

static void exit_(int64_t status)
{
	struct dmtvm_hc_exit a = {0, status};
	hc(DMTVM_HC_EXIT, &a);
}

static void panic_(const char *msg)
{
	struct dmtvm_hc_panic a = {0, ~0ULL, 0, 0, 0, 0, GPA(msg), slen(msg)};
	hc(DMTVM_HC_PANIC, &a);
}

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Find /chosen or /memory@0 property `name` (flat walk; names are unique here). */
static const uint8_t *fdt_prop(const uint8_t *fdt, const char *name, uint32_t *len)
{
	const uint8_t *st = fdt + be32(fdt + 8);
	const char *strs = (const char *)fdt + be32(fdt + 12);
	for (uint32_t off = 0;;) {
		uint32_t tag = be32(st + off);
		off += 4;
		if (tag == 1) { /* BEGIN_NODE */
			off += (slen((const char *)st + off) + 4) & ~3U;
		} else if (tag == 3) { /* PROP */
			uint32_t l = be32(st + off), nameoff = be32(st + off + 4);
			if (streq(strs + nameoff, name)) {
				*len = l;
				return st + off + 8;
			}
			off += 8 + ((l + 3) & ~3U);
		} else if (tag == 9) {
			return NULL;
		}
	}
}

static uint64_t fdt_u64(const uint8_t *fdt, const char *name)
{
	uint32_t l;
	const uint8_t *p = fdt_prop(fdt, name, &l);
	return p ? (uint64_t)be32(p) << 32 | be32(p + 4) : ~0ULL;
}

static const char *word_after(const char *s, const char *key)
{
	for (; *s; s++) {
		size_t i = 0;
		while (key[i] && s[i] == key[i])
			i++;
		if (!key[i])
			return s + i;
	}
	return NULL;
}

static int is(const char *w, const char *v)
{
	while (*v && *w == *v)
		w++, v++;
	return !*v && (*w == 0 || *w == ' ');
}

void tg_main(uint64_t fdt_gpa, uint64_t magic);

void tg_main(uint64_t fdt_gpa, uint64_t magic)
{
	if (magic != DMTVM_BOOT_MAGIC || fdt_gpa != DMTVM_BOOT_FDT_GPA)
		panic_("bad boot magic or FDT address");
	const uint8_t *fdt = VA(fdt_gpa);
	if (be32(fdt) != 0xd00dfeed)
		panic_("no FDT magic");
	uint32_t l;
	const char *bootargs = (const char *)fdt_prop(fdt, "bootargs", &l);
	if (!bootargs)
		panic_("no bootargs");
	const char *what = word_after(bootargs, "tg=");
	struct dmtvm_hc_ret started = {0};
	hc(DMTVM_HC_INIT_STARTED, &started);

	if (!what || is(what, "hello")) {
		puts_("hello from the dmtvm test guest\n");
		exit_(3);
	} else if (is(what, "fdt")) {
		uint32_t rl;
		const uint8_t *reg = fdt_prop(fdt, "reg", &rl);
		const uint8_t *mode = fdt_prop(fdt, "dmtvm,mode", &l);
		uint64_t rs = fdt_u64(fdt, "linux,initrd-start");
		uint64_t re = fdt_u64(fdt, "linux,initrd-end");
		const uint8_t *res = fdt_prop(fdt, "dmtvm,reserved", &l);
		puts_("mem=");
		putu((uint64_t)be32(reg + 8) << 32 | be32(reg + 12), 10);
		puts_(" abi=");
		putu(be32(fdt_prop(fdt, "dmtvm,abi-version", &rl)), 10);
		puts_(" mode=");
		puts_((const char *)mode);
		puts_(" vcpus=");
		putu(be32(fdt_prop(fdt, "dmtvm,vcpus", &rl)), 10);
		puts_(" tsc=");
		puts_(be32(fdt_prop(fdt, "dmtvm,tsc-khz", &rl)) ? "yes" : "no");
		puts_(" reserved=");
		putu(l / 16, 10);
		puts_(" initrd=");
		cons(VA(rs), 6);
		puts_(re > rs && res ? " ok" : " bad");
		puts_(" bootargs=[");
		puts_(bootargs);
		puts_("]\n");
		/* The direct map covers all of RAM: touch its last byte. */
		uint64_t mem = (uint64_t)be32(reg + 8) << 32 | be32(reg + 12);
		volatile uint8_t *last = VA(mem - 1);
		*last = 1;
		exit_(0);
	} else if (is(what, "panic")) {
		static const char msg[] = "test\npanic";
		struct dmtvm_hc_panic a = {0,	   14,	   2,	     0xffffffff80100123ULL,
					   0xdead, 0x7000, GPA(msg), sizeof(msg) - 1};
		hc(DMTVM_HC_PANIC, &a);
	} else if (is(what, "fault")) {
		/* No lower half and no IDT: #PF, #DF, triple fault. */
		volatile uint64_t addr = 8;
		*(volatile int *)addr = 1;
	} else if (is(what, "badgpa")) {
		__asm__ volatile("outl %0, %w1" : : "a"(0x12345), "d"((uint16_t)DMTVM_HC_PORT(0)));
	} else if (is(what, "enosys")) {
		struct dmtvm_hc_ret a = {0};
		hc(40, &a);
		struct dmtvm_hc_alloc_tea t = {0};
		hc(DMTVM_HC_ALLOC_TEA, &t);
		puts_(a.ret == -DMTVM_ENOSYS && t.ret == -DMTVM_ENOSYS ? "enosys ok\n"
								       : "enosys bad\n");
		exit_(0);
	} else if (is(what, "efault")) {
		struct dmtvm_hc_console a = {0, 0xffffffff00000000ULL, 16};
		hc(DMTVM_HC_CONSOLE, &a);
		static const char big[DMTVM_CONSOLE_MAX + 100] = {[0 ... DMTVM_CONSOLE_MAX + 99] =
								      '.'};
		struct dmtvm_hc_console b = {0, GPA(big), ~0ULL}; /* len is cut to the max */
		hc(DMTVM_HC_CONSOLE, &b);
		puts_(a.ret == -DMTVM_EFAULT && b.ret == DMTVM_CONSOLE_MAX ? "\nefault ok\n"
									   : "\nefault bad\n");
		exit_(0);
	} else if (is(what, "badexit")) {
		struct dmtvm_hc_exit a = {0, 300};
		hc(DMTVM_HC_EXIT, &a);
		exit_(a.ret == -DMTVM_EINVAL ? 7 : 8);
	} else if (is(what, "spin")) {
		for (;;)
			__asm__ volatile("pause");
	} else if (is(what, "time")) {
		struct dmtvm_hc_time a = {0}, b = {0};
		hc(DMTVM_HC_TIME, &a);
		hc(DMTVM_HC_TIME, &b);
		/* Monotonic since dmtvm started (well under 10 s), realtime after 2020. */
		int ok = a.ret == 0 && a.monotonic_ns > 0 && a.monotonic_ns < 10000000000ULL &&
			 b.monotonic_ns > a.monotonic_ns && a.realtime_ns > 1577836800000000000ULL;
		puts_(ok ? "time ok\n" : "time bad\n");
		exit_(0);
	} else if (is(what, "ports")) {
		/* Ports outside the hypercall range: writes vanish, reads give ~0. */
		uint8_t b;
		__asm__ volatile("outb %b0, $0x80" : : "a"(0x55));
		__asm__ volatile("inb $0x61, %b0" : "=a"(b));
		puts_(b == 0xff ? "ports ok\n" : "ports bad\n");
		exit_(0);
	} else if (is(what, "outb")) {
		/* A hypercall port takes one outl, nothing else. */
		__asm__ volatile("outb %b0, %w1" : : "a"(0), "d"((uint16_t)DMTVM_HC_PORT(0)));
	} else if (is(what, "hlt")) {
		__asm__ volatile("cli; hlt");
	} else if (is(what, "mmio")) {
		(void)*(volatile uint32_t *)(DMTVM_KERNEL_VIRT_BASE + (1ULL << 30) - 4096);
	}
	panic_("test guest: unknown tg= or fell through");
}
