/* SPDX-License-Identifier: MIT */
/*
 * string.S: memcpy/memset/memmove and page zeroing as `rep` string
 * instructions. Ring 0 is emulated here and the emulator charges every
 * iteration of a `rep` (measured in ring 0 with rdtsc, 2026-11-25): 4 KiB
 * `rep movsq` ~0.5-0.8 ms (~1.5 us per 8 bytes), `rep stosq` ~0.3-0.4 ms,
 * `rep movsb` ~4-5.5 ms, an SSE movups loop ~0.7 ms. So the bulk moves 8
 * bytes per iteration, and large copies out of the initramfs are done in
 * ring 3 instead (ucopy.c), where the same copy is native.
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
