/* SPDX-License-Identifier: MIT */
/*
 * main.c: boot. The VMM enters _start (entry.S) in long mode with its own
 * page tables; kmain sets up the CPU tables, reads the device tree, starts
 * the frame allocator, loads /init and drops to ring 3. Ring 0 is emulated
 * (~1-2 us per instruction), so boot does nothing it does not need: no
 * banner unless dmtvm.verbose, no zeroing of fresh RAM, no interrupts.
 */
#include "console.h"
#include "cpu.h"
#include "fdt.h"
#include "pmm.h"
#include "proc.h"
#include "selftest.h"
#include "tea.h"
#include "vm.h"

bool kernel_verbose;
uint64_t kernel_boot_tsc;
uint32_t kernel_tsc_khz;
uint64_t kernel_mem_size;

extern char __kernel_start[], __kernel_end[];

/* A size with an optional K/M/G suffix ("64M"). */
static uint64_t parse_size(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (*s == 'K' || *s == 'k')
		v <<= 10;
	else if (*s == 'M' || *s == 'm')
		v <<= 20;
	else if (*s == 'G' || *s == 'g')
		v <<= 30;
	return v;
}

/*
 * Kernel options: words before "--" in bootargs, and the "dmtvm." words
 * right after it (so `dmtvm run IMG -- dmtvm.thp=off gups ...` sets options
 * of a prebuilt image; proc.c drops them from /init's argv).
 */
static void parse_options(const char *s)
{
	bool after_dashes = false;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!after_dashes && (!strncmp(s, "-- ", 3) || !strncmp(s, "--", 3))) {
			after_dashes = true;
			s += 2;
			continue;
		}
		if (after_dashes && strncmp(s, "dmtvm.", 6))
			break;
		if (!strncmp(s, "dmtvm.selftest=ring0-fault", 26))
			selftest = SELFTEST_RING0_FAULT;
		else if (!strncmp(s, "dmtvm.selftest=syscall-sysret", 29))
			selftest = SELFTEST_SYSCALL_SYSRET;
		else if (!strncmp(s, "dmtvm.selftest=tea", 18))
			selftest = SELFTEST_TEA;
		else if (!strncmp(s, "dmtvm.verbose", 13))
			kernel_verbose = true;
		else if (!strncmp(s, "dmtvm.thp=off", 13))
			vm_thp = false;
		else if (!strncmp(s, "dmtvm.thp=on", 12))
			vm_thp = true;
		else if (!strncmp(s, "dmtvm.frag=", 11)) {
			const char *c = s + 11;
			pmm_frag_seed = parse_size(c);
			while (*c && *c != ':' && *c != ' ')
				c++;
			uint64_t pct = *c == ':' ? parse_size(c + 1) : 0;
			pmm_frag_percent = pct > 100 ? 100 : (unsigned)pct;
		} else if (!strncmp(s, "dmtvm.tea=off", 13))
			tea_enabled = false;
		else if (!strncmp(s, "dmtvm.tea_min=", 14))
			tea_min_bytes = parse_size(s + 14);
		else if (!strncmp(s, "dmtvm.tea_max=", 14)) {
			uint64_t n = parse_size(s + 14);
			tea_max = n < TEA_MAX ? (unsigned)n : TEA_MAX;
		}
		while (*s && *s != ' ')
			s++;
	}
}

void kmain(uint64_t fdt_gpa, uint64_t magic)
{
	static struct boot_info bi;

	kernel_boot_tsc = rdtsc();
	cpu_init();
	vm_init();
	if (magic != DMTVM_BOOT_MAGIC)
		panic("bad boot magic in rsi");
	if (fdt_parse(fdt_gpa, &bi))
		panic("bad device tree (magic, layout or no /memory)");
	if (bi.abi_version != DMTVM_ABI_VERSION)
		panic("device tree dmtvm,abi-version differs from the kernel's DMTVM_ABI_VERSION");
	if (bi.thp >= 0)
		vm_thp = bi.thp; /* `dmtvm run --thp=`; a dmtvm.thp= option still overrides */
	parse_options(bi.bootargs);
	kernel_tsc_khz = bi.tsc_khz;
	kernel_mem_size = bi.mem_size;
	tea_pvdmt = !strncmp(bi.mode, "pvdmt", 6);
	pmm_init(&bi, (uint64_t)__kernel_start - DMTVM_KERNEL_VIRT_BASE,
		 (uint64_t)__kernel_end - DMTVM_KERNEL_VIRT_BASE);
	if (!cpu_lstar_supervisor())
		panic("LSTAR page is user-accessible in the boot tables (the PVM syscall path "
		      "needs U/S=0)");
	if (kernel_verbose)
		kprintf(
		    "dmtvm kernel: %lu MiB RAM, %lu MiB free, mode %s, tsc %u kHz, args \"%s\"\n",
		    bi.mem_size >> 20, pmm_free_bytes() >> 20, bi.mode, bi.tsc_khz, bi.bootargs);
	if (selftest == SELFTEST_RING0_FAULT)
		selftest_ring0_fault();
	if (proc_exec_init(&bi))
		panic("cannot start /init");
	if (selftest == SELFTEST_SYSCALL_SYSRET)
		selftest_sysret_run();
	proc_start_init();
}
