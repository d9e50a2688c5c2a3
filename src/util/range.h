/* SPDX-License-Identifier: MIT */
/*
 * Binary searches over an array of structs sorted by a u64 start, for
 * ranges that do not overlap ([start, end) or start + size): maps
 * snapshots, resident entries, symbol tables. Overlapping intervals
 * (symbols a target wrote) are ivindex.h's.
 *
 * The fields are named, the struct's layout does the rest:
 *
 *	i = ML_RANGE_FIND(maps, nmaps, start, end, addr);
 *	return i >= 0 ? &maps[i] : NULL;
 */
#ifndef MAPLEAK_UTIL_RANGE_H
#define MAPLEAK_UTIL_RANGE_H

#include <stddef.h>
#include <sys/types.h>

#include "mapleak.h"

/* The first of n elements (each size bytes; the u64 at end_off sorted
 * ascending) whose end is above x: the range holding x or the first one
 * past it. n when none. */
size_t ml_range_lower(const void *base, size_t n, size_t size, size_t end_off,
		      u64 x);

/* The last element whose start (u64 at start_off, sorted ascending) is
 * <= x, or -1 when x is below them all. */
ssize_t ml_range_last_le(const void *base, size_t n, size_t size,
			 size_t start_off, u64 x);

/* The element whose [start, end) holds x (non-overlapping ranges sorted
 * by start), or -1. */
ssize_t ml_range_find(const void *base, size_t n, size_t size,
		      size_t start_off, size_t end_off, u64 x);

/* The field f of p's element type, checked to be a u64 at compile time. */
#define ML_RANGE_OFF_(p, f)						\
	(offsetof(__typeof__(*(p)), f) +				\
	 0 * sizeof(struct { _Static_assert(sizeof((p)->f) == sizeof(u64), \
					    #f " must be a u64"); int x_; }))

#define ML_RANGE_LOWER(p, n, ef, x) \
	ml_range_lower((p), (n), sizeof(*(p)), ML_RANGE_OFF_(p, ef), (x))
#define ML_RANGE_LAST_LE(p, n, sf, x) \
	ml_range_last_le((p), (n), sizeof(*(p)), ML_RANGE_OFF_(p, sf), (x))
#define ML_RANGE_FIND(p, n, sf, ef, x)				\
	ml_range_find((p), (n), sizeof(*(p)), ML_RANGE_OFF_(p, sf),	\
		      ML_RANGE_OFF_(p, ef), (x))

#endif
