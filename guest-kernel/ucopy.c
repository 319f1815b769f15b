/* SPDX-License-Identifier: MIT */
/*
 * ucopy.c: copies out of the initramfs, run in ring 3.
 *
 * Ring 0 is emulated on this machine's KVM and a `rep movsq` costs ~1.5 us
 * per 8-byte iteration (measured: 4 KiB ~0.8 ms, 1 MiB ~200 ms), while ring
 * 3 runs natively. So a large read() and the file bytes of an ELF image at
 * exec (the initramfs aligns files to 4 bytes only, so text pages cannot
 * be mapped in place) are copied by ucopy_stub (entry.S) in ring 3: the
 * kernel maps the initramfs bytes read-only into a free user range (above
 * mmap's, no VMA there), for exec also the image's new frames writable in
 * the same range, writes the copy descriptors into the stub's page (mapped
 * read-only and executable there) and returns to the stub. The stub ends
 * with the private DMTVM_SYS_UCOPY_DONE call, which unmaps it all and
 * completes the read (every register as a normal return leaves it) or
 * starts the image. A bad read buffer faults in the stub: trap() hands it
 * to ucopy_fault, which ends the read with -EFAULT. Nothing user-written
 * runs while these mappings exist, and they only show initramfs bytes
 * (every file is readable anyway, read-only) and frames of the image
 * being started.
 */
#include "ucopy.h"
#include "pmm.h"
#include "proc.h"

#define RFLAGS_TF  0x100
#define ALIAS_RO   (PTE_P | PTE_U | PTE_A | PTE_NX | PTE_NOFREE)
#define ALIAS_RW   (ALIAS_RO | PTE_W | PTE_D)
#define ALIAS_STUB (PTE_P | PTE_U | PTE_A | PTE_NOFREE) /* read and execute */

extern char ucopy_stub[], ucopy_stub_ret[], ucopy_stub_end[];
void enter_user(uint64_t rip, uint64_t rsp) __attribute__((noreturn));

struct desc {
	uint64_t dst, src, len;
};

static uint64_t stub_pa; /* a frame: a copy of ucopy_stub, then the descriptors */

/* The copy in flight: its user range is [va, va + len). */
static struct {
	enum { UC_NONE, UC_READ, UC_EXEC } mode;
	uint64_t va, len;
	uint64_t src_pa, src_len;   /* initramfs bytes aliased at va + 2 MiB */
	uint64_t dst_va, dst_pages; /* exec: the new frames, aliased from dst_va */
	uint64_t rip, rflags;	    /* read: the caller's return frame */
	uint64_t rdi, rsi, rdx;	    /* read: the caller's registers the stub uses */
	long result;
	uint64_t *pos, old_pos;
} uc;

/* Deferred exec copies: one per image page, in the order elf.c made them. */
static struct {
	uint64_t frame, off, src_pa, len;
} pieces[UCOPY_DESC_MAX];
static unsigned npieces;
static uint64_t pieces_lo, pieces_hi; /* initramfs range they read */

/* The page table of the 2 MiB block at va (allocated if absent), or NULL. */
static uint64_t *block_pt(struct mm *mm, uint64_t va)
{
	uint64_t *pde = vm_pd_entry(mm, va, true);
	if (!pde || (*pde & PTE_PS))
		return NULL; /* cannot be: no VMA, no 2 MiB leaf */
	return vm_entry(mm, va & HPAGE_MASK, 12, true);
}

/* Map the frames of [pa, pa + n) at va + pa's offset in its 2 MiB block (va 2 MiB aligned). */
static bool alias_range(struct mm *mm, uint64_t va, uint64_t pa, uint64_t n, uint64_t flags)
{
	uint64_t base = ALIGN_DOWN(pa, HPAGE_SIZE), end = pa + n;
	for (uint64_t b = base; b < end; b += HPAGE_SIZE) {
		uint64_t *pt = block_pt(mm, va + (b - base));
		uint64_t i0 = b == base ? (pa - b) >> 12 : 0;
		uint64_t i1 = end - b < HPAGE_SIZE ? ALIGN_UP(end - b, PAGE_SIZE) >> 12 : 512;
		if (!pt)
			return false;
		if (i1 - i0 > 128) {
			/* ~515 instructions for the whole table, then clear what is not ours. */
			pt_fill_block(pt, b | flags);
			memset(pt, 0, i0 * 8);
			memset(&pt[i1], 0, (512 - i1) * 8);
		} else {
			for (uint64_t i = i0; i < i1; i++)
				pt[i] = (b + (i << 12)) | flags;
		}
	}
	return true;
}

