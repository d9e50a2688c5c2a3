/* SPDX-License-Identifier: MIT */
/*
 * Reorder buffer: a binary min-heap keyed by (op->time, push sequence).
 * The sequence keeps ops with equal times in arrival order, so the result
 * is deterministic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "track/reorder.h"
#include "util/vec.h"

struct ro_item {
	struct ml_op op;
	u64 seq;
};

struct reorder {
	struct ro_item *heap;
	size_t n, cap;
	u64 seq;
	u64 window;
	u64 newest_exit;
};

int reorder_new(struct reorder **out, u64 window_ns)
{
	struct reorder *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->window = window_ns;
	*out = r;
	return 0;
}

void reorder_free(struct reorder *r)
{
	if (!r)
		return;
	free(r->heap);
	free(r);
}

static bool less(const struct ro_item *a, const struct ro_item *b)
{
	if (a->op.time != b->op.time)
		return a->op.time < b->op.time;
	return a->seq < b->seq;
}

static void swap(struct ro_item *a, struct ro_item *b)
{
	struct ro_item t = *a;

	*a = *b;
	*b = t;
}

int reorder_push(struct reorder *r, const struct ml_op *op, u64 exit_time)
{
	size_t i;

	if (ML_VEC_GROW(r->heap, r->cap, r->n + 1))
		return -ENOMEM;
	i = r->n++;
	r->heap[i].op = *op;
	r->heap[i].seq = r->seq++;
	if (exit_time > r->newest_exit)
		r->newest_exit = exit_time;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!less(&r->heap[i], &r->heap[parent]))
			break;
		swap(&r->heap[i], &r->heap[parent]);
		i = parent;
	}
	return 0;
}

int reorder_pop(struct reorder *r, struct ml_op *op, bool flush)
{
	size_t i = 0;

	if (r->n == 0)
		return 0;
	if (!flush) {
		/* Nothing is safe until the newest exit is a window past it. */
		if (r->newest_exit < r->window ||
		    r->heap[0].op.time >= r->newest_exit - r->window)
			return 0;
	}
	*op = r->heap[0].op;
	r->heap[0] = r->heap[--r->n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->n && less(&r->heap[l], &r->heap[m]))
			m = l;
		if (l + 1 < r->n && less(&r->heap[l + 1], &r->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		swap(&r->heap[i], &r->heap[m]);
		i = m;
	}
	return 1;
}

void reorder_advance(struct reorder *r, u64 now)
{
	if (now > r->newest_exit)
		r->newest_exit = now;
}

size_t reorder_pending(const struct reorder *r)
{
	return r ? r->n : 0;
}
