// SPDX-License-Identifier: MIT
/* Binary searches over sorted, non-overlapping ranges (range.h). */
#include <string.h>

#include "util/range.h"

static u64 field(const void *base, size_t i, size_t size, size_t off)
{
	u64 v;

	/* memcpy: the field may sit anywhere in a struct the caller chose */
	memcpy(&v, (const char *)base + i * size + off, sizeof(v));
	return v;
}

/* The first element whose u64 at off is above x (the array sorted by
 * it), n when none: the one search both ends of a range need. */
static size_t first_above(const void *base, size_t n, size_t size, size_t off,
			  u64 x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (field(base, mid, size, off) <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ml_range_lower(const void *base, size_t n, size_t size, size_t end_off,
		      u64 x)
{
	return first_above(base, n, size, end_off, x);
}

ssize_t ml_range_last_le(const void *base, size_t n, size_t size,
			 size_t start_off, u64 x)
{
	return (ssize_t)first_above(base, n, size, start_off, x) - 1;
}

ssize_t ml_range_find(const void *base, size_t n, size_t size,
		      size_t start_off, size_t end_off, u64 x)
{
	size_t i = ml_range_lower(base, n, size, end_off, x);

	return i < n && field(base, i, size, start_off) <= x ? (ssize_t)i : -1;
}