/*
 * Drop everything the copy in flight mapped: its range is whole 2 MiB
 * blocks with no VMA, so their page tables are its own and go back to the
 * allocator (the process keeps no trace of the detour), then flush. No
 * PT_UPDATE: the VMM's model only walks traced accesses, and nothing traced
 * ever ran at these addresses, so it holds nothing about them (and its
 * shadow-paging schemes count PT_UPDATEs as exits of the workload).
 */
static void unmap_all(struct mm *mm)
{
	for (uint64_t b = uc.va; b < uc.va + uc.len; b += HPAGE_SIZE) {
		uint64_t *pde = vm_pd_entry(mm, b, false);
		if (!pde || !(*pde & PTE_P) || (*pde & PTE_PS))
			continue;
		if (tea_owns(mm, *pde & PTE_ADDR)) {
			/* A TEA slot left by an earlier munmap stays; empty, as it was. */
			memset(phys_to_virt(*pde & PTE_ADDR), 0, PAGE_SIZE);
			continue;
		}
		pmm_free(*pde & PTE_ADDR, PMM_ORDER_4K);
		*pde = 0;
	}
	write_cr3(read_cr3());
}

/*
 * Pick the user range for a copy (the stub's 2 MiB block, the initramfs
 * alias, dst_pages of exec frames) and map the stub and the alias. The
 * caller maps the exec frames. false (nothing left mapped) if it cannot.
 */
static bool map_common(struct mm *mm, uint64_t src_pa, uint64_t src_len, uint64_t dst_pages)
{
	uint64_t span = ALIGN_UP(src_pa + src_len, HPAGE_SIZE) - ALIGN_DOWN(src_pa, HPAGE_SIZE);
	uint64_t *e;
	if (!stub_pa) {
		if (!(stub_pa = pmm_alloc(PMM_ORDER_4K, PMM_ZERO)))
			return false;
		memcpy(phys_to_virt(stub_pa), ucopy_stub, (size_t)(ucopy_stub_end - ucopy_stub));
	}
	uc.src_pa = src_pa;
	uc.src_len = src_len;
	uc.dst_pages = 0;
	uc.len = HPAGE_SIZE + span + ALIGN_UP(dst_pages * PAGE_SIZE, HPAGE_SIZE);
	/* Above mmap's range and below the stack: no VMA, so no leaf either. */
	uc.va = vma_find_gap(&mm->vmas, uc.len, HPAGE_SIZE, USER_MMAP_TOP,
			     USER_STACK_TOP - USER_STACK_SIZE);
	uc.dst_va = uc.va + HPAGE_SIZE + span;
	if (!uc.va)
		return false;
	if (!(e = block_pt(mm, uc.va)))
		return false;
	*e = stub_pa | ALIAS_STUB;
	if (!alias_range(mm, uc.va + HPAGE_SIZE, src_pa, src_len, ALIAS_RO)) {
		unmap_all(mm);
		return false;
	}
	return true;
}

/* User VA of initramfs byte pa in the alias. */
static uint64_t src_va(uint64_t pa)
{
	return uc.va + HPAGE_SIZE + (pa - ALIGN_DOWN(uc.src_pa, HPAGE_SIZE));
}

bool ucopy_start(struct syscall_args *a, uint64_t udst, const void *src, uint64_t n, long result,
		 uint64_t *pos)
{
	struct mm *mm = &init_proc.mm;
	uint64_t *frame = (uint64_t *)(a + 1); /* the iret frame: rip, cs, rflags, rsp, ss */
	uint64_t pa = kva_to_phys(src);
	if (uc.mode != UC_NONE || !n || !user_range_ok(udst, n) || !map_common(mm, pa, n, 0))
		return false;
	struct desc *d = (struct desc *)((char *)phys_to_virt(stub_pa) + UCOPY_DESC_OFF);
	d[0] = (struct desc){udst, src_va(pa), n};
	d[1].len = 0;
	uc.mode = UC_READ;
	uc.rip = frame[0];
	uc.rflags = frame[2];
	uc.rdi = a->a0;
	uc.rsi = a->a1;
	uc.rdx = a->a2;
	uc.result = result;
	uc.pos = pos;
	uc.old_pos = pos ? *pos : 0;
	frame[0] = uc.va;
	frame[2] &= ~(uint64_t)RFLAGS_TF; /* no single-step trap inside the stub */
	return true;
}

