/* SPDX-License-Identifier: MIT */
/*
 * test_ptrace_access.c: Criterion tests of the ptrace platform's memory-access
 * classifier (vmm/platform/ptrace_access.c). The encodings are GNU as output
 * (`as --64`, then `objdump -d`), with the source line as the text;
 * hand-encoded ones say so (each checked with objdump -D). Every buffer is an
 * exact-size heap copy so ASan (this test is built with it) catches a read
 * past n.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "platform/ptrace_access.h"

/* Expected accesses: R reads (the operand, [rsi]/[rdi]), W writes, SR pops
 * (read is then set too), SW pushes. */
#define R  1u
#define W  2u
#define SR 4u
#define SW 8u

struct form {
	const char *text;
	const uint8_t *bytes;
	size_t n; /* the encoding's length: the expected len */
	unsigned acc;
	uint8_t size;
};

#define X(s) .bytes = (const uint8_t *)(s), .n = sizeof(s) - 1

static const struct form forms[] = {
    /* MOV */
    {"movb %al,(%rdi)", X("\x88\x07"), W, 1},
    {"mov %eax,(%rdi)", X("\x89\x07"), W, 4},
    {"mov %rax,(%rdi)", X("\x48\x89\x07"), W, 8},
    {"mov %ax,(%rdi)", X("\x66\x89\x07"), W, 2},
    {"mov %r8,0x10(%rsp)", X("\x4c\x89\x44\x24\x10"), W, 8},
    {"mov %eax,0x12345678(%rax,%rcx,4)", X("\x89\x84\x88\x78\x56\x34\x12"), W, 4},
    {"mov %rax,0x100(%rip)", X("\x48\x89\x05\x00\x01\x00\x00"), W, 8},
    {"mov %r9d,(%r12)", X("\x45\x89\x0c\x24"), W, 4},
    {"mov %ecx,0x0(%r13)", X("\x41\x89\x4d\x00"), W, 4},
    {"mov %edx,%gs:0x8", X("\x65\x89\x14\x25\x08\x00\x00\x00"), W, 4},
    {"mov %eax,(%eax)", X("\x67\x89\x00"), W, 4},
    {"movb (%rsi),%al", X("\x8a\x06"), R, 1},
    {"mov (%rdi),%eax", X("\x8b\x07"), R, 4},
    {"mov -0x8(%rbp),%rax", X("\x48\x8b\x45\xf8"), R, 8},
    {"movw 0x2(%rax),%cx", X("\x66\x8b\x48\x02"), R, 2},
    {"mov %fs:0x28,%rax", X("\x64\x48\x8b\x04\x25\x28\x00\x00\x00"), R, 8},
    {"mov 0x7c(%rip),%r10", X("\x4c\x8b\x15\x7c\x00\x00\x00"), R, 8},
    {"mov 0x10(,%r11,8),%rax", X("\x4a\x8b\x04\xdd\x10\x00\x00\x00"), R, 8},
    {"mov (%r8,%r12,2),%r15d", X("\x47\x8b\x3c\x60"), R, 4},
    {"movb $0x1,(%rdi)", X("\xc6\x07\x01"), W, 1},
    {"movl $0x12345678,0x10(%rdi)", X("\xc7\x47\x10\x78\x56\x34\x12"), W, 4},
    {"movq $0xffffffffffffffff,(%rax)", X("\x48\xc7\x00\xff\xff\xff\xff"), W, 8},
    {"movw $0x1234,(%rax)", X("\x66\xc7\x00\x34\x12"), W, 2},
    {"movl $0x1,0x12345678(%rip)", X("\xc7\x05\x78\x56\x34\x12\x01\x00\x00\x00"), W, 4},
    {"movq $0x7f,-0x80(%rbp,%rcx,8)", X("\x48\xc7\x44\xcd\x80\x7f\x00\x00\x00"), W, 8},
    {"movabs 0x1122334455667788,%al", X("\xa0\x88\x77\x66\x55\x44\x33\x22\x11"), R, 1},
    {"movabs 0x1122334455667788,%eax", X("\xa1\x88\x77\x66\x55\x44\x33\x22\x11"), R, 4},
    {"movabs 0x1122334455667788,%rax", X("\x48\xa1\x88\x77\x66\x55\x44\x33\x22\x11"), R, 8},
    {"movabs 0x1122334455667788,%ax", X("\x66\xa1\x88\x77\x66\x55\x44\x33\x22\x11"), R, 2},
    {"movabs %al,0x1122334455667788", X("\xa2\x88\x77\x66\x55\x44\x33\x22\x11"), W, 1},
    {"movabs %rax,0x1122334455667788", X("\x48\xa3\x88\x77\x66\x55\x44\x33\x22\x11"), W, 8},
    {"movabs %ax,0x1122334455667788", X("\x66\xa3\x88\x77\x66\x55\x44\x33\x22\x11"), W, 2},
    {"addr32 movabs 0x12345678,%eax", X("\x67\xa1\x78\x56\x34\x12"), R, 4},
    {"movzbl (%rdi),%eax", X("\x0f\xb6\x07"), R, 1},
    {"movzwl (%rdi),%eax", X("\x0f\xb7\x07"), R, 2},
    {"movzbq 0x1(%rsi),%rax", X("\x48\x0f\xb6\x46\x01"), R, 1},
    {"movzbw (%rdi),%ax", X("\x66\x0f\xb6\x07"), R, 1},
    {"movsbl (%rdi),%eax", X("\x0f\xbe\x07"), R, 1},
    {"movswq (%rdi),%rax", X("\x48\x0f\xbf\x07"), R, 2},
    {"movsbw (%rdi),%ax", X("\x66\x0f\xbe\x07"), R, 1},
    {"movswl 0x12345678(%rip),%ecx", X("\x0f\xbf\x0d\x78\x56\x34\x12"), R, 2},
    {"movslq (%rdi),%rax", X("\x48\x63\x07"), R, 4},
    {"movslq 0x8(%rsp,%rbx,4),%r11", X("\x4c\x63\x5c\x9c\x08"), R, 4},
    {"hand-encoded: movsxd (%rdi),%eax", X("\x63\x07"), R, 4},
    {"hand-encoded: movsxd (%rdi),%ax", X("\x66\x63\x07"), R, 2},
    /* ALU */
    {"add %eax,(%rdi)", X("\x01\x07"), R | W, 4},
    {"add %al,(%rdi)", X("\x00\x07"), R | W, 1},
    {"add %rax,(%rdi)", X("\x48\x01\x07"), R | W, 8},
    {"add %ax,(%rdi)", X("\x66\x01\x07"), R | W, 2},
    {"or %ecx,(%rax)", X("\x09\x08"), R | W, 4},
    {"or %cl,(%rax)", X("\x08\x08"), R | W, 1},
    {"adc %edx,0x10(%rsp)", X("\x11\x54\x24\x10"), R | W, 4},
    {"adc %dl,(%rax)", X("\x10\x10"), R | W, 1},
    {"sbb %rbx,(%rax)", X("\x48\x19\x18"), R | W, 8},
    {"sbb %bl,(%rax)", X("\x18\x18"), R | W, 1},
    {"and %esi,(%rax,%rbx,1)", X("\x21\x34\x18"), R | W, 4},
    {"and %sil,(%rax)", X("\x40\x20\x30"), R | W, 1},
    {"sub %r8,0x12345678(%rip)", X("\x4c\x29\x05\x78\x56\x34\x12"), R | W, 8},
    {"sub %r8b,(%rax)", X("\x44\x28\x00"), R | W, 1},
    {"xor %eax,-0x4(%rbp)", X("\x31\x45\xfc"), R | W, 4},
    {"xor %al,(%rax)", X("\x30\x00"), R | W, 1},
    {"lock add %eax,(%rdi)", X("\xf0\x01\x07"), R | W, 4},
    {"lock xor %rax,(%rdi)", X("\xf0\x48\x31\x07"), R | W, 8},
    {"add (%rdi),%eax", X("\x03\x07"), R, 4},
    {"add (%rdi),%al", X("\x02\x07"), R, 1},
    {"or (%rdi),%rax", X("\x48\x0b\x07"), R, 8},
    {"or (%rdi),%al", X("\x0a\x07"), R, 1},
    {"adc (%rdi),%ax", X("\x66\x13\x07"), R, 2},
    {"adc (%rdi),%al", X("\x12\x07"), R, 1},
    {"sbb (%rdi),%ecx", X("\x1b\x0f"), R, 4},
    {"sbb (%rdi),%cl", X("\x1a\x0f"), R, 1},
    {"and (%rdi),%edx", X("\x23\x17"), R, 4},
    {"and (%rdi),%dl", X("\x22\x17"), R, 1},
    {"sub 0x8(%rip),%rsp", X("\x48\x2b\x25\x08\x00\x00\x00"), R, 8},
    {"sub (%rdi),%bl", X("\x2a\x1f"), R, 1},
    {"xor (%r14),%r9", X("\x4d\x33\x0e"), R, 8},
    {"xor (%rdi),%al", X("\x32\x07"), R, 1},
    {"cmp %eax,(%rdi)", X("\x39\x07"), R, 4},
    {"cmp %al,(%rdi)", X("\x38\x07"), R, 1},
    {"cmp %rax,(%rdi)", X("\x48\x39\x07"), R, 8},
    {"cmp (%rdi),%eax", X("\x3b\x07"), R, 4},
    {"cmp (%rdi),%al", X("\x3a\x07"), R, 1},
    {"cmp (%rdi),%ax", X("\x66\x3b\x07"), R, 2},
    {"addb $0x1,(%rdi)", X("\x80\x07\x01"), R | W, 1},
    {"orb $0x80,0x10(%rax)", X("\x80\x48\x10\x80"), R | W, 1},
    {"cmpb $0x1,(%rdi)", X("\x80\x3f\x01"), R, 1},
    {"addl $0x12345678,(%rdi)", X("\x81\x07\x78\x56\x34\x12"), R | W, 4},
    {"andw $0x1234,(%rdi)", X("\x66\x81\x27\x34\x12"), R | W, 2},
    {"orq $0x12345678,(%rdi)", X("\x48\x81\x0f\x78\x56\x34\x12"), R | W, 8},
    {"cmpl $0x12345678,0x1000(%rip)", X("\x81\x3d\x00\x10\x00\x00\x78\x56\x34\x12"), R, 4},
    {"subq $0x8,(%rsp)", X("\x48\x83\x2c\x24\x08"), R | W, 8},
    {"adcl $0x1,(%rdi)", X("\x83\x17\x01"), R | W, 4},
    {"sbbw $0x1,(%rdi)", X("\x66\x83\x1f\x01"), R | W, 2},
    {"andl $0xfffffff0,(%rdi)", X("\x83\x27\xf0"), R | W, 4},
    {"xorq $0x1,(%rdi)", X("\x48\x83\x37\x01"), R | W, 8},
    {"cmpq $0x0,0x8(%rip)", X("\x48\x83\x3d\x08\x00\x00\x00\x00"), R, 8},
    {"cmpw $0x1,(%rdi)", X("\x66\x83\x3f\x01"), R, 2},
    {"lock orl $0x1,(%rax)", X("\xf0\x83\x08\x01"), R | W, 4},
    {"lock subq $0x1,(%rdi)", X("\xf0\x48\x83\x2f\x01"), R | W, 8},
    {"test %eax,(%rdi)", X("\x85\x07"), R, 4},
    {"test %al,(%rdi)", X("\x84\x07"), R, 1},
    {"test %rax,0x10(%rsi,%rdi,2)", X("\x48\x85\x44\x7e\x10"), R, 8},
    {"test %ax,(%rdi)", X("\x66\x85\x07"), R, 2},
    {"testb $0x1,(%rdi)", X("\xf6\x07\x01"), R, 1},
    {"testl $0x100,(%rdi)", X("\xf7\x07\x00\x01\x00\x00"), R, 4},
    {"testw $0x1,(%rdi)", X("\x66\xf7\x07\x01\x00"), R, 2},
    {"testq $0x1,(%rdi)", X("\x48\xf7\x07\x01\x00\x00\x00"), R, 8},
    {"hand-encoded: test $0x1,(%rdi) via F6 /1", X("\xf6\x0f\x01"), R, 1},
    {"notl (%rdi)", X("\xf7\x17"), R | W, 4},
    {"notb (%rdi)", X("\xf6\x17"), R | W, 1},
    {"negq (%rdi)", X("\x48\xf7\x1f"), R | W, 8},
    {"negw (%rdi)", X("\x66\xf7\x1f"), R | W, 2},
    {"lock notl (%rdi)", X("\xf0\xf7\x17"), R | W, 4},
    {"mulb (%rdi)", X("\xf6\x27"), R, 1},
    {"mull (%rdi)", X("\xf7\x27"), R, 4},
    {"imull (%rdi)", X("\xf7\x2f"), R, 4},
    {"divq (%rdi)", X("\x48\xf7\x37"), R, 8},
    {"idivw (%rdi)", X("\x66\xf7\x3f"), R, 2},
    {"incb (%rdi)", X("\xfe\x07"), R | W, 1},
    {"decb (%rdi)", X("\xfe\x0f"), R | W, 1},
    {"incl (%rdi)", X("\xff\x07"), R | W, 4},
    {"decl (%rdi)", X("\xff\x0f"), R | W, 4},
    {"incq 0x8(%rip)", X("\x48\xff\x05\x08\x00\x00\x00"), R | W, 8},
    {"decw (%rdi)", X("\x66\xff\x0f"), R | W, 2},
    {"lock incl (%rdi)", X("\xf0\xff\x07"), R | W, 4},
    {"lock decq (%rdi)", X("\xf0\x48\xff\x0f"), R | W, 8},
    {"shlb (%rdi)", X("\xd0\x27"), R | W, 1},
    {"shll (%rdi)", X("\xd1\x27"), R | W, 4},
    {"sarq %cl,(%rdi)", X("\x48\xd3\x3f"), R | W, 8},
    {"shrb %cl,(%rdi)", X("\xd2\x2f"), R | W, 1},
    {"rolw $0x3,(%rdi)", X("\x66\xc1\x07\x03"), R | W, 2},
    {"shrb $0x2,(%rdi)", X("\xc0\x2f\x02"), R | W, 1},
    {"rcll $0x1f,(%rdi)", X("\xc1\x17\x1f"), R | W, 4},
    {"rcrq (%rdi)", X("\x48\xd1\x1f"), R | W, 8},
    {"rorl %cl,(%rdi)", X("\xd3\x0f"), R | W, 4},
    {"hand-encoded: sal (%rdi) via D1 /6", X("\xd1\x37"), R | W, 4},
    {"xchg %eax,(%rdi)", X("\x87\x07"), R | W, 4},
    {"xchg %al,(%rdi)", X("\x86\x07"), R | W, 1},
    {"xchg %rax,(%rdi)", X("\x48\x87\x07"), R | W, 8},
    {"xchg %ax,(%rdi)", X("\x66\x87\x07"), R | W, 2},
    {"lock xchg %ecx,(%rdi)", X("\xf0\x87\x0f"), R | W, 4},
    {"cmpxchg %ecx,(%rdi)", X("\x0f\xb1\x0f"), R | W, 4},
    {"cmpxchg %cl,(%rdi)", X("\x0f\xb0\x0f"), R | W, 1},
    {"lock cmpxchg %rcx,(%rdi)", X("\xf0\x48\x0f\xb1\x0f"), R | W, 8},
    {"lock cmpxchg %cx,(%rdi)", X("\x66\xf0\x0f\xb1\x0f"), R | W, 2},
    {"xadd %eax,(%rdi)", X("\x0f\xc1\x07"), R | W, 4},
    {"xadd %al,(%rdi)", X("\x0f\xc0\x07"), R | W, 1},
    {"lock xadd %rax,(%rdi)", X("\xf0\x48\x0f\xc1\x07"), R | W, 8},
    {"bts %eax,(%rdi)", X("\x0f\xab\x07"), R | W, 4},
    {"btr %rax,(%rdi)", X("\x48\x0f\xb3\x07"), R | W, 8},
    {"btc %ax,(%rdi)", X("\x66\x0f\xbb\x07"), R | W, 2},
    {"lock bts %eax,(%rdi)", X("\xf0\x0f\xab\x07"), R | W, 4},
    {"bt %eax,(%rdi)", X("\x0f\xa3\x07"), R, 4},
    {"bt %rax,0x10(%rip)", X("\x48\x0f\xa3\x05\x10\x00\x00\x00"), R, 8},
    {"btl $0x3,(%rdi)", X("\x0f\xba\x27\x03"), R, 4},
    {"btsq $0x3,(%rdi)", X("\x48\x0f\xba\x2f\x03"), R | W, 8},
    {"btrl $0x3,(%rdi)", X("\x0f\xba\x37\x03"), R | W, 4},
    {"btcw $0x3,(%rdi)", X("\x66\x0f\xba\x3f\x03"), R | W, 2},
    {"lock btsl $0x1f,(%rdi)", X("\xf0\x0f\xba\x2f\x1f"), R | W, 4},
    {"seto (%rdi)", X("\x0f\x90\x07"), W, 1},
    {"setb (%rdi)", X("\x0f\x92\x07"), W, 1},
    {"sete (%rdi)", X("\x0f\x94\x07"), W, 1},
    {"setne 0x10(%rax,%rbx,2)", X("\x0f\x95\x44\x58\x10"), W, 1},
    {"setg 0x12345678(%rip)", X("\x0f\x9f\x05\x78\x56\x34\x12"), W, 1},
    {"setle (%r12)", X("\x41\x0f\x9e\x04\x24"), W, 1},
    {"cmove (%rdi),%eax", X("\x0f\x44\x07"), R, 4},
    {"cmovne (%rdi),%rax", X("\x48\x0f\x45\x07"), R, 8},
    {"cmovl (%rdi),%ax", X("\x66\x0f\x4c\x07"), R, 2},
    {"cmovg 0x12345678(%rip),%r8d", X("\x44\x0f\x4f\x05\x78\x56\x34\x12"), R, 4},
    {"cmovo (%rdi),%eax", X("\x0f\x40\x07"), R, 4},
    /* stack */
    {"push %rax", X("\x50"), SW, 8},
    {"push %r12", X("\x41\x54"), SW, 8},
    {"push %ax", X("\x66\x50"), SW, 2},
    {"pop %rbx", X("\x5b"), SR, 8},
    {"pop %r15", X("\x41\x5f"), SR, 8},
    {"pop %ax", X("\x66\x58"), SR, 2},
    {"push $0x12345678", X("\x68\x78\x56\x34\x12"), SW, 8},
    {"push $0x1", X("\x6a\x01"), SW, 8},
    {"pushw $0x1234", X("\x66\x68\x34\x12"), SW, 2},
    {"call 1f; 1:", X("\xe8\x00\x00\x00\x00"), SW, 8},
    {"ret", X("\xc3"), SR, 8},
    {"ret $0x10", X("\xc2\x10\x00"), SR, 8},
    {"rep ret", X("\xf3\xc3"), SR, 8},
    {"bnd ret", X("\xf2\xc3"), SR, 8},
    {"bnd call 1f; 1:", X("\xf2\xe8\x00\x00\x00\x00"), SW, 8},
    {"hand-encoded: rex.W call .+6", X("\x48\xe8\x00\x00\x00\x00"), SW, 8},
    {"call *%rax", X("\xff\xd0"), SW, 8},
    {"call *%r11", X("\x41\xff\xd3"), SW, 8},
    {"call *(%rax)", X("\xff\x10"), R | SW, 8},
    {"call *0x10(%rip)", X("\xff\x15\x10\x00\x00\x00"), R | SW, 8},
    {"call *0x8(%rax,%rcx,8)", X("\xff\x54\xc8\x08"), R | SW, 8},
    {"notrack call *(%rax)", X("\x3e\xff\x10"), R | SW, 8},
    {"jmp *(%rax)", X("\xff\x20"), R, 8},
    {"jmp *0x8(,%rax,8)", X("\xff\x24\xc5\x08\x00\x00\x00"), R, 8},
    {"jmp *0x12345678(%rip)", X("\xff\x25\x78\x56\x34\x12"), R, 8},
    {"pushq (%rdi)", X("\xff\x37"), R | SW, 8},
    {"pushq 0x8(%rsp)", X("\xff\x74\x24\x08"), R | SW, 8},
    {"pushw (%rdi)", X("\x66\xff\x37"), R | SW, 2},
    {"pushq %fs:0x10", X("\x64\xff\x34\x25\x10\x00\x00\x00"), R | SW, 8},
    {"popq (%rdi)", X("\x8f\x07"), W | SR, 8},
    {"popq 0x10(%rsp)", X("\x8f\x44\x24\x10"), W | SR, 8},
    {"popw (%rdi)", X("\x66\x8f\x07"), W | SR, 2},
    {"hand-encoded: pop %rax via 8F /0", X("\x8f\xc0"), SR, 8},
    {"hand-encoded: push %rax via FF /6", X("\xff\xf0"), SW, 8},
    {"enter $0x20,$0x0", X("\xc8\x20\x00\x00"), SW, 8},
    {"enter $0x10,$0x1", X("\xc8\x10\x00\x01"), SW, 8},
    {"enter $0x10,$0x2", X("\xc8\x10\x00\x02"), R | SR | SW, 8},
    {"leave", X("\xc9"), R | SR, 8},
    {"leavew", X("\x66\xc9"), R | SR, 2},
    {"pushf", X("\x9c"), SW, 8},
    {"popf", X("\x9d"), SR, 8},
    {"pushfw", X("\x66\x9c"), SW, 2},
    {"push %fs", X("\x0f\xa0"), SW, 8},
    {"pop %fs", X("\x0f\xa1"), SR, 8},
    {"push %gs", X("\x0f\xa8"), SW, 8},
    {"pop %gs", X("\x0f\xa9"), SR, 8},
    /* string */
    {"movsb", X("\xa4"), R | W, 1},
    {"movsl", X("\xa5"), R | W, 4},
    {"movsq", X("\x48\xa5"), R | W, 8},
    {"movsw", X("\x66\xa5"), R | W, 2},
    {"rep movsq", X("\xf3\x48\xa5"), R | W, 8},
    {"rep movsb", X("\xf3\xa4"), R | W, 1},
    {"addr32 rep movsb", X("\x67\xf3\xa4"), R | W, 1},
    {"movsb %fs:(%rsi),%es:(%rdi)", X("\x64\xa4"), R | W, 1},
    {"stosb", X("\xaa"), W, 1},
    {"rep stos %eax,%es:(%rdi)", X("\xf3\xab"), W, 4},
    {"rep stos %rax,%es:(%rdi)", X("\xf3\x48\xab"), W, 8},
    {"stos %ax,%es:(%rdi)", X("\x66\xab"), W, 2},
    {"lodsb", X("\xac"), R, 1},
    {"lods %ds:(%rsi),%rax", X("\x48\xad"), R, 8},
    {"lods %ds:(%rsi),%ax", X("\x66\xad"), R, 2},
    {"cmpsb", X("\xa6"), R, 1},
    {"repz cmpsl %es:(%rdi),%ds:(%rsi)", X("\xf3\xa7"), R, 4},
    {"cmpsq", X("\x48\xa7"), R, 8},
    {"scasb", X("\xae"), R, 1},
    {"repnz scas %es:(%rdi),%al", X("\xf2\xae"), R, 1},
    {"scas %es:(%rdi),%rax", X("\x48\xaf"), R, 8},
    {"scas %es:(%rdi),%ax", X("\x66\xaf"), R, 2},
    {"insb (%dx),%es:(%rdi)", X("\x6c"), W, 1},
    {"rep insl (%dx),%es:(%rdi)", X("\xf3\x6d"), W, 4},
    {"insw (%dx),%es:(%rdi)", X("\x66\x6d"), W, 2},
    {"outsb %ds:(%rsi),(%dx)", X("\x6e"), R, 1},
    {"rep outsl %ds:(%rsi),(%dx)", X("\xf3\x6f"), R, 4},
    {"xlat %ds:(%rbx)", X("\xd7"), R, 1},
    /* misc integer */
    {"imul (%rdi),%eax", X("\x0f\xaf\x07"), R, 4},
    {"imul (%rdi),%rax", X("\x48\x0f\xaf\x07"), R, 8},
    {"imul $0x5,(%rdi),%eax", X("\x6b\x07\x05"), R, 4},
    {"imul $0x1000,(%rdi),%rax", X("\x48\x69\x07\x00\x10\x00\x00"), R, 8},
    {"imul $0x1000,(%rdi),%ax", X("\x66\x69\x07\x00\x10"), R, 2},
    {"imul $0x5,(%rdi),%ax", X("\x66\x6b\x07\x05"), R, 2},
    {"shld $0x3,%eax,(%rdi)", X("\x0f\xa4\x07\x03"), R | W, 4},
    {"shld %cl,%rax,(%rdi)", X("\x48\x0f\xa5\x07"), R | W, 8},
    {"shrd $0x3,%ax,(%rdi)", X("\x66\x0f\xac\x07\x03"), R | W, 2},
    {"shrd %cl,%rax,(%rdi)", X("\x48\x0f\xad\x07"), R | W, 8},
    {"bsf (%rdi),%eax", X("\x0f\xbc\x07"), R, 4},
    {"bsr (%rdi),%rax", X("\x48\x0f\xbd\x07"), R, 8},
    {"tzcnt (%rdi),%eax", X("\xf3\x0f\xbc\x07"), R, 4},
    {"lzcnt (%rdi),%rax", X("\xf3\x48\x0f\xbd\x07"), R, 8},
    {"popcnt (%rdi),%eax", X("\xf3\x0f\xb8\x07"), R, 4},
    {"popcnt (%rdi),%ax", X("\x66\xf3\x0f\xb8\x07"), R, 2},
    {"movbe (%rdi),%eax", X("\x0f\x38\xf0\x07"), R, 4},
    {"movbe %rax,(%rdi)", X("\x48\x0f\x38\xf1\x07"), W, 8},
    {"movbe %ax,(%rdi)", X("\x66\x0f\x38\xf1\x07"), W, 2},
    {"crc32b (%rdi),%eax", X("\xf2\x0f\x38\xf0\x07"), R, 1},
    {"crc32w (%rdi),%eax", X("\x66\xf2\x0f\x38\xf1\x07"), R, 2},
    {"crc32l (%rdi),%eax", X("\xf2\x0f\x38\xf1\x07"), R, 4},
    {"crc32q (%rdi),%rax", X("\xf2\x48\x0f\x38\xf1\x07"), R, 8},
    {"adcx (%rdi),%eax", X("\x66\x0f\x38\xf6\x07"), R, 4},
    {"adox (%rdi),%rax", X("\xf3\x48\x0f\x38\xf6\x07"), R, 8},
    {"mov %ds,(%rdi)", X("\x8c\x1f"), W, 2},
    {"mov %fs,0x8(%rax)", X("\x8c\x60\x08"), W, 2},
    {"mov (%rdi),%es", X("\x8e\x07"), R, 2},
    {"mov (%rdi),%fs", X("\x8e\x27"), R, 2},
    {"cmpxchg8b (%rdi)", X("\x0f\xc7\x0f"), R | W, 8},
    {"lock cmpxchg8b (%rdi)", X("\xf0\x0f\xc7\x0f"), R | W, 8},
    {"lock cmpxchg16b (%rdi)", X("\xf0\x48\x0f\xc7\x0f"), R | W, 16},
    {"sldt (%rdi)", X("\x0f\x00\x07"), W, 2},
    {"str (%rdi)", X("\x0f\x00\x0f"), W, 2},
    {"lldt (%rdi)", X("\x0f\x00\x17"), R, 2},
    {"ltr (%rdi)", X("\x0f\x00\x1f"), R, 2},
    {"verr (%rdi)", X("\x0f\x00\x27"), R, 2},
    {"verw (%rdi)", X("\x0f\x00\x2f"), R, 2},
    {"sgdt (%rdi)", X("\x0f\x01\x07"), W, 10},
    {"sidt (%rdi)", X("\x0f\x01\x0f"), W, 10},
    {"lgdt (%rdi)", X("\x0f\x01\x17"), R, 10},
    {"lidt 0x10(%rsp)", X("\x0f\x01\x5c\x24\x10"), R, 10},
    {"smsw (%rdi)", X("\x0f\x01\x27"), W, 2},
    {"lmsw (%rdi)", X("\x0f\x01\x37"), R, 2},
    {"lar (%rdi),%eax", X("\x0f\x02\x07"), R, 2},
    {"lsl (%rdi),%rax", X("\x48\x0f\x03\x07"), R, 2},
    /* x87 */
    {"flds (%rdi)", X("\xd9\x07"), R, 4},
    {"fldl (%rdi)", X("\xdd\x07"), R, 8},
    {"fldt (%rdi)", X("\xdb\x2f"), R, 10},
    {"fsts (%rdi)", X("\xd9\x17"), W, 4},
    {"fstl (%rdi)", X("\xdd\x17"), W, 8},
    {"fstps (%rdi)", X("\xd9\x1f"), W, 4},
    {"fstpl 0x8(%rsp)", X("\xdd\x5c\x24\x08"), W, 8},
    {"fstpt (%rdi)", X("\xdb\x3f"), W, 10},
    {"filds (%rdi)", X("\xdf\x07"), R, 2},
    {"fildl (%rdi)", X("\xdb\x07"), R, 4},
    {"fildll (%rdi)", X("\xdf\x2f"), R, 8},
    {"fists (%rdi)", X("\xdf\x17"), W, 2},
    {"fistl (%rdi)", X("\xdb\x17"), W, 4},
    {"fistps (%rdi)", X("\xdf\x1f"), W, 2},
    {"fistpl (%rdi)", X("\xdb\x1f"), W, 4},
    {"fistpll (%rdi)", X("\xdf\x3f"), W, 8},
    {"fisttps (%rdi)", X("\xdf\x0f"), W, 2},
    {"fisttpl (%rdi)", X("\xdb\x0f"), W, 4},
    {"fisttpll (%rdi)", X("\xdd\x0f"), W, 8},
    {"fadds (%rdi)", X("\xd8\x07"), R, 4},
    {"faddl (%rdi)", X("\xdc\x07"), R, 8},
    {"fmuls (%rdi)", X("\xd8\x0f"), R, 4},
    {"fcoml (%rdi)", X("\xdc\x17"), R, 8},
    {"fcomps (%rdi)", X("\xd8\x1f"), R, 4},
    {"fsubrl (%rdi)", X("\xdc\x2f"), R, 8},
    {"fdivs (%rdi)", X("\xd8\x37"), R, 4},
    {"fiaddl (%rdi)", X("\xda\x07"), R, 4},
    {"fimuls (%rdi)", X("\xde\x0f"), R, 2},
    {"ficompl (%rdi)", X("\xda\x1f"), R, 4},
    {"fidivrs (%rdi)", X("\xde\x3f"), R, 2},
    {"fnstcw (%rdi)", X("\xd9\x3f"), W, 2},
    {"fldcw (%rdi)", X("\xd9\x2f"), R, 2},
    {"fnstsw (%rdi)", X("\xdd\x3f"), W, 2},
    {"fnstenv (%rdi)", X("\xd9\x37"), W, 0},
    {"fldenv (%rdi)", X("\xd9\x27"), R, 0},
    {"fnsave (%rdi)", X("\xdd\x37"), W, 0},
    {"frstor (%rdi)", X("\xdd\x27"), R, 0},
    {"fbld (%rdi)", X("\xdf\x27"), R, 10},
    {"fbstp (%rdi)", X("\xdf\x37"), W, 10},
    /* SSE, SSE2, SSE3 */
    {"movups (%rdi),%xmm0", X("\x0f\x10\x07"), R, 16},
    {"movups %xmm0,(%rdi)", X("\x0f\x11\x07"), W, 16},
    {"movupd (%rdi),%xmm0", X("\x66\x0f\x10\x07"), R, 16},
    {"movupd %xmm0,(%rdi)", X("\x66\x0f\x11\x07"), W, 16},
    {"movss (%rdi),%xmm1", X("\xf3\x0f\x10\x0f"), R, 4},
    {"movss %xmm1,(%rdi)", X("\xf3\x0f\x11\x0f"), W, 4},
    {"movsd (%rax),%xmm0", X("\xf2\x0f\x10\x00"), R, 8},
    {"movsd %xmm0,0x8(%rsp)", X("\xf2\x0f\x11\x44\x24\x08"), W, 8},
    {"movss %xmm8,(%r9)", X("\xf3\x45\x0f\x11\x01"), W, 4},
    {"movups 0x12345678(%rip),%xmm15", X("\x44\x0f\x10\x3d\x78\x56\x34\x12"), R, 16},
    {"movaps (%rdi),%xmm0", X("\x0f\x28\x07"), R, 16},
    {"movaps %xmm0,(%rdi)", X("\x0f\x29\x07"), W, 16},
    {"movapd (%rdi),%xmm0", X("\x66\x0f\x28\x07"), R, 16},
    {"movapd %xmm0,0x10(%rsp,%rax,8)", X("\x66\x0f\x29\x44\xc4\x10"), W, 16},
    {"movq (%rdi),%mm0", X("\x0f\x6f\x07"), R, 8},
    {"movq %mm0,(%rdi)", X("\x0f\x7f\x07"), W, 8},
    {"movdqa (%rdi),%xmm0", X("\x66\x0f\x6f\x07"), R, 16},
    {"movdqa %xmm0,(%rdi)", X("\x66\x0f\x7f\x07"), W, 16},
    {"movdqu (%rdi),%xmm0", X("\xf3\x0f\x6f\x07"), R, 16},
    {"movdqu %xmm0,(%rdi)", X("\xf3\x0f\x7f\x07"), W, 16},
    {"movdqu %xmm9,-0x10(%r13)", X("\xf3\x45\x0f\x7f\x4d\xf0"), W, 16},
    {"movq %xmm0,(%rdi)", X("\x66\x0f\xd6\x07"), W, 8},
    {"movd %mm0,(%rdi)", X("\x0f\x7e\x07"), W, 4},
    {"movd %xmm0,(%rdi)", X("\x66\x0f\x7e\x07"), W, 4},
    {"hand-encoded: movq %xmm0,(%rdi) via 66 REX.W 0F 7E", X("\x66\x48\x0f\x7e\x07"), W, 8},
    {"hand-encoded: movq %mm0,(%rdi) via REX.W 0F 7E", X("\x48\x0f\x7e\x07"), W, 8},
    {"movq (%rdi),%xmm0", X("\xf3\x0f\x7e\x07"), R, 8},
    {"movd (%rdi),%xmm0", X("\x66\x0f\x6e\x07"), R, 4},
    {"movd (%rdi),%mm0", X("\x0f\x6e\x07"), R, 4},
    {"hand-encoded: movq (%rdi),%xmm0 via 66 REX.W 0F 6E", X("\x66\x48\x0f\x6e\x07"), R, 8},
    {"movntq %mm0,(%rdi)", X("\x0f\xe7\x07"), W, 8},
    {"movntdq %xmm0,(%rdi)", X("\x66\x0f\xe7\x07"), W, 16},
    {"movntps %xmm0,(%rdi)", X("\x0f\x2b\x07"), W, 16},
    {"movntpd %xmm0,(%rdi)", X("\x66\x0f\x2b\x07"), W, 16},
    {"movnti %eax,(%rdi)", X("\x0f\xc3\x07"), W, 4},
    {"movnti %rax,(%rdi)", X("\x48\x0f\xc3\x07"), W, 8},
    {"movntss %xmm0,(%rdi)", X("\xf3\x0f\x2b\x07"), W, 4},
    {"movntsd %xmm0,(%rdi)", X("\xf2\x0f\x2b\x07"), W, 8},
    {"movlps (%rdi),%xmm0", X("\x0f\x12\x07"), R, 8},
    {"movlps %xmm0,(%rdi)", X("\x0f\x13\x07"), W, 8},
    {"movhps (%rdi),%xmm0", X("\x0f\x16\x07"), R, 8},
    {"movhps %xmm0,(%rdi)", X("\x0f\x17\x07"), W, 8},
    {"movlpd (%rdi),%xmm0", X("\x66\x0f\x12\x07"), R, 8},
    {"movlpd %xmm0,(%rdi)", X("\x66\x0f\x13\x07"), W, 8},
    {"movhpd (%rdi),%xmm0", X("\x66\x0f\x16\x07"), R, 8},
    {"movhpd %xmm0,(%rdi)", X("\x66\x0f\x17\x07"), W, 8},
    {"movddup (%rdi),%xmm0", X("\xf2\x0f\x12\x07"), R, 8},
    {"movsldup (%rdi),%xmm0", X("\xf3\x0f\x12\x07"), R, 16},
    {"movshdup (%rdi),%xmm0", X("\xf3\x0f\x16\x07"), R, 16},
    {"addps (%rdi),%xmm0", X("\x0f\x58\x07"), R, 16},
    {"addss (%rdi),%xmm0", X("\xf3\x0f\x58\x07"), R, 4},
    {"addsd (%rdi),%xmm0", X("\xf2\x0f\x58\x07"), R, 8},
    {"mulpd (%rdi),%xmm0", X("\x66\x0f\x59\x07"), R, 16},
    {"sqrtsd (%rdi),%xmm0", X("\xf2\x0f\x51\x07"), R, 8},
    {"rsqrtss (%rdi),%xmm0", X("\xf3\x0f\x52\x07"), R, 4},
    {"rcpps (%rdi),%xmm0", X("\x0f\x53\x07"), R, 16},
    {"xorps (%rdi),%xmm0", X("\x0f\x57\x07"), R, 16},
    {"andpd (%rdi),%xmm0", X("\x66\x0f\x54\x07"), R, 16},
    {"maxsd (%rdi),%xmm0", X("\xf2\x0f\x5f\x07"), R, 8},
    {"divss (%rdi),%xmm0", X("\xf3\x0f\x5e\x07"), R, 4},
    {"unpcklps (%rdi),%xmm0", X("\x0f\x14\x07"), R, 16},
    {"ucomisd (%rdi),%xmm0", X("\x66\x0f\x2e\x07"), R, 8},
    {"ucomiss (%rdi),%xmm0", X("\x0f\x2e\x07"), R, 4},
    {"comisd (%rdi),%xmm0", X("\x66\x0f\x2f\x07"), R, 8},
    {"cvtsi2sdl (%rdi),%xmm0", X("\xf2\x0f\x2a\x07"), R, 4},
    {"cvtsi2sdq (%rdi),%xmm0", X("\xf2\x48\x0f\x2a\x07"), R, 8},
    {"cvtsi2ssl (%rdi),%xmm0", X("\xf3\x0f\x2a\x07"), R, 4},
    {"cvtpi2ps (%rdi),%xmm0", X("\x0f\x2a\x07"), R, 8},
    {"cvttsd2si (%rdi),%eax", X("\xf2\x0f\x2c\x07"), R, 8},
    {"cvttss2si (%rdi),%rax", X("\xf3\x48\x0f\x2c\x07"), R, 4},
    {"cvtpd2pi (%rdi),%mm0", X("\x66\x0f\x2d\x07"), R, 16},
    {"cvtps2pi (%rdi),%mm0", X("\x0f\x2d\x07"), R, 8},
    {"cvtss2sd (%rdi),%xmm0", X("\xf3\x0f\x5a\x07"), R, 4},
    {"cvtsd2ss (%rdi),%xmm0", X("\xf2\x0f\x5a\x07"), R, 8},
    {"cvtps2pd (%rdi),%xmm0", X("\x0f\x5a\x07"), R, 8},
    {"cvtpd2ps (%rdi),%xmm0", X("\x66\x0f\x5a\x07"), R, 16},
    {"cvtdq2ps (%rdi),%xmm0", X("\x0f\x5b\x07"), R, 16},
    {"cvttps2dq (%rdi),%xmm0", X("\xf3\x0f\x5b\x07"), R, 16},
    {"cvtdq2pd (%rdi),%xmm0", X("\xf3\x0f\xe6\x07"), R, 8},
    {"cvtpd2dq (%rdi),%xmm0", X("\xf2\x0f\xe6\x07"), R, 16},
    {"pxor (%rdi),%xmm0", X("\x66\x0f\xef\x07"), R, 16},
    {"pxor (%rdi),%mm0", X("\x0f\xef\x07"), R, 8},
    {"paddd (%rdi),%xmm0", X("\x66\x0f\xfe\x07"), R, 16},
    {"paddq (%rdi),%mm1", X("\x0f\xd4\x0f"), R, 8},
    {"psubb 0x10(%rip),%xmm3", X("\x66\x0f\xf8\x1d\x10\x00\x00\x00"), R, 16},
    {"pcmpeqb (%rdi),%xmm1", X("\x66\x0f\x74\x0f"), R, 16},
    {"pcmpgtd (%rdi),%mm1", X("\x0f\x66\x0f"), R, 8},
    {"pmaddwd (%rdi),%xmm0", X("\x66\x0f\xf5\x07"), R, 16},
    {"pavgb (%rdi),%xmm0", X("\x66\x0f\xe0\x07"), R, 16},
    {"psadbw (%rdi),%xmm0", X("\x66\x0f\xf6\x07"), R, 16},
    {"punpcklbw (%rdi),%mm0", X("\x0f\x60\x07"), R, 4},
    {"punpckldq (%rdi),%mm0", X("\x0f\x62\x07"), R, 4},
    {"punpcklbw (%rdi),%xmm0", X("\x66\x0f\x60\x07"), R, 16},
    {"punpckhwd (%rdi),%mm0", X("\x0f\x69\x07"), R, 8},
    {"punpcklqdq (%rdi),%xmm0", X("\x66\x0f\x6c\x07"), R, 16},
    {"packuswb (%rdi),%xmm0", X("\x66\x0f\x67\x07"), R, 16},
    {"psrlw (%rdi),%xmm0", X("\x66\x0f\xd1\x07"), R, 16},
    {"psllq (%rdi),%mm0", X("\x0f\xf3\x07"), R, 8},
    {"psrad (%rdi),%xmm0", X("\x66\x0f\xe2\x07"), R, 16},
    {"pshufd $0x1b,(%rdi),%xmm0", X("\x66\x0f\x70\x07\x1b"), R, 16},
    {"pshufw $0x1b,(%rdi),%mm0", X("\x0f\x70\x07\x1b"), R, 8},
    {"pshufhw $0x1b,(%rdi),%xmm0", X("\xf3\x0f\x70\x07\x1b"), R, 16},
    {"pshuflw $0x1b,(%rdi),%xmm0", X("\xf2\x0f\x70\x07\x1b"), R, 16},
    {"pinsrw $0x1,(%rdi),%xmm0", X("\x66\x0f\xc4\x07\x01"), R, 2},
    {"pinsrw $0x1,(%rdi),%mm0", X("\x0f\xc4\x07\x01"), R, 2},
    {"cmpps $0x1,(%rdi),%xmm0", X("\x0f\xc2\x07\x01"), R, 16},
    {"cmpltsd (%rdi),%xmm0", X("\xf2\x0f\xc2\x07\x01"), R, 8},
    {"cmpless (%rdi),%xmm0", X("\xf3\x0f\xc2\x07\x02"), R, 4},
    {"shufps $0x1b,(%rdi),%xmm0", X("\x0f\xc6\x07\x1b"), R, 16},
    {"shufpd $0x1,(%rdi),%xmm0", X("\x66\x0f\xc6\x07\x01"), R, 16},
    {"haddps (%rdi),%xmm0", X("\xf2\x0f\x7c\x07"), R, 16},
    {"hsubpd (%rdi),%xmm0", X("\x66\x0f\x7d\x07"), R, 16},
    {"addsubps (%rdi),%xmm0", X("\xf2\x0f\xd0\x07"), R, 16},
    {"lddqu (%rdi),%xmm0", X("\xf2\x0f\xf0\x07"), R, 16},
    {"maskmovq %mm1,%mm0", X("\x0f\xf7\xc1"), W, 8},
    {"maskmovdqu %xmm1,%xmm0", X("\x66\x0f\xf7\xc1"), W, 16},
    /* SSSE3 SSE4 SHA AES */
    {"pshufb (%rdi),%xmm0", X("\x66\x0f\x38\x00\x07"), R, 16},
    {"pshufb (%rdi),%mm0", X("\x0f\x38\x00\x07"), R, 8},
    {"phaddd (%rdi),%xmm0", X("\x66\x0f\x38\x02\x07"), R, 16},
    {"pabsw (%rdi),%mm0", X("\x0f\x38\x1d\x07"), R, 8},
    {"pmulhrsw (%rdi),%xmm0", X("\x66\x0f\x38\x0b\x07"), R, 16},
    {"pmovzxbw (%rdi),%xmm0", X("\x66\x0f\x38\x30\x07"), R, 8},
    {"pmovzxbd (%rdi),%xmm0", X("\x66\x0f\x38\x31\x07"), R, 4},
    {"pmovzxbq (%rdi),%xmm0", X("\x66\x0f\x38\x32\x07"), R, 2},
    {"pmovsxwd (%rdi),%xmm0", X("\x66\x0f\x38\x23\x07"), R, 8},
    {"pmovsxwq (%rdi),%xmm0", X("\x66\x0f\x38\x24\x07"), R, 4},
    {"pmovsxdq (%rdi),%xmm0", X("\x66\x0f\x38\x25\x07"), R, 8},
    {"ptest (%rdi),%xmm0", X("\x66\x0f\x38\x17\x07"), R, 16},
    {"pminud (%rdi),%xmm0", X("\x66\x0f\x38\x3b\x07"), R, 16},
    {"pmulld (%rdi),%xmm0", X("\x66\x0f\x38\x40\x07"), R, 16},
    {"pcmpgtq (%rdi),%xmm0", X("\x66\x0f\x38\x37\x07"), R, 16},
    {"phminposuw (%rdi),%xmm0", X("\x66\x0f\x38\x41\x07"), R, 16},
    {"pblendvb %xmm0,(%rdi),%xmm1", X("\x66\x0f\x38\x10\x0f"), R, 16},
    {"movntdqa (%rdi),%xmm0", X("\x66\x0f\x38\x2a\x07"), R, 16},
    {"pextrb $0x1,%xmm0,(%rdi)", X("\x66\x0f\x3a\x14\x07\x01"), W, 1},
    {"pextrw $0x1,%xmm0,(%rdi)", X("\x66\x0f\x3a\x15\x07\x01"), W, 2},
    {"pextrd $0x1,%xmm0,(%rdi)", X("\x66\x0f\x3a\x16\x07\x01"), W, 4},
    {"pextrq $0x1,%xmm0,(%rdi)", X("\x66\x48\x0f\x3a\x16\x07\x01"), W, 8},
    {"extractps $0x1,%xmm0,(%rdi)", X("\x66\x0f\x3a\x17\x07\x01"), W, 4},
    {"pinsrb $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x20\x07\x01"), R, 1},
    {"pinsrd $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x22\x07\x01"), R, 4},
    {"pinsrq $0x1,(%rdi),%xmm0", X("\x66\x48\x0f\x3a\x22\x07\x01"), R, 8},
    {"insertps $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x21\x07\x01"), R, 4},
    {"roundss $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x0a\x07\x01"), R, 4},
    {"roundsd $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x0b\x07\x01"), R, 8},
    {"roundps $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x08\x07\x01"), R, 16},
    {"blendps $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x0c\x07\x01"), R, 16},
    {"dpps $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x40\x07\x01"), R, 16},
    {"mpsadbw $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x42\x07\x01"), R, 16},
    {"pclmulqdq $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x44\x07\x01"), R, 16},
    {"pcmpistri $0x0,(%rdi),%xmm0", X("\x66\x0f\x3a\x63\x07\x00"), R, 16},
    {"pcmpestrm $0x0,(%rdi),%xmm0", X("\x66\x0f\x3a\x60\x07\x00"), R, 16},
    {"palignr $0x1,(%rdi),%mm0", X("\x0f\x3a\x0f\x07\x01"), R, 8},
    {"palignr $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\x0f\x07\x01"), R, 16},
    {"aesenc (%rdi),%xmm0", X("\x66\x0f\x38\xdc\x07"), R, 16},
    {"aesdeclast (%rdi),%xmm0", X("\x66\x0f\x38\xdf\x07"), R, 16},
    {"aesimc (%rdi),%xmm0", X("\x66\x0f\x38\xdb\x07"), R, 16},
    {"aeskeygenassist $0x1,(%rdi),%xmm0", X("\x66\x0f\x3a\xdf\x07\x01"), R, 16},
    {"sha1nexte (%rdi),%xmm0", X("\x0f\x38\xc8\x07"), R, 16},
    {"sha256rnds2 (%rdi),%xmm1", X("\x0f\x38\xcb\x0f"), R, 16},
    {"sha1rnds4 $0x1,(%rdi),%xmm0", X("\x0f\x3a\xcc\x07\x01"), R, 16},
    /* state */
    {"fxsave (%rdi)", X("\x0f\xae\x07"), W, 0},
    {"fxrstor (%rdi)", X("\x0f\xae\x0f"), R, 0},
    {"fxsave64 (%rdi)", X("\x48\x0f\xae\x07"), W, 0},
    {"ldmxcsr (%rdi)", X("\x0f\xae\x17"), R, 4},
    {"stmxcsr 0x4(%rsp)", X("\x0f\xae\x5c\x24\x04"), W, 4},
    {"xsave (%rdi)", X("\x0f\xae\x27"), W, 0},
    {"xrstor (%rdi)", X("\x0f\xae\x2f"), R, 0},
    {"xsaveopt (%rdi)", X("\x0f\xae\x37"), W, 0},
    {"xsavec (%rdi)", X("\x0f\xc7\x27"), W, 0},
    {"xsave64 (%rdi)", X("\x48\x0f\xae\x27"), W, 0},
    {"xrstor64 (%rdi)", X("\x48\x0f\xae\x2f"), R, 0},
    /* AVX */
    {"vmovdqu (%rdi),%ymm0", X("\xc5\xfe\x6f\x07"), R, 32},
    {"vmovdqu %ymm0,(%rdi)", X("\xc5\xfe\x7f\x07"), W, 32},
    {"vmovdqu (%rdi),%xmm0", X("\xc5\xfa\x6f\x07"), R, 16},
    {"vmovdqu %xmm0,(%rdi)", X("\xc5\xfa\x7f\x07"), W, 16},
    {"vmovdqa (%rdi),%ymm1", X("\xc5\xfd\x6f\x0f"), R, 32},
    {"vmovdqa %ymm8,(%rdi)", X("\xc5\x7d\x7f\x07"), W, 32},
    {"vmovdqa %xmm0,0x10(%rsp)", X("\xc5\xf9\x7f\x44\x24\x10"), W, 16},
    {"vmovups (%rdi),%ymm0", X("\xc5\xfc\x10\x07"), R, 32},
    {"vmovups %ymm0,(%rdi)", X("\xc5\xfc\x11\x07"), W, 32},
    {"vmovups (%r8),%xmm9", X("\xc4\x41\x78\x10\x08"), R, 16},
    {"vmovups %xmm1,(%rax,%r10,4)", X("\xc4\xa1\x78\x11\x0c\x90"), W, 16},
    {"vmovupd (%rdi),%ymm0", X("\xc5\xfd\x10\x07"), R, 32},
    {"vmovaps %ymm0,(%rdi)", X("\xc5\xfc\x29\x07"), W, 32},
    {"vmovaps (%rdi),%xmm0", X("\xc5\xf8\x28\x07"), R, 16},
    {"vmovaps %ymm0,0x20(%rsp,%rax,8)", X("\xc5\xfc\x29\x44\xc4\x20"), W, 32},
    {"vmovapd 0x12345678(%rip),%ymm2", X("\xc5\xfd\x28\x15\x78\x56\x34\x12"), R, 32},
    {"vmovups %ymm15,-0x20(%r13)", X("\xc4\x41\x7c\x11\x7d\xe0"), W, 32},
    {"vmovss (%rdi),%xmm0", X("\xc5\xfa\x10\x07"), R, 4},
    {"vmovss %xmm0,(%rdi)", X("\xc5\xfa\x11\x07"), W, 4},
    {"vmovsd %xmm0,(%rdi)", X("\xc5\xfb\x11\x07"), W, 8},
    {"vmovsd (%rdi),%xmm0", X("\xc5\xfb\x10\x07"), R, 8},
    {"vmovntdq %ymm0,(%rdi)", X("\xc5\xfd\xe7\x07"), W, 32},
    {"vmovntps %xmm0,(%rdi)", X("\xc5\xf8\x2b\x07"), W, 16},
    {"vmovntdqa (%rdi),%ymm0", X("\xc4\xe2\x7d\x2a\x07"), R, 32},
    {"vmovq %xmm0,(%rdi)", X("\xc5\xf9\xd6\x07"), W, 8},
    {"vmovd %xmm0,(%rdi)", X("\xc5\xf9\x7e\x07"), W, 4},
    {"vmovq (%rdi),%xmm0", X("\xc5\xfa\x7e\x07"), R, 8},
    {"vmovd (%rdi),%xmm0", X("\xc5\xf9\x6e\x07"), R, 4},
    {"vmovlps %xmm0,(%rdi)", X("\xc5\xf8\x13\x07"), W, 8},
    {"vmovhpd (%rdi),%xmm1,%xmm0", X("\xc5\xf1\x16\x07"), R, 8},
    {"vmovddup (%rdi),%ymm0", X("\xc5\xff\x12\x07"), R, 32},
    {"vmovddup (%rdi),%xmm0", X("\xc5\xfb\x12\x07"), R, 8},
    {"vmovsldup (%rdi),%ymm0", X("\xc5\xfe\x12\x07"), R, 32},
    {"vlddqu (%rdi),%ymm0", X("\xc5\xff\xf0\x07"), R, 32},
    {"vpaddd (%rdi),%ymm1,%ymm0", X("\xc5\xf5\xfe\x07"), R, 32},
    {"vpcmpeqb (%rdi),%ymm1,%ymm2", X("\xc5\xf5\x74\x17"), R, 32},
    {"vpxor (%rdi),%xmm1,%xmm0", X("\xc5\xf1\xef\x07"), R, 16},
    {"vpminub (%rdi),%ymm1,%ymm0", X("\xc5\xf5\xda\x07"), R, 32},
    {"vaddsd (%rdi),%xmm1,%xmm0", X("\xc5\xf3\x58\x07"), R, 8},
    {"vaddps (%rdi),%ymm1,%ymm0", X("\xc5\xf4\x58\x07"), R, 32},
    {"vmulss (%rdi),%xmm1,%xmm0", X("\xc5\xf2\x59\x07"), R, 4},
    {"vsqrtpd (%rdi),%ymm0", X("\xc5\xfd\x51\x07"), R, 32},
    {"vxorps (%rdi),%ymm1,%ymm0", X("\xc5\xf4\x57\x07"), R, 32},
    {"vucomisd (%rdi),%xmm0", X("\xc5\xf9\x2e\x07"), R, 8},
    {"vcvtsi2sdq (%rdi),%xmm1,%xmm0", X("\xc4\xe1\xf3\x2a\x07"), R, 8},
    {"vcvttsd2si (%rdi),%eax", X("\xc5\xfb\x2c\x07"), R, 8},
    {"vcvtps2pd (%rdi),%ymm0", X("\xc5\xfc\x5a\x07"), R, 16},
    {"vcvtdq2pd (%rdi),%ymm0", X("\xc5\xfe\xe6\x07"), R, 16},
    {"vcvtph2ps (%rdi),%ymm0", X("\xc4\xe2\x7d\x13\x07"), R, 16},
    {"vpsrlw (%rdi),%ymm1,%ymm0", X("\xc5\xf5\xd1\x07"), R, 16},
    {"vpshufd $0x1b,(%rdi),%ymm0", X("\xc5\xfd\x70\x07\x1b"), R, 32},
    {"vpunpcklbw (%rdi),%ymm1,%ymm0", X("\xc5\xf5\x60\x07"), R, 32},
    {"vpinsrw $0x1,(%rdi),%xmm1,%xmm0", X("\xc5\xf1\xc4\x07\x01"), R, 2},
    {"vpshufb (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\x00\x07"), R, 32},
    {"vpmovzxbd (%rdi),%ymm0", X("\xc4\xe2\x7d\x31\x07"), R, 8},
    {"vpmovsxbw (%rdi),%xmm0", X("\xc4\xe2\x79\x20\x07"), R, 8},
    {"vpmovzxwq (%rdi),%ymm0", X("\xc4\xe2\x7d\x34\x07"), R, 8},
    {"vpbroadcastd (%rdi),%ymm0", X("\xc4\xe2\x7d\x58\x07"), R, 4},
    {"vpbroadcastb (%rdi),%xmm0", X("\xc4\xe2\x79\x78\x07"), R, 1},
    {"vpbroadcastq (%rdi),%ymm0", X("\xc4\xe2\x7d\x59\x07"), R, 8},
    {"vbroadcastss (%rdi),%ymm0", X("\xc4\xe2\x7d\x18\x07"), R, 4},
    {"vbroadcastsd (%rdi),%ymm0", X("\xc4\xe2\x7d\x19\x07"), R, 8},
    {"vbroadcastf128 (%rdi),%ymm0", X("\xc4\xe2\x7d\x1a\x07"), R, 16},
    {"vbroadcasti128 (%rdi),%ymm0", X("\xc4\xe2\x7d\x5a\x07"), R, 16},
    {"vpermd (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\x36\x07"), R, 32},
    {"vptest (%rdi),%ymm0", X("\xc4\xe2\x7d\x17\x07"), R, 32},
    {"vfmadd231ps (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\xb8\x07"), R, 32},
    {"vfmadd213sd (%rdi),%xmm1,%xmm0", X("\xc4\xe2\xf1\xa9\x07"), R, 8},
    {"vfnmsub132ss (%rdi),%xmm1,%xmm0", X("\xc4\xe2\x71\x9f\x07"), R, 4},
    {"vfmaddsub231pd (%rdi),%xmm1,%xmm0", X("\xc4\xe2\xf1\xb6\x07"), R, 16},
    {"vpsllvd (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\x47\x07"), R, 32},
    {"vaesenc (%rdi),%xmm1,%xmm0", X("\xc4\xe2\x71\xdc\x07"), R, 16},
    {"vmaskmovps (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\x2c\x07"), R, 32},
    {"vmaskmovps %ymm0,%ymm1,(%rdi)", X("\xc4\xe2\x75\x2e\x07"), W, 32},
    {"vmaskmovpd %xmm0,%xmm1,(%rdi)", X("\xc4\xe2\x71\x2f\x07"), W, 16},
    {"vpmaskmovd %xmm0,%xmm1,(%rdi)", X("\xc4\xe2\x71\x8e\x07"), W, 16},
    {"vpmaskmovq %ymm0,%ymm1,(%rdi)", X("\xc4\xe2\xf5\x8e\x07"), W, 32},
    {"vpmaskmovd (%rdi),%ymm1,%ymm0", X("\xc4\xe2\x75\x8c\x07"), R, 32},
    {"vmaskmovdqu %xmm1,%xmm0", X("\xc5\xf9\xf7\xc1"), W, 16},
    {"vextracti128 $0x1,%ymm0,(%rdi)", X("\xc4\xe3\x7d\x39\x07\x01"), W, 16},
    {"vextractf128 $0x1,%ymm0,(%rdi)", X("\xc4\xe3\x7d\x19\x07\x01"), W, 16},
    {"vinserti128 $0x1,(%rdi),%ymm1,%ymm0", X("\xc4\xe3\x75\x38\x07\x01"), R, 16},
    {"vinsertf128 $0x1,(%rdi),%ymm1,%ymm0", X("\xc4\xe3\x75\x18\x07\x01"), R, 16},
    {"vperm2i128 $0x1,(%rdi),%ymm1,%ymm0", X("\xc4\xe3\x75\x46\x07\x01"), R, 32},
    {"vpermq $0x1b,(%rdi),%ymm0", X("\xc4\xe3\xfd\x00\x07\x1b"), R, 32},
    {"vpblendd $0x1,(%rdi),%ymm1,%ymm0", X("\xc4\xe3\x75\x02\x07\x01"), R, 32},
    {"vpalignr $0x1,(%rdi),%ymm1,%ymm0", X("\xc4\xe3\x75\x0f\x07\x01"), R, 32},
    {"vroundsd $0x1,(%rdi),%xmm1,%xmm0", X("\xc4\xe3\x71\x0b\x07\x01"), R, 8},
    {"vpextrb $0x1,%xmm0,(%rdi)", X("\xc4\xe3\x79\x14\x07\x01"), W, 1},
    {"vpextrw $0x1,%xmm0,(%rdi)", X("\xc4\xe3\x79\x15\x07\x01"), W, 2},
    {"vpextrd $0x1,%xmm0,(%rdi)", X("\xc4\xe3\x79\x16\x07\x01"), W, 4},
    {"vpextrq $0x1,%xmm0,(%rdi)", X("\xc4\xe3\xf9\x16\x07\x01"), W, 8},
    {"vextractps $0x1,%xmm0,(%rdi)", X("\xc4\xe3\x79\x17\x07\x01"), W, 4},
    {"vpinsrq $0x1,(%rdi),%xmm1,%xmm0", X("\xc4\xe3\xf1\x22\x07\x01"), R, 8},
    {"vpinsrb $0x1,(%rdi),%xmm1,%xmm0", X("\xc4\xe3\x71\x20\x07\x01"), R, 1},
    {"vinsertps $0x1,(%rdi),%xmm1,%xmm0", X("\xc4\xe3\x71\x21\x07\x01"), R, 4},
    {"vcvtps2ph $0x0,%ymm0,(%rdi)", X("\xc4\xe3\x7d\x1d\x07\x00"), W, 16},
    {"vcvtps2ph $0x0,%xmm0,(%rdi)", X("\xc4\xe3\x79\x1d\x07\x00"), W, 8},
    {"vpcmpistri $0x0,(%rdi),%xmm0", X("\xc4\xe3\x79\x63\x07\x00"), R, 16},
    {"vldmxcsr (%rdi)", X("\xc5\xf8\xae\x17"), R, 4},
    {"vstmxcsr (%rdi)", X("\xc5\xf8\xae\x1f"), W, 4},
    {"andn (%rdi),%eax,%ecx", X("\xc4\xe2\x78\xf2\x0f"), R, 4},
    {"andn (%rdi),%rax,%rcx", X("\xc4\xe2\xf8\xf2\x0f"), R, 8},
    {"blsr (%rdi),%eax", X("\xc4\xe2\x78\xf3\x0f"), R, 4},
    {"blsi (%rdi),%rax", X("\xc4\xe2\xf8\xf3\x1f"), R, 8},
    {"bzhi %eax,(%rdi),%ecx", X("\xc4\xe2\x78\xf5\x0f"), R, 4},
    {"pdep (%rdi),%rax,%rcx", X("\xc4\xe2\xfb\xf5\x0f"), R, 8},
    {"pext (%rdi),%eax,%ecx", X("\xc4\xe2\x7a\xf5\x0f"), R, 4},
    {"mulx (%rdi),%rax,%rcx", X("\xc4\xe2\xfb\xf6\x0f"), R, 8},
    {"bextr %eax,(%rdi),%ecx", X("\xc4\xe2\x78\xf7\x0f"), R, 4},
    {"shlx %rax,(%rdi),%rcx", X("\xc4\xe2\xf9\xf7\x0f"), R, 8},
    {"sarx %eax,(%rdi),%ecx", X("\xc4\xe2\x7a\xf7\x0f"), R, 4},
    {"shrx %eax,(%rdi),%ecx", X("\xc4\xe2\x7b\xf7\x0f"), R, 4},
    {"rorx $0x3,(%rdi),%eax", X("\xc4\xe3\x7b\xf0\x07\x03"), R, 4},
    {"rorx $0x3,(%rdi),%rax", X("\xc4\xe3\xfb\xf0\x07\x03"), R, 8},
    /* prefixes and length */
    {"hand-encoded: 13 x data16 mov %ax,(%rdi): 15 bytes",
     X("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x07"), W, 2},
    {"hand-encoded: rex.W data16 mov (REX ignored): mov %ax,(%rdi)", X("\x48\x66\x89\x07"), W, 2},
    {"hand-encoded: data16 rex.W mov %rax,(%rdi) (REX.W wins)", X("\x66\x48\x89\x07"), W, 8},
    {"hand-encoded: two REX: the last (41) counts, mov %eax,(%r15)", X("\x48\x41\x89\x07"), W, 4},
    {"hand-encoded: fs gs mov %eax,(%rdi)", X("\x64\x65\x89\x07"), W, 4},
    {"hand-encoded: addr32 movabs 0x12345678,%rax", X("\x67\x48\xa1\x78\x56\x34\x12"), R, 8},
    {"hand-encoded: rep stos %rax,%es:(%rdi)", X("\xf3\x48\xab"), W, 8},
};

