/* SPDX-License-Identifier: MIT */
/*
 * test_simos.c: simos builds real tables: guest x86 tables with TEAs in VA
 * order, EPTs with a host TEA, pvDMT host-contiguous TEAs, nested EPT12 over
 * EPT01, frame lookups across levels, and VMA clustering. Checked by
 * software walks (pt_lookup) and by reading the entries at the DMT formula.
 */
#include <stdlib.h>

#include "check.h"
#include "pgtable.h"
#include "simhv.h"
#include "simos.h"
#include "vma.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define VA0 0x7f0000000000ULL

static char err[512];

static uint64_t read64(const struct physmem *pm, uint64_t pa)
{
	const uint8_t *f = physmem_frame(pm, pa);
	CHECK(f != NULL);
	uint64_t v = 0;
	if (f)
		memcpy(&v, f + (pa & 4095), 8);
	return v;
}

static void init_os(struct simos *os, bool thp, unsigned tea_max)
{
	struct simos_params p = {
	    .thp = thp, .tea_min = 64 * MiB, .tea_max = tea_max, .guest_mem = 4 * GiB};
	simos_init(os, &p, err, sizeof(err));
}

static void test_native_tea(void)
{
	struct simos os;
	init_os(&os, false, 16);
	struct simos_vma v[2] = {{VA0, VA0 + 128 * MiB, -1, 0}, {0x400000, 0x600000, -1, 0}};
	struct simos_as *as = simos_add_as(&os, 0, v, 2);
	CHECK(as != NULL);
	uint64_t va = VA0 + 70 * MiB + 0x1234;
	CHECK_EQ(simos_touch(&os, as, va), 1);
	CHECK_EQ(simos_touch(&os, as, va + 8), 0);
	CHECK_EQ(simos_touch(&os, as, 0x400010), 1);
	CHECK_EQ(simos_touch(&os, as, 0x900000), (uint64_t)-1); /* outside every VMA */
	CHECK_STR(err, "outside every VMA");
	uint64_t pa;
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, va, &pa), 0);
	CHECK_EQ(pa & 4095, 0x234);
	CHECK_EQ(as->nteas, 1);
	struct simos_tea *t = &as->teas[0];
	CHECK_EQ(t->pages, 64);
	CHECK_EQ(t->va_base, VA0);
	CHECK_EQ(t->gpa & (2 * MiB - 1), 0);
	/* DMT formula: the PTE of va is at tea + ((va - base) >> 12) * 8. */
	uint64_t pte = read64(&os.mem, t->gpa + ((va - VA0) >> 12) * 8);
	CHECK_EQ(pte & PTE_ADDR, pa & ~4095ULL);
	CHECK_EQ(pte & 0xfff, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
	/* The radix tree points at the same TEA page (backward compatible). */
	uint64_t pml4e = read64(&os.mem, as->cr3 + ((va >> 39) & 511) * 8);
	uint64_t pdpte = read64(&os.mem, (pml4e & PTE_ADDR) + ((va >> 30) & 511) * 8);
	uint64_t pde = read64(&os.mem, (pdpte & PTE_ADDR) + ((va >> 21) & 511) * 8);
	CHECK_EQ(pde & PTE_ADDR, t->gpa + 35 * 4096);
	CHECK_EQ(os.st.teas, 1);
	CHECK_EQ(os.st.tea_table_pages, 1);
	CHECK_EQ(os.st.table_pages[1], 2); /* one in the TEA, one ordinary (small VMA) */
	CHECK_EQ(os.st.table_pages[2], 2);
	CHECK_EQ(os.st.table_pages[3], 2);
	CHECK_EQ(os.st.data_pages, 2);
	simos_free(&os);
}

static void test_tea_limit(void)
{
	struct simos os;
	init_os(&os, false, 1);
	struct simos_vma v[2] = {{VA0, VA0 + 64 * MiB, -1, 0},
				 {2 * VA0, 2 * VA0 + 64 * MiB, -1, 0}};
	struct simos_as *as = simos_add_as(&os, 7, v, 2);
	CHECK_EQ(simos_touch(&os, as, VA0), 1);
	CHECK_EQ(simos_touch(&os, as, 2 * VA0), 1);
	CHECK_EQ(simos_touch(&os, as, 2 * VA0 + 4 * MiB), 1);
	CHECK_EQ(os.st.teas, 1);
	CHECK_EQ(os.st.vmas_refused, 1);
	CHECK_EQ(os.st.tea_fallbacks, 2);
	CHECK(simos_find_as(&os, 7) == as);
	CHECK(simos_find_as(&os, 8) == NULL);
	simos_free(&os);
}