long ucopy_done(struct syscall_args *a)
{
	struct mm *mm = &init_proc.mm;
	uint64_t *frame = (uint64_t *)(a + 1);
	if (uc.mode == UC_NONE || frame[0] != uc.va + (uint64_t)(ucopy_stub_ret - ucopy_stub))
		return -ENOSYS;
	unmap_all(mm);
	if (uc.mode == UC_EXEC) {
		uc.mode = UC_NONE;
		npieces = 0;
		proc_enter_image(); /* the image is complete: start it */
	}
	uc.mode = UC_NONE;
	a->a0 = uc.rdi;
	a->a1 = uc.rsi;
	a->a2 = uc.rdx;
	frame[0] = uc.rip;
	frame[2] = uc.rflags;
	return uc.result;
}

bool ucopy_fault(struct trapframe *tf)
{
	if (uc.mode != UC_READ || tf->rip < uc.va || tf->rip >= uc.va + PAGE_SIZE)
		return false;
	unmap_all(&init_proc.mm);
	uc.mode = UC_NONE;
	if (uc.pos)
		*uc.pos = uc.old_pos;
	/* As a system call returning -EFAULT: rcx/r11 = return rip/rflags. */
	tf->rax = (uint64_t)-EFAULT;
	tf->rdi = uc.rdi;
	tf->rsi = uc.rsi;
	tf->rdx = uc.rdx;
	tf->rcx = uc.rip;
	tf->r11 = uc.rflags;
	tf->rip = uc.rip;
	tf->rflags = uc.rflags;
	return true;
}

bool ucopy_defer(uint64_t frame_pa, uint64_t off, const void *src, uint64_t len)
{
	uint64_t pa = kva_to_phys(src);
	if (npieces == UCOPY_DESC_MAX)
		return false;
	if (!npieces || pa < pieces_lo)
		pieces_lo = pa;
	if (!npieces || pa + len > pieces_hi)
		pieces_hi = pa + len;
	pieces[npieces++] = (typeof(pieces[0])){frame_pa, off, pa, len};
	return true;
}

void ucopy_defer_cancel(void)
{
	npieces = 0;
}

void ucopy_run_deferred(struct mm *mm, uint64_t sp)
{
	if (!npieces || uc.mode != UC_NONE)
		return;
	if (map_common(mm, pieces_lo, pieces_hi - pieces_lo, npieces)) {
		struct desc *d = (struct desc *)((char *)phys_to_virt(stub_pa) + UCOPY_DESC_OFF);
		uint64_t *pt = NULL; /* dst_va is 2 MiB aligned: page i is entry i % 512 */
		for (unsigned i = 0; i < npieces; i++) {
			uint64_t va = uc.dst_va + i * PAGE_SIZE;
			if (!(i % 512) && !(pt = block_pt(mm, va)))
				break;
			pt[i % 512] = pieces[i].frame | ALIAS_RW;
			uc.dst_pages = i + 1;
			d[i] = (struct desc){va + pieces[i].off, src_va(pieces[i].src_pa),
					     pieces[i].len};
		}
		if (uc.dst_pages == npieces) {
			d[npieces].len = 0;
			uc.mode = UC_EXEC;
			enter_user(uc.va, sp); /* DMTVM_SYS_UCOPY_DONE continues */
		}
		unmap_all(mm);
	}
	/* No room for the detour: copy in ring 0. */
	for (unsigned i = 0; i < npieces; i++)
		memcpy((char *)phys_to_virt(pieces[i].frame) + pieces[i].off,
		       phys_to_virt(pieces[i].src_pa), pieces[i].len);
	npieces = 0;
}
