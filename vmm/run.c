/* SPDX-License-Identifier: MIT */
/*
 * run.c: `dmtvm run`: options, checks of the host's limits, loading the
 * image into a fresh VM, starting the vCPU and control threads, and waiting
 * for the end of the run (guest EXIT/PANIC, a fault, `quit`, --timeout).
 * Single-threaded run: with one vCPU, no control socket, no --timeout and
 * no model (dmtvm-static), the vCPU loop runs on the main thread. That is
 * how dmtvm runs as an L1 hypervisor, whose guest kernel has no clone().
 */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "dmtvm_abi.h"
#include "kernel_elf.h"
#include "nested_l1.h"
#include "boot_fdt.h"
#include "image.h"
#include "initrd_add.h"
#include "report.h"
#include "args.h"
#include "run.h"
#include "vmm_seccomp.h"
#include "vmm.h"
#include "xlate.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static struct vmm the_vm = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .ram_fd = -1,
    .kvm_fd = -1,
    .vm_fd = -1,
};

void vmm_stop(struct vmm *vm, int status)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->stopped) {
		vm->stopped = true;
		vm->exit_status = status;
		pthread_cond_signal(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s run: ", vmm_level_tag());
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see dmtvm --help)\n");
	return DMTVM_EXIT_BAD_INPUT;
}

/* What this host can back: RAM + swap, and the address-space limit. */
static int check_mem(uint64_t mem, const char *arg)
{
	if (mem < 16 * MIB || mem % (2 * MIB))
		return bad("--mem=%s: need a multiple of 2 MiB, at least 16M", arg);
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		uint64_t host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (mem > host) {
			fprintf(stderr,
				"%s run: --mem=%s exceeds this host's RAM + swap (%llu MiB)\n",
				vmm_level_tag(), arg, (unsigned long long)(host / MIB));
			return DMTVM_EXIT_BAD_INPUT;
		}
	}
#define BOOT_LIMIT_GIB ((DMTVM_KERNEL_MIN_PADDR - DMTVM_BOOT_PT_GPA) / 4096 - 5)
	_Static_assert(BOOT_LIMIT_GIB == 235, "the message below names the boot-table limit");
	if (mem > BOOT_LIMIT_GIB * GIB)
		return bad("--mem=%s: boot page tables limit guest RAM to 235G", arg);
	struct rlimit rl;
	/* dmtvm itself (libraries, threads' stacks, the image) needs ~256 MiB of it. */
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur < 256 * MIB || mem > rl.rlim_cur - 256 * MIB)) {
		fprintf(stderr,
			"%s run: --mem=%s does not fit in the address-space limit (ulimit -v "
			"%llu MiB, minus 256 MiB for dmtvm)\n",
			vmm_level_tag(), arg, (unsigned long long)(rl.rlim_cur / MIB));
		return DMTVM_EXIT_BAD_INPUT;
	}
	return 0;
}

struct run_opts {
	const char *mode;
	const char *platform; /* --platform=auto|kvm|ptrace */
	uint64_t mem;
	int vcpus;
	const char *api_sock;
	bool json;
	bool seccomp;
	bool lapic;
	unsigned timeout;
	uint64_t console_limit;
	const char *probe;
	const char *image;
	char **args;
	int nargs;
	/* the MMU model and the host side of translation (xlate.h) */
	struct vmm_xlate_opts x;
	const char *sets[64];
	const char *report_file;
	bool model_opts;      /* any of them given */
	int thp;	      /* --thp=on|off: guest 2 MiB pages (FDT /chosen/dmtvm,thp) */
	unsigned ept12_shift; /* --ept12-pages=4k|2m: EPT12 leaves as an L1 hypervisor */
	char *adds[64];	      /* --add HOST[=GUEST] (initrd_add.h) */
	int nadds;
};