static void test_virt(unsigned host_shift)
{
	struct simos os;
	struct physmem host;
	struct simhv hv;
	init_os(&os, false, 16);
	physmem_init(&host, "host", 1ULL << 36, 1ULL << 46);
	CHECK_EQ(
	    simhv_init(&hv, "EPT", &os.mem, &host, NULL, host_shift, 4 * GiB, err, sizeof(err)), 0);
	simos_attach_hv(&os, &hv);
	struct simos_vma v = {VA0, VA0 + 256 * MiB, -1, 0};
	struct simos_as *as = simos_add_as(&os, 0, &v, 1);
	uint64_t va = VA0 + 200 * MiB + 0x10, gpa, hpa;
	CHECK_EQ(simos_touch(&os, as, va), 1);
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, va, &gpa), 0);
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv.ept_root, gpa, &hpa), 0);
	CHECK_EQ(hpa & 4095, 0x10);
	CHECK(hpa >= (1ULL << 36));
	/* The guest PTE page is readable at its hPA: the same bytes. */
	struct simos_tea *t = &as->teas[0];
	uint64_t pte_gpa = t->gpa + ((va - VA0) >> 12) * 8, pte_hpa;
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv.ept_root, pte_gpa, &pte_hpa), 0);
	CHECK(physmem_frame(&host, pte_hpa) == physmem_frame(&os.mem, pte_gpa));
	CHECK_EQ(read64(&host, pte_hpa) & PTE_ADDR, gpa & ~4095ULL);
	/* pvDMT: the guest TEA is host-contiguous from t->hpa[0]. */
	for (uint64_t i = 0; i < t->pages; i++) {
		uint64_t h;
		CHECK_EQ(pt_lookup(&host, PT_EPT, hv.ept_root, t->gpa + i * 4096, &h), 0);
		CHECK_EQ(h, t->hpa[0] + i * 4096);
	}
	CHECK_EQ(pte_hpa, t->hpa[0] + ((va - VA0) >> 12) * 8);
	/* DMT host TEA: the EPT leaf of gpa at tea + (gpa >> shift) * 8. */
	uint64_t base, limit, tea, tea_hpa;
	uint32_t shift;
	simhv_dmt_reg(&hv, &base, &limit, &tea, &tea_hpa, &shift);
	CHECK_EQ(base, 0);
	CHECK_EQ(limit, 4 * GiB);
	CHECK_EQ(shift, host_shift);
	CHECK_EQ(hv.tea_pages, host_shift == 12 ? 2048 : 4);
	uint64_t ept_leaf = read64(&host, tea + (gpa >> shift) * 8);
	CHECK_EQ(ept_leaf & PTE_ADDR, hpa & ~((1ULL << shift) - 1));
	CHECK_EQ(ept_leaf & 0xff, host_shift == 12 ? 0x37 : 0xb7);
	simhv_free(&hv);
	physmem_free(&host);
	simos_free(&os);
}

static void test_nested(void)
{
	struct simos os;
	struct physmem l1, host;
	struct simhv hv01, hv12;
	init_os(&os, false, 16);
	physmem_init(&l1, "L1", GiB, 9 * GiB);
	physmem_init(&host, "host", 1ULL << 36, 1ULL << 46);
	CHECK_EQ(simhv_init(&hv01, "EPT01", &l1, &host, NULL, 12, 9 * GiB, err, sizeof(err)), 0);
	CHECK_EQ(simhv_init(&hv12, "EPT12", &os.mem, &l1, &hv01, 12, 4 * GiB, err, sizeof(err)), 0);
	simos_attach_hv(&os, &hv12);
	struct simos_vma v = {VA0, VA0 + 64 * MiB, -1, 0};
	struct simos_as *as = simos_add_as(&os, 0, &v, 1);
	uint64_t va = VA0 + 0x5008, gpa2, gpa1, hpa;
	CHECK_EQ(simos_touch(&os, as, va), 1);
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, va, &gpa2), 0);
	CHECK_EQ(pt_lookup(&l1, PT_EPT, hv12.ept_root, gpa2, &gpa1), 0);
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv01.ept_root, gpa1, &hpa), 0);
	CHECK_EQ(hpa & 4095, 0x008);
	/* EPT12's root (an L1 frame) is readable at its hPA. */
	uint64_t root_hpa;
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv01.ept_root, hv12.ept_root, &root_hpa), 0);
	CHECK(physmem_frame(&host, root_hpa) == physmem_frame(&l1, hv12.ept_root));
	/* L2's PML4 is readable at its hPA through two reverse links. */
	uint64_t cr3_l1, cr3_h;
	CHECK_EQ(pt_lookup(&l1, PT_EPT, hv12.ept_root, as->cr3, &cr3_l1), 0);
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv01.ept_root, cr3_l1, &cr3_h), 0);
	CHECK(physmem_frame(&host, cr3_h) == physmem_frame(&os.mem, as->cr3));
	/* pvDMT nested: the L2 TEA is contiguous in L1 and in host memory. */
	struct simos_tea *t = &as->teas[0];
	for (uint64_t i = 0; i < t->pages; i++) {
		uint64_t a1, ah;
		CHECK_EQ(pt_lookup(&l1, PT_EPT, hv12.ept_root, t->gpa + i * 4096, &a1), 0);
		CHECK_EQ(pt_lookup(&host, PT_EPT, hv01.ept_root, a1, &ah), 0);
		CHECK_EQ(ah, t->hpa[0] + i * 4096);
	}
	/* The EPT12 TEA is host-contiguous too (pvDMT-nested's 3 refs). */
	uint64_t e12;
	CHECK_EQ(pt_lookup(&host, PT_EPT, hv01.ept_root, hv12.tea_base + 4096, &e12), 0);
	CHECK_EQ(e12, hv12.tea_hpa + 4096);
	simhv_free(&hv12);
	simhv_free(&hv01);
	physmem_free(&host);
	physmem_free(&l1);
	simos_free(&os);
}

