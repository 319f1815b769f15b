/* SPDX-License-Identifier: MIT */
/*
 * fdt.c: a minimal flattened-device-tree reader. It walks the structure
 * block once and keeps the few properties dmtvm_abi.h defines under
 * /memory and /chosen; everything else is skipped. The VMM is trusted for
 * boot data, but offsets are still bounded by the header's sizes.
 */
#include "fdt.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP	       4
#define FDT_END	       9

static inline uint32_t be32(const void *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4); /* one mov; no alignment assumed */
	return __builtin_bswap32(v);
}

static inline uint64_t be64(const void *p)
{
	return ((uint64_t)be32(p) << 32) | be32((const char *)p + 4);
}

/*
 * Property/node name equality with a literal, NUL included (n = sizeof lit),
 * 8 bytes per compare: every emulated instruction counts at boot. Reading a
 * few bytes past a short name stays inside the FDT blob.
 */
static inline bool name_is(const char *a, const char *lit, size_t n)
{
	uint64_t x, y;
	for (; n >= 8; n -= 8, a += 8, lit += 8) {
		__builtin_memcpy(&x, a, 8);
		__builtin_memcpy(&y, lit, 8);
		if (x != y)
			return false;
	}
	for (; n; n--)
		if (*a++ != *lit++)
			return false;
	return true;
}
#define NAME_IS(a, lit) name_is((a), (lit), sizeof(lit))

/* Node at depth 1 we care about. */
enum node { NODE_OTHER, NODE_MEMORY, NODE_CHOSEN };

/* One /chosen property: dispatch on a distinguishing character, then verify. */
static void chosen_prop(struct boot_info *bi, const char *name, const char *val, uint32_t len)
{
	if (name[0] == 'b') {
		if (NAME_IS(name, "bootargs"))
			bi->bootargs = len ? val : "";
	} else if (name[0] == 'l' && len == 8) {
		if (NAME_IS(name, "linux,initrd-start"))
			bi->initrd_start = be64(val);
		else if (NAME_IS(name, "linux,initrd-end"))
			bi->initrd_end = be64(val);
	} else if (name[0] == 'd' && name_is(name, "dmtvm,", 6)) {
		const char *n = name + 6;
		switch (n[0]) {
		case 'm':
			if (NAME_IS(n, "mode"))
				bi->mode = val;
			break;
		case 'a':
			if (len == 4 && NAME_IS(n, "abi-version"))
				bi->abi_version = be32(val);
			break;
		case 't':
			if (len == 4 && NAME_IS(n, "tsc-khz"))
				bi->tsc_khz = be32(val);
			else if (len == 4 && NAME_IS(n, "thp"))
				bi->thp = be32(val) != 0;
			break;
		case 'v':
			if (len == 4 && NAME_IS(n, "vcpus"))
				bi->vcpus = be32(val);
			break;
		case 'r':
			if (!NAME_IS(n, "reserved"))
				break;
			for (uint32_t off = 0; off + 16 <= len && bi->nreserved < BOOT_MAX_RESERVED;
			     off += 16) {
				bi->reserved[bi->nreserved].start = be64(val + off);
				bi->reserved[bi->nreserved].size = be64(val + off + 8);
				bi->nreserved++;
			}
			break;
		}
	}
}

int fdt_parse(uint64_t fdt_gpa, struct boot_info *bi)
{
	const char *fdt = phys_to_virt(fdt_gpa);
	if (be32(fdt) != FDT_MAGIC)
		return -EINVAL;
	uint32_t total = be32(fdt + 4);
	uint32_t off_struct = be32(fdt + 8), off_strings = be32(fdt + 12);
	uint32_t size_struct = be32(fdt + 36);
	if (total > DMTVM_BOOT_FDT_MAX || off_struct + size_struct > total || off_strings > total)
		return -EINVAL;

	memset(bi, 0, sizeof(*bi));
	bi->bootargs = "";
	bi->mode = "";
	bi->thp = -1;
	const char *strings = fdt + off_strings;
	const char *p = fdt + off_struct, *end = p + size_struct;
	int depth = 0;
	enum node node = NODE_OTHER;
	while (p + 4 <= end) {
		uint32_t tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			depth++;
			if (depth == 2)
				node = NAME_IS(p, "chosen")	 ? NODE_CHOSEN
				       : name_is(p, "memory", 6) ? NODE_MEMORY
								 : NODE_OTHER;
			p += ALIGN_UP(strlen(p) + 1, 4);
		} else if (tok == FDT_END_NODE) {
			depth--;
		} else if (tok == FDT_PROP) {
			uint32_t len = be32(p), nameoff = be32(p + 4);
			const char *val = p + 8, *name = strings + nameoff;
			p = val + ALIGN_UP(len, 4);
			if (depth != 2 || off_strings + nameoff >= total || p > end)
				continue;
			if (node == NODE_CHOSEN)
				chosen_prop(bi, name, val, len);
			else if (node == NODE_MEMORY && NAME_IS(name, "reg") && len >= 16)
				bi->mem_size = be64(val + 8);
		} else if (tok == FDT_END) {
			break;
		} else if (tok != FDT_NOP) {
			return -EINVAL;
		}
	}
	return bi->mem_size ? 0 : -EINVAL;
}
