/* SPDX-License-Identifier: MIT */
/*
 * How fast something grows: the least-squares slope of its last samples.
 * mapleak top samples every site's live bytes at each refresh; a report
 * over a recording's timeline can do the same.
 */
#ifndef MAPLEAK_GROWTH_H
#define MAPLEAK_GROWTH_H

#include <stddef.h>

#include "mapleak.h"

/* Slope of the least-squares line through (x[i], y[i]), i < n, in y units
 * per x unit. 0, or -EINVAL when n < 2 or every x is the same. */
int growth_slope(const double *x, const double *y, size_t n, double *slope);

/*
 * Many series (ids, e.g. stack ids) sampled together in rounds:
 *   growth_table_begin(t, time); growth_table_set(t, id, value)...;
 *   growth_table_end(t); growth_table_rate(t, id, &per_time_unit).
 * An id missing from a round it had history before counts 0 there (it
 * holds nothing now); an id first seen after the first round gets a 0 at
 * the round before (it did not exist then), so its first rate is what it
 * took in that round; from its second own sample on, only its own samples
 * count (a burst is growth once; a site that starts mid-round is not
 * slowed by the part of the round before it). The first round is the
 * starting level: what came before it is not growth. Rates use each id's
 * last `window` samples.
 */
struct growth_table;

#define GROWTH_WINDOW_MAX	64
/* window: 2 to GROWTH_WINDOW_MAX samples. 0, -EINVAL or -ENOMEM. */
int growth_table_new(struct growth_table **out, u32 window);
void growth_table_free(struct growth_table *t);		/* NULL is a no-op */
int growth_table_begin(struct growth_table *t, double time);	/* 0 or -EINVAL */
int growth_table_set(struct growth_table *t, u32 id, double value); /* 0 or -ENOMEM */
void growth_table_end(struct growth_table *t);
/* 0, or -ENODATA while id has fewer than 2 samples. */
int growth_table_rate(const struct growth_table *t, u32 id, double *rate);

#endif
