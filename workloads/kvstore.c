/* SPDX-License-Identifier: MIT */
/*
 * kvstore.c: a Redis-like in-memory key-value store driven by a GET/SET mix
 * (the request handling of a Redis server, minus the network). Keys are
 * strings "user:<12 hex digits>" hashed with FNV-1a into a chained hash table
 * of 2^k buckets; each entry holds its key inline and points at a separate
 * value buffer, as Redis's dictEntry -> robj -> sds does. Requests pick key
 * ids with an 80/20 skew (80 % of requests go to 20 % of the ids, scattered
 * by the hash); a SET of an absent key inserts it. Entries and values come
 * from arenas, so the ROI makes no libc calls.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>

#define KV_KEY_LEN 17 /* "user:" + 12 hex digits */
#define KV_VAL_MAX 64

struct kv_entry {
	struct kv_entry *next;
	uint64_t hash;
	char *val;
	uint32_t vlen;
	char key[KV_KEY_LEN + 3];
}; /* 48 bytes */

static void kv_make_key(char *k, uint64_t id)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x = wl_hash64(id);
	k[0] = 'u', k[1] = 's', k[2] = 'e', k[3] = 'r', k[4] = ':';
	for (int i = 0; i < 12; i++)
		k[5 + i] = hex[(x >> (4 * i)) & 15];
}

static inline uint64_t kv_hash(const char *k, unsigned len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 0x100000001b3ULL;
	return h;
}

static inline int kv_key_eq(const char *a, const char *b)
{
	for (int i = 0; i < KV_KEY_LEN; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Value of a SET: length 16..64 and bytes from (id, version). */
static unsigned kv_make_val(char *v, uint64_t id, uint64_t version)
{
	uint64_t x = wl_hash64(id * 31 + version);
	unsigned len = 16 + (unsigned)(x % (KV_VAL_MAX - 15));
	for (unsigned i = 0; i < len; i++)
		v[i] = (char)('a' + (x >> (i % 60)) % 26);
	return len;
}

struct kv_store {
	struct kv_entry **bucket;
	uint64_t mask;
	struct kv_entry *entries; /* arena, one per possible id */
	char *values;		  /* arena, KV_VAL_MAX bytes per entry */
	uint64_t used, cap;
};

static struct kv_entry *kv_find(struct kv_store *s, const char *key, uint64_t h)
{
	for (struct kv_entry *e = s->bucket[h & s->mask]; e; e = e->next)
		if (e->hash == h && kv_key_eq(e->key, key))
			return e;
	return NULL;
}

static void kv_set(struct kv_store *s, const char *key, uint64_t h, const char *v, unsigned len)
{
	struct kv_entry *e = kv_find(s, key, h);
	if (!e) {
		if (s->used == s->cap)
			wl_die("kvstore", "entry arena full (bug)");
		e = &s->entries[s->used];
		e->val = s->values + s->used * KV_VAL_MAX;
		s->used++;
		for (int i = 0; i < KV_KEY_LEN; i++)
			e->key[i] = key[i];
		e->hash = h;
		e->next = s->bucket[h & s->mask];
		s->bucket[h & s->mask] = e;
	}
	for (unsigned i = 0; i < len; i++)
		e->val[i] = v[i];
	e->vlen = len;
}

int main(int argc, char **argv)
{
	uint64_t mem = 320ULL << 20, ops = 8ULL << 20, get_pct = 90, seed = 1;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "store bytes (sets the key space)", &mem, 4096, 1ULL << 46},
	    {'n', "N", "requests", &ops, 1, 1ULL << 50},
	    {'g', "PCT", "percentage of GETs (rest are SETs)", &get_pct, 0, 100},
	    {'s', "SEED", "seed of the requests", &seed, 0, ~0ULL},
	};
	wl_parse_args(argc, argv, "kvstore", "Redis-like hash table under a GET/SET mix", opts,
		      sizeof(opts) / sizeof(opts[0]));

	/* Per id: entry + value slot + about one bucket pointer. */
	uint64_t cap = mem / (sizeof(struct kv_entry) + KV_VAL_MAX + 8);
	uint64_t nb = 1;
	while (nb * 2 <= cap)
		nb *= 2;
	struct kv_store s = {
	    .bucket = wl_alloc("kvstore", nb * sizeof(struct kv_entry *)),
	    .mask = nb - 1,
	    .entries = wl_alloc("kvstore", cap * sizeof(struct kv_entry)),
	    .values = wl_alloc("kvstore", cap * KV_VAL_MAX),
	    .cap = cap,
	};
	/* Load 80 % of the id space; SETs on the other ids insert. */
	uint64_t loaded = cap * 4 / 5, hot = cap / 5 ? cap / 5 : 1;
	char key[KV_KEY_LEN], val[KV_VAL_MAX];
	for (uint64_t id = 0; id < loaded; id++) {
		kv_make_key(key, id);
		unsigned len = kv_make_val(val, id, 0);
		kv_set(&s, key, kv_hash(key, KV_KEY_LEN), val, len);
	}
	printf("kvstore: %llu keys loaded of %llu, %llu buckets, %llu requests, %llu%% GET\n",
	       (unsigned long long)loaded, (unsigned long long)cap, (unsigned long long)nb,
	       (unsigned long long)ops, (unsigned long long)get_pct);

	struct wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint64_t h = 0, hits = 0;
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t q = 0; q < ops; q++) {
		uint64_t r = wl_rand(&rng);
		/* 80/20: ids [0, hot) get 80 % of requests; id order is hash-scattered. */
		uint64_t id = (r & 0xff) < 205 ? (r >> 8) % hot : hot + (r >> 8) % (cap - hot);
		kv_make_key(key, id);
		uint64_t kh = kv_hash(key, KV_KEY_LEN);
		if (wl_below(&rng, 100) < get_pct) {
			const struct kv_entry *e = kv_find(&s, key, kh);
			if (e) { /* "reply": read the value as Redis copies it out */
				hits++;
				uint64_t v = e->vlen;
				for (unsigned i = 0; i < e->vlen; i++)
					v = v * 31 + (unsigned char)e->val[i];
				h = wl_mix(h, v);
			}
		} else {
			unsigned len = kv_make_val(val, id, q + 1);
			kv_set(&s, key, kh, val, len);
		}
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	printf("kvstore: %llu GET hits, %llu keys at the end, %.3f Mrequests/s\n",
	       (unsigned long long)hits, (unsigned long long)s.used,
	       (double)ops * 1e3 / (double)dt);
	wl_finish("kvstore", dt, wl_mix(wl_mix(h, hits), s.used));
	return 0;
}
