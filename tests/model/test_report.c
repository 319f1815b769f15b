/* SPDX-License-Identifier: MIT */
/*
 * test_report.c: configuration keys and the config-file parser (errors name
 * the line), the counters JSON (schema, round trip) and the table.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"

Test(config, defaults_are_the_artifact_machine)
{
	struct mmu_config c;
	char err[128];

	mmu_config_default(&c);
	cr_expect_eq(c.stlb_entries, 1536);
	cr_expect_eq(c.llc_size, 22u << 20);
	cr_expect_eq(c.lat_dram, 200);
	cr_expect_eq(c.dmt_regs, 16);
	cr_expect_eq(mmu_config_check(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, every_key_is_settable)
{
	struct mmu_config c;
	char err[128];

	mmu_config_default(&c);
	for (unsigned i = 0; i < mmu_config_nkeys(); i++)
		cr_expect_eq(mmu_config_set(&c, mmu_config_key(i), "1", err, sizeof(err)), 0, "%s",
			     err);
	cr_expect_eq(c.lat_dram, 1);
}

Test(config, file_parses)
{
	struct mmu_config c;
	char err[256];

	mmu_config_default(&c);
	cr_assert_eq(mmu_config_parse(&c,
				      "# the artifact, with a nested TLB\n"
				      "ntlb_entries = 16   # 4-way\n"
				      "\n"
				      "  llc_size=8M\n"
				      "llc_ways = 16\n"
				      "cache_data = on\n",
				      err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(c.ntlb_entries, 16);
	cr_expect_eq(c.llc_size, 8u << 20);
	cr_expect(c.cache_data);
}

Test(config, errors_name_the_line)
{
	struct mmu_config c;
	char err[256];

	mmu_config_default(&c);
	cr_expect_eq(mmu_config_parse(&c, "lat_l1 = 4\n# x\nl1_ways = eight\n", err, sizeof(err)),
		     -1);
	cr_expect(strstr(err, "line 3") && strstr(err, "l1_ways = eight"), "%s", err);
	cr_expect_eq(mmu_config_parse(&c, "lat_l1 = 4\nbogus = 1\n", err, sizeof(err)), -1);
	cr_expect(strstr(err, "line 2") && strstr(err, "unknown key 'bogus'"), "%s", err);
	cr_expect_eq(mmu_config_parse(&c, "lat_l1 4\n", err, sizeof(err)), -1);
	cr_expect(strstr(err, "line 1"), "%s", err);
	cr_expect_eq(mmu_config_parse(&c, "stlb_ways = 7\n", err, sizeof(err)), -1);
	cr_expect(strstr(err, "stlb"), "%s", err);
}

Test(config, scheme_lists)
{
	char err[128];

	cr_expect_eq(mmu_scheme_mask_parse("x86-2d,pvdmt", err, sizeof(err)),
		     MMU_SCHEME_BIT(MMU_X86_2D) | MMU_SCHEME_BIT(MMU_PVDMT));
	cr_expect_eq(mmu_scheme_mask_parse("all", err, sizeof(err)), MMU_ALL_SCHEMES);
	cr_expect_eq(mmu_scheme_mask_parse("x86-2d,nope", err, sizeof(err)), 0);
	cr_expect(strstr(err, "nope"));
	for (int s = 0; s < MMU_NSCHEMES; s++)
		cr_expect_eq(mmu_scheme_from_name(mmu_scheme_name((enum mmu_scheme)s)), s);
}

Test(report, json_round_trip)
{
	struct world w;
	struct mmu_config cfg;
	struct mmu_sim *sim;
	struct mmu_counters back[MMU_NSCHEMES];
	struct mmu_access acc[64];
	uint32_t mask;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	mmu_config_default(&cfg);
	world_build(&w, 1, false);
	sim = mmu_sim_create(&cfg, MMU_ALL_SCHEMES, err, sizeof(err));
	cr_assert(sim, "%s", err);
	for (int i = 0; i < 64; i++)
		acc[i] = (struct mmu_access){
		    .va = W_VA4K + (uint64_t)i * 0x11000, .size = 8, .kind = (uint8_t)(i % 3)};
	acc[5].va = W_VA2M + 0x2000;
	acc[6].va = 0x5000; /* a fault */
	mmu_sim_run(sim, &w.ctx, acc, 64);
	f = open_memstream(&buf, &len);
	mmu_report_json(sim, f);
	fclose(f);
	cr_expect(strstr(buf, "\"schema\": \"dmtvm.counters/1\""));
	cr_assert_eq(mmu_report_json_read(buf, back, &mask, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(mask, MMU_ALL_SCHEMES);
	for (int s = 0; s < MMU_NSCHEMES; s++)
		cr_expect(
		    !memcmp(&back[s], mmu_sim_counters(sim, (enum mmu_scheme)s), sizeof(back[s])),
		    "%s differs after the round trip", mmu_scheme_name((enum mmu_scheme)s));
	cr_expect_gt(back[MMU_X86_2D].walks, 0);
	/* a wrong schema is refused */
	cr_expect_eq(
	    mmu_report_json_read("{\"schema\": \"other/9\"}", back, &mask, err, sizeof(err)), -1);
	cr_expect_eq(mmu_report_json_read("{\"schema\": ", back, &mask, err, sizeof(err)), -1);
	/* damaged documents: every prefix, and random byte flips, are refused or
	 * read without crashing (the reader sees untrusted files) */
	{
		size_t n = strlen(buf);
		char *copy = malloc(n + 1);
		uint64_t x = 12345;
		for (size_t cut = 0; cut < n; cut += 1 + cut / 16) {
			memcpy(copy, buf, cut);
			copy[cut] = 0;
			cr_expect_eq(mmu_report_json_read(copy, back, &mask, err, sizeof(err)), -1,
				     "prefix %zu accepted", cut);
		}
		for (int i = 0; i < 2000; i++) {
			memcpy(copy, buf, n + 1);
			for (int k = 0; k < 4; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				copy[x % n] = (char)(x >> 32 | 1);
			}
			(void)mmu_report_json_read(copy, back, &mask, err, sizeof(err));
		}
		free(copy);
	}
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	mmu_report_table(sim, f);
	fclose(f);
	cr_expect(strstr(buf, "x86-2d") && strstr(buf, "1.000x"), "%s", buf);
	free(buf);
	mmu_sim_destroy(sim);
	world_free(&w);
}
