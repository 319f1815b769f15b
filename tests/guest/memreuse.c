/* SPDX-License-Identifier: MIT */
/*
 * memreuse.c: frames freed by munmap come back zeroed. Four rounds of
 * mmap 16 MiB / check zero / fill 0xa5 / munmap; with --mem=48M the later
 * rounds must reuse freed frames (the guest has no fresh RAM left), so the
 * kernel's zeroing of recycled 2 MiB and 4 KiB frames is what is checked.
 * Also unmaps single 4 KiB pages out of a 2 MiB page (split) in between.
 * Prints "memreuse: ok" and exits 0, else "memreuse: FAIL ..." and 1.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define LEN (16UL << 20)

int main(void)
{
	for (int round = 0; round < 4; round++) {
		unsigned char *m =
		    mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			printf("memreuse: FAIL mmap in round %d\n", round);
			return 1;
		}
		for (size_t i = 0; i < LEN; i += 512) {
			if (m[i] != 0) {
				printf("memreuse: FAIL round %d: byte %zu is 0x%x, not 0\n", round,
				       i, m[i]);
				return 1;
			}
		}
		memset(m, 0xa5, LEN);
		/* Punch 4 KiB holes into 2 MiB pages: split, then free single frames. */
		for (size_t off = 4096; off < LEN; off += 2 << 20)
			if (munmap(m + off, 4096)) {
				printf("memreuse: FAIL munmap of a 4 KiB hole\n");
				return 1;
			}
		if (munmap(m, LEN)) {
			printf("memreuse: FAIL munmap round %d\n", round);
			return 1;
		}
	}
	printf("memreuse: ok\n");
	return 0;
}
