/* SPDX-License-Identifier: MIT */
/*
 * mmu_config.c: the model's configuration: defaults (the artifact's machine,
 * DMT.md), setting keys by name, the `key = value` file parser, validation.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mmu_internal.h"

enum key_type { KEY_U32, KEY_BOOL };

struct key_desc {
	const char *name;
	size_t off;
	enum key_type type;
};

#define K(f)                                                                                       \
	{                                                                                          \
#f, offsetof(struct mmu_config, f), KEY_U32                                        \
	}
#define KB(f)                                                                                      \
	{                                                                                          \
#f, offsetof(struct mmu_config, f), KEY_BOOL                                       \
	}

/* One row per field: the key name IS the field name. */
static const struct key_desc mmu_keys[] = {
    K(l1d_tlb_entries),	 K(l1d_tlb_ways),   K(l1i_tlb_entries),
    K(l1i_tlb_ways),	 K(stlb_entries),   K(stlb_ways),
    KB(tlb_2m),		 K(pwc_pml4e),	    K(pwc_pdpte),
    K(pwc_pde),		 KB(pwc),	    K(ntlb_entries),
    K(ntlb_ways),	 K(line_size),	    K(l1_size),
    K(l1_ways),		 K(l2_size),	    K(l2_ways),
    K(llc_size),	 K(llc_ways),	    KB(cache_data),
    K(lat_pwc),		 K(lat_l1),	    K(lat_l2),
    K(lat_llc),		 K(lat_dram),	    K(dmt_regs),
    K(ecpt_ways),	 K(max_vcpus),	    K(phys_bits),
    K(pwc_pml4e_ways),	 K(pwc_pdpte_ways), K(pwc_pde_ways),
    KB(pwc_line_tags),	 KB(pwc_global),    KB(pwc_data_walk),
    KB(cache_fast_path), K(warmup_refs),    KB(own_tables_warm),
};

#define NKEYS (sizeof(mmu_keys) / sizeof(mmu_keys[0]))

void mmu_config_default(struct mmu_config *c)
{
	memset(c, 0, sizeof(*c));
	c->l1d_tlb_entries = 64;
	c->l1d_tlb_ways = 4;
	c->l1i_tlb_entries = 128;
	c->l1i_tlb_ways = 8;
	c->stlb_entries = 1536;
	c->stlb_ways = 12;
	c->tlb_2m = true;
	c->pwc_pml4e = 2;
	c->pwc_pdpte = 4;
	c->pwc_pde = 32;
	c->pwc = true;
	c->ntlb_entries = 0; /* the artifact has no nested TLB */
	c->ntlb_ways = 4;
	c->line_size = 64;
	c->l1_size = 32 * 1024;
	c->l1_ways = 8;
	c->l2_size = 1024 * 1024;
	c->l2_ways = 16;
	c->llc_size = 22 * 1024 * 1024;
	c->llc_ways = 11;
	/* Off by default: only walk references disturb the modelled caches
	 * (see README: data pollution is identical for every scheme, and
	 * leaving it out keeps runs ~2x faster); cache_data = 1 adds it. */
	c->cache_data = false;
	c->lat_pwc = 1;
	c->lat_l1 = 4;
	c->lat_l2 = 14;
	c->lat_llc = 54;
	c->lat_dram = 200;
	c->dmt_regs = 16;
	c->ecpt_ways = 3;
	c->max_vcpus = 64;
	c->phys_bits = 46;
	c->pwc_pml4e_ways = 1;
	c->pwc_pdpte_ways = 4;
	c->pwc_pde_ways = 4;
	c->pwc_data_walk = true;
	c->own_tables_warm = true;
}

unsigned mmu_config_nkeys(void)
{
	return NKEYS;
}

const char *mmu_config_key(unsigned i)
{
	return i < NKEYS ? mmu_keys[i].name : NULL;
}

int mmu_parse_size(const char *s, uint64_t *out)
{
	static const char suffix[] = "KMGT";
	unsigned long long x;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	for (unsigned i = 0; *end && i < 4; i++) {
		if ((*end & ~0x20) == suffix[i]) {
			shift = 10 * (i + 1);
			end++;
			break;
		}
	}
	if (*end || x > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)x << shift;
	return 0;
}

