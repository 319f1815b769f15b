/* SPDX-License-Identifier: MIT */
/*
 * segv.c: a null dereference. Expected: the kernel prints
 * "init[1]: segfault at 0 ip ... sp ... error 4" and dmtvm exits 139
 * (128 + SIGSEGV). The null pointer comes from argc so the compiler cannot
 * turn the access into a trap instruction.
 */
#include <stdint.h>

int main(int argc, char **argv)
{
	(void)argv;
	volatile int *p = (volatile int *)(uintptr_t)(argc - 1);
	return *p;
}