/* DMTVM_PLATFORM=auto|kvm|ptrace: the default of --platform (tests set it). */
static const char *default_platform(void)
{
	const char *p = getenv("DMTVM_PLATFORM");
	if (p && (!strcmp(p, "kvm") || !strcmp(p, "ptrace") || !strcmp(p, "auto")))
		return p;
	return "auto";
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option lo[] = {
	    {"mode", required_argument, 0, 'm'},
	    {"platform", required_argument, 0, 'x'},
	    {"mem", required_argument, 0, 'M'},
	    {"vcpus", required_argument, 0, 'c'},
	    {"api-sock", required_argument, 0, 's'},
	    {"report", required_argument, 0, 'r'},
	    {"no-seccomp", no_argument, 0, 'n'},
	    {"timeout", required_argument, 0, 't'},
	    {"console-limit", required_argument, 0, 'O'},
	    {"debug-seccomp-probe", required_argument, 0, 'P'},
	    {"lapic", no_argument, 0, 'L'},
	    {"host-layout", required_argument, 0, 'H'},
	    {"host-pages", required_argument, 0, 'p'},
	    {"schemes", required_argument, 0, 'S'},
	    {"model-preset", required_argument, 0, 'Q'},
	    {"model-config", required_argument, 0, 'C'},
	    {"model-set", required_argument, 0, 'K'},
	    {"trace-out", required_argument, 0, 'T'},
	    {"report-file", required_argument, 0, 'F'},
	    {"debug-translate-check", optional_argument, 0, 'X'},
	    {"thp", required_argument, 0, 'h'},
	    {"ept12-pages", required_argument, 0, 'E'},
	    {"add", required_argument, 0, 'A'},
	    {0, 0, 0, 0},
	};
	*o = (struct run_opts){.mode = "ept",
			       .platform = default_platform(),
			       .mem = 256 * MIB,
			       .vcpus = 1,
			       .seccomp = true,
			       .thp = 1,
			       .ept12_shift = 12,
			       .console_limit = 1ULL << 30};
	o->x.host_shift = 12;
	o->x.seed = 1;
	o->x.sets = o->sets;
	optind = 1;
	opterr = 0;
	int c, r;
	char *end;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "native") && strcmp(optarg, "ept") &&
			    strcmp(optarg, "spt") && strcmp(optarg, "dmt") &&
			    strcmp(optarg, "pvdmt"))
				return bad("--mode=%s: expected native, ept, spt, dmt or pvdmt",
					   optarg);
			o->mode = optarg;
			break;
		case 'x':
			if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") &&
			    strcmp(optarg, "ptrace"))
				return bad("--platform=%s: expected auto, kvm or ptrace", optarg);
			o->platform = optarg;
			break;
		case 'M':
			if (vmm_parse_size(optarg, &o->mem) < 0)
				return bad("--mem=%s: expected a size such as 256M or 2G", optarg);
			if ((r = check_mem(o->mem, optarg)))
				return r;
			break;
		case 'c':
			o->vcpus = (int)strtol(optarg, &end, 10);
			if (*end || o->vcpus < 1 || o->vcpus > VMM_MAX_VCPUS)
				return bad("--vcpus=%s: expected 1..64", optarg);
			break;
		case 's':
			o->api_sock = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return bad("--report=%s: expected table or json", optarg);
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'n':
			o->seccomp = false;
			break;
		case 't': {
			long t = strtol(optarg, &end, 10);
			if (*end || end == optarg || t < 0 || t > 86400 * 365)
				return bad("--timeout=%s: expected seconds (0 = none)", optarg);
			o->timeout = (unsigned)t;
			break;
		}
		case 'O':
			if (vmm_parse_size(optarg, &o->console_limit) < 0)
				return bad(
				    "--console-limit=%s: expected a size such as 1G (0 = none)",
				    optarg);
			break;
		case 'L':
			o->lapic = true;
			break;
		case 'H':
			o->model_opts = true;
			if (!strcmp(optarg, "contiguous")) {
				o->x.fragmented = false;
			} else if (!strncmp(optarg, "fragmented", 10) &&
				   (optarg[10] == 0 || optarg[10] == ':')) {
				o->x.fragmented = true;
				if (optarg[10] == ':') {
					errno = 0;
					o->x.seed = strtoull(optarg + 11, &end, 0);
					if (errno || *end || end == optarg + 11)
						return bad("--host-layout=%s: bad SEED", optarg);
				}
			} else {
				return bad("--host-layout=%s: expected contiguous or "
					   "fragmented[:SEED]",
					   optarg);
			}
			break;
		case 'p':
			o->model_opts = true;
			if (strcmp(optarg, "4k") && strcmp(optarg, "2m"))
				return bad("--host-pages=%s: expected 4k or 2m", optarg);
			o->x.host_shift = strcmp(optarg, "2m") ? 12 : 21;
			break;
		case 'S':
			o->model_opts = true;
			o->x.schemes = optarg;
			break;
		case 'Q':
			o->model_opts = true;
			o->x.preset = optarg;
			break;
		case 'C':
			o->model_opts = true;
			o->x.config = optarg;
			break;
		case 'K':
			o->model_opts = true;
			if (o->x.nsets == 64)
				return bad("--model-set=%s: at most 64 --model-set options",
					   optarg);
			o->sets[o->x.nsets++] = optarg;
			break;
		case 'T':
			o->model_opts = true;
			o->x.trace_out = optarg;
			break;
		case 'F':
			o->report_file = optarg;
			break;
		case 'X':
			o->model_opts = true;
			o->x.check_translate = 16;
			if (optarg) {
				long n = strtol(optarg, &end, 10);
				if (*end || end == optarg || n < 1 || n > 4096)
					return bad("--debug-translate-check=%s: expected 1..4096",
						   optarg);
				o->x.check_translate = (unsigned)n;
			}
			break;
		case 'h':
			if ((o->thp = vmm_parse_onoff(optarg)) < 0)
				return bad("--thp=%s: expected on or off", optarg);
			break;
		case 'E':
			if (strcmp(optarg, "4k") && strcmp(optarg, "2m"))
				return bad("--ept12-pages=%s: expected 4k or 2m", optarg);
			o->ept12_shift = strcmp(optarg, "2m") ? 12 : 21;
			break;
		case 'A':
			if (o->nadds == (int)(sizeof(o->adds) / sizeof(o->adds[0])))
				return bad("--add %s: at most 64 --add options", optarg);
			o->adds[o->nadds++] = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "socket") && strcmp(optarg, "execve") &&
			    strcmp(optarg, "ctl-socket") && strcmp(optarg, "model-socket"))
				return bad("--debug-seccomp-probe=%s: expected socket, execve, "
					   "ctl-socket or model-socket",
					   optarg);
			o->probe = optarg;
			break;
		default:
			return bad("unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	o->x.mode = o->mode;
#ifndef DMTVM_HAVE_REPLAY
	if (o->model_opts)
		return bad("%s: this build has no MMU model (dmtvm-static)", "model options");
#endif
	if (optind >= argc)
		return bad("%s", "missing guest image");
	o->image = argv[optind++];
	if (optind < argc) {
		if (strcmp(argv[optind], "--") != 0)
			return bad("unexpected argument %s (arguments for /init go after --)",
				   argv[optind]);
		o->args = argv + optind + 1;
		o->nargs = argc - optind - 1;
	}
	return 0;
}