/* An exact-size heap copy: ASan reports any read past n. */
static uint8_t *copy(const uint8_t *b, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	memcpy(p, b, n);
	return p;
}

static int decode_exact(const uint8_t *b, size_t n, struct ptrace_access *a)
{
	uint8_t *p = copy(b, n);
	int rc = ptrace_access_decode(p, n, a);
	free(p);
	return rc;
}

static bool all_zero(const struct ptrace_access *a)
{
	return !a->read && !a->write && !a->stack_read && !a->stack_write && !a->size && !a->len;
}

static void check_form(const struct form *f)
{
	struct ptrace_access a;
	const char *t = f->text;

	memset(&a, 0xa5, sizeof(a));
	cr_assert_eq(decode_exact(f->bytes, f->n, &a), 0, "%s: refused", t);
	cr_expect_eq(a.len, f->n, "%s: len %u, expected %zu", t, a.len, f->n);
	cr_expect_eq(a.read, (f->acc & (R | SR)) != 0, "%s: read %d", t, a.read);
	cr_expect_eq(a.write, (f->acc & W) != 0, "%s: write %d", t, a.write);
	cr_expect_eq(a.stack_read, (f->acc & SR) != 0, "%s: stack_read %d", t, a.stack_read);
	cr_expect_eq(a.stack_write, (f->acc & SW) != 0, "%s: stack_write %d", t, a.stack_write);
	cr_expect_eq(a.size, f->size, "%s: size %u, expected %u", t, a.size, f->size);

	/* Trailing bytes are not consumed and change nothing. */
	static const uint8_t tails[] = {0x90, 0xcc, 0x00, 0xff};
	for (size_t k = 0; k < sizeof(tails); k++) {
		uint8_t pad[PTRACE_ACCESS_MAX_LEN + 8];
		struct ptrace_access again;
		memset(pad, tails[k], sizeof(pad));
		memcpy(pad, f->bytes, f->n);
		cr_expect_eq(ptrace_access_decode(pad, sizeof(pad), &again), 0, "%s: with tail %#x",
			     t, tails[k]);
		cr_expect(!memcmp(&again, &a, sizeof(a)), "%s: differs with tail %#x", t, tails[k]);
	}

	/* Every truncation is refused, with *out all zero. */
	for (size_t k = 0; k < f->n; k++) {
		struct ptrace_access tr;
		memset(&tr, 0xa5, sizeof(tr));
		cr_expect_eq(decode_exact(f->bytes, k, &tr), -1, "%s: accepted %zu of %zu bytes", t,
			     k, f->n);
		cr_expect(all_zero(&tr), "%s: truncated to %zu: out not cleared", t, k);
	}
}