static int parse_u32(const char *v, uint32_t *out)
{
	uint64_t x;

	if (mmu_parse_size(v, &x) || x > UINT32_MAX)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

int mmu_config_set(struct mmu_config *c, const char *key, const char *value, char *err,
		   size_t errlen)
{
	for (unsigned i = 0; i < NKEYS; i++) {
		const struct key_desc *k = &mmu_keys[i];
		if (strcmp(k->name, key))
			continue;
		if (k->type == KEY_BOOL) {
			bool b;
			if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "on") ||
			    !strcmp(value, "yes"))
				b = true;
			else if (!strcmp(value, "0") || !strcmp(value, "false") ||
				 !strcmp(value, "off") || !strcmp(value, "no"))
				b = false;
			else {
				snprintf(err, errlen, "%s: bad boolean '%s' (expected 0/1/on/off)",
					 key, value);
				return -1;
			}
			*(bool *)((char *)c + k->off) = b;
		} else {
			uint32_t u;
			if (parse_u32(value, &u)) {
				snprintf(err, errlen,
					 "%s: bad number '%s' (expected an unsigned integer, "
					 "K/M/G suffix allowed)",
					 key, value);
				return -1;
			}
			*(uint32_t *)((char *)c + k->off) = u;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -1;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int check_assoc(const char *what, uint64_t entries, uint32_t ways, bool zero_ok, char *err,
		       size_t errlen)
{
	if (entries == 0 && zero_ok)
		return 0;
	if (!ways || entries % ways || !pow2(entries / ways) || ways > 64) {
		snprintf(err, errlen,
			 "%s: %" PRIu64 " entries / %u ways: need ways <= 64 and a power-of-two "
			 "number of sets",
			 what, entries, ways);
		return -1;
	}
	return 0;
}

int mmu_config_check(const struct mmu_config *c, char *err, size_t errlen)
{
	if (check_assoc("l1d_tlb", c->l1d_tlb_entries, c->l1d_tlb_ways, false, err, errlen) ||
	    check_assoc("l1i_tlb", c->l1i_tlb_entries, c->l1i_tlb_ways, false, err, errlen) ||
	    check_assoc("stlb", c->stlb_entries, c->stlb_ways, false, err, errlen) ||
	    check_assoc("ntlb", c->ntlb_entries, c->ntlb_ways, true, err, errlen))
		return -1;
	if (!pow2(c->line_size) || c->line_size < 8 || c->line_size > 4096) {
		snprintf(err, errlen, "line_size %u: need a power of two in 8..4096", c->line_size);
		return -1;
	}
	if (check_assoc("l1 cache", c->l1_size / c->line_size, c->l1_ways, false, err, errlen) ||
	    check_assoc("l2 cache", c->l2_size / c->line_size, c->l2_ways, false, err, errlen) ||
	    check_assoc("llc", c->llc_size / c->line_size, c->llc_ways, false, err, errlen))
		return -1;
	if (c->pwc_pml4e > 64 || c->pwc_pdpte > 64 || c->pwc_pde > 64) {
		snprintf(err, errlen, "pwc_*: at most 64 entries per page-walk cache");
		return -1;
	}
	if (check_assoc("pwc_pml4e", c->pwc_pml4e, c->pwc_pml4e_ways, true, err, errlen) ||
	    check_assoc("pwc_pdpte", c->pwc_pdpte, c->pwc_pdpte_ways, true, err, errlen) ||
	    check_assoc("pwc_pde", c->pwc_pde, c->pwc_pde_ways, true, err, errlen))
		return -1;
	if (c->dmt_regs > MMU_MAX_DMT_REGS) {
		snprintf(err, errlen, "dmt_regs %u: at most %d", c->dmt_regs, MMU_MAX_DMT_REGS);
		return -1;
	}
	if (c->ecpt_ways < 1 || c->ecpt_ways > 8) {
		snprintf(err, errlen, "ecpt_ways %u: need 1..8", c->ecpt_ways);
		return -1;
	}
	if (c->max_vcpus < 1 || c->max_vcpus > 64) {
		snprintf(err, errlen, "max_vcpus %u: need 1..64", c->max_vcpus);
		return -1;
	}
	if (c->phys_bits < 32 || c->phys_bits > 52) {
		snprintf(err, errlen, "phys_bits %u: need 32..52", c->phys_bits);
		return -1;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int mmu_config_parse(struct mmu_config *c, const char *text, char *err, size_t errlen)
{
	unsigned lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512], orig[512], *eq, *key, *val, *hash;
		char msg[256];

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "line %u: line too long (max %zu bytes)", lineno,
				 sizeof(line) - 1);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = 0;
		p = nl ? nl + 1 : p + len;
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		snprintf(orig, sizeof(orig), "%s", trim(line));
		if (!orig[0])
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(err, errlen, "line %u: '%s': expected 'key = value'", lineno,
				 orig);
			return -1;
		}
		*eq = 0;
		key = trim(line);
		val = trim(eq + 1);
		if (!*key || !*val) {
			snprintf(err, errlen, "line %u: '%s': expected 'key = value'", lineno,
				 orig);
			return -1;
		}
		if (mmu_config_set(c, key, val, msg, sizeof(msg))) {
			snprintf(err, errlen, "line %u: '%s': %s", lineno, orig, msg);
			return -1;
		}
	}
	return mmu_config_check(c, err, errlen);
}

int mmu_config_load(struct mmu_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	int r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: cannot size file", path);
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: read failed", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = 0;
	{
		char msg[384];
		r = mmu_config_parse(c, buf, msg, sizeof(msg));
		if (r)
			snprintf(err, errlen, "%s: %s", path, msg);
	}
	free(buf);
	return r;
}

void mmu_config_json(const struct mmu_config *c, FILE *out)
{
	fputc('{', out);
	for (unsigned i = 0; i < NKEYS; i++) {
		const struct key_desc *k = &mmu_keys[i];
		unsigned v = k->type == KEY_BOOL ? *(const bool *)((const char *)c + k->off)
						 : *(const uint32_t *)((const char *)c + k->off);
		fprintf(out, "%s\"%s\": %u", i ? ", " : "", k->name, v);
	}
	fputc('}', out);
}

const char *mmu_config_preset_name(unsigned i)
{
	for (unsigned k = 0; mmu_presets[k].name; k++)
		if (k == i)
			return mmu_presets[k].name;
	return NULL;
}

int mmu_config_preset(struct mmu_config *c, const char *name, char *err, size_t errlen)
{
	char msg[320];
	size_t n = 0;

	for (unsigned k = 0; mmu_presets[k].name; k++) {
		if (strcmp(mmu_presets[k].name, name))
			continue;
		if (!mmu_config_parse(c, mmu_presets[k].text, msg, sizeof(msg)))
			return 0;
		snprintf(err, errlen, "preset %s: %s", name, msg);
		return -1;
	}
	n = (size_t)snprintf(err, errlen, "unknown model preset '%s' (known:", name);
	for (unsigned k = 0; mmu_presets[k].name && n < errlen; k++)
		n += (size_t)snprintf(err + n, errlen - n, " %s", mmu_presets[k].name);
	if (n < errlen)
		snprintf(err + n, errlen - n, ")");
	return -1;
}
