/* SPDX-License-Identifier: MIT */
/*
 * dmtvm/roi.h: region-of-interest markers, for the workloads and for any
 * program built with tools/dmtvm-cc.
 *
 * A program brackets its measured phase with roi_begin() / roi_end().
 * Without this header the trace runtime (workloads/trace_rt.c) traces the
 * whole run, from before main() to exit(); including it says the program
 * marks its ROI, and only the marked phases are traced (the header defines
 * the weak symbol dmtvm_roi_markers, which the runtime looks for).
 *
 * In a plain (untraced) build nothing defines the hooks: they are weak
 * undefined symbols that resolve to address 0 in a static link, so the
 * markers cost one predictable branch. In the traced build trace_rt.c
 * defines them and tracing starts and stops there (control records
 * DMTVM_TRACE_ROI_BEGIN / DMTVM_TRACE_ROI_END). Markers may nest; the
 * outermost pair counts.
 */
#ifndef DMTVM_ROI_H
#define DMTVM_ROI_H

void trace_rt_roi_begin(void) __attribute__((weak));
void trace_rt_roi_end(void) __attribute__((weak));

/* Weak: every file that includes this header may define it. */
__attribute__((weak)) const char dmtvm_roi_markers = 1;

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

#endif /* DMTVM_ROI_H */