Test(ptrace_access, gnu_as_forms)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		check_form(&forms[i]);
}

/* The form count, so that a lost row shows. */
Test(ptrace_access, form_count)
{
	cr_expect_geq(sizeof(forms) / sizeof(forms[0]), 600);
}

static void expect_refused(const char *text, const uint8_t *b, size_t n)
{
	struct ptrace_access a;
	memset(&a, 0xa5, sizeof(a));
	int rc = decode_exact(b, n, &a);
	cr_expect_eq(rc, -1, "%s: accepted: read %d write %d stack %d/%d size %u len %u", text,
		     a.read, a.write, a.stack_read, a.stack_write, a.size, a.len);
	cr_expect(all_zero(&a), "%s: out not cleared", text);
}

Test(ptrace_access, refuses_others)
{
	static const struct {
		const char *text;
		const uint8_t *bytes;
		size_t n;
	} bad[] = {
	    /* no memory access */
	    {"lea (%rdi),%rax", X("\x48\x8d\x07")},
	    {"lea 0x10(%rip),%rax", X("\x48\x8d\x05\x10\x00\x00\x00")},
	    {"lea 0x8(%rax,%rcx,4),%edx", X("\x8d\x54\x88\x08")},
	    {"nopl 0x0(%rax)", X("\x0f\x1f\x00")},
	    {"nopw 0x0(%rax,%rax,1)", X("\x66\x0f\x1f\x04\x00")},
	    {"prefetcht0 (%rdi)", X("\x0f\x18\x0f")},
	    {"prefetchnta 0x40(%rsi)", X("\x0f\x18\x46\x40")},
	    {"prefetchw (%rdi)", X("\x0f\x0d\x0f")},
	    {"clflush (%rdi)", X("\x0f\xae\x3f")},
	    {"clflushopt (%rdi)", X("\x66\x0f\xae\x3f")},
	    {"clwb (%rdi)", X("\x66\x0f\xae\x37")},
	    {"invlpg (%rdi)", X("\x0f\x01\x3f")},
	    /* register forms */
	    {"mov %rax,%rbx", X("\x48\x89\xc3")},
	    {"mov %eax,%ecx", X("\x89\xc1")},
	    {"mov $0x1,%eax", X("\xb8\x01\x00\x00\x00")},
	    {"add %eax,%ecx", X("\x01\xc1")},
	    {"add %rcx,%rax", X("\x48\x01\xc8")},
	    {"addl $0x1,%eax", X("\x83\xc0\x01")},
	    {"cmp %al,%bl", X("\x38\xc3")},
	    {"test %eax,%eax", X("\x85\xc0")},
	    {"testb $0x1,%al", X("\xa8\x01")},
	    {"incl %eax", X("\xff\xc0")},
	    {"notl %eax", X("\xf7\xd0")},
	    {"negq %rax", X("\x48\xf7\xd8")},
	    {"mull %ecx", X("\xf7\xe1")},
	    {"shl %eax", X("\xd1\xe0")},
	    {"sar $0x3,%rdx", X("\x48\xc1\xfa\x03")},
	    {"hand-encoded: xchg %ecx,%eax via 87 /r", X("\x87\xc8")},
	    {"xchg %eax,%ecx", X("\x91")},
	    {"cmpxchg %ecx,%edx", X("\x0f\xb1\xca")},
	    {"xadd %eax,%ecx", X("\x0f\xc1\xc1")},
	    {"bts %eax,%ecx", X("\x0f\xab\xc1")},
	    {"btl $0x3,%eax", X("\x0f\xba\xe0\x03")},
	    {"sete %al", X("\x0f\x94\xc0")},
	    {"cmove %ecx,%eax", X("\x0f\x44\xc1")},
	    {"movzbl %al,%eax", X("\x0f\xb6\xc0")},
	    {"movslq %eax,%rax", X("\x48\x63\xc0")},
	    {"imul %ecx,%eax", X("\x0f\xaf\xc1")},
	    {"bsf %eax,%ecx", X("\x0f\xbc\xc8")},
	    {"popcnt %eax,%ecx", X("\xf3\x0f\xb8\xc8")},
	    {"jmp *%rax", X("\xff\xe0")},
	    {"hand-encoded: notrack jmp *%rax", X("\x3e\xff\xe0")},
	    {"movups %xmm1,%xmm0", X("\x0f\x10\xc1")},
	    {"movaps %xmm1,%xmm0", X("\x0f\x28\xc1")},
	    {"movq %xmm0,%rax", X("\x66\x48\x0f\x7e\xc0")},
	    {"movd %eax,%xmm0", X("\x66\x0f\x6e\xc0")},
	    {"movq %rax,%mm0", X("\x48\x0f\x6e\xc0")},
	    {"movhlps %xmm1,%xmm0", X("\x0f\x12\xc1")},
	    {"movlhps %xmm1,%xmm0", X("\x0f\x16\xc1")},
	    {"paddd %xmm1,%xmm0", X("\x66\x0f\xfe\xc1")},
	    {"pxor %mm1,%mm0", X("\x0f\xef\xc1")},
	    {"pextrw $0x1,%xmm0,%eax", X("\x66\x0f\xc5\xc0\x01")},
	    {"pmovmskb %xmm0,%eax", X("\x66\x0f\xd7\xc0")},
	    {"movmskps %xmm0,%eax", X("\x0f\x50\xc0")},
	    {"psrlw $0x3,%xmm0", X("\x66\x0f\x71\xd0\x03")},
	    {"pshufd $0x1b,%xmm1,%xmm0", X("\x66\x0f\x70\xc1\x1b")},
	    {"cvtsi2sd %eax,%xmm0", X("\xf2\x0f\x2a\xc0")},
	    {"vmovdqu %ymm1,%ymm0", X("\xc5\xfe\x6f\xc1")},
	    {"vpaddd %ymm2,%ymm1,%ymm0", X("\xc5\xf5\xfe\xc2")},
	    {"vpmovmskb %ymm0,%eax", X("\xc5\xfd\xd7\xc0")},
	    {"vextracti128 $0x1,%ymm0,%xmm1", X("\xc4\xe3\x7d\x39\xc1\x01")},
	    {"vpextrq $0x1,%xmm0,%rax", X("\xc4\xe3\xf9\x16\xc0\x01")},
	    {"andn %eax,%ebx,%ecx", X("\xc4\xe2\x60\xf2\xc8")},
	    {"rorx $0x3,%eax,%ecx", X("\xc4\xe3\x7b\xf0\xc8\x03")},
	    {"fadd %st(1),%st", X("\xd8\xc1")},
	    {"fld %st(1)", X("\xd9\xc1")},
	    {"fstp %st(1)", X("\xdd\xd9")},
	    {"fxch %st(1)", X("\xd9\xc9")},
	    {"mov %ds,%eax", X("\x8c\xd8")},
	    {"mov %eax,%es", X("\x8e\xc0")},
	    {"hand-encoded: movbe with a register operand (#UD)", X("\x0f\x38\xf0\xc0")},
	    /* no memory operand at all */
	    {"nop", X("\x90")},
	    {"hlt", X("\xf4")},
	    {"cli", X("\xfa")},
	    {"syscall", X("\x0f\x05")},
	    {"int3", X("\xcc")},
	    {"int $0x80", X("\xcd\x80")},
	    {"cpuid", X("\x0f\xa2")},
	    {"rdtsc", X("\x0f\x31")},
	    {"pause", X("\xf3\x90")},
	    {"cltq", X("\x48\x98")},
	    {"cwtl", X("\x98")},
	    {"jmp 1f; 1:", X("\xeb\x00")},
	    {"jne 1f; 1:", X("\x75\x00")},
	    {"xchg %eax,%eax", X("\x87\xc0")},
	    {"emms", X("\x0f\x77")},
	    {"vzeroupper", X("\xc5\xf8\x77")},
	    {"vzeroall", X("\xc5\xfc\x77")},
	    {"lfence", X("\x0f\xae\xe8")},
	    {"mfence", X("\x0f\xae\xf0")},
	    {"sfence", X("\x0f\xae\xf8")},
	    {"rdfsbase %rax", X("\xf3\x48\x0f\xae\xc0")},
	    {"endbr64", X("\xf3\x0f\x1e\xfa")},
	    {"ud2", X("\x0f\x0b")},
	    {"ud1 (%rax),%eax", X("\x0f\xb9\x00")},
	    {"swapgs", X("\x0f\x01\xf8")},
	    {"wrmsr", X("\x0f\x30")},
	    {"in (%dx),%al", X("\xec")},
	    {"out %al,(%dx)", X("\xee")},
	    /* lock on anything but a memory read-modify-write (#UD) */
	    {"hand-encoded: lock mov %eax,(%rdi)", X("\xf0\x89\x07")},
	    {"hand-encoded: lock mov (%rdi),%eax", X("\xf0\x8b\x07")},
	    {"hand-encoded: lock add (%rdi),%eax", X("\xf0\x03\x07")},
	    {"hand-encoded: lock cmp %eax,(%rdi)", X("\xf0\x39\x07")},
	    {"hand-encoded: lock cmpb $0x1,(%rdi)", X("\xf0\x80\x3f\x01")},
	    {"hand-encoded: lock test %eax,(%rdi)", X("\xf0\x85\x07")},
	    {"hand-encoded: lock mull (%rdi)", X("\xf0\xf7\x27")},
	    {"hand-encoded: lock shll (%rdi)", X("\xf0\xd1\x27")},
	    {"hand-encoded: lock bt %eax,(%rdi)", X("\xf0\x0f\xa3\x07")},
	    {"hand-encoded: lock btl $0x3,(%rdi)", X("\xf0\x0f\xba\x27\x03")},
	    {"hand-encoded: lock sete (%rdi)", X("\xf0\x0f\x94\x07")},
	    {"hand-encoded: lock movups %xmm0,(%rdi)", X("\xf0\x0f\x11\x07")},
	    {"hand-encoded: lock push (%rax)", X("\xf0\xff\x30")},
	    {"hand-encoded: lock inc %eax", X("\xf0\xff\xc0")},
	    {"hand-encoded: lock add %eax,%ecx", X("\xf0\x01\xc1")},
	    {"hand-encoded: lock movsb", X("\xf0\xa4")},
	    {"hand-encoded: lock stos", X("\xf0\xab")},
	    {"hand-encoded: lock push %rax", X("\xf0\x50")},
	    {"hand-encoded: lock ret", X("\xf0\xc3")},
	    {"hand-encoded: lock fstpl (%rdi)", X("\xf0\xdd\x1f")},
	    /* prefixes that void or change the instruction */
	    {"hand-encoded: data16 vmovdqu (%rdi),%ymm0 (#UD)", X("\x66\xc5\xfe\x6f\x07")},
	    {"hand-encoded: repz vmovdqu (%rdi),%ymm0 (#UD)", X("\xf3\xc5\xfe\x6f\x07")},
	    {"hand-encoded: repnz vmovdqu (%rdi),%ymm0 (#UD)", X("\xf2\xc5\xfe\x6f\x07")},
	    {"hand-encoded: lock vmovdqu (%rdi),%ymm0 (#UD)", X("\xf0\xc5\xfe\x6f\x07")},
	    {"hand-encoded: rex.W vmovdqu (%rdi),%ymm0 (#UD)", X("\x48\xc5\xfe\x6f\x07")},
	    {"hand-encoded: rex.W cs vmovdqu (%rdi),%ymm0", X("\x48\x2e\xc5\xfe\x6f\x07")},
	    {"hand-encoded: rex vmovdqu (3-byte VEX)", X("\x40\xc4\xe1\x7e\x6f\x07")},
	    {"hand-encoded: VEX map 4 (reserved)", X("\xc4\xe4\x7e\x6f\x07")},
	    {"hand-encoded: VEX map 0 (reserved)", X("\xc4\xe0\x7e\x6f\x07")},
	    {"hand-encoded: data16 call *(%rax) (AMD: 16-bit)", X("\x66\xff\x10")},
	    {"hand-encoded: data16 jmp *(%rax)", X("\x66\xff\x20")},
	    {"hand-encoded: data16 ret", X("\x66\xc3")},
	    {"hand-encoded: data16 ret $0x8", X("\x66\xc2\x08\x00")},
	    {"hand-encoded: data16 call (AMD: rel16)", X("\x66\xe8\x00\x00")},
	    {"hand-encoded: data16 stmxcsr (NP)", X("\x66\x0f\xae\x1f")},
	    {"hand-encoded: data16 fxsave (NP)", X("\x66\x0f\xae\x07")},
	    {"hand-encoded: ptwritel (%rdi) (F3 0F AE /4: not classified)", X("\xf3\x0f\xae\x27")},
	    {"hand-encoded: data16 movnti (NP)", X("\x66\x0f\xc3\x07")},
	    {"hand-encoded: repz movlps %xmm0,(%rdi) (reserved)", X("\xf3\x0f\x13\x07")},
	    {"hand-encoded: repnz movhps %xmm0,(%rdi) (reserved)", X("\xf2\x0f\x17\x07")},
	    {"hand-encoded: repnz movaps %xmm0,(%rdi) (reserved)", X("\xf2\x0f\x29\x07")},
	    {"hand-encoded: repnz movdqa-like store (reserved)", X("\xf2\x0f\x7f\x07")},
	    {"hand-encoded: repnz repz movups (F2 with F3: refused)", X("\xf2\xf3\x0f\x11\x07")},
	    {"hand-encoded: repz repnz movups (F2 with F3: refused)", X("\xf3\xf2\x0f\x10\x07")},
	    {"hand-encoded: repnz bsf (reserved)", X("\xf2\x0f\xbc\x07")},
	    {"hand-encoded: jmpe (not in 64-bit mode; F3 0F B8 is popcnt)", X("\x0f\xb8\x07")},
	    {"hand-encoded: repz movbe (reserved)", X("\xf3\x0f\x38\xf0\x07")},
	    {"hand-encoded: repz lgdt (F3 0F 01: others)", X("\xf3\x0f\x01\x17")},
	    {"hand-encoded: repz sgdt", X("\xf3\x0f\x01\x07")},
	    /* reserved, invalid in 64-bit mode, or not classified */
	    {"hand-encoded: 82 (invalid in 64-bit mode)", X("\x82\x07\x01")},
	    {"hand-encoded: C6 /1 (reserved)", X("\xc6\x0f\x01")},
	    {"hand-encoded: C7 /1 (reserved)", X("\xc7\x0f\x01\x00\x00\x00")},
	    {"hand-encoded: xabort $0x1", X("\xc6\xf8\x01")},
	    {"hand-encoded: xbegin", X("\xc7\xf8\x00\x00\x00\x00")},
	    {"hand-encoded: FE /2 (reserved)", X("\xfe\x17")},
	    {"hand-encoded: FE /7 (reserved)", X("\xfe\x3f")},
	    {"hand-encoded: FF /7 (reserved)", X("\xff\x3f")},
	    {"hand-encoded: 8F /1 (XOP)", X("\x8f\x0f")},
	    {"hand-encoded: XOP vphsubbw (%rdi),%xmm0", X("\x8f\xe9\x78\xe1\x07")},
	    {"hand-encoded: mov %?6,(%rdi) (no segment register 6)", X("\x8c\x37")},
	    {"hand-encoded: mov (%rdi),%cs (#UD)", X("\x8e\x0f")},
	    {"hand-encoded: 0F 00 /6 (reserved)", X("\x0f\x00\x37")},
	    {"hand-encoded: 0F 01 /5 (reserved without F3)", X("\x0f\x01\x2f")},
	    {"hand-encoded: 0F BA /0 (reserved)", X("\x0f\xba\x07\x01")},
	    {"hand-encoded: 0F C7 /0 (reserved)", X("\x0f\xc7\x07")},
	    {"hand-encoded: D9 /1 (reserved)", X("\xd9\x0f")},
	    {"hand-encoded: DB /4 (reserved)", X("\xdb\x27")},
	    {"hand-encoded: DD /5 (reserved)", X("\xdd\x2f")},
	    {"hand-encoded: into (invalid in 64-bit mode)", X("\xce")},
	    {"hand-encoded: 3DNow! pfmul (%rdi),%mm0", X("\x0f\x0f\x07\xb4")},
	    {"hand-encoded: EVEX vmovdqu64 (%rdi),%zmm0", X("\x62\xf1\xfe\x48\x6f\x07")},
	    {"hand-encoded: kmovw (%rdi),%k1 (AVX-512)", X("\xc5\xf8\x90\x0f")},
	    {"vgatherdps %xmm2,(%rdi,%xmm1,4),%xmm0", X("\xc4\xe2\x69\x92\x04\x8f")},
	    {"vpgatherqq %ymm2,(%rdi,%ymm1,8),%ymm0", X("\xc4\xe2\xed\x91\x04\xcf")},
	    {"hand-encoded: vpermps with VEX.L 0 (#UD)", X("\xc4\xe2\x71\x16\x07")},
	    {"hand-encoded: vbroadcastsd with VEX.L 0 (#UD)", X("\xc4\xe2\x79\x19\x07")},
	    {"hand-encoded: vextractf128 with VEX.L 0 (#UD)", X("\xc4\xe3\x79\x19\x07\x01")},
	    {"hand-encoded: vpextrb with VEX.L 1 (#UD)", X("\xc4\xe3\x7d\x14\x07\x01")},
	    {"hand-encoded: vmovd with VEX.L 1 (#UD)", X("\xc5\xfd\x7e\x07")},
	    {"hand-encoded: vmovlps store with VEX.L 1 (#UD)", X("\xc5\xfc\x13\x07")},
	    {"hand-encoded: VEX 0F 6F without 66/F3 (no VEX MMX)", X("\xc5\xf8\x6f\x07")},
	    {"hand-encoded: VEX paddd without 66", X("\xc5\xf8\xfe\x07")},
	    {"lcall *(%rax)", X("\xff\x18")},
	    {"ljmp *(%rax)", X("\xff\x28")},
	    {"lfs (%rdi),%eax", X("\x0f\xb4\x07")},
	    {"lss (%rdi),%esp", X("\x0f\xb2\x27")},
	    {"lret", X("\xcb")},
	    {"iretq", X("\x48\xcf")},
	    {"vmread %rax,(%rdi)", X("\x0f\x78\x07")},
	    {"vmptrst (%rdi)", X("\x0f\xc7\x3f")},
	    {"xsaves (%rdi)", X("\x0f\xc7\x2f")},
	    {"xrstors (%rdi)", X("\x0f\xc7\x1f")},
	    {"monitor", X("\x0f\x01\xc8")},
	    /* too long, or nothing but prefixes */
	    {"hand-encoded: 14 x data16, mov %ax,(%rdi) (16 bytes)",
	     X("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x07")},
	    {"hand-encoded: 6 prefixes + REX.W + movl $imm32,disp32(%rsp) (17 bytes)",
	     X("\x2e\x3e\x26\x36\x64\x67\x48\xc7\x84\x24\x00\x10\x00\x00\x78\x56\x34")},
	    {"hand-encoded: 16 x REX, push %rax",
	     X("\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x40\x50")},
	    {"hand-encoded: 15 prefixes",
	     X("\x66\x67\xf2\xf3\x2e\x36\x3e\x26\x64\x65\x40\x66\x67\x48\x66")},
	    {"empty", X("")},
	    {"66 67 f3 48", X("\x66\x67\xf3\x48")},
	    {"0f", X("\x0f")},
	    {"0f 38", X("\x0f\x38")},
	    {"c5", X("\xc5")},
	    {"c4 e1", X("\xc4\xe1")},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i].text, bad[i].bytes, bad[i].n);
	/* A NULL buffer is refused too. */
	struct ptrace_access a;
	memset(&a, 0xa5, sizeof(a));
	cr_expect_eq(ptrace_access_decode(NULL, 0, &a), -1);
	cr_expect(all_zero(&a));
	cr_expect_eq(ptrace_access_decode(NULL, 15, &a), -1);
}

