/* SPDX-License-Identifier: MIT */
/*
 * ptfill.S: fill a whole page-table page with 512 leaves mapping 512
 * consecutive 4 KiB frames (vm.c's 2 MiB fault-around with 4 KiB pages).
 * Ring 0 is emulated here (~1-2 us per instruction) and a C loop spends
 * ~5 instructions per entry (store, two adds, compare, branch: ~3-6 ms per
 * page table). Here: one `rep movsq` of a constant template (entry k =
 * k * 4 KiB) and one `add` of (first frame | flags) per entry, unrolled:
 * ~515 instructions, plus the rep's 512 iterations (the emulator charges
 * each like an instruction: string.S), ~1.2 ms. Adding works since flags sit below bit 12 (and NX at
 * bit 63), so frame | flags + k * 4 KiB never carries into them.
 *
 * void pt_fill_block(uint64_t *pt, uint64_t first); first = pa | flags
 */
	.text
	.globl pt_fill_block
pt_fill_block:
	mov %rsi, %rax
	mov %rdi, %rdx
	lea pt_fill_template(%rip), %rsi
	mov $512, %ecx
	cld
	rep movsq
	.set k, 0
	.rept 512
	add %rax, k * 8(%rdx)
	.set k, k + 1
	.endr
	ret

	.section .rodata
	.balign 4096
pt_fill_template:
	.set k, 0
	.rept 512
	.quad k * 4096
	.set k, k + 1
	.endr

	.section .note.GNU-stack, "", @progbits
