/* SPDX-License-Identifier: MIT */
/* Small helpers shared by commands and modules. */
#ifndef MAPLEAK_UTIL_H
#define MAPLEAK_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "mapleak.h"

/*
 * Reads fd to its end (procfs files have no size: st_size is 0), at most
 * max bytes, into a NUL-terminated buffer. A file longer than max gives
 * -EFBIG, or with truncate its first max bytes. 0 or -errno.
 */
int ml_read_fd(int fd, size_t max, bool truncate, char **out, size_t *len);

/* ml_read_fd() of path, truncating; *len (may be NULL) gets its length.
 * NULL when it cannot be opened or read. */
char *ml_read_file(const char *path, size_t max, size_t *len);

/* The value of a hex digit, or -1. */
static inline int ml_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* -errno of a call that failed; -EIO when errno does not say, so that a
 * failure never reads as 0 (success) or as a positive count. */
static inline int ml_neg_errno(void)
{
	int e = -errno;	/* the sign tested on the result: analyzers follow it */

	return e < 0 ? e : -EIO;
}

/* clk (CLOCK_MONOTONIC, CLOCK_REALTIME...) in nanoseconds. */
u64 ml_now_ns(clockid_t clk);

/* A process id: decimal, > 0. 0 or -EINVAL. */
int ml_parse_pid(const char *s, pid_t *out);

/* A size in bytes: "1048576", "512K", "100M", "1GiB", "2GB" (units are
 * powers of 1024, either spelling). 0, -EINVAL, or -ERANGE past 2^64. */
int ml_parse_size(const char *s, uint64_t *out);
/*
 * Text output of strings mapleak does not control (a target's comm and
 * command line, mapped paths, JIT names, notes built from runtime
 * replies): every byte a terminal could act on is written as \xNN, so
 * nothing can clear a screen, set a title or overwrite a line. Escaped:
 * C0 controls (newline and tab too), DEL, C1 controls (U+0080..U+009F,
 * which some terminals obey in UTF-8) and every byte that is not part of
 * valid UTF-8; a backslash is written \\ so the output reads back
 * unambiguously. Other valid UTF-8 passes as it is. JSON needs none of
 * this: its encoder escapes.
 */
/* Writes s escaped to f. 0, or EOF on a write error. */
int ml_fputs_esc(const char *s, FILE *f);
/* s escaped, in a new string (free it); NULL when out of memory. */
char *ml_esc(const char *s);

#endif
