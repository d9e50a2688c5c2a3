/* SPDX-License-Identifier: MIT */
/*
 * Live bytes of each site over a recording: a step function per stack,
 * built from the changes the live set reports (aspace_set_hook) or from
 * the FOLD records of a folded recording. Changes are counted in ticks of
 * TIMELINE_TICK_NS, so both give the same function: a recording folded
 * as it was made reports what the unfolded one would.
 */
#ifndef MAPLEAK_TIMELINE_H
#define MAPLEAK_TIMELINE_H

#include <stddef.h>

#include "mapleak.h"

#define TIMELINE_TICK_NS	(100ull * 1000 * 1000)
#define TIMELINE_POINTS		100

struct timeline;

struct timeline_point {
	double seconds;		/* since the recording began */
	s64 bytes;		/* live (committed) bytes then */
};

int timeline_new(struct timeline **out);
void timeline_free(struct timeline *t);		/* NULL is a no-op */

/* delta bytes for stack at rel_ns (ns since the recording began). 0 or
 * -ENOMEM. */
int timeline_add(struct timeline *t, u32 stack_id, u64 rel_ns, s64 delta);
/* Same, at a tick already computed (FOLD records carry ticks). */
int timeline_add_tick(struct timeline *t, u32 stack_id, u64 tick, s64 delta);
/* Calls (mapping ops) a stack made, e.g. the FOLD counts. */
int timeline_count(struct timeline *t, u32 stack_id, u64 calls);

/* Sorts and merges; after it only the queries below. */
void timeline_finish(struct timeline *t);

/* n points evenly spread over [0, duration_ns], the last at the end.
 * Returns how many were written (0 when the stack has no history). */
size_t timeline_points(const struct timeline *t, u32 stack_id, u64 duration_ns,
		       struct timeline_point *out, size_t n);
/* Least-squares slope of the step function from the stack's first change
 * to duration_ns, in bytes per second: what a line fitted through every
 * instant gives. A site that mapped once and kept it is flat (0). 0 for
 * no history or no duration. */
double timeline_slope(const struct timeline *t, u32 stack_id, u64 duration_ns);
u64 timeline_calls(const struct timeline *t, u32 stack_id);

/* Exposed for tests: slope over [s0, d] of the step function with values
 * v[k] on [c[k], c[k+1]) (c[m] = d), 0 before c[0]. */
double timeline_step_slope(const double *c, const double *v, size_t m,
			   double s0, double d);

#endif
