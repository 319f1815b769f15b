/* SPDX-License-Identifier: MIT */
/*
 * args.c: prints argc/argv/envp/auxv and checks them against the kernel's
 * contract (guest-kernel/proc.c). Exit 0 iff all is as expected:
 *   argv is {"/init"} or {"/init", "one", "two words", "three"}
 *   (run with: dmtvm run IMG -- one "two words" three)
 *   envp is {"HOME=/", "TERM=linux"}
 *   auxv has AT_PHDR/PHENT/PHNUM of this binary, AT_PAGESZ 4096, AT_ENTRY
 *   == _start, 16 AT_RANDOM bytes, AT_HWCAP with FPU, AT_CLKTCK 100, uid/gid
 *   0, AT_SECURE 0, AT_EXECFN "/init", AT_PLATFORM "x86_64", ends in AT_NULL.
 * On failure prints "args: FAIL <what>" and exits 1.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern const Elf64_Ehdr __ehdr_start;
extern void _start(void);
extern char **environ;

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		printf("args: FAIL %s\n", what);
		failures++;
	}
}

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=\"%s\"\n", i, argv[i]);
	int envc = 0;
	for (char **e = environ; *e; e++, envc++)
		printf("envp[%d]=\"%s\"\n", envc, *e);

	check(argv[argc] == NULL, "argv not NULL-terminated");
	check(argv[0] && !strcmp(argv[0], "/init"), "argv[0] != /init");
	if (argc == 1)
		;
	else if (argc == 4)
		check(!strcmp(argv[1], "one") && !strcmp(argv[2], "two words") &&
			  !strcmp(argv[3], "three"),
		      "argv[1..3] != one, \"two words\", three");
	else
		check(0, "argc is neither 1 nor 4");
	check(envc == 2 && !strcmp(environ[0], "HOME=/") && !strcmp(environ[1], "TERM=linux"),
	      "envp != HOME=/ TERM=linux");
	check(environ == argv + argc + 1, "envp does not follow argv");

	/* Raw auxv: right after envp's NULL. */
	unsigned long *av = (unsigned long *)(environ + envc + 1);
	int n = 0, seen_null = 0;
	for (; n < 64; n += 2) {
		printf("auxv[%d]: %lu = 0x%lx\n", n / 2, av[n], av[n + 1]);
		if (av[n] == AT_NULL) {
			seen_null = 1;
			break;
		}
	}
	check(seen_null, "auxv not terminated by AT_NULL");

	const Elf64_Ehdr *eh = &__ehdr_start;
	check(getauxval(AT_PHDR) == (unsigned long)eh + eh->e_phoff, "AT_PHDR");
	check(getauxval(AT_PHENT) == sizeof(Elf64_Phdr), "AT_PHENT");
	check(getauxval(AT_PHNUM) == eh->e_phnum, "AT_PHNUM");
	check(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ");
	check(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY");
	check(getauxval(AT_BASE) == 0, "AT_BASE");
	check(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK");
	check((getauxval(AT_HWCAP) & 1) == 1, "AT_HWCAP lacks FPU");
	check(getauxval(AT_UID) == 0 && getauxval(AT_EUID) == 0 && getauxval(AT_GID) == 0 &&
		  getauxval(AT_EGID) == 0,
	      "AT_UID/EUID/GID/EGID");
	check(getauxval(AT_SECURE) == 0, "AT_SECURE");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++)
		nonzero |= rnd[i];
	check(rnd && nonzero, "AT_RANDOM");
	const char *fn = (const char *)getauxval(AT_EXECFN);
	check(fn && !strcmp(fn, "/init"), "AT_EXECFN");
	const char *pl = (const char *)getauxval(AT_PLATFORM);
	check(pl && !strcmp(pl, "x86_64"), "AT_PLATFORM");
	/* Strings and AT_RANDOM lie above the vectors, on the stack. */
	check((unsigned long)rnd > (unsigned long)(av + n) &&
		  (unsigned long)argv[0] > (unsigned long)rnd,
	      "stack layout (vectors < AT_RANDOM < strings)");

	if (failures)
		return 1;
	printf("args: ok\n");
	return 0;
}
