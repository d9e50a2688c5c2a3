/* SPDX-License-Identifier: MIT */
/*
 * Stabbing index over intervals [start, end), numbered 0, 1, ... in the
 * order they are added: which intervals hold an address, the latest
 * (highest numbered) first. For symbol tables read from files a target
 * wrote, so every bound holds whatever the ranges (overlapping, nested,
 * one interval spanning the whole address space):
 *
 *   - a lookup costs O(log^2 n): a binary search in each of at most
 *     log2(n) + 1 levels, and at most `depth` candidates per level;
 *   - adding costs O(log^2 n) amortized (an interval is rebuilt into a
 *     larger level at most log2(n) times);
 *   - only the `depth` latest intervals holding an address in a level are
 *     kept for it (ivindex_deep() says when more were dropped).
 *
 * Intervals added are indexed lazily, on the next lookup.
 */
#ifndef MAPLEAK_IVINDEX_H
#define MAPLEAK_IVINDEX_H

#include "mapleak.h"

/* The most candidates ivindex_find() returns for a depth: one level per
 * bit of a 32-bit interval number, plus one. */
#define IVINDEX_FIND_MAX(depth) ((size_t)(depth) * 33)

struct ivindex;

/* depth: intervals kept per address and level (>= 1). 0 or -ENOMEM. */
int ivindex_new(struct ivindex **out, u32 depth);
void ivindex_free(struct ivindex *ix);	/* NULL is a no-op */
void ivindex_reset(struct ivindex *ix);	/* forgets every interval */

/* Adds interval number ivindex_count(); an empty one (end <= start) is
 * numbered but never found. 0 or -ENOMEM (-E2BIG past UINT32_MAX - 1). */
int ivindex_add(struct ivindex *ix, u64 start, u64 end);
size_t ivindex_count(const struct ivindex *ix);

/*
 * Numbers of intervals holding addr, highest first, at most max of them
 * (max 1: the latest interval holding addr). Returns how many, or
 * -ENOMEM when the pending intervals could not be indexed.
 */
int ivindex_find(struct ivindex *ix, u64 addr, u32 *out, size_t max);

/* Some address was held by more than depth intervals of one level: the
 * oldest of them are not returned there. */
bool ivindex_deep(const struct ivindex *ix);
/* Work done by lookups so far (search steps plus candidates): for tests
 * of the bounds above. */
u64 ivindex_probes(const struct ivindex *ix);

#endif
