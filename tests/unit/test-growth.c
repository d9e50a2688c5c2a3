/* SPDX-License-Identifier: MIT */
/* Growth rates (src/report/growth.c): least-squares slopes, and the
 * table of series sampled in rounds that mapleak top keeps per site. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "harness.h"
#include "report/growth.h"

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void test_slope(void)
{
	double x[] = { 0, 1, 2, 3, 4 }, y[5], s = -1;
	/* noisy: sxy 19 over sxx 10 */
	double yn[] = { 1.5, 2.5, 5.5, 6.5, 9 };
	double same[] = { 7, 7, 7 };

	for (int i = 0; i < 5; i++)
		y[i] = 3 * x[i] + 5;
	T_CHECKF("slope of y = 3x + 5 is 3", growth_slope(x, y, 5, &s) == 0 &&
		 near(s, 3, 1e-12), "got %g", s);
	T_CHECKF("two points: their slope", growth_slope(x + 3, y + 3, 2, &s) == 0 &&
		 near(s, 3, 1e-12), "got %g", s);
	T_CHECKF("noisy line: least squares (1.9)", growth_slope(x, yn, 5, &s) == 0 &&
		 near(s, 1.9, 1e-12), "got %g", s);
	T_CHECK("one point has no slope", growth_slope(x, y, 1, &s) == -EINVAL);
	T_CHECK("same x everywhere has no slope",
		growth_slope(same, y, 3, &s) == -EINVAL && s == 0);
	{
		/* times since boot (1e6 s) in seconds, bytes in the GiB:
		 * centred sums keep the answer exact enough */
		double bx[] = { 1e6, 1e6 + 1, 1e6 + 2 };
		double by[] = { 4e9, 4e9 + 10485760, 4e9 + 2 * 10485760 };

		T_CHECKF("large offsets: 10 MiB/s", growth_slope(bx, by, 3, &s) == 0 &&
			 near(s, 10485760, 1e-3), "got %f", s);
	}
}

/* The growth fixture as top sees it: grow (id 1) +10 a round, plateau
 * (id 2) 64 from the first round, churn (id 3) there every other round,
 * a burst (id 4) that appears at round 4 and stays. */
static void test_table(void)
{
	struct growth_table *t = NULL;
	double r = -1;
	int err;

	T_CHECK("window 1 is refused", growth_table_new(&t, 1) == -EINVAL);
	T_CHECK("window over the maximum is refused",
		growth_table_new(&t, GROWTH_WINDOW_MAX + 1) == -EINVAL);
	err = growth_table_new(&t, 5);
	T_CHECKF("a table of window 5", err == 0, "got %d", err);
	if (err)
		return;
	T_CHECK("set outside a round is refused", growth_table_set(t, 1, 1) == -EINVAL);
	for (int round = 1; round <= 12; round++) {
		char name[96];

		T_CHECK("a round begins", growth_table_begin(t, 100.0 + round) == 0);
		growth_table_set(t, 1, 10.0 * round);
		growth_table_set(t, 2, 64);
		if (round % 2)
			growth_table_set(t, 3, 0.25);
		if (round >= 4)
			growth_table_set(t, 4, 32);
		growth_table_end(t);

		if (round == 1) {
			T_CHECK("after one round: no rate yet",
				growth_table_rate(t, 1, &r) == -ENODATA);
			continue;
		}
		snprintf(name, sizeof(name), "round %d: grow is +10 a round", round);
		T_CHECKF(name, growth_table_rate(t, 1, &r) == 0 && near(r, 10, 1e-9),
			 "got %g", r);
		snprintf(name, sizeof(name), "round %d: the plateau is flat", round);
		T_CHECKF(name, growth_table_rate(t, 2, &r) == 0 && near(r, 0, 1e-9),
			 "got %g", r);
		snprintf(name, sizeof(name), "round %d: churn is below grow", round);
		T_CHECKF(name, growth_table_rate(t, 3, &r) == 0 && fabs(r) < 0.5,
			 "got %g", r);
	}
	/* The burst: 0 at round 3, 32 from round 4; by round 12 its window
	 * (8..12) is flat. */
	T_CHECKF("a burst ages out of the window", growth_table_rate(t, 4, &r) == 0 &&
		 near(r, 0, 1e-9), "got %g", r);
	T_CHECK("an unknown id has no rate", growth_table_rate(t, 99, &r) == -ENODATA);
	T_CHECK("time must move forward", growth_table_begin(t, 50) == -EINVAL);
	growth_table_free(t);

	/* A burst seen at once: 0 the round before, so it counts. */
	growth_table_new(&t, 4);
	growth_table_begin(t, 1);
	growth_table_set(t, 7, 1);
	growth_table_end(t);
	growth_table_begin(t, 2);
	growth_table_set(t, 7, 1);
	growth_table_set(t, 8, 100);
	growth_table_end(t);
	T_CHECKF("a site that appears holding 100 grew 100 in that round",
		 growth_table_rate(t, 8, &r) == 0 && near(r, 100, 1e-9), "got %g", r);
	/* Gone: it counts 0 while the window remembers it, then is forgotten. */
	growth_table_begin(t, 3);
	growth_table_set(t, 8, 100);
	growth_table_set(t, 8, 40);
	growth_table_end(t);
	T_CHECKF("set twice in a round: the last value wins; with two own samples "
		 "(100, 40) the implicit 0 no longer counts",
		 growth_table_rate(t, 8, &r) == 0 && near(r, -60, 1e-9), "got %g", r);
	T_CHECKF("a site missing from a round counts 0 there (1,1,0)",
		 growth_table_rate(t, 7, &r) == 0 && near(r, -0.5, 1e-9), "got %g", r);
	for (int round = 4; round <= 9; round++) {
		growth_table_begin(t, round);
		growth_table_end(t);
	}
	T_CHECK("a site gone for a whole window is forgotten",
		growth_table_rate(t, 8, &r) == -ENODATA);
	growth_table_free(t);
	growth_table_free(NULL);

	/* A site that starts growing 10 a round late in round 2: 2 at round
	 * 2, then 12, 22: its first rate is what it took in round 2, then
	 * its own slope, not dragged down by the 0 before it started. */
	growth_table_new(&t, 5);
	for (int round = 1; round <= 4; round++) {
		growth_table_begin(t, round);
		growth_table_set(t, 1, 5);
		if (round >= 2)
			growth_table_set(t, 2, 2 + 10 * (round - 2));
		growth_table_end(t);
		if (round == 2)
			T_CHECKF("a late starter: its first rate is from 0 (2)",
				 growth_table_rate(t, 2, &r) == 0 && near(r, 2, 1e-9),
				 "got %g", r);
	}
	T_CHECKF("a late starter: then its own slope (10)",
		 growth_table_rate(t, 2, &r) == 0 && near(r, 10, 1e-9), "got %g", r);
	growth_table_free(t);
}

int main(void)
{
	test_slope();
	test_table();
	T_END();
}
