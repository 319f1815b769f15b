/* SPDX-License-Identifier: MIT */
/*
 * test_units.c: Criterion unit tests of the VMM's pure parsers: the strict
 * JSON request reader, the JSON writer's escaping, --mem sizes, the guest
 * command line, and the image reader on an image built in memory.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <string.h>

#include "args.h"
#include "crc32.h"
#include "image.h"
#include "image_format.h"
#include "json.h"
#include "jsonw.h"
#include "kernel_elf.h"

static int parse(const char *s, char *cmd)
{
	struct json_request r;
	char err[160];
	int rc = json_parse_request(s, strlen(s), &r, err, sizeof(err));
	if (cmd)
		strcpy(cmd, rc == 0 ? r.command : err);
	return rc;
}

Test(json, accepts_requests)
{
	char c[200];
	cr_expect_eq(parse("{\"execute\":\"status\"}", c), 0);
	cr_expect_str_eq(c, "status");
	cr_expect_eq(
	    parse(" {\"command\" : \"quit\" , \"arguments\":{\"a\":[1,-2.5e+3,true,null]}}\n", c),
	    0);
	cr_expect_str_eq(c, "quit");
	cr_expect_eq(parse("{\"id\":\"\\u00e9\\\"\",\"execute\":\"\\u0063ounters\"}", c), 0);
	cr_expect_str_eq(c, "counters");
	cr_expect_eq(parse("{\"execute\":\"caf\xc3\xa9\"}", c), 0);
	cr_expect_str_eq(c, "caf?");
}

Test(json, refuses_malformed)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{",
	    "{\"execute\":\"status\"",
	    "{\"execute\":\"status\",}",
	    "{\"execute\":status}",
	    "{'execute':'status'}",
	    "{\"execute\":\"status\"} {}",
	    "{\"execute\":5}",
	    "{\"arguments\":{}}",
	    "{\"execute\":\"a\",\"command\":\"b\"}",
	    "{\"execute\":\"a\",\"arguments\":[]}",
	    "{\"execute\":\"a\",\"x\":01}",
	    "{\"execute\":\"a\",\"x\":1.}",
	    "{\"execute\":\"a\",\"x\":tru}",
	    "{\"execute\":\"a\\x\"}",
	    "{\"execute\":\"a\\u12\"}",
	    "{\"execute\":\"\xc0\xaf\"}",
	    "{\"execute\":\"\xed\xa0\x80\"}",
	    "{\"execute\":\"a\tb\"}",
	    "{\"execute\":"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i], NULL), -1, "accepted %s", bad[i]);
	char deep[200] = "{\"execute\":\"a\",\"x\":";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	cr_expect_eq(parse(deep, NULL), -1);
	char err[200];
	parse("{\"execute\" 1}", err);
	cr_expect_str_eq(err, "malformed request at byte 11: expected ':'");
	/* An embedded NUL is refused, not taken as the end. */
	struct json_request r;
	cr_expect_eq(json_parse_request("{\"execute\":\"a\"}\0x", 17, &r, err, sizeof(err)), -1);
}

