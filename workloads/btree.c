/* SPDX-License-Identifier: MIT */
/*
 * btree.c: lookups in a B+tree of 64-bit keys, the index probe of a database.
 * The tree is bulk-loaded (outside the ROI) from sorted unique keys with
 * nodes filled to BT_FILL of BT_KEYS slots, as a tree built by random inserts
 * would be; the ROI is N random lookups, half of them for absent keys, each a
 * root-to-leaf descent with a binary search per 512-byte node.
 */
#include "common.h"
#include <dmtvm/roi.h>

#include <stdio.h>

#define BT_KEYS 31 /* keys per node: 8 + 31 * 8 + 32 * 8 = 512 bytes */
#define BT_FILL 24 /* keys per node after the bulk load (~77 %) */

struct bt_node {
	uint32_t nkeys;
	uint32_t leaf;
	uint64_t keys[BT_KEYS];
	union {
		struct bt_node *kids[BT_KEYS + 1]; /* inner: kids[j] holds keys < keys[j] */
		uint64_t vals[BT_KEYS + 1];	   /* leaf: vals[j] belongs to keys[j] */
	};
};

/* Key number i: sorted, unique, with 4 random low bits so absent keys interleave. */
static inline uint64_t bt_key(uint64_t i)
{
	return (i << 4) | (wl_hash64(i) & 15);
}

static inline uint64_t bt_val(uint64_t key)
{
	return wl_hash64(key ^ 0x5bd1e995);
}

int main(int argc, char **argv)
{
	uint64_t mem = 256ULL << 20, lookups = 16ULL << 20, seed = 1;
	struct wl_opt opts[] = {
	    {'m', "SIZE", "tree bytes (sets the key count)", &mem, 16384, 1ULL << 46},
	    {'n', "N", "lookups (half for absent keys)", &lookups, 1, 1ULL << 50},
	    {'s', "SEED", "seed of the lookup keys", &seed, 0, ~0ULL},
	};
	wl_parse_args(argc, argv, "btree", "B+tree: random point lookups", opts,
		      sizeof(opts) / sizeof(opts[0]));

	/* Leaves L need < L / BT_FILL inner nodes plus one per level (< 16 levels). */
	uint64_t max_nodes = mem / sizeof(struct bt_node);
	if (max_nodes < 32)
		wl_die("btree", "-m too small for a tree (need >= 16 KiB)");
	uint64_t nkeys = (max_nodes - 16) * BT_FILL / (BT_FILL + 1) * BT_FILL;
	struct bt_node *pool = wl_alloc("btree", max_nodes * sizeof(struct bt_node));
	uint64_t used = 0;

	/* Leaves, left to right. */
	uint64_t nleaves = (nkeys + BT_FILL - 1) / BT_FILL;
	struct bt_node *level = pool;
	for (uint64_t l = 0, k = 0; l < nleaves; l++) {
		struct bt_node *n = &pool[used++];
		n->leaf = 1;
		for (n->nkeys = 0; n->nkeys < BT_FILL && k < nkeys; n->nkeys++, k++) {
			n->keys[n->nkeys] = bt_key(k);
			n->vals[n->nkeys] = bt_val(n->keys[n->nkeys]);
		}
	}
	/* Inner levels: each takes up to BT_FILL + 1 children; separators = child minima. */
	uint64_t count = nleaves, height = 1;
	while (count > 1) {
		struct bt_node *next = &pool[used];
		uint64_t parents = (count + BT_FILL) / (BT_FILL + 1);
		for (uint64_t p = 0, c = 0; p < parents; p++) {
			struct bt_node *n = &pool[used++];
			n->leaf = 0;
			n->nkeys = 0;
			n->kids[0] = &level[c++];
			while (n->nkeys < BT_FILL && c < count) {
				struct bt_node *kid = &level[c++], *min = kid;
				while (!min->leaf)
					min = min->kids[0];
				n->keys[n->nkeys] = min->keys[0];
				n->kids[++n->nkeys] = kid;
			}
		}
		level = next;
		count = parents;
		height++;
	}
	if (used > max_nodes)
		wl_die("btree", "node pool overflow (bug)");
	struct bt_node *root = level;
	printf("btree: %llu keys, %llu nodes, height %llu, %llu lookups\n",
	       (unsigned long long)nkeys, (unsigned long long)used, (unsigned long long)height,
	       (unsigned long long)lookups);

	struct wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint64_t h = 0, hits = 0;
	uint64_t t0 = wl_now_ns();
	roi_begin();
	for (uint64_t q = 0; q < lookups; q++) {
		uint64_t r = wl_rand(&rng);
		uint64_t i = (uint64_t)(((unsigned __int128)r * nkeys) >> 64);
		uint64_t key = bt_key(i);
		if (r & 1)
			key = (i << 4) | ((key + 1 + ((r >> 1) % 15)) & 15); /* absent */
		const struct bt_node *n = root;
		while (!n->leaf) {
			uint32_t lo = 0, hi = n->nkeys; /* first separator > key */
			while (lo < hi) {
				uint32_t mid = (lo + hi) / 2;
				if (n->keys[mid] <= key)
					lo = mid + 1;
				else
					hi = mid;
			}
			n = n->kids[lo];
		}
		uint32_t lo = 0, hi = n->nkeys;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (n->keys[mid] < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n->nkeys && n->keys[lo] == key) {
			hits++;
			h = wl_mix(h, n->vals[lo]);
		}
	}
	roi_end();
	uint64_t dt = wl_now_ns() - t0;

	printf("btree: %llu hits, %.3f Mlookups/s\n", (unsigned long long)hits,
	       (double)lookups * 1e3 / (double)dt);
	wl_finish("btree", dt, wl_mix(h, hits));
	return 0;
}
