/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c: the `dmtvm replay` command line (replay.h). Parses options
 * into struct replay_opts and hands over to replay_run(). Usage errors exit
 * with 2 (DMTVM_EXIT_BAD_INPUT), as do malformed traces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"
#include "replay_run.h"

#define MiB (1ULL << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: dmtvm replay [options] TRACE|-\n"
		   "       dmtvm replay [options] --synthetic=SPEC [--write-trace=FILE]\n"
		   "Replays a memory-access trace (valgrind lackey --trace-mem=yes text, or a\n"
		   "dmtvm binary trace; detected from its first bytes) through the MMU model,\n"
		   "with simos building real page tables, TEAs and EPTs as the trace goes.\n"
		   "  --mode=M           native|ept|spt|dmt|pvdmt|nested|all (default all)\n"
		   "  --schemes=LIST     model schemes by name (e.g. x86-2d,dmt-virt), or all\n"
		   "  --thp              2 MiB guest data pages and 2 MiB host pages\n"
		   "  --host-pages=4k|2m host (EPT) page size (default 4k; 2m with --thp)\n"
		   "  --model-preset=NAME  a model preset shipped with the model, applied\n"
		   "                     before --config and --set, wherever it is given\n"
		   "  --config=FILE      model configuration, `key = value` lines\n"
		   "  --set KEY=VALUE    one model key, or simos.vma_gap (4M), simos.tea_min\n"
		   "                     (64M), simos.tea_max (dmt_regs), simos.guest_mem\n"
		   "                     (default: sized from the trace); sizes take K/M/G\n"
		   "  --report=table|json, --report-file=FILE\n"
		   "  --batch=N          records per model batch (default 65536)\n"
		   "  --threads=N        model threads, 1..8 (default: the online CPUs, at\n"
		   "                     most 4; DMTVM_MODEL_THREADS=N sets the default);\n"
		   "                     the counters are the same for every N\n"
		   "  --synthetic=SPEC   gups:SIZE:N[:SEED] or stream:SIZE:N instead of a trace\n"
		   "  --write-trace=FILE with --synthetic: write the binary trace, do not replay\n"
		   "  --quiet            no progress lines on stderr\n"
		   "Exit status: 0 ok, 1 environment error, 2 bad usage or malformed trace.\n");
	fprintf(f, "Model presets (mmu-model/presets/NAME.conf):");
	for (unsigned i = 0; mmu_config_preset_name(i); i++)
		fprintf(f, " %s", mmu_config_preset_name(i));
	fprintf(f, "\n");
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "dmtvm replay: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see dmtvm replay --help)\n");
	return 2;
}

/* 1..MMU_MAX_LANES model threads. */
static int parse_threads(const char *v, unsigned *n)
{
	uint64_t x;

	if (mmu_parse_size(v, &x) < 0 || x < 1 || x > MMU_MAX_LANES)
		return -1;
	*n = (unsigned)x;
	return 0;
}

static int mode_mask(const char *m, uint32_t *mask)
{
	static const struct {
		const char *name;
		uint32_t mask;
	} modes[] = {
	    {"native", MMU_SCHEME_BIT(MMU_X86_NATIVE) | MMU_SCHEME_BIT(MMU_DMT_NATIVE)},
	    {"ept", MMU_SCHEME_BIT(MMU_X86_2D)},
	    {"spt", MMU_SCHEME_BIT(MMU_X86_2D) | MMU_SCHEME_BIT(MMU_X86_SHADOW)},
	    {"dmt", MMU_SCHEME_BIT(MMU_X86_2D) | MMU_SCHEME_BIT(MMU_DMT_VIRT)},
	    {"pvdmt",
	     MMU_SCHEME_BIT(MMU_X86_2D) | MMU_SCHEME_BIT(MMU_DMT_VIRT) | MMU_SCHEME_BIT(MMU_PVDMT)},
	    {"nested", MMU_SCHEME_BIT(MMU_X86_NESTED_EPT02) | MMU_SCHEME_BIT(MMU_X86_3D) |
			   MMU_SCHEME_BIT(MMU_PVDMT_NESTED)},
	    {"all", MMU_ALL_SCHEMES},
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(m, modes[i].name) == 0) {
			*mask = modes[i].mask;
			return 0;
		}
	return -1;
}

/* simos.* keys are replay's own; every other key goes to the model. */
static int set_key(struct replay_opts *o, const char *kv)
{
	char key[128];
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key))
		return bad("--set '%s': expected KEY=VALUE", kv);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	const char *val = eq + 1;
	uint64_t v;
	if (strncmp(key, "simos.", 6) == 0) {
		if (mmu_parse_size(val, &v) < 0)
			return bad("--set '%s': bad number", kv);
		if (strcmp(key, "simos.vma_gap") == 0 && v <= (1ULL << 46))
			o->vma_gap = v;
		else if (strcmp(key, "simos.tea_min") == 0 && v <= (1ULL << 46))
			o->tea_min = v;
		else if (strcmp(key, "simos.tea_max") == 0 && v >= 1 && v <= 64)
			o->tea_max = (unsigned)v;
		else if (strcmp(key, "simos.guest_mem") == 0 && v >= (64 * MiB) &&
			 v <= (1ULL << 44))
			o->guest_mem = v;
		else
			return bad("--set '%s': unknown simos key or value out of range "
				   "(vma_gap <= 64T, tea_min <= 64T, 1 <= tea_max <= 64, "
				   "64M <= guest_mem <= 16T)",
				   kv);
		return 0;
	}
	char err[256];
	if (mmu_config_set(&o->cfg, key, val, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm replay: --set %s: %s\n", kv, err);
		return 2;
	}
	return 0;
}