Test(json, writer_escapes_and_overflows)
{
	char buf[64];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_str(&w, "a\"b\\c\n\x01");
	cr_expect_str_eq(buf, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	cr_expect(!w.overflow);
	jsonw_init(&w, buf, 8);
	jsonw_str(&w, "0123456789");
	cr_expect(w.overflow);
	cr_expect(strlen(buf) < 8);
}

Test(args, sizes)
{
	uint64_t v;
	cr_expect_eq(vmm_parse_size("256M", &v), 0);
	cr_expect_eq(v, 256ULL << 20);
	cr_expect_eq(vmm_parse_size("2g", &v), 0);
	cr_expect_eq(v, 2ULL << 30);
	cr_expect_eq(vmm_parse_size("4096", &v), 0);
	cr_expect_eq(v, 4096);
	cr_expect_eq(vmm_parse_size("16777215T", &v), 0);
	cr_expect_eq(v, 16777215ULL << 40);
	cr_expect_eq(vmm_parse_size("16777216T", &v), -1);
	cr_expect_eq(vmm_parse_size("-1M", &v), -1);
	cr_expect_eq(vmm_parse_size("1MB", &v), -1);
	cr_expect_eq(vmm_parse_size("M", &v), -1);
	cr_expect_eq(vmm_parse_size("99999999999999999999", &v), -1);
}

Test(args, bootargs)
{
	char out[64], err[128];
	char *a[] = {"x", "two words", ""};
	cr_expect_eq(vmm_bootargs("quiet", a, 3, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, "quiet -- x \"two words\" \"\"");
	cr_expect_eq(vmm_bootargs("", a, 1, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, "-- x");
	cr_expect_eq(vmm_bootargs("k=1", NULL, 0, out, sizeof(out), err, sizeof(err)), 0);
	cr_expect_str_eq(out, "k=1");
	char *q[] = {"say \"hi\""};
	cr_expect_eq(vmm_bootargs("", q, 1, out, sizeof(out), err, sizeof(err)), -1);
	char *big[] = {"0123456789012345678901234567890123456789012345678901234567890123"};
	cr_expect_eq(vmm_bootargs("", big, 1, out, sizeof(out), err, sizeof(err)), -1);
	cr_expect_str_eq(err, "command line longer than 63 bytes");
}

/* A minimal valid image: one 16-byte PT_LOAD at 1 MiB, entry inside it. */
static size_t make_image(uint8_t *img, const char *cmdline)
{
	uint8_t k[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 16] = {0};
	Elf64_Ehdr eh = {.e_type = ET_EXEC,
			 .e_machine = EM_X86_64,
			 .e_version = 1,
			 .e_entry = 0xffffffff80100004ULL,
			 .e_phoff = sizeof(Elf64_Ehdr),
			 .e_ehsize = sizeof(Elf64_Ehdr),
			 .e_phentsize = sizeof(Elf64_Phdr),
			 .e_phnum = 1};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	Elf64_Phdr ph = {.p_type = PT_LOAD,
			 .p_flags = PF_X | PF_R,
			 .p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr),
			 .p_vaddr = 0xffffffff80100000ULL,
			 .p_paddr = 0x100000,
			 .p_filesz = 16,
			 .p_memsz = 4096};
	memcpy(k, &eh, sizeof(eh));
	memcpy(k + sizeof(eh), &ph, sizeof(ph));
	memset(k + ph.p_offset, 0x90, 16);
	struct dmtvm_img_header h = {.version = DMTVM_IMG_VERSION,
				     .header_size = DMTVM_IMG_HEADER_SIZE};
	memcpy(h.magic, DMTVM_IMG_MAGIC, 8);
	h.kernel_off = 128;
	h.kernel_size = sizeof(k);
	h.initrd_off = 128 + sizeof(k);
	h.initrd_size = 6;
	h.cmdline_off = h.initrd_off + 6;
	h.cmdline_size = strlen(cmdline);
	h.file_size = h.cmdline_off + h.cmdline_size;
	memset(img, 0, h.file_size);
	memcpy(img + h.kernel_off, k, sizeof(k));
	memcpy(img + h.initrd_off, "070701", 6);
	memcpy(img + h.cmdline_off, cmdline, h.cmdline_size);
	memcpy(img, &h, sizeof(h));
	h.crc32 = vmm_crc32(0, img, h.file_size);
	memcpy(img, &h, sizeof(h));
	return h.file_size;
}

Test(image, parses_a_built_image)
{
	static uint8_t img[1024];
	size_t n = make_image(img, "tg=hello x");
	struct vmm_image im;
	struct vmm_elf elf;
	char err[256];
	cr_assert_eq(vmm_image_parse(img, n, &im, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(im.cmdline, "tg=hello x");
	cr_expect_eq(im.initrd_size, 6);
	cr_expect_eq(memcmp(im.initrd, "070701", 6), 0);
	cr_assert_eq(vmm_elf_parse(im.kernel, im.kernel_size, 16 << 20, &elf, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(elf.nsegs, 1);
	cr_expect_eq(elf.entry, 0xffffffff80100004ULL);
	cr_expect_eq(elf.lo, 0x100000);
	cr_expect_eq(elf.hi, 0x101000);
	/* RAM ends inside the segment: refused. */
	cr_expect_eq(vmm_elf_parse(im.kernel, im.kernel_size, 0x100800, &elf, err, sizeof(err)),
		     -1);
	/* Every single-byte truncation is refused, never read past. */
	for (size_t len = 0; len < n; len++)
		cr_expect_eq(vmm_image_parse(img, len, &im, err, sizeof(err)), -1);
	/* Every single-bit flip is caught (by the checksum or a field check). */
	for (size_t i = 0; i < n; i++) {
		img[i] ^= 0x10;
		cr_expect_eq(vmm_image_parse(img, n, &im, err, sizeof(err)), -1, "byte %zu", i);
		img[i] ^= 0x10;
	}
}

Test(image, crc32_matches_zlib)
{
	cr_expect_eq(vmm_crc32(0, "123456789", 9), 0xcbf43926U);
	cr_expect_eq(vmm_crc32(vmm_crc32(0, "1234", 4), "56789", 5), 0xcbf43926U);
}
