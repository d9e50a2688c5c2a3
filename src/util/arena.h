/* SPDX-License-Identifier: MIT */
/*
 * A string arena: names copied into 1 MiB chunks (small first, as most
 * files are small) and freed all at once, with a cap on the bytes kept,
 * for readers of files the target writes (perf map, jitdump).
 */
#ifndef MAPLEAK_UTIL_ARENA_H
#define MAPLEAK_UTIL_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct ml_arena_chunk;

struct ml_arena {
	struct ml_arena_chunk *head;
	size_t bytes;			/* kept so far, NULs included */
};

/* A NUL-terminated copy of s[0..n) kept until ml_arena_clear(). NULL when
 * out of memory, or, with *capped set, when it would take the arena past
 * max bytes. */
char *ml_arena_strndup(struct ml_arena *a, const char *s, size_t n, size_t max,
		       bool *capped);

/* Frees every chunk; the arena is empty and usable again. */
void ml_arena_clear(struct ml_arena *a);

#endif
