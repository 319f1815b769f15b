/* start.S: test guest entry: own stack, then tg_main(fdt_gpa, magic). */
	.section .text.start, "ax"
	.globl _start
_start:
	leaq	stack_top(%rip), %rsp
	call	tg_main
1:	hlt
	jmp	1b

	.bss
	.balign 16
	.space	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