/* n limits the read even when the bytes after it would complete the instruction. */
Test(ptrace_access, respects_n)
{
	/* movl $0x12345678,0x10(%rdi,%rax,4): c7 44 87 10 78 56 34 12 */
	static const uint8_t b[] = {0xc7, 0x44, 0x87, 0x10, 0x78, 0x56, 0x34, 0x12};
	struct ptrace_access a;
	for (size_t k = 0; k < sizeof(b); k++)
		cr_expect_eq(ptrace_access_decode(b, k, &a), -1, "accepted with n = %zu", k);
	cr_expect_eq(ptrace_access_decode(b, sizeof(b), &a), 0);
	cr_expect_eq(a.len, sizeof(b));
	cr_expect(a.write && !a.read && a.size == 4);
	/* A 15-byte instruction is accepted at n = 15 and n = 100; 16 bytes never. */
	uint8_t big[100];
	memset(big, 0x66, sizeof(big));
	big[13] = 0x89;
	big[14] = 0x07;
	cr_expect_eq(ptrace_access_decode(big, 15, &a), 0);
	cr_expect_eq(a.len, 15);
	cr_expect_eq(ptrace_access_decode(big, sizeof(big), &a), 0);
	cr_expect_eq(a.len, 15);
	memmove(big + 1, big, 15);
	big[0] = 0x66;
	cr_expect_eq(ptrace_access_decode(big, sizeof(big), &a), -1, "16 bytes accepted");
}

