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
#define FDT_NOP        4
#define FDT_END        9

static inline uint32_t be32(const void *p)
{
	return __builtin_bswap32(*(const uint32_t *)p);
}

static inline uint64_t be64(const void *p)
{
	return ((uint64_t)be32(p) << 32) | be32((const char *)p + 4);
}

static bool name_is(const char *a, const char *lit, size_t n)
{
	return strncmp(a, lit, n) == 0;
}

/* Node at depth 1 we care about. */
enum node { NODE_OTHER, NODE_MEMORY, NODE_CHOSEN };

static void chosen_prop(struct boot_info *bi, const char *name, const char *val, uint32_t len)
{
	if (name_is(name, "bootargs", 9)) {
		bi->bootargs = len ? val : "";
	} else if (name_is(name, "linux,initrd-", 13) && len == 8) {
		if (name_is(name + 13, "start", 6))
			bi->initrd_start = be64(val);
		else if (name_is(name + 13, "end", 4))
			bi->initrd_end = be64(val);
	} else if (name_is(name, "dmtvm,", 6)) {
		name += 6;
		if (name_is(name, "mode", 5))
			bi->mode = val;
		else if (name_is(name, "abi-version", 12) && len == 4)
			bi->abi_version = be32(val);
		else if (name_is(name, "tsc-khz", 8) && len == 4)
			bi->tsc_khz = be32(val);
		else if (name_is(name, "vcpus", 6) && len == 4)
			bi->vcpus = be32(val);
		else if (name_is(name, "reserved", 9)) {
			for (uint32_t off = 0; off + 16 <= len && bi->nreserved < BOOT_MAX_RESERVED;
			     off += 16) {
				bi->reserved[bi->nreserved].start = be64(val + off);
				bi->reserved[bi->nreserved].size = be64(val + off + 8);
				bi->nreserved++;
			}
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
				node = name_is(p, "chosen", 7)   ? NODE_CHOSEN
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
			else if (node == NODE_MEMORY && name_is(name, "reg", 4) && len >= 16)
				bi->mem_size = be64(val + 8);
		} else if (tok == FDT_END) {
			break;
		} else if (tok != FDT_NOP) {
			return -EINVAL;
		}
	}
	return bi->mem_size ? 0 : -EINVAL;
}