static int fail(const char *err)
{
	fprintf(stderr, "%s: %s\n", vmm_level_tag(), err);
	return DMTVM_EXIT_VMM_ERROR;
}

/* The guest as the image describes it, checked before any platform opens. */
struct guest_plan {
	struct vmm_elf elf;
	uint64_t initrd; /* gPA of the initramfs */
	char bootargs[8192];
};

/*
 * Check everything untrusted about the guest (kernel ELF, initramfs fit,
 * command line) against the RAM size asked for, so that a bad image or
 * option is reported (status 2) whether or not a platform can be opened.
 */
static int plan_guest(const struct vmm_image *img, const struct run_opts *o, struct guest_plan *g)
{
	char err[512];
	if (vmm_elf_parse(img->kernel, img->kernel_size, o->mem, &g->elf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", vmm_level_tag(), o->image, err);
		return DMTVM_EXIT_BAD_INPUT;
	}
	g->initrd = (g->elf.hi + 4095) & ~4095ULL;
	if (g->initrd > o->mem || img->initrd_size > o->mem - g->initrd) {
		fprintf(stderr,
			"%s: %s: kernel + initramfs (%zu bytes) do not fit in %llu MiB of RAM\n",
			vmm_level_tag(), o->image, img->initrd_size,
			(unsigned long long)(o->mem / MIB));
		return DMTVM_EXIT_BAD_INPUT;
	}
	if (vmm_bootargs(img->cmdline, o->args, o->nargs, g->bootargs, sizeof(g->bootargs), err,
			 sizeof(err)) < 0) {
		fprintf(stderr, "%s run: %s\n", vmm_level_tag(), err);
		return DMTVM_EXIT_BAD_INPUT;
	}
	return 0;
}

/* Load kernel, initramfs and FDT into RAM and build the boot tables. */
static int load_guest(struct vmm *vm, const struct vmm_image *img, const struct run_opts *o,
		      const struct guest_plan *g)
{
	char err[512];
	const struct vmm_elf elf = g->elf;
	const uint64_t initrd = g->initrd;
	if (vmm_cpu_build_boot_tables(vm, err, sizeof(err)) < 0)
		return fail(err);
	vmm_elf_load(&elf, img->kernel, vm->ram);
	memcpy(vm->ram + initrd, img->initrd, img->initrd_size);
	vm->entry = elf.entry;
	vm->fdt_gpa = DMTVM_BOOT_FDT_GPA;

	struct vmm_fdt_params p = {
	    .mem_size = vm->mem_size,
	    .bootargs = g->bootargs,
	    .initrd_start = initrd,
	    .initrd_end = initrd + img->initrd_size,
	    .mode = vm->mode,
	    .tsc_khz = vm->platform->tsc_khz(vm),
	    .vcpus = (uint32_t)vm->nvcpus,
	    .thp = (uint32_t)o->thp,
	    .nreserved = 0,
	};
	uint64_t res[][2] = {
	    {0, DMTVM_BOOT_PT_GPA}, /* zero page, GDT, FDT */
	    {DMTVM_BOOT_PT_GPA, vmm_cpu_boot_tables_size(vm->mem_size)},
	    {elf.lo, elf.hi - elf.lo},
	    {initrd, (img->initrd_size + 4095) & ~4095ULL},
	};
	for (unsigned i = 0; i < 4; i++) {
		if (res[i][1] == 0)
			continue;
		p.reserved[p.nreserved][0] = res[i][0];
		p.reserved[p.nreserved++][1] = res[i][1];
	}
	if (vmm_fdt_build(vm->ram + DMTVM_BOOT_FDT_GPA, DMTVM_BOOT_FDT_MAX, &p, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "%s: %s\n", vmm_level_tag(), err);
		return DMTVM_EXIT_BAD_INPUT;
	}
	return 0;
}

static int wait_for_end(struct vmm *vm, unsigned timeout)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	pthread_mutex_lock(&vm->lock);
	while (!vm->stopped) {
		if (!timeout) {
			pthread_cond_wait(&vm->cond, &vm->lock);
			continue;
		}
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT &&
		    !vm->stopped) {
			vm->stopped = true;
			vm->exit_status = 124;
			fprintf(stderr,
				"dmtvm: guest still running after --timeout=%u s; stopped\n",
				timeout);
		}
	}
	int status = vm->exit_status;
	pthread_mutex_unlock(&vm->lock);
	return status;
}