/* Operand size: byte opcodes 1, else 4; 66 gives 2, REX.W 8 and wins over 66. */
Test(ptrace_access, operand_size_prefixes)
{
	static const struct {
		uint8_t pfx[2];
		size_t np;
		uint8_t size;
	} p[] = {{{0}, 0, 4},	       {{0x66}, 1, 2}, {{0x48}, 1, 8}, {{0x66, 0x48}, 2, 8},
		 {{0x48, 0x66}, 2, 2}, {{0x41}, 1, 4}, {{0x4f}, 1, 8}, {{0x66, 0x40}, 2, 2}};
	/* Every ALU op r/m, r and r, r/m, and mov, test, xchg, on (%rdi). */
	static const uint8_t ops[] = {0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11,
				      0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x21, 0x22, 0x23,
				      0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39,
				      0x3a, 0x3b, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		for (size_t k = 0; k < sizeof(ops); k++) {
			uint8_t b[4];
			struct ptrace_access a;
			memcpy(b, p[i].pfx, p[i].np);
			b[p[i].np] = ops[k];
			b[p[i].np + 1] = 0x07;
			cr_assert_eq(decode_exact(b, p[i].np + 2, &a), 0, "op %02x prefixes %zu",
				     ops[k], i);
			uint8_t want = ops[k] & 1 ? p[i].size : 1;
			cr_expect_eq(a.size, want, "op %02x prefix set %zu: size %u, expected %u",
				     ops[k], i, a.size, want);
			bool w = (ops[k] < 0x38 && !(ops[k] & 2)) || ops[k] == 0x86 ||
				 ops[k] == 0x87 || ops[k] == 0x88 || ops[k] == 0x89;
			cr_expect_eq(a.write, w, "op %02x: write %d", ops[k], a.write);
			cr_expect_eq(a.read, ops[k] != 0x88 && ops[k] != 0x89, "op %02x: read",
				     ops[k]);
		}
}

/*
 * The addressing form changes the length, never the access: for every
 * opcode of the one-byte, 0F, 0F 38 and 0F 3A maps, under each mandatory or
 * size prefix and ModRM.reg, the forms (%rax), disp8(%rax), disp32(%rax),
 * (%rax,%rcx,1), disp8(%rax,%rcx,1), disp32(,%rcx,1), disp32(%rip) give the
 * same result and lengths that differ by exactly the bytes added.
 */
static int decode_with(const uint8_t *pre, size_t np, uint8_t modrm, const uint8_t *extra,
		       size_t ne, struct ptrace_access *a)
{
	uint8_t b[PTRACE_ACCESS_MAX_LEN + 8];
	memset(b, 0, sizeof(b));
	memcpy(b, pre, np);
	b[np] = modrm;
	memcpy(b + np + 1, extra, ne);
	return ptrace_access_decode(b, sizeof(b), a);
}

static void addressing_forms(const uint8_t *pre, size_t np, unsigned *checked)
{
	/* {mod/rm bits, SIB + displacement bytes (zeros)} */
	static const struct {
		uint8_t modrm;
		uint8_t extra;
	} am[] = {{0x40, 1}, {0x80, 4}, {0x04, 1}, {0x44, 2}, {0x84, 5}, {0x05, 4}};
	static const uint8_t sib_nobase[] = {0x0d, 0, 0, 0, 0}; /* disp32(,%rcx,1) */
	static const uint8_t zeros[8] = {0};

	for (unsigned reg = 0; reg < 8; reg++) {
		struct ptrace_access base, a;
		if (decode_with(pre, np, (uint8_t)(reg << 3), zeros, 0, &base) < 0)
			continue;
		++*checked;
		for (size_t k = 0; k < sizeof(am) / sizeof(am[0]); k++) {
			uint8_t m = (uint8_t)(am[k].modrm | reg << 3);
			cr_assert_eq(decode_with(pre, np, m, zeros, am[k].extra, &a), 0,
				     "%02x %02x modrm %02x: refused", pre[0], np > 1 ? pre[1] : 0,
				     m);
			cr_expect_eq(a.len, base.len + am[k].extra, "%02x %02x modrm %02x: len %u",
				     pre[0], np > 1 ? pre[1] : 0, m, a.len);
			a.len = base.len;
			cr_expect(!memcmp(&a, &base, sizeof(a)), "%02x %02x modrm %02x: differs",
				  pre[0], np > 1 ? pre[1] : 0, m);
		}
		uint8_t m = (uint8_t)(0x04 | reg << 3);
		cr_assert_eq(decode_with(pre, np, m, sib_nobase, 5, &a), 0);
		cr_expect_eq(a.len, base.len + 5, "%02x: SIB without base: len %u", pre[0], a.len);
	}
}

/* The accepted opcodes without a ModRM byte (map 0: one-byte, 1: 0F), and
 * the one-byte escapes and prefixes, which are no opcode. */
static bool no_modrm(size_t map, unsigned op)
{
	if (map == 1)
		return op == 0xa0 || op == 0xa1 || op == 0xa8 || op == 0xa9 || op == 0x38 ||
		       op == 0x3a;
	if (map != 0)
		return false;
	if (op == 0x0f || op == 0xc4 || op == 0xc5 || (op >= 0x40 && op <= 0x4f) || op == 0x26 ||
	    op == 0x2e || op == 0x36 || op == 0x3e || (op >= 0x64 && op <= 0x67) || op == 0xf0 ||
	    op == 0xf2 || op == 0xf3)
		return true;
	return (op >= 0x50 && op <= 0x5f) || op == 0x68 || op == 0x6a ||
	       (op >= 0x6c && op <= 0x6f) || op == 0x9c || op == 0x9d ||
	       (op >= 0xa0 && op <= 0xaf) || op == 0xc2 || op == 0xc3 || op == 0xc8 || op == 0xc9 ||
	       op == 0xd7 || op == 0xe8;
}

Test(ptrace_access, addressing_forms, .timeout = 60)
{
	static const uint8_t pfx[][2] = {{0}, {0x66}, {0xf3}, {0xf2}, {0x48}, {0x66, 0x48}, {0x67}};
	static const size_t npfx[] = {0, 1, 1, 1, 1, 2, 1};
	unsigned checked = 0;

	for (size_t p = 0; p < sizeof(npfx) / sizeof(npfx[0]); p++)
		for (unsigned op = 0; op < 256; op++) {
			static const uint8_t maps[][2] = {{0}, {0x0f}, {0x0f, 0x38}, {0x0f, 0x3a}};
			static const size_t nmap[] = {0, 1, 2, 2};
			for (size_t m = 0; m < 4; m++) {
				uint8_t pre[6];
				size_t np = 0;
				memcpy(pre, pfx[p], npfx[p]);
				np += npfx[p];
				memcpy(pre + np, maps[m], nmap[m]);
				np += nmap[m];
				pre[np++] = (uint8_t)op;
				if (no_modrm(m, op))
					continue;
				addressing_forms(pre, np, &checked);
			}
		}
	/* VEX: maps 0F, 0F 38, 0F 3A, each pp, L and W. */
	for (unsigned map = 1; map <= 3; map++)
		for (unsigned v = 0; v < 16; v++)
			for (unsigned op = 0; op < 256; op++) {
				uint8_t pre[4] = {0xc4, (uint8_t)(0xe0 | map),
						  (uint8_t)((v & 8) << 4 | 0x78 | (v & 7)),
						  (uint8_t)op};
				addressing_forms(pre, 4, &checked);
			}
	cr_expect_gt(checked, 5000, "ModRM forms checked: %u", checked);
}

/*
 * Every 1- and 2-byte buffer, every 3-byte buffer starting with 0F, a
 * prefix, C4 or C5, and every 0F 38 / 0F 3A opcode with every ModRM: a
 * refusal leaves *out zero; success means 1 <= len <= n, some access, a
 * known size, stack_read implying read, the same result from exactly len
 * bytes, and refusal of len - 1. Exact-size heap buffers: ASan sees overreads.
 */
static void sweep_one(const uint8_t *b, size_t n, unsigned *ok)
{
	struct ptrace_access a, again;
	if (ptrace_access_decode(b, n, &a) < 0) {
		if (!all_zero(&a))
			cr_assert_fail("%02x %02x %02x (n %zu): refused, out not cleared", b[0],
				       n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n);
		return;
	}
	++*ok;
	unsigned s = a.size;
	if (a.len == 0 || a.len > n || !(a.read || a.write || a.stack_read || a.stack_write) ||
	    (a.stack_read && !a.read) ||
	    (s != 0 && s != 1 && s != 2 && s != 4 && s != 8 && s != 10 && s != 16 && s != 32))
		cr_assert_fail(
		    "%02x %02x %02x (n %zu): len %u read %d write %d stack %d/%d size %u", b[0],
		    n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n, a.len, a.read, a.write, a.stack_read,
		    a.stack_write, s);
	if (a.len < n) {
		if (ptrace_access_decode(b, a.len, &again) < 0 || memcmp(&a, &again, sizeof(a)))
			cr_assert_fail("%02x %02x %02x: differs with n = len %u", b[0], b[1],
				       n > 2 ? b[2] : 0, a.len);
	}
	if (ptrace_access_decode(b, a.len - 1u, &again) == 0)
		cr_assert_fail("%02x %02x: accepted with len - 1 bytes", b[0], n > 1 ? b[1] : 0);
}

Test(ptrace_access, exhaustive_sweep, .timeout = 120)
{
	static const uint8_t lead[] = {0x0f, 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26,
				       0x64, 0x65, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
				       0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0xc4, 0xc5};
	uint8_t *b1 = malloc(1), *b2 = malloc(2), *b3 = malloc(3), *b4 = malloc(4);
	unsigned ok1 = 0, ok2 = 0, ok3 = 0, ok4 = 0;
	cr_assert(b1 && b2 && b3 && b4);
	for (unsigned x = 0; x < 256; x++) {
		b1[0] = (uint8_t)x;
		sweep_one(b1, 1, &ok1);
		for (unsigned y = 0; y < 256; y++) {
			b2[0] = (uint8_t)x;
			b2[1] = (uint8_t)y;
			sweep_one(b2, 2, &ok2);
		}
	}
	for (size_t l = 0; l < sizeof(lead); l++)
		for (unsigned y = 0; y < 65536; y++) {
			b3[0] = lead[l];
			b3[1] = (uint8_t)(y >> 8);
			b3[2] = (uint8_t)y;
			sweep_one(b3, 3, &ok3);
		}
	for (unsigned m = 0x38; m <= 0x3a; m += 2)
		for (unsigned y = 0; y < 65536; y++) {
			b4[0] = 0x0f;
			b4[1] = (uint8_t)m;
			b4[2] = (uint8_t)(y >> 8);
			b4[3] = (uint8_t)y;
			sweep_one(b4, 4, &ok4);
		}
	free(b1);
	free(b2);
	free(b3);
	free(b4);
	/* One byte: push/pop r (16), pushf popf, movs cmps stos lods scas (10),
	 * ins outs (4), ret, leave, xlat. */
	cr_expect_eq(ok1, 35, "one-byte instructions accepted: %u", ok1);
	cr_expect_gt(ok2, 10000);
	cr_expect_gt(ok3, 100000);
	cr_expect_gt(ok4, 1000);
}
