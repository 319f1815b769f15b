/* SPDX-License-Identifier: MIT */
/* uiov.h: walking a user's struct iovec array (readv, writev). */
#ifndef UIOV_H
#define UIOV_H

#include "kernel.h"

#define UIOV_MAX 1024 /* IOV_MAX */

/*
 * Calls fn(ctx, base, len) for each of the cnt struct iovec at user address
 * uiov, in order, until fn returns nonzero, and returns that value; 0 when
 * all were visited; -EINVAL for cnt > UIOV_MAX, -EFAULT for an unreadable
 * vector.
 */
long uiov_each(uint64_t uiov, uint64_t cnt, long (*fn)(void *ctx, uint64_t base, uint64_t len),
	       void *ctx);

#endif