/* Matches "--name=value" or "--name value"; returns the value or NULL. */
static const char *opt(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int replay_main(int argc, char **argv)
{
	struct replay_opts o;
	memset(&o, 0, sizeof(o));
	mmu_config_default(&o.cfg);
	o.mask = MMU_ALL_SCHEMES;
	o.host_shift = 0;
	o.vma_gap = 4 * MiB;
	o.tea_min = 64 * MiB;
	o.tea_max = 0; /* default: the model's DMT register count */
	o.batch = 1 << 16;
	const char *v;
	char err[256];
	/* the preset first: --config and --set then change its keys */
	for (int i = 1; i < argc; i++)
		if ((v = opt(argc, argv, &i, "--model-preset")) &&
		    mmu_config_preset(&o.cfg, v, err, sizeof(err)) < 0) {
			fprintf(stderr, "dmtvm replay: --model-preset: %s\n", err);
			return 2;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--thp") == 0) {
			o.thp = true;
		} else if (strcmp(a, "--quiet") == 0) {
			o.quiet = true;
		} else if ((v = opt(argc, argv, &i, "--mode"))) {
			if (mode_mask(v, &o.mask) < 0)
				return bad("bad --mode '%s': expected native, ept, spt, dmt, "
					   "pvdmt, nested or all",
					   v);
		} else if ((v = opt(argc, argv, &i, "--schemes"))) {
			if (!(o.mask = mmu_scheme_mask_parse(v, err, sizeof(err)))) {
				fprintf(stderr, "dmtvm replay: --schemes: %s\n", err);
				return 2;
			}
		} else if ((v = opt(argc, argv, &i, "--host-pages"))) {
			if (strcmp(v, "4k") == 0)
				o.host_shift = 12;
			else if (strcmp(v, "2m") == 0)
				o.host_shift = 21;
			else
				return bad("bad --host-pages '%s': expected 4k or 2m", v);
		} else if ((v = opt(argc, argv, &i, "--model-preset"))) {
			continue; /* applied above */
		} else if ((v = opt(argc, argv, &i, "--config"))) {
			if (mmu_config_load(&o.cfg, v, err, sizeof(err)) < 0) {
				fprintf(stderr, "dmtvm replay: %s: %s\n", v, err);
				return 2;
			}
		} else if ((v = opt(argc, argv, &i, "--set"))) {
			int rc = set_key(&o, v);
			if (rc)
				return rc;
		} else if ((v = opt(argc, argv, &i, "--report-file"))) {
			o.report_file = v;
		} else if ((v = opt(argc, argv, &i, "--report"))) {
			if (strcmp(v, "json") == 0)
				o.json = true;
			else if (strcmp(v, "table") == 0)
				o.json = false;
			else
				return bad("bad --report '%s': expected table or json", v);
		} else if ((v = opt(argc, argv, &i, "--batch"))) {
			uint64_t n;
			if (mmu_parse_size(v, &n) < 0 || n < 2 || n > (1u << 24))
				return bad("bad --batch '%s': expected 2..16M", v);
			o.batch = (size_t)n;
		} else if ((v = opt(argc, argv, &i, "--threads"))) {
			if (parse_threads(v, &o.threads) < 0)
				return bad("bad --threads '%s': expected 1..8", v);
		} else if ((v = opt(argc, argv, &i, "--synthetic"))) {
			if (synth_parse(&o.synth, v, err, sizeof(err)) < 0) {
				fprintf(stderr, "dmtvm replay: %s\n", err);
				return 2;
			}
			o.synthetic = true;
		} else if ((v = opt(argc, argv, &i, "--write-trace"))) {
			o.write_trace = v;
		} else if (a[0] == '-' && a[1] != '\0') {
			return bad("unknown option '%s'", a);
		} else if (o.trace) {
			return bad("more than one trace given ('%s')", a);
		} else {
			o.trace = a;
		}
	}
	if (!o.trace == !o.synthetic)
		return bad("%s", o.synthetic ? "give either a TRACE or --synthetic, not both"
					     : "no TRACE given (a file, or - for stdin)");
	if (o.write_trace && !o.synthetic)
		return bad("%s", "--write-trace needs --synthetic");
	/* The default: DMTVM_MODEL_THREADS, else the online CPUs up to 4: all 14
	 * schemes' longest chain (the nested begin, then x86-3d's walks) is a
	 * quarter of a batch's work, so a fifth lane would only wait. */
	if (o.threads == 0) {
		const char *env = getenv("DMTVM_MODEL_THREADS");
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (env && parse_threads(env, &o.threads) < 0)
			return bad("bad DMTVM_MODEL_THREADS '%s': expected 1..8", env);
		if (!env)
			o.threads = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned)cpus;
	}
	if (o.tea_max == 0)
		o.tea_max = o.cfg.dmt_regs < 64 ? o.cfg.dmt_regs : 64;
	if (o.host_shift == 0)
		o.host_shift = o.thp ? 21 : 12;
	if (mmu_config_check(&o.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "dmtvm replay: configuration: %s\n", err);
		return 2;
	}
	return replay_run(&o);
}
