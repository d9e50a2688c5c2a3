/* SPDX-License-Identifier: MIT */
/* report/timeline: per-stack step functions, points and slopes. */
#include <math.h>
#include <stdio.h>

#include "harness.h"
#include "track/timeline.h"

#define SEC 1000000000ull
#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= \
			 (tol) * (fabs((double)(b)) > 1 ? fabs((double)(b)) : 1))

int main(void)
{
	struct timeline *t = NULL;
	struct timeline_point p[TIMELINE_POINTS];
	double c[1] = { 5 }, v[1] = { 100 }, slope;
	size_t n;

	/* one step of H at d/2: 12/d^3 * H * (d/2)^2 / 2 = 1.5 H / d */
	slope = timeline_step_slope(c, v, 1, 0, 10);
	T_CHECKF("step at the middle: slope 1.5 H / d", NEAR(slope, 15.0, 1e-9),
		 "expected 15, got %g", slope);
	slope = timeline_step_slope(c, v, 1, 5, 10);
	T_CHECKF("flat from where the fit starts: slope 0", NEAR(slope, 0, 1e-9),
		 "got %g", slope);
	T_CHECK("no duration: slope 0", timeline_step_slope(c, v, 1, 0, 0) == 0);

	T_CHECK("timeline_new", timeline_new(&t) == 0);
	/* stack 1 grows 1 MiB every 100 ms for 10 s; stack 2 holds 64 MiB
	 * from the start; stack 3 churns (map, unmap in the same tick);
	 * stack 4 maps and unmaps across ticks, ending at 0 */
	for (u64 i = 0; i < 100; i++)
		timeline_add(t, 1, i * SEC / 10 + 1000, 1 << 20);
	timeline_add(t, 2, 3 * SEC, 64 << 20);	/* mapped late, then flat */
	for (u64 i = 0; i < 50; i++) {
		timeline_add(t, 3, i * SEC / 5 + 10, 256 << 10);
		timeline_add(t, 3, i * SEC / 5 + 20, -(256 << 10));
	}
	timeline_add(t, 4, 2 * SEC, 4096);
	timeline_add(t, 4, 8 * SEC, -4096);
	timeline_count(t, 1, 100);
	timeline_finish(t);

	slope = timeline_slope(t, 1, 10 * SEC);
	T_CHECKF("growing site: about 10 MiB/s (within 2%)",
		 NEAR(slope, 10.0 * (1 << 20), 0.02), "got %g", slope);
	slope = timeline_slope(t, 2, 10 * SEC);
	T_CHECKF("plateau made at 3 s: 0 B/s (the fit starts at its first mapping)",
		 NEAR(slope, 0, 1e-6), "got %g", slope);
	slope = timeline_slope(t, 3, 10 * SEC);
	T_CHECKF("churn within ticks: 0 B/s (changes cancel)", slope == 0, "got %g", slope);
	slope = timeline_slope(t, 4, 10 * SEC);
	T_CHECKF("mapped at 2 s, unmapped at 8 s: shrinking", slope < 0, "got %g", slope);
	T_CHECK("unknown stack: slope 0", timeline_slope(t, 99, 10 * SEC) == 0);

	n = timeline_points(t, 1, 10 * SEC, p, TIMELINE_POINTS);
	T_CHECKF("100 points", n == TIMELINE_POINTS, "got %zu", n);
	n = timeline_points(t, 2, 10 * SEC, p, TIMELINE_POINTS);
	T_CHECKF("plateau: 0 before 3 s, 64 MiB after",
		 n && p[20].bytes == 0 && p[40].bytes == 64 << 20, "got %lld %lld",
		 (long long)p[20].bytes, (long long)p[40].bytes);
	n = timeline_points(t, 1, 10 * SEC, p, TIMELINE_POINTS);
	T_CHECKF("first point at 0 s holds the first tick's MiB",
		 p[0].seconds == 0 && p[0].bytes == 1 << 20, "got %g %lld", p[0].seconds,
		 (long long)p[0].bytes);
	T_CHECKF("last point at the end holds everything (100 MiB)",
		 p[n - 1].seconds == 10.0 && p[n - 1].bytes == 100ll << 20,
		 "got %g %lld", p[n - 1].seconds, (long long)p[n - 1].bytes);
	T_CHECKF("the middle point holds about half",
		 p[50].bytes >= 50ll << 20 && p[50].bytes <= 52ll << 20,
		 "got %lld", (long long)p[50].bytes);
	n = timeline_points(t, 4, 10 * SEC, p, TIMELINE_POINTS);
	T_CHECKF("hump: 0 at the start, 4 KiB at 5 s, 0 at the end",
		 n && p[0].bytes == 0 && p[50].bytes == 4096 && p[n - 1].bytes == 0,
		 "got %lld %lld %lld", (long long)p[0].bytes, (long long)p[50].bytes,
		 (long long)p[n - 1].bytes);
	T_CHECK("changes that cancel leave no history: no points",
		timeline_points(t, 3, 10 * SEC, p, 10) == 0);
	T_CHECKF("calls", timeline_calls(t, 1) == 100, "got %llu",
		 (unsigned long long)timeline_calls(t, 1));
	timeline_free(t);
	T_END();
}
