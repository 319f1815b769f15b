/* SPDX-License-Identifier: MIT */
/* hello.c: the smallest guest program: one printf (stdout flushed at exit), exit status 3. */
#include <stdio.h>

int main(void)
{
	printf("hello from dmtvm guest\n");
	return 3;
}
