/* SPDX-License-Identifier: MIT */
/*
 * test_kernel_units.c: host unit tests of the guest kernel's pure parts,
 * compiled from the kernel's own sources: the VMA list (vma.c), the cpio
 * reader (cpio.c), the FDT reader (fdt.c) and the ELF loader (elf.c, over
 * fake frame/page-table calls). The parsers take untrusted bytes, so each
 * also gets a mutation loop: any input must give 0 or an error, never a
 * crash (run under ASan/UBSan with -Db_sanitize=address,undefined).
 *
 * "Physical" memory on the host: a gPA is (host pointer - DIRECT_MAP_BASE),
 * so the kernel's phys_to_virt() lands back on the host pointer. The frames
 * and ELF images the loader sees live in an arena mapped at the guest's own
 * direct-map addresses (DMTVM_DIRECT_MAP_BASE + 1 GiB: the direct map is in
 * the lower half, where a host process can map it), so their gPAs are small
 * (they fit a PTE's address bits) and kva_to_phys() sees direct-map
 * addresses, below the kernel window, as in the guest.
 */
#include <criterion/criterion.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* By path: a -I of guest-kernel/ would shadow libfdt's own <fdt.h>. */
#include "../../guest-kernel/cpio.h"
#include "../../guest-kernel/elf.h"
#include "../../guest-kernel/fdt.h"
#include "../../guest-kernel/pmm.h"

/* ---- the "direct map": an arena at DMTVM_DIRECT_MAP_BASE + ARENA_GPA ---- */
#define ARENA_GPA  (1ULL << 30)
#define ARENA_SIZE (256ULL << 20)
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
static char *arena_next, *arena_end;
static void *frame_free; /* freed 4 KiB frames, linked through their first word */

/* len bytes, 4 KiB aligned, in the arena; images are never given back (one process per test). */
static void *arena_take(size_t len)
{
	if (!arena_next) {
		void *want = (void *)(uintptr_t)(DMTVM_DIRECT_MAP_BASE + ARENA_GPA);
		void *p = mmap(want, ARENA_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		cr_assert(p == want, "cannot map the test's direct map at %p", want);
		arena_next = p;
		arena_end = arena_next + ARENA_SIZE;
	}
	len = (len + 4095) & ~4095UL;
	cr_assert((size_t)(arena_end - arena_next) >= len, "test arena full");
	void *p = arena_next;
	arena_next += len;
	return p;
}

static void frame_put(void *p)
{
	*(void **)p = frame_free;
	frame_free = p;
}

static void *frame_get(void)
{
	void *p = frame_free;
	if (p)
		frame_free = *(void **)p;
	else
		p = arena_take(4096);
	memset(p, 0, 4096);
	return p;
}

/* ---- fakes for what elf.c needs from pmm.c, vm.c, console.c and ucopy.c ---- */
static struct {
	uint64_t va, pa;
	uint32_t prot;
	bool borrowed;
} maps[256];
static unsigned nmaps, nallocs;

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	(void)flags;
	if (order != 0 || nallocs >= 64)
		return 0;
	nallocs++;
	return (uint64_t)frame_get() - DMTVM_DIRECT_MAP_BASE;
}

static int fake_map(uint64_t va, uint64_t pa, uint32_t prot, bool borrowed)
{
	unsigned i = 0;
	while (i < nmaps && maps[i].va != va)
		i++;
	if (i == 256)
		return -ENOMEM;
	if (i == nmaps)
		nmaps++;
	else if (!maps[i].borrowed && maps[i].pa != pa)
		frame_put((char *)(maps[i].pa + DMTVM_DIRECT_MAP_BASE));
	maps[i].va = va;
	maps[i].pa = pa;
	maps[i].prot = prot;
	maps[i].borrowed = borrowed;
	return 0;
}

int vm_map_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	(void)mm;
	return fake_map(va, pa, prot, false);
}

int vm_map_borrowed_4k(struct mm *mm, uint64_t va, uint64_t pa, uint32_t prot)
{
	(void)mm;
	cr_assert_eq(pa & 4095, 0, "borrowed frame not page aligned");
	return fake_map(va, pa, prot & ~VMA_WRITE, true);
}

uint64_t vm_lookup(struct mm *mm, uint64_t va)
{
	(void)mm;
	for (unsigned i = 0; i < nmaps; i++)
		if (maps[i].va == va)
			return maps[i].pa | PTE_P | (maps[i].borrowed ? PTE_NOFREE : 0);
	return 0;
}

void kprintf(const char *fmt, ...)
{
	(void)fmt;
}

