/* SPDX-License-Identifier: MIT */
/*
 * common.h: helpers shared by every dmtvm workload: argument parsing with
 * K/M/G suffixes, a seeded PRNG, a checksum mix, timing, big allocations and
 * the final report.
 *
 * Workloads run as ring-3 programs in dmtvm's guest kernel, which offers only
 * read/write, exit, brk, anonymous mmap/munmap/mprotect, clock_gettime,
 * getpid and uname: so no files, threads or signals here, and all inputs are
 * generated from the seed.
 */
#ifndef WL_COMMON_H
#define WL_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* One command-line option: "-f VALUE", VALUE a number with optional suffix. */
struct wl_opt {
	char flag;	  /* option letter */
	const char *arg;  /* what VALUE is, for the usage message: "SIZE", "N" */
	const char *help; /* one line */
	uint64_t *val;	  /* in: default, out: parsed value */
	uint64_t min, max;
};

/*
 * Parse argv against opts. -h prints the usage to stdout and exits 0; an
 * unknown option, a missing or malformed value, a value out of [min, max] or
 * a positional argument print one line naming the problem plus the usage to
 * stderr and exit 2.
 */
void wl_parse_args(int argc, char **argv, const char *name, const char *summary,
		   struct wl_opt *opts, size_t nopts);

/*
 * Parse a decimal or 0x-hex number with an optional binary suffix K, M, G or
 * T (case-insensitive, powers of 1024). Returns 0, or -1 on garbage/overflow.
 */
int wl_parse_num(const char *s, uint64_t *out);

/* splitmix64: small state, fast, good enough for workload inputs. */
struct wl_rng {
	uint64_t s;
};

static inline void wl_rng_seed(struct wl_rng *r, uint64_t seed)
{
	r->s = seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
}

static inline uint64_t wl_rand(struct wl_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) by multiply-high (bias < n / 2^64: irrelevant here). */
static inline uint64_t wl_below(struct wl_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)wl_rand(r) * n) >> 64);
}

/* Uniform double in [0, 1). */
static inline double wl_unit(struct wl_rng *r)
{
	return (double)(wl_rand(r) >> 11) * 0x1p-53;
}

/* Order-dependent 64-bit checksum step. */
static inline uint64_t wl_mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/* A stateless 64-bit hash of one value (keys, permutations). */
static inline uint64_t wl_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* Monotonic time in ns (clock_gettime: in the guest subset). */
uint64_t wl_now_ns(void);

/*
 * Zeroed anonymous memory of `bytes` (mmap, so it never comes from brk and is
 * page aligned); exits with a one-line message if it cannot be had. The
 * running total is the footprint printed by wl_finish.
 */
void *wl_alloc(const char *name, uint64_t bytes);
void wl_free(void *p, uint64_t bytes);

/* Print "NAME: roi S s, footprint M MiB" and "checksum HEX" to stdout. */
void wl_finish(const char *name, uint64_t roi_ns, uint64_t checksum);

/* Exit 1 with "NAME: MSG" on stderr: for impossible configurations. */
void wl_die(const char *name, const char *msg) __attribute__((noreturn));

#endif /* WL_COMMON_H */
