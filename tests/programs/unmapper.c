/* SPDX-License-Identifier: MIT */
/*
 * unmapper.c: a program that unmaps memory while traced (tests/programs,
 * case replay-unmap): blocks of 1 MiB (musl serves them with mmap) filled,
 * summed and freed, so the guest kernel sends PT_UPDATEs mid-run and the
 * run's --trace-out carries them for `dmtvm replay`.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	unsigned long sum = 0;
	for (int round = 0; round < 6; round++) {
		unsigned *b = malloc(1 << 20);
		if (!b)
			return 1;
		for (unsigned i = 0; i < (1 << 18); i += 64)
			b[i] = i ^ (unsigned)round;
		for (unsigned i = 0; i < (1 << 18); i += 64)
			sum += b[i];
		free(b);
	}
	printf("sum %lu\n", sum);
	return 0;
}
