/* SPDX-License-Identifier: MIT */
/* main.c: the dmtvm command line: run, ctl, replay, --help, --version. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dmtvm_abi.h"
#include "run.h"
#ifdef DMTVM_HAVE_REPLAY
#include "mmu.h"
#include "replay.h"
#endif

static const char usage[] =
    "usage: dmtvm run [OPTIONS] guest.img [-- ARGS for /init]\n"
    "       dmtvm ctl SOCKET status|counters|tables|reset|quit\n"
    "       dmtvm replay ...           (see dmtvm replay --help)\n"
    "       dmtvm --help | --version\n"
    "\n"
    "run options:\n"
    "  --mode=native|ept|spt|dmt|pvdmt  translation scheme to model (default ept)\n"
    "  --platform=auto|kvm|ptrace  how guest code runs (default auto: KVM when\n"
    "                       /dev/kvm opens, else ptrace; vmm/README.md)\n"
    "  --mem=SIZE         guest RAM, K/M/G suffixes, multiple of 2M (default 256M)\n"
    "  --vcpus=N          number of vCPUs (default 1)\n"
    "  --api-sock=PATH    serve the JSON control socket at PATH (mode 0600)\n"
    "  --report=table|json  end-of-run report format on stderr (default table)\n"
    "  --timeout=SEC      stop a guest still running after SEC seconds (exit 124;\n"
    "                     needs a timer thread: not in a nested L1 dmtvm)\n"
    "  --console-limit=SIZE  guest console bytes kept (default 1G, 0 = none)\n"
    "  --no-seccomp       do not install the seccomp filters (debugging)\n"
    "  --thp=on|off       guest kernel maps anonymous memory with 2 MiB pages (default on)\n"
    "  --add HOST[=GUEST]   put a host file or directory into the guest's initramfs at\n"
    "                       boot (repeatable; GUEST defaults to /bin/NAME for a file,\n"
    "                       /NAME for a directory; shadows an image file of that path)\n"
    "  --report-file=FILE   write the end-of-run report to FILE instead of stderr\n"
    "  --ept12-pages=4k|2m  leaf size of EPT12 when dmtvm runs as an L1 hypervisor\n"
    "                       (inside a dmtvm guest; default 4k)\n"
    "MMU model (the guest's TRACE_FLUSH records; not in dmtvm-static):\n"
    "  --host-layout=contiguous|fragmented[:SEED]  host-physical placement of RAM\n"
    "  --host-pages=4k|2m   host page size (EPT leaves)\n"
    "  --schemes=LIST       model schemes (default: the mode's; 'all')\n"
    "  --model-preset=NAME  a model preset shipped with the model, applied before\n"
    "                       --model-config and --model-set (listed below)\n"
    "  --model-config=FILE  model configuration (key = value lines)\n"
    "  --model-set=KEY=VALUE  one model configuration key (repeatable)\n"
    "  --trace-out=FILE     append the traced records to a dmtvm trace file\n"
    "  --debug-translate-check[=N]  check N VAs per flush against KVM_TRANSLATE\n"
    "                       and the EPT placement (default 16)\n"
    "\n"
    "exit status: the guest /init's status; 1 host error; 2 bad usage or image;\n"
    "124 timeout; 125 guest kernel panic or fault.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return DMTVM_EXIT_BAD_INPUT;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
#ifdef DMTVM_HAVE_REPLAY
		fputs("\nmodel presets (--model-preset; mmu-model/presets/NAME.conf):", stdout);
		for (unsigned i = 0; mmu_config_preset_name(i); i++)
			printf(" %s", mmu_config_preset_name(i));
		fputs("\n", stdout);
#endif
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("dmtvm %s (ABI %d)\n", DMTVM_VERSION, DMTVM_ABI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return vmm_run_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "ctl"))
		return vmm_ctl_client_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "replay")) {
#ifdef DMTVM_HAVE_REPLAY
		return replay_main(argc - 1, argv + 1);
#else
		fprintf(stderr, "dmtvm: this build has no replay engine (tools/replay)\n");
		return 1;
#endif
	}
	fprintf(stderr, "dmtvm: unknown command '%s'\n%s", cmd, usage);
	return DMTVM_EXIT_BAD_INPUT;
}
