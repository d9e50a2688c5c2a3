/* SPDX-License-Identifier: MIT */
/* Small helpers shared by commands and modules. */
#ifndef MAPLEAK_UTIL_H
#define MAPLEAK_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole (procfs) file, about max bytes at most, NUL-terminated;
 * *len (may be NULL) gets its length. NULL when it cannot be opened. */
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

/* A process id: decimal, > 0. 0 or -EINVAL. */
int ml_parse_pid(const char *s, pid_t *out);

#endif
