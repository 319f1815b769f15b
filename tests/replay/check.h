/* SPDX-License-Identifier: MIT */
/* check.h: a minimal assertion harness for the replay unit tests. */
#ifndef REPLAY_TEST_CHECK_H
#define REPLAY_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_) {                                                                    \
			fprintf(stderr,                                                            \
				"%s:%d: %s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64 "\n",      \
				__FILE__, __LINE__, #a, a_, #b, b_);                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(s, sub)                                                                          \
	do {                                                                                       \
		if (!strstr((s), (sub))) {                                                         \
			fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, (s),   \
				(sub));                                                            \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#endif /* REPLAY_TEST_CHECK_H */