int vmm_run_main(int argc, char **argv)
{
	struct run_opts o;
	vmm_l1_probe();
	int r = parse_opts(argc, argv, &o);
	if (r)
		return r;
	if (o.mem == 256 * MIB && (r = check_mem(o.mem, "256M")))
		return r;

	char err[512];
	struct vmm_image img;
	if (vmm_image_load(o.image, &img, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", vmm_level_tag(), err);
		return DMTVM_EXIT_BAD_INPUT;
	}
	/* --add: the added files in front of the image's initramfs, before anything boots. */
	uint8_t *added = NULL;
	if (o.nadds) {
		size_t added_size;
		if (vmm_initrd_add(img.initrd, img.initrd_size, o.adds, o.nadds, o.mem, &added,
				   &added_size, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s run: %s\n", vmm_level_tag(), err);
			return DMTVM_EXIT_BAD_INPUT;
		}
		img.initrd = added;
		img.initrd_size = added_size;
	}
	static struct guest_plan plan;
	if ((r = plan_guest(&img, &o, &plan)))
		return r;
	struct vmm *vm = &the_vm;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &ca);
	pthread_cond_init(&vm->start_cond, NULL);
	vm->mode = o.mode;
	vm->nvcpus = o.vcpus;
	vm->seccomp = o.seccomp;
	vm->console_limit = o.console_limit;
	vm->seccomp_probe = o.probe;

	if (vmm_platform_open(vm, o.platform, err, sizeof(err)) < 0)
		return fail(err);
	/* An L1 hypervisor: one vCPU (DMTVM_KVM_MAX_VCPUS), no threads, no irqchip. */
	if (vm->l1 && (o.vcpus > 1 || o.lapic || o.timeout || o.api_sock)) {
		fprintf(stderr,
			"dmtvm (L1) run: %s is not supported in a nested guest (one vCPU, no "
			"threads: the outer dmtvm's --timeout covers L1)\n",
			o.vcpus > 1 ? "--vcpus>1"
			: o.lapic   ? "--lapic"
			: o.timeout ? "--timeout"
				    : "--api-sock");
		return DMTVM_EXIT_BAD_INPUT;
	}
	if (o.ept12_shift != 12 && !vm->l1)
		return bad("%s: only for dmtvm running as an L1 hypervisor (nested)",
			   "--ept12-pages=2m");
	if (vm->platform->ram(vm, o.mem, err, sizeof(err)) < 0)
		return fail(err);
	if (vm->l1 &&
	    vmm_l1_ept12(vm, o.ept12_shift, !strcmp(o.mode, "pvdmt"), err, sizeof(err)) < 0)
		return fail(err);
	/*
	 * The in-kernel LAPIC is needed for INIT/SIPI (SMP) and guest timers,
	 * but tearing it down costs ~11 ms here (a third of a small run): a
	 * single-vCPU VM gets one only with --lapic.
	 */
	if ((o.lapic || o.vcpus > 1) && vm->platform->irqchip(vm, err, sizeof(err)) < 0)
		return fail(err);
	for (int i = 0; i < vm->nvcpus; i++)
		if (vm->platform->vcpu_create(vm, i, err, sizeof(err)) < 0)
			return fail(err);
	if ((r = load_guest(vm, &img, &o, &plan)))
		return r;
	/* Before any thread that loads a filter starts (model worker, control). */
	if (vm->seccomp) {
		vmm_seccomp_install_handler();
#ifdef __GLIBC__
		/*
		 * glibc reads /proc/sys/vm/overcommit_memory (openat) the first
		 * time it shrinks a thread arena's heap; the model's frees in a
		 * vCPU thread would trigger that under the filter. Never trim.
		 */
		mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
	}
#ifdef DMTVM_HAVE_REPLAY
	/* Before the seccomp filters: the model config and the trace file are opened here. */
	if (vmm_xlate_create(vm, &o.x, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm run: %s\n", err);
		return DMTVM_EXIT_BAD_INPUT;
	}
#endif
	FILE *report = stderr;
	if (o.report_file && !(report = fopen(o.report_file, "w"))) {
		fprintf(stderr, "%s run: --report-file=%s: %s\n", vmm_level_tag(), o.report_file,
			strerror(errno));
		return DMTVM_EXIT_BAD_INPUT;
	}
	vmm_image_free(&img);
	free(added);
	for (int i = 0; i < vm->nvcpus; i++)
		if (vm->platform->vcpu_boot(&vm->vcpus[i], err, sizeof(err)) < 0)
			return fail(err);
	if (o.api_sock && vmm_ctl_start(vm, o.api_sock, err, sizeof(err)) < 0)
		return fail(err);

	if (vm->nvcpus == 1 && !o.api_sock && !o.timeout && !vm->xlate) {
		/* Single-threaded: the main thread becomes the vCPU (filter included). */
		if (vm->platform->vcpu_thread_init(&vm->vcpus[0], err, sizeof(err)) < 0)
			return fail(err);
		if (vm->platform->background)
			vm->platform->background(vm);
		if (vm->seccomp && vmm_seccomp_vcpu(vm, err, sizeof(err)) < 0)
			return fail(err);
		vm->started = true;
		vmm_vcpu_loop(&vm->vcpus[0]);
		int status = vm->stopped ? vm->exit_status : DMTVM_EXIT_VMM_ERROR;
		vmm_report(vm, status, o.json, report);
		/* fflush, not fclose: the vCPU filter has no close(); _exit ends it. */
		fflush(report);
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	/*
	 * A thread per vCPU. vCPU 0 boots; the others sit in KVM_RUN in the
	 * wait-for-SIPI state until the guest starts them the x86 way
	 * (INIT/SIPI through its LAPIC).
	 */
	for (int i = 0; i < vm->nvcpus && !r; i++)
		if (pthread_create(&vm->vcpus[i].thread, NULL, vmm_vcpu_thread, &vm->vcpus[i]))
			r = fail("cannot create a vCPU thread");
	if (!r && vm->platform->background)
		vm->platform->background(vm);
	if (!r && vm->seccomp && vmm_seccomp_main(vm, err, sizeof(err)) < 0)
		r = fail(err);
	if (r) {
		if (o.api_sock)
			vmm_ctl_cleanup(o.api_sock);
		return r;
	}
	pthread_mutex_lock(&vm->lock);
	vm->started = true;
	pthread_cond_broadcast(&vm->start_cond);
	pthread_mutex_unlock(&vm->lock);

	int status = wait_for_end(vm, o.timeout);
	vmm_report(vm, status, o.json, report);
	if (report != stderr)
		fclose(report);
	if (o.api_sock)
		vmm_ctl_cleanup(o.api_sock);
	fflush(stdout);
	fflush(stderr);
	/* Other threads may still be inside KVM_RUN or poll(): end them all now. */
	_exit(status);
}
