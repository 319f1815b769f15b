/* SPDX-License-Identifier: MIT */
/*
 * traps.c: ring-3 faults the kernel must turn into Linux's signal exits,
 * chosen by argv[1]:
 *   ud     ud2                       -> SIGILL  (status 132)
 *   de     integer divide by zero    -> SIGFPE  (136)
 *   gp     hlt (privileged)          -> SIGSEGV (139, #GP)
 *   ro     write to .rodata          -> SIGSEGV (139, #PF error 7)
 *   nx     jump into the stack (NX)  -> SIGSEGV (139, #PF error 0x15)
 *   ss     push on a non-canonical rsp  -> SIGBUS (135, #SS)
 *   abort  abort()                   -> SIGABRT (134, via tkill)
 *   oom    touch 1 GiB of anonymous memory (run with --mem=64M)
 *                                    -> "Out of memory" and SIGKILL (137)
 * Anything else exits 2.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
	} else if (!strcmp(what, "ss")) {
		__asm__ volatile("movabs $0x8000000000000000, %%rsp\n\tpush %%rax" ::: "memory");
	} else if (!strcmp(what, "abort")) {
		abort();
	} else if (!strcmp(what, "oom")) {
		size_t len = 1UL << 30;
		volatile char *m =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return 3;
		for (size_t i = 0; i < len; i += 4096)
			m[i] = 1;
		return 4;
	}
	return 2;
}
