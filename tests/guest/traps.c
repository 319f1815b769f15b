/* SPDX-License-Identifier: MIT */
/*
 * traps.c: ring-3 faults the kernel must turn into Linux's signal exits,
 * chosen by argv[1]:
 *   ud     ud2                       -> SIGILL  (status 132)
 *   de     integer divide by zero    -> SIGFPE  (136)
 *   gp     hlt (privileged)          -> SIGSEGV (139, #GP)
 *   ro     write to .rodata          -> SIGSEGV (139, #PF error 7)
 *   nx     jump into the stack (NX)  -> SIGSEGV (139, #PF error 0x15)
 *   abort  abort()                   -> SIGABRT (134, via tkill)
 * Anything else exits 2.
 */
#include <stdlib.h>
#include <string.h>

static const int ro_value = 1;

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	volatile int zero = argc - argc;
	if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(what, "de"))
		return 10 / zero;
	else if (!strcmp(what, "gp"))
		__asm__ volatile("hlt");
	else if (!strcmp(what, "ro"))
		*(volatile int *)&ro_value = 2;
	else if (!strcmp(what, "nx")) {
		unsigned char code[16] = {0xc3}; /* ret, on the (non-executable) stack */
		((void (*)(void))(void *)code)();
	} else if (!strcmp(what, "abort"))
		abort();
	return 2;
}
