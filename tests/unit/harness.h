/* SPDX-License-Identifier: MIT */
/*
 * A tiny test harness in the spirit of Redis' testhelp.h. Each check
 * prints "ok - NAME" or "not ok - NAME" (TAP-like); tests/run-all.sh
 * counts them. T_END() prints "N passed, N failed" and sets the exit code.
 */
#ifndef MAPLEAK_HARNESS_H
#define MAPLEAK_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

static int t_passed, t_failed;

#define T_CHECK(name, cond) do {					\
	if (cond) {							\
		t_passed++;						\
		printf("ok - %s\n", (name));				\
	} else {							\
		t_failed++;						\
		printf("not ok - %s (%s:%d: %s)\n", (name),		\
		       __FILE__, __LINE__, #cond);			\
	}								\
} while (0)

/* Like T_CHECK but with printf-style detail on failure ("Expected/Got"). */
#define T_CHECKF(name, cond, ...) do {					\
	if (cond) {							\
		t_passed++;						\
		printf("ok - %s\n", (name));				\
	} else {							\
		t_failed++;						\
		printf("not ok - %s (%s:%d) ", (name), __FILE__, __LINE__); \
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#define T_SKIP(name, reason) printf("skip - %s: %s\n", (name), (reason))

#define T_END() do {							\
	printf("%d passed, %d failed\n", t_passed, t_failed);		\
	return t_failed ? 1 : 0;					\
} while (0)

#endif
