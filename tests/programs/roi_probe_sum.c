/* SPDX-License-Identifier: MIT */
/* roi_probe_sum.c: the second object of roi_probe (see roi_probe.c). */
extern volatile int probe_a[100];

double probe_sum(int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += probe_a[i];
	return s;
}
