/* SPDX-License-Identifier: MIT */
/*
 * fuzz_walk.c: libFuzzer target for the MMU model's page walkers over
 * arbitrary table bytes. The input is a 128-byte header (roots, DMT
 * registers, VAs) followed by 4 KiB frames; the frame callback serves every
 * physical address below 2^40 from those frames (pa >> 12 modulo their
 * count), so any entry the walkers read is fuzz bytes, and returns NULL
 * above (the BAD_PA path). Every scheme runs (native, 2D, shadow, nested,
 * DMT, pvDMT, FPT, ECPT, ASAP, Agile) through mmu_sim_run, mmu_translate and
 * mmu_sim_invalidate, from a cold model (reset per input). DMT registers are shaped as the VMM's
 * hypercall checks let them through (page_shift 12/21, aligned, non-empty). Replayed over
 * corpus/walk under meson test (tests/vmm/fuzz_driver.c); tests/hardening/fuzz.sh SECONDS runs it
 * under libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu.h"

#define HDR  128
#define MAXF 64

static uint8_t frames[MAXF][4096] __attribute__((aligned(4096)));
static uint64_t nframes;

static const void *frame(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (pa >> 40)
		return NULL;
	return frames[(pa >> 12) % nframes];
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A register as hc_xlate.c admits it: shape bits from the input. */
static void make_reg(struct mmu_dmt_reg *r, uint64_t a, uint64_t b)
{
	r->page_shift = (a & 1) ? 21 : 12;
	uint64_t span = 1ULL << (r->page_shift + 9); /* one table's reach */
	r->base = (a >> 1) & ((1ULL << 47) - 1) & ~(span - 1);
	r->limit = r->base + span * (1 + (b & 3));
	if (r->limit > (1ULL << 47))
		r->limit = 1ULL << 47;
	r->tea = (b >> 8) & ((1ULL << 40) - 1) & ~7ULL;
	r->tea_hpa = (b & 4) ? ((b >> 20) & ((1ULL << 40) - 1) & ~7ULL) : 0;
	r->flags = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mmu_sim *sim;
	static struct mmu_config cfg;
	if (!sim) {
		char err[256];
		mmu_config_default(&cfg);
		/* Small caches: the per-input reset stays cheap (walks are the target). */
		if (mmu_config_set(&cfg, "l2_size", "64K", err, sizeof(err)) < 0 ||
		    mmu_config_set(&cfg, "llc_size", "352K", err, sizeof(err)) < 0)
			abort();
		sim = mmu_sim_create(&cfg, MMU_ALL_SCHEMES, err, sizeof(err));
		if (!sim)
			abort();
	}
	if (size < HDR)
		return 0;
	size_t body = size - HDR;
	nframes = body ? (body + 4095) / 4096 : 1;
	if (nframes > MAXF)
		nframes = MAXF;
	memset(frames, 0, nframes * 4096);
	memcpy(frames, data + HDR, body < MAXF * 4096 ? body : MAXF * 4096);

	const uint8_t *h = data;
	uint8_t sel = h[0];
	struct mmu_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		abort();
	ctx->gpa = ctx->hpa = ctx->l1 = (struct mmu_space){frame, NULL};
	ctx->cr3 = rd64(h + 8) & ((1ULL << 41) - 1); /* sometimes beyond 2^40 */
	ctx->ept_root = (sel & 1) ? rd64(h + 16) & ((1ULL << 41) - 1) : 0;
	ctx->ept12_root = (sel & 2) ? rd64(h + 24) & ((1ULL << 41) - 1) : 0;
	ctx->asid = sel >> 4;
	ctx->n_guest_regs = (sel >> 2) & 1;
	ctx->n_host_regs = (sel >> 3) & 1;
	ctx->n_ept12_regs = (sel & 3) == 3;
	make_reg(&ctx->guest_regs[0], rd64(h + 32), rd64(h + 40));
	make_reg(&ctx->host_regs[0], rd64(h + 48), rd64(h + 56));
	make_reg(&ctx->ept12_regs[0], rd64(h + 64), rd64(h + 72));
	if (ctx->n_host_regs) { /* host TEA over gPA space starting at 0 */
		ctx->host_regs[0].base = 0;
		ctx->host_regs[0].page_shift = 12;
	}

	/* Six accesses from the header, any VA (non-canonical included). */
	struct mmu_access acc[6];
	for (int i = 0; i < 6; i++) {
		uint64_t v = rd64(h + 80 + i * 8);
		acc[i] = (struct mmu_access){v, 1u << (v & 3), (uint8_t)((v >> 2) % 3), 0, 0};
	}
	/* Every input starts cold: a crash reproduces from its input alone. */
	mmu_sim_reset(sim);
	mmu_sim_run(sim, ctx, acc, 6);
	/* The same again: TLB/PWC hits over the same (possibly absurd) entries. */
	mmu_sim_run(sim, ctx, acc, 6);
	mmu_sim_invalidate(sim, ctx, acc[0].va & ~0xfffULL, (h[2] & 1) ? 0 : 1ULL << 21);
	mmu_sim_run(sim, ctx, acc + 3, 3);
	for (int s = 0; s < MMU_NSCHEMES; s++) {
		struct mmu_walk_result res;
		mmu_translate(&cfg, ctx, (enum mmu_scheme)s, acc[s % 6].va, MMU_LOAD, &res);
	}
	free(ctx);
	return 0;
}