static void test_thp(void)
{
	struct simos os;
	init_os(&os, true, 16);
	/* Two VMAs in one 1 GiB region share a PD page: the big one is refused. */
	struct simos_vma v[3] = {{VA0, VA0 + 512 * MiB, -1, 0},
				 {VA0 + 600 * MiB, VA0 + 602 * MiB, -1, 0},
				 {VA0 + 2 * GiB, VA0 + 3 * GiB + 64 * MiB, -1, 0}};
	struct simos_as *as = simos_add_as(&os, 0, v, 3);
	uint64_t pa;
	CHECK_EQ(simos_touch(&os, as, VA0 + 3 * MiB), 1);
	CHECK_EQ(simos_touch(&os, as, VA0 + 2 * MiB), 0); /* same 2 MiB page */
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, VA0 + 3 * MiB + 5, &pa), 0);
	CHECK_EQ(pa & (2 * MiB - 1), 1 * MiB + 5);
	CHECK_EQ(os.st.vmas_refused, 1);
	CHECK_EQ(simos_touch(&os, as, VA0 + 3 * GiB + 10 * MiB), 1);
	CHECK_EQ(as->nteas, 1);
	struct simos_tea *t = &as->teas[0];
	CHECK_EQ(t->pages, 2);
	CHECK_EQ(t->page_shift, 21);
	uint64_t va = VA0 + 3 * GiB + 10 * MiB;
	uint64_t pde = read64(&os.mem, t->gpa + ((va - t->va_base) >> 21) * 8);
	CHECK_EQ(pde & PTE_PS, PTE_PS);
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, va, &pa), 0);
	CHECK_EQ(pde & PTE_ADDR, pa);
	simos_free(&os);
}

static void test_vma_cluster(void)
{
	struct u64map set;
	u64map_init(&set);
	uint64_t c[] = {100, 2, 0, 5, 1, 0x3fffffff};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		u64map_put(&set, c[i], 0);
	struct simos_vma *v;
	int n = vma_cluster(&set, 4 * MiB, &v);
	CHECK_EQ(n, 3);
	CHECK_EQ(v[0].start, 0);
	CHECK_EQ(v[0].end, 12 * MiB); /* 0..2, then 5 after a 4 MiB gap */
	CHECK_EQ(v[1].start, 200 * MiB);
	CHECK_EQ(v[1].end, 202 * MiB);
	CHECK_EQ(v[2].start, 0x3fffffffULL << 21);
	free(v);
	n = vma_cluster(&set, 4 * MiB - 1, &v);
	CHECK_EQ(n, 4);
	free(v);
	/* The topmost chunk ends at UINT64_MAX instead of wrapping to 0. */
	u64map_put(&set, UINT64_MAX >> 21, 0);
	n = vma_cluster(&set, 4 * MiB, &v);
	CHECK_EQ(n, 4);
	CHECK_EQ(v[3].start, 0xffffffffffe00000ULL);
	CHECK_EQ(v[3].end, UINT64_MAX);
	free(v);
	struct simos os;
	init_os(&os, false, 16);
	os.p.tea_min = 1 * MiB;
	struct simos_vma top = {0xffffffffffe00000ULL, UINT64_MAX, -1, 0};
	struct simos_as *as = simos_add_as(&os, 0, &top, 1);
	uint64_t pa;
	CHECK_EQ(simos_touch(&os, as, UINT64_MAX), 1);
	CHECK_EQ(pt_lookup(&os.mem, PT_X86, as->cr3, UINT64_MAX, &pa), 0);
	CHECK_EQ(pa & 4095, 4095);
	CHECK_EQ(as->nteas, 1);
	CHECK_EQ(as->teas[0].pages, 1);
	simos_free(&os);
	u64map_free(&set);
}

int main(void)
{
	test_native_tea();
	test_tea_limit();
	test_virt(12);
	test_virt(21);
	test_nested();
	test_thp();
	test_vma_cluster();
	if (check_failures) {
		fprintf(stderr, "test_simos: %d check(s) failed\n", check_failures);
		return 1;
	}
	printf("test_simos: ok\n");
	return 0;
}
