/* SPDX-License-Identifier: MIT */
/* uiov.c: walking a user's struct iovec array (uiov.h), 16 entries per copy. */
#include "uiov.h"

long uiov_each(uint64_t uiov, uint64_t cnt, long (*fn)(void *ctx, uint64_t base, uint64_t len),
	       void *ctx)
{
	struct {
		uint64_t base, len;
	} iov[16];
	if (cnt > UIOV_MAX)
		return -EINVAL;
	for (uint64_t done = 0; done < cnt;) {
		uint64_t n = cnt - done < ARRAY_SIZE(iov) ? cnt - done : ARRAY_SIZE(iov);
		if (copy_from_user(iov, uiov + done * sizeof(iov[0]), n * sizeof(iov[0])))
			return -EFAULT;
		for (uint64_t i = 0; i < n; i++) {
			long r = fn(ctx, iov[i].base, iov[i].len);
			if (r)
				return r;
		}
		done += n;
	}
	return 0;
}
