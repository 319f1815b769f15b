/* SPDX-License-Identifier: MIT */
/*
 * roi.h: region-of-interest markers for dmtvm workloads.
 *
 * A workload brackets its measured phase with roi_begin() / roi_end().
 * In the plain build nothing defines the hooks: they are weak undefined
 * symbols that resolve to address 0 in a static link, so the markers cost
 * one predictable branch. In the traced build trace_rt.c defines them and
 * tracing starts and stops there (control records DMTVM_TRACE_ROI_BEGIN /
 * DMTVM_TRACE_ROI_END).
 */
#ifndef WL_ROI_H
#define WL_ROI_H

void trace_rt_roi_begin(void) __attribute__((weak));
void trace_rt_roi_end(void) __attribute__((weak));

static inline void roi_begin(void)
{
	if (trace_rt_roi_begin)
		trace_rt_roi_begin();
}

static inline void roi_end(void)
{
	if (trace_rt_roi_end)
		trace_rt_roi_end();
}

#endif /* WL_ROI_H */
