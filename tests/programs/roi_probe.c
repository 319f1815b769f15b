/* SPDX-License-Identifier: MIT */
/*
 * roi_probe.c: tools/dmtvm-cc's ROI markers (tests/programs, case cc-roi):
 * exactly 100 stores and no load inside the marked region; with -DNO_ROI the
 * header is not included and the whole run is traced. Linked from two
 * objects (roi_probe.c, roi_probe_sum.c) with -lm.
 */
#ifndef NO_ROI
#include <dmtvm/roi.h>
#else
#define roi_begin()
#define roi_end()
#endif
#include <math.h>
#include <stdio.h>

volatile int probe_a[100];
double probe_sum(int n);

int main(void)
{
	roi_begin();
	for (int i = 0; i < 100; i++)
		probe_a[i] = i;
	roi_end();
	printf("sum %.1f sqrt %.1f\n", probe_sum(100), sqrt(probe_sum(100)));
	return 0;
}
