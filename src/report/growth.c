// SPDX-License-Identifier: MIT
/* Growth rates: least-squares slopes over sliding windows (growth.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/growth.h"

int growth_slope(const double *x, const double *y, size_t n, double *slope)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;

	*slope = 0;
	if (n < 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	/* centred sums: times in seconds since boot lose no precision */
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
	}
	if (!(sxx > 0))
		return -EINVAL;
	*slope = sxy / sxx;
	return 0;
}

struct series {
	u32 count;		/* samples held, <= window */
	u32 head;		/* next slot */
	u64 round;		/* the last round it got a value */
	u64 implicit;		/* the round of its implicit 0, or 0 */
	double *y;		/* window values; x is the table's round times */
	u64 *r;			/* the round of each value */
};

struct growth_table {
	u32 window;
	u64 round;		/* rounds begun; 0 before the first */
	double *times;		/* by round, see time_of() */
	struct series *s;	/* by id */
	u32 cap;
	bool open;
};

/* The time of a round still in the window (rounds older than window are
 * never asked for: a series holds at most window samples). */
static double time_of(const struct growth_table *t, u64 round)
{
	return t->times[round % (t->window + 1)];
}

int growth_table_new(struct growth_table **out, u32 window)
{
	struct growth_table *t;

	*out = NULL;
	if (window < 2 || window > GROWTH_WINDOW_MAX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->window = window;
	/* one more slot: a new id's implicit 0 is at the previous round */
	t->times = calloc(window + 1, sizeof(*t->times));
	if (!t->times) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void growth_table_free(struct growth_table *t)
{
	if (!t)
		return;
	for (u32 i = 0; i < t->cap; i++) {
		free(t->s[i].y);
		free(t->s[i].r);
	}
	free(t->s);
	free(t->times);
	free(t);
}

int growth_table_begin(struct growth_table *t, double time)
{
	if (t->open || (t->round && !(time > time_of(t, t->round))))
		return -EINVAL;
	t->round++;
	t->times[t->round % (t->window + 1)] = time;
	t->open = true;
	return 0;
}

static void push(const struct growth_table *t, struct series *s, u64 round,
		 double value)
{
	s->y[s->head] = value;
	s->r[s->head] = round;
	s->head = (s->head + 1) % t->window;
	if (s->count < t->window)
		s->count++;
	s->round = round;
}

int growth_table_set(struct growth_table *t, u32 id, double value)
{
	struct series *s;

	if (!t->open)
		return -EINVAL;
	if (id >= t->cap) {
		u32 cap = t->cap ? t->cap : 256;
		struct series *p;

		while (cap <= id && cap < UINT32_MAX / 2)
			cap *= 2;
		if (cap <= id)
			return -ENOMEM;
		p = reallocarray(t->s, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + t->cap, 0, (size_t)(cap - t->cap) * sizeof(*p));
		t->s = p;
		t->cap = cap;
	}
	s = &t->s[id];
	if (!s->y) {
		s->y = calloc(t->window, sizeof(*s->y));
		s->r = calloc(t->window, sizeof(*s->r));
		if (!s->y || !s->r) {
			free(s->y);
			free(s->r);
			s->y = NULL;
			s->r = NULL;
			return -ENOMEM;
		}
	}
	if (s->round == t->round) {	/* set twice in a round: the last wins */
		s->y[(s->head + t->window - 1) % t->window] = value;
		return 0;
	}
	if (!s->count && t->round > 1) {
		push(t, s, t->round - 1, 0);	/* it was not there before */
		s->implicit = t->round - 1;
	} else if (!s->count) {
		s->implicit = 0;
	}
	push(t, s, t->round, value);
	return 0;
}

void growth_table_end(struct growth_table *t)
{
	for (u32 id = 0; id < t->cap; id++) {
		struct series *s = &t->s[id];
		bool all_zero = true;

		if (!s->count || s->round == t->round)
			continue;
		push(t, s, t->round, 0);
		for (u32 i = 0; i < s->count; i++)
			all_zero &= s->y[(s->head + t->window - 1 - i) % t->window] == 0;
		if (all_zero)
			s->count = 0;	/* gone for a whole window: forget it */
	}
	t->open = false;
}

int growth_table_rate(const struct growth_table *t, u32 id, double *rate)
{
	const struct series *s;
	double x[GROWTH_WINDOW_MAX], y[GROWTH_WINDOW_MAX];
	u32 n = 0, i;

	*rate = 0;
	if (id >= t->cap)
		return -ENODATA;
	s = &t->s[id];
	if (s->count < 2)
		return -ENODATA;
	/* oldest first; the implicit 0 of a new id only until it has two
	 * samples of its own (a burst is growth once, not for a window) */
	for (i = 0; i < s->count; i++) {
		u32 k = (s->head + t->window - s->count + i) % t->window;

		if (s->implicit && s->r[k] == s->implicit && s->count > 2)
			continue;
		x[n] = time_of(t, s->r[k]);
		y[n] = s->y[k];
		n++;
	}
	return growth_slope(x, y, n, rate) ? -ENODATA : 0;
}
