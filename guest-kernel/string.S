/* SPDX-License-Identifier: MIT */
/*
 * string.S: memcpy/memset/memmove and page zeroing as `rep` string
 * instructions. Ring 0 is emulated here (~1-2 us per instruction), so a
 * `rep` of 4 KiB beats a C loop (~2 ms) by orders of magnitude. The bulk
 * moves 8 bytes per iteration (rep movsq/stosq): measured here, a 4 KiB
 * `rep movsb` costs ~0.8 ms but `rep movsq` only a few us.
 */
	.text

	.globl memcpy
memcpy:
	mov %rdi, %rax
	mov %rdx, %rcx
	shr $3, %rcx
	cld
	rep movsq
	mov %edx, %ecx
	and $7, %ecx
	rep movsb
	ret

	.globl memset
memset:
	mov %rdi, %r8
	movzbl %sil, %eax
	movabs $0x0101010101010101, %r9
	imul %r9, %rax
	mov %rdx, %rcx
	shr $3, %rcx
	cld
	rep stosq
	mov %edx, %ecx
	and $7, %ecx
	rep stosb
	mov %r8, %rax
	ret

/* memmove: copy backwards (std) only when dst overlaps src from above. */
	.globl memmove
memmove:
	mov %rdi, %rax
	mov %rdx, %rcx
	cmp %rsi, %rdi
	jbe 1f
	lea -1(%rsi,%rdx), %rsi
	lea -1(%rdi,%rdx), %rdi
	std
	rep movsb
	cld
	ret
1:	cld
	rep movsb
	ret

	.globl zero_page
zero_page:
	xor %eax, %eax
	mov $512, %ecx
	cld
	rep stosq
	ret
