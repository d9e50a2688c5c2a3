// SPDX-License-Identifier: MIT
/*
 * Per-stack step functions of live bytes. Each stack keeps its changes as
 * (tick, delta) pairs, sorted and merged at the end; stack ids are small
 * and dense (stackdb), so stacks are found by index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track/timeline.h"

struct change {
	u64 tick;
	s64 delta;
};

struct series {
	struct change *v;
	size_t n, cap;
	u64 calls;
	bool sorted;
};

struct timeline {
	struct series *s;
	size_t ns;
};

int timeline_new(struct timeline **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void timeline_free(struct timeline *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ns; i++)
		free(t->s[i].v);
	free(t->s);
	free(t);
}

static struct series *series_of(struct timeline *t, u32 id)
{
	if (id >= t->ns) {
		size_t n = t->ns ? t->ns : 64;
		struct series *ns;

		while (n <= id)
			n *= 2;
		ns = reallocarray(t->s, n, sizeof(*ns));
		if (!ns)
			return NULL;
		memset(ns + t->ns, 0, (n - t->ns) * sizeof(*ns));
		t->s = ns;
		t->ns = n;
	}
	return &t->s[id];
}

int timeline_add_tick(struct timeline *t, u32 stack_id, u64 tick, s64 delta)
{
	struct series *s = series_of(t, stack_id);

	if (!s)
		return -ENOMEM;
	if (!delta)
		return 0;
	/* changes mostly come in time order: merge into the last one */
	if (s->n && s->v[s->n - 1].tick == tick) {
		s->v[s->n - 1].delta += delta;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct change *nv = reallocarray(s->v, cap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = (struct change){ tick, delta };
	return 0;
}

int timeline_add(struct timeline *t, u32 stack_id, u64 rel_ns, s64 delta)
{
	return timeline_add_tick(t, stack_id, rel_ns / TIMELINE_TICK_NS, delta);
}

int timeline_count(struct timeline *t, u32 stack_id, u64 calls)
{
	struct series *s = series_of(t, stack_id);

	if (!s)
		return -ENOMEM;
	s->calls += calls;
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	return x->tick < y->tick ? -1 : x->tick > y->tick;
}

void timeline_finish(struct timeline *t)
{
	for (size_t i = 0; i < t->ns; i++) {
		struct series *s = &t->s[i];
		size_t k = 0;

		qsort(s->v, s->n, sizeof(*s->v), cmp_change);
		/* merge equal ticks; drop changes that cancel out */
		for (size_t j = 0; j < s->n; j++) {
			if (k && s->v[k - 1].tick == s->v[j].tick)
				s->v[k - 1].delta += s->v[j].delta;
			else
				s->v[k++] = s->v[j];
			if (k && !s->v[k - 1].delta)
				k--;
		}
		s->n = k;
		s->sorted = true;
	}
}

static const struct series *series_get(const struct timeline *t, u32 id)
{
	return t && id < t->ns ? &t->s[id] : NULL;
}

size_t timeline_points(const struct timeline *t, u32 stack_id, u64 duration_ns,
		       struct timeline_point *out, size_t n)
{
	const struct series *s = series_get(t, stack_id);
	size_t j = 0;
	s64 v = 0;

	if (!s || !s->n || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* the last point is the end itself */
		u64 x = n == 1 ? duration_ns :
			(u64)((unsigned __int128)duration_ns * i / (n - 1));

		/* a change counts from the start of its tick */
		while (j < s->n && s->v[j].tick * TIMELINE_TICK_NS <= x)
			v += s->v[j++].delta;
		if (i == n - 1)	/* everything recorded is in by the end */
			while (j < s->n)
				v += s->v[j++].delta;
		out[i].seconds = (double)x / 1e9;
		out[i].bytes = v;
	}
	return n;
}

/*
 * Continuous least squares over [s0, d]: with h = (s0 + d) / 2 and
 * L = d - s0, slope = 12 / L^3 * integral of (t - h) f(t) dt; on [a, b)
 * with value v the integral is v * ((b - h)^2 - (a - h)^2) / 2.
 */
double timeline_step_slope(const double *c, const double *v, size_t m,
			   double s0, double d)
{
	double h = (s0 + d) / 2, len = d - s0, sum = 0;

	if (len <= 0)
		return 0;
	for (size_t k = 0; k < m; k++) {
		double a = c[k] < s0 ? s0 : c[k], b = k + 1 < m ? c[k + 1] : d;

		if (a >= d)
			break;
		if (b > d)
			b = d;
		if (b > a)
			sum += v[k] * ((b - h) * (b - h) - (a - h) * (a - h)) / 2;
	}
	return 12 * sum / (len * len * len);
}

/* The fit starts at the stack's first change: a site that mapped once
 * and kept it is flat (0), whenever it began; one mapped before tracing
 * (a change at tick 0) counts from the start. */
double timeline_slope(const struct timeline *t, u32 stack_id, u64 duration_ns)
{
	const struct series *s = series_get(t, stack_id);
	double d = (double)duration_ns / 1e9, *c, *v, acc = 0, slope;

	if (!s || !s->n || d <= 0)
		return 0;
	c = malloc(s->n * sizeof(*c));
	v = malloc(s->n * sizeof(*v));
	if (!c || !v) {
		free(c);
		free(v);
		return 0;
	}
	for (size_t k = 0; k < s->n; k++) {
		acc += (double)s->v[k].delta;
		c[k] = (double)(s->v[k].tick * TIMELINE_TICK_NS) / 1e9;
		v[k] = acc;
	}
	slope = timeline_step_slope(c, v, s->n, c[0], d);
	free(c);
	free(v);
	return slope;
}

u64 timeline_calls(const struct timeline *t, u32 stack_id)
{
	const struct series *s = series_get(t, stack_id);

	return s ? s->calls : 0;
}