/* No page tables here: elf.c then maps every page through vm_map_4k. */
uint64_t *vm_entry(struct mm *mm, uint64_t va, int level, bool alloc)
{
	(void)mm, (void)va, (void)level, (void)alloc;
	return NULL;
}

uint64_t vm_leaf_flags(uint32_t prot)
{
	return prot;
}

/* ucopy.c's ring-3 copy needs a guest: here elf.c copies at once (as when its list is full). */
bool ucopy_defer(uint64_t frame_pa, uint64_t off, const void *src, uint64_t len);
bool ucopy_defer(uint64_t frame_pa, uint64_t off, const void *src, uint64_t len)
{
	(void)frame_pa, (void)off, (void)src, (void)len;
	return false;
}

static void reset_fakes(void)
{
	for (unsigned i = 0; i < nmaps; i++)
		if (!maps[i].borrowed)
			frame_put((char *)(maps[i].pa + DMTVM_DIRECT_MAP_BASE));
	nmaps = nallocs = 0;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- VMA list ---- */
Test(vma, insert_find_merge)
{
	struct vma_list l = {0};
	cr_assert_eq(vma_insert(&l, 0x10000, 0x20000, VMA_READ, VMA_ANON), 0);
	cr_assert_eq(vma_insert(&l, 0x30000, 0x40000, VMA_READ, VMA_ANON), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(vma_insert(&l, 0x1f000, 0x21000, VMA_READ, VMA_ANON), -EEXIST);
	cr_assert_eq(vma_insert(&l, 0x20000, 0x30000, VMA_READ, VMA_ANON), 0); /* fills the gap */
	cr_assert_eq(l.n, 1);
	cr_assert_eq(l.v[0].start, 0x10000);
	cr_assert_eq(l.v[0].end, 0x40000);
	cr_assert_eq(vma_insert(&l, 0x40000, 0x50000, VMA_READ | VMA_WRITE, VMA_ANON), 0);
	cr_assert_eq(l.n, 2, "different protection must not merge");
	cr_assert_eq(vma_insert(&l, 0x50000, 0x60000, VMA_READ, VMA_IMAGE), 0);
	cr_assert_eq(vma_insert(&l, 0x60000, 0x70000, VMA_READ, VMA_IMAGE), 0);
	cr_assert_eq(l.n, 4, "image segments never merge");
	cr_assert_null(vma_find(&l, 0xffff));
	cr_assert_eq(vma_find(&l, 0x10000)->end, 0x40000);
	cr_assert_eq(vma_find(&l, 0x4ffff)->start, 0x40000);
	cr_assert_null(vma_find(&l, 0x70000));
	cr_assert(vma_overlaps(&l, 0x6f000, 0x71000));
	cr_assert_not(vma_overlaps(&l, 0x70000, 0x80000));
}

Test(vma, remove_splits)
{
	struct vma_list l = {0};
	vma_insert(&l, 0x100000, 0x200000, VMA_READ, VMA_ANON);
	cr_assert_eq(vma_remove(&l, 0x140000, 0x150000), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.v[0].end, 0x140000);
	cr_assert_eq(l.v[1].start, 0x150000);
	cr_assert_eq(l.v[1].end, 0x200000);
	cr_assert_eq(vma_remove(&l, 0x0, 0x120000), 0); /* head */
	cr_assert_eq(l.v[0].start, 0x120000);
	cr_assert_eq(vma_remove(&l, 0x1f0000, 0x300000), 0); /* tail */
	cr_assert_eq(l.v[1].end, 0x1f0000);
	cr_assert_eq(vma_remove(&l, 0x0, 0x1000000), 0); /* everything */
	cr_assert_eq(l.n, 0);
}

Test(vma, protect_split_merge_hole)
{
	struct vma_list l = {0};
	vma_insert(&l, 0x100000, 0x200000, VMA_READ | VMA_WRITE, VMA_ANON);
	vma_insert(&l, 0x200000, 0x300000, VMA_READ | VMA_WRITE, VMA_HEAP);
	/* middle of the first: split in three */
	cr_assert_eq(vma_protect(&l, 0x140000, 0x150000, VMA_READ), 0);
	cr_assert_eq(l.n, 4);
	cr_assert_eq(l.v[1].start, 0x140000);
	cr_assert_eq(l.v[1].end, 0x150000);
	cr_assert_eq(l.v[1].prot, VMA_READ);
	cr_assert_eq(l.v[1].flags, VMA_ANON);
	/* back: the three merge again */
	cr_assert_eq(vma_protect(&l, 0x140000, 0x150000, VMA_READ | VMA_WRITE), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.v[0].end, 0x200000);
	/* across two kinds: each keeps its kind */
	cr_assert_eq(vma_protect(&l, 0x1f0000, 0x210000, 0), 0);
	cr_assert_eq(l.n, 4);
	cr_assert_eq(l.v[1].flags, VMA_ANON);
	cr_assert_eq(l.v[2].flags, VMA_HEAP);
	cr_assert_eq(l.v[2].prot, 0);
	/* a hole: ENOMEM and nothing changed */
	cr_assert_eq(vma_protect(&l, 0x2f0000, 0x310000, VMA_READ), -ENOMEM);
	cr_assert_eq(vma_protect(&l, 0x80000, 0x110000, VMA_READ), -ENOMEM);
	cr_assert_eq(l.n, 4);
	cr_assert_eq(l.v[3].prot, VMA_READ | VMA_WRITE);
}

Test(vma, gap_topdown_aligned)
{
	struct vma_list l = {0};
	cr_assert_eq(vma_find_gap(&l, 0x3000, 0x1000, 0x100000, 0x800000), 0x7fd000);
	vma_insert(&l, 0x700000, 0x800000, VMA_READ, VMA_ANON);
	cr_assert_eq(vma_find_gap(&l, 0x3000, 0x1000, 0x100000, 0x800000), 0x6fd000);
	cr_assert_eq(vma_find_gap(&l, 0x200000, 0x200000, 0x100000, 0x800000), 0x400000);
	cr_assert_eq(vma_find_gap(&l, 0x700000, 0x1000, 0x100000, 0x800000), 0);
	cr_assert_eq(vma_find_gap(&l, 0x600000, 0x1000, 0x100000, 0x800000), 0x100000);
}

Test(vma, full_list)
{
	struct vma_list l = {0};
	for (uint64_t i = 0; i < VMA_MAX; i++)
		cr_assert_eq(
		    vma_insert(&l, (4 * i + 1) << 12, (4 * i + 4) << 12, VMA_READ, VMA_ANON), 0);
	cr_assert_eq(vma_insert(&l, 1ULL << 40, (1ULL << 40) + 4096, VMA_READ, VMA_ANON), -ENOMEM);
	/* Splitting one more is refused and leaves the list intact. */
	cr_assert_eq(vma_remove(&l, 0x2000, 0x3000), -ENOMEM);
	cr_assert_eq(l.n, VMA_MAX);
	cr_assert_eq(l.v[0].start, 0x1000);
	cr_assert_eq(l.v[0].end, 0x4000);
	cr_assert_eq(vma_remove(&l, 0x1000, 0x4000), 0);
	cr_assert_eq(l.n, VMA_MAX - 1);
}

/* Random operations against a page bitmap model. */
Test(vma, random_against_model)
{
	enum { PAGES = 256 };
	unsigned char model[PAGES] = {0};
	struct vma_list l = {0};
	for (int it = 0; it < 20000; it++) {
		uint64_t s = xorshift() % PAGES, len = 1 + xorshift() % 16;
		if (s + len > PAGES)
			len = PAGES - s;
		uint32_t prot = 1 + xorshift() % 2;
		if (xorshift() % 2) {
			bool free_ = true;
			for (uint64_t p = s; p < s + len; p++)
				free_ &= !model[p];
			int r = vma_insert(&l, s << 12, (s + len) << 12, prot, VMA_ANON);
			if (r == 0)
				for (uint64_t p = s; p < s + len; p++)
					model[p] = (unsigned char)prot;
			else
				cr_assert(!free_ || r == -ENOMEM,
					  "insert into a free range failed");
			cr_assert(r != -EEXIST || !free_);
		} else if (vma_remove(&l, s << 12, (s + len) << 12) == 0) {
			for (uint64_t p = s; p < s + len; p++)
				model[p] = 0;
		}
		for (uint64_t p = 0; p < PAGES; p++) {
			struct vma *v = vma_find(&l, p << 12);
			cr_assert_eq(v ? v->prot : 0, model[p], "page %lu", p);
		}
		for (unsigned i = 1; i < l.n; i++)
			cr_assert(l.v[i - 1].end <= l.v[i].start, "unsorted or overlapping");
	}
}

/* ---- cpio newc ---- */
static size_t cpio_add(char *buf, size_t off, const char *name, const char *data, size_t len)
{
	size_t nlen = strlen(name) + 1;
	off += sprintf(buf + off, "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x", 1,
		       0100755, 0, 0, 1, 0, len, 0, 0, 0, 0, nlen, 0);
	memcpy(buf + off, name, nlen);
	off += nlen;
	while (off % 4)
		buf[off++] = 0;
	memcpy(buf + off, data, len);
	off += len;
	while (off % 4)
		buf[off++] = 0;
	return off;
}

static size_t make_cpio(char *buf)
{
	size_t off = cpio_add(buf, 0, ".", "", 0);
	off = cpio_add(buf, off, "etc/x", "abc", 3);
	off = cpio_add(buf, off, "./init", "\177ELF-data", 9);
	return cpio_add(buf, off, "TRAILER!!!", "", 0);
}

Test(cpio, finds_files)
{
	static char buf[4096];
	size_t len = make_cpio(buf);
	struct cpio_file f;
	cr_assert_eq(cpio_find(buf, len, "init", &f), 0);
	cr_assert_eq(f.size, 9);
	cr_assert_eq(memcmp(f.data, "\177ELF-data", 9), 0);
	cr_assert_eq(f.mode, 0100755);
	cr_assert_eq(cpio_find(buf, len, "etc/x", &f), 0);
	cr_assert_eq(f.size, 3);
	cr_assert_eq(cpio_find(buf, len, "etc", &f), -1);
	cr_assert_eq(cpio_find(buf, len, "ini", &f), -1);
}

Test(cpio, rejects_truncated_and_mutated)
{
	static char buf[4096], m[4096];
	size_t len = make_cpio(buf);
	struct cpio_file f;
	for (size_t cut = 0; cut < len; cut++) {
		int r = cpio_find(buf, cut, "init", &f);
		if (r == 0)
			cr_assert((const char *)f.data + f.size <= buf + cut,
				  "file past a cut at %zu", cut);
	}
	for (int it = 0; it < 20000; it++) {
		memcpy(m, buf, len);
		for (int k = 0; k < 3; k++)
			m[xorshift() % len] = (char)xorshift();
		if (cpio_find(m, len, "init", &f) == 0)
			cr_assert((const char *)f.data + f.size <= m + len);
	}
}

/* ---- FDT ---- */
static uint64_t gpa_of(const void *p)
{
	return (uint64_t)p - DMTVM_DIRECT_MAP_BASE;
}

static int make_fdt(void *buf, int size, const char *bootargs)
{
	fdt64_t reg[2] = {0, cpu_to_fdt64(256ULL << 20)};
	fdt64_t res[4] = {cpu_to_fdt64(0x1000), cpu_to_fdt64(0xf000), cpu_to_fdt64(0x100000),
			  cpu_to_fdt64(0x20000)};
	int r = fdt_create(buf, size);
	r |= fdt_finish_reservemap(buf);
	r |= fdt_begin_node(buf, "");
	r |= fdt_property_u32(buf, "#address-cells", 2);
	r |= fdt_property_string(buf, "compatible", "dmtvm,virt");
	r |= fdt_begin_node(buf, "memory@0");
	r |= fdt_property_string(buf, "device_type", "memory");
	r |= fdt_property(buf, "reg", reg, sizeof(reg));
	r |= fdt_end_node(buf);
	r |= fdt_begin_node(buf, "chosen");
	r |= fdt_property_string(buf, "bootargs", bootargs);
	r |= fdt_property_u64(buf, "linux,initrd-start", 0x200000);
	r |= fdt_property_u64(buf, "linux,initrd-end", 0x234567);
	r |= fdt_property_u32(buf, "dmtvm,abi-version", DMTVM_ABI_VERSION);
	r |= fdt_property_string(buf, "dmtvm,mode", "pvdmt");
	r |= fdt_property(buf, "dmtvm,reserved", res, sizeof(res));
	r |= fdt_property_u32(buf, "dmtvm,tsc-khz", 2596120);
	r |= fdt_property_u32(buf, "dmtvm,vcpus", 2);
	r |= fdt_end_node(buf);
	r |= fdt_end_node(buf);
	r |= fdt_finish(buf);
	return r;
}

Test(fdt, reads_abi_properties)
{
	static char buf[4096];
	struct boot_info bi;
	cr_assert_eq(make_fdt(buf, sizeof(buf), "dmtvm.verbose -- a b"), 0);
	cr_assert_eq(fdt_parse(gpa_of(buf), &bi), 0);
	cr_assert_eq(bi.mem_size, 256ULL << 20);
	cr_assert_str_eq(bi.bootargs, "dmtvm.verbose -- a b");
	cr_assert_eq(bi.initrd_start, 0x200000);
	cr_assert_eq(bi.initrd_end, 0x234567);
	cr_assert_eq(bi.abi_version, DMTVM_ABI_VERSION);
	cr_assert_str_eq(bi.mode, "pvdmt");
	cr_assert_eq(bi.tsc_khz, 2596120);
	cr_assert_eq(bi.vcpus, 2);
	cr_assert_eq(bi.nreserved, 2);
	cr_assert_eq(bi.reserved[1].start, 0x100000);
	cr_assert_eq(bi.reserved[1].size, 0x20000);
}

Test(fdt, rejects_bad_blobs)
{
	/* As big as the FDT area the kernel may read (dmtvm_abi.h). */
	static char buf[DMTVM_BOOT_FDT_MAX], m[DMTVM_BOOT_FDT_MAX];
	struct boot_info bi;
	make_fdt(buf, sizeof(buf), "x");
	memcpy(m, buf, sizeof(m));
	m[0] = 0;
	cr_assert_eq(fdt_parse(gpa_of(m), &bi), -EINVAL, "bad magic");
	for (int it = 0; it < 20000; it++) {
		memcpy(m, buf, sizeof(m));
		uint32_t total = fdt_totalsize(buf);
		for (int k = 0; k < 2; k++)
			m[xorshift() % total] = (char)xorshift();
		(void)fdt_parse(gpa_of(m), &bi); /* must not crash */
	}
}

/* ---- ELF loader (with a real static musl binary) ---- */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	char *b = arena_take(*len); /* like a page-aligned cpio file, in the direct map */
	cr_assert_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static const char *hello_path(void)
{
	const char *p = getenv("GUEST_HELLO");
	return p ? p : "hello";
}

Test(elf, loads_static_exec)
{
	size_t len;
	char *img = read_file(hello_path(), &len);
	static struct mm mm;
	struct elf_info info;
	memset(&mm, 0, sizeof(mm));
	reset_fakes();
	cr_assert_eq(elf_load(&mm, img, len, &info), 0);
	const struct {
		unsigned char ident[16];
		uint16_t type, machine;
		uint32_t version;
		uint64_t entry, phoff;
	} *eh = (const void *)img;
	cr_assert_eq(info.entry, eh->entry);
	cr_assert_eq(info.phdr, 0x400000 + eh->phoff, "phdr in the first segment");
	cr_assert_eq(info.phent, 56);
	cr_assert(info.load_end > info.entry && info.load_end % 4096 == 0);
	cr_assert(mm.vmas.n >= 3);
	/* The entry page is mapped executable, in place (page-aligned file data). */
	uint64_t pte = vm_lookup(&mm, info.entry & ~4095ULL);
	cr_assert(pte & PTE_NOFREE, "read-only text not borrowed from the image");
	const char *text = (const char *)((pte & PTE_ADDR) + DMTVM_DIRECT_MAP_BASE);
	cr_assert_eq(memcmp(text + (info.entry & 4095), img + (info.entry - 0x400000), 16), 0);
	struct vma *v = vma_find(&mm.vmas, info.entry);
	cr_assert(v && (v->prot & VMA_EXEC) && !(v->prot & VMA_WRITE));
	/* The writable segment's pages are private copies. */
	for (unsigned i = 0; i < nmaps; i++)
		if (maps[i].prot & VMA_WRITE)
			cr_assert_not(maps[i].borrowed, "writable page %lx borrowed", maps[i].va);
	reset_fakes();
}

Test(elf, rejects_bad_headers)
{
	size_t len;
	char *img = read_file(hello_path(), &len);
	static struct mm mm;
	struct elf_info info;
	char *m = arena_take(len);
	/* Truncations of the headers. */
	for (size_t cut = 0; cut < 4096 && cut < len; cut += 7) {
		memset(&mm, 0, sizeof(mm));
		reset_fakes();
		int r = elf_load(&mm, img, cut, &info);
		cr_assert(r == -EINVAL || r == 0 || r == -ENOMEM, "cut %zu: %d", cut, r);
	}
	/* Header mutations: never a crash, only 0 or an error. */
	for (int it = 0; it < 3000; it++) {
		memcpy(m, img, len);
		for (int k = 0; k < 2; k++)
			m[xorshift() % 512] = (char)xorshift();
		memset(&mm, 0, sizeof(mm));
		reset_fakes();
		int r = elf_load(&mm, m, len, &info);
		cr_assert(r == 0 || r == -EINVAL || r == -ENOMEM);
	}
	/* A dynamic binary is refused. */
	memcpy(m, img, len);
	uint64_t phoff;
	memcpy(&phoff, m + 32, 8);
	uint32_t interp = 3;
	memcpy(m + phoff, &interp, 4);
	memset(&mm, 0, sizeof(mm));
	reset_fakes();
	cr_assert_eq(elf_load(&mm, m, len, &info), -EINVAL);
	reset_fakes();
}
