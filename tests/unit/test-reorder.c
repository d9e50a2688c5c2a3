/* SPDX-License-Identifier: MIT */
/* The reorder buffer: releases ops by (time, arrival) once safe. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "track/reorder.h"

static struct ml_op mk(u64 time, u32 tag)
{
	struct ml_op op;

	memset(&op, 0, sizeof(op));
	op.kind = ML_OP_MMAP;
	op.time = time;
	op.tid = tag;
	return op;
}

static void test_window(void)
{
	struct reorder *r;
	struct ml_op op, a = mk(100, 1), b = mk(90, 2), c = mk(100, 3);
	int got;

	if (reorder_new(&r, 50))
		return;
	reorder_push(r, &a, 110);
	reorder_push(r, &b, 120);
	reorder_push(r, &c, 125);
	T_CHECK("nothing is ready inside the window",
		reorder_pop(r, &op, false) == 0 && reorder_pending(r) == 3);
	/* Newest exit 145: ops older than 95 are safe. */
	struct ml_op d = mk(140, 4);
	reorder_push(r, &d, 145);
	got = reorder_pop(r, &op, false);
	T_CHECKF("the oldest op comes out first once safe",
		 got == 1 && op.tid == 2, "Got: %d tid=%u", got, op.tid);
	T_CHECK("the next is not yet safe", reorder_pop(r, &op, false) == 0);
	struct ml_op e = mk(150, 5);
	reorder_push(r, &e, 151);
	T_CHECK("equal times leave in arrival order",
		reorder_pop(r, &op, false) == 1 && op.tid == 1 &&
		reorder_pop(r, &op, false) == 1 && op.tid == 3 &&
		reorder_pop(r, &op, false) == 0);
	T_CHECK("flush releases the rest in order",
		reorder_pop(r, &op, true) == 1 && op.tid == 4 &&
		reorder_pop(r, &op, true) == 1 && op.tid == 5 &&
		reorder_pop(r, &op, true) == 0 && reorder_pending(r) == 0);
	reorder_free(r);
	reorder_free(NULL);
}

/* A quiet target: its exec is released by the clock, not by a newer event. */
static void test_advance(void)
{
	struct reorder *r;
	struct ml_op op, x = mk(1000, 1), y = mk(1020, 2);

	if (reorder_new(&r, 50))
		return;
	reorder_push(r, &x, 1005);
	reorder_push(r, &y, 1025);
	T_CHECK("alone, an op waits for a newer event",
		reorder_pop(r, &op, false) == 0);
	reorder_advance(r, 1040);
	T_CHECK("the clock inside the window releases nothing",
		reorder_pop(r, &op, false) == 0);
	reorder_advance(r, 1060);
	T_CHECK("the clock a window past the first releases it, not the second",
		reorder_pop(r, &op, false) == 1 && op.tid == 1 &&
		reorder_pop(r, &op, false) == 0);
	reorder_advance(r, 900);
	T_CHECK("an older clock does not move time back",
		reorder_pop(r, &op, false) == 0 && reorder_pending(r) == 1);
	reorder_advance(r, 1071);
	T_CHECK("... and a later one releases the second",
		reorder_pop(r, &op, false) == 1 && op.tid == 2);
	reorder_free(r);
}

static u64 rng = 7;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random arrivals whose lateness is below the window come out sorted. */
static void test_random(void)
{
	enum { N = 100000, WINDOW = 1000 };
	struct reorder *r;
	struct ml_op op;
	u64 now = 10000, last_time = 0, last_tag = 0, out = 0;
	bool sorted = true, safe = true;

	if (reorder_new(&r, WINDOW))
		return;
	for (u32 i = 0; i < N; i++) {
		struct ml_op in;
		u64 exit_time;

		now += rnd() % 20;
		exit_time = now;
		in = mk(now - rnd() % WINDOW, i);
		reorder_push(r, &in, exit_time);
		while (reorder_pop(r, &op, false) == 1) {
			if (op.time < last_time ||
			    (op.time == last_time && op.tid < last_tag))
				sorted = false;
			if (op.time >= now - WINDOW)
				safe = false;
			last_time = op.time;
			last_tag = op.tid;
			out++;
		}
	}
	while (reorder_pop(r, &op, true) == 1) {
		if (op.time < last_time)
			sorted = false;
		last_time = op.time;
		out++;
	}
	T_CHECKF("100000 late arrivals leave sorted by (time, arrival)",
		 sorted && out == N, "sorted=%d out=%llu", sorted,
		 (unsigned long long)out);
	T_CHECK("no op leaves before the window passed it", safe);
	reorder_free(r);
}

int main(void)
{
	test_window();
	test_advance();
	test_random();
	T_END();
}
