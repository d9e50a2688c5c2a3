/* SPDX-License-Identifier: MIT */
/*
 * util/ivindex: random intervals added in batches between lookups, checked
 * against a linear scan; the depth cap; the lookup cost bound.
 */
#include <string.h>

#include "harness.h"
#include "util/ivindex.h"

static u64 rnd(u64 *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 24;
}

/* Depth 1: the latest interval holding addr, as a scan finds it. */
static void test_latest(void)
{
	enum { N = 3000 };
	static u64 st[N], en[N];
	struct ivindex *ix;
	size_t wrong = 0, n = 0;
	u64 seed = 1;

	if (ivindex_new(&ix, 1) < 0)
		exit(1);
	while (n < N) {
		size_t batch = 1 + rnd(&seed) % 40;

		for (size_t k = 0; k < batch && n < N; k++, n++) {
			st[n] = rnd(&seed) % 100000;
			en[n] = st[n] + rnd(&seed) % (k % 7 ? 300 : 30000);
			if (n % 500 == 0)
				en[n] = st[n];	/* empty: never found */
			ivindex_add(ix, st[n], en[n]);
		}
		for (u64 a = 0; a < 131000; a += 97) {
			u32 got = UINT32_MAX;
			int c = ivindex_find(ix, a, &got, 1);
			size_t want = SIZE_MAX;

			for (size_t i = n; i-- > 0;)
				if (st[i] <= a && a < en[i]) {
					want = i;
					break;
				}
			wrong += want == SIZE_MAX ? c != 0 : c != 1 || got != want;
		}
	}
	T_CHECKF("latest: agrees with a scan after every batch", wrong == 0,
		 "%zu wrong", wrong);
	ivindex_free(ix);
}

/* Depth 4, at most 4 intervals over any address: all of them, highest
 * first; then a fifth over one address: the 4 highest per level. */
static void test_depth(void)
{
	struct ivindex *ix;
	u32 out[IVINDEX_FIND_MAX(4)];
	int c;

	if (ivindex_new(&ix, 4) < 0)
		exit(1);
	ivindex_add(ix, 0, 100);	/* 0 */
	ivindex_add(ix, 10, 20);	/* 1 */
	ivindex_add(ix, 15, 50);	/* 2 */
	ivindex_add(ix, 18, 19);	/* 3 */
	c = ivindex_find(ix, 18, out, ARRAY_SIZE(out));
	T_CHECKF("depth: all four, highest first", c == 4 && out[0] == 3 &&
		 out[1] == 2 && out[2] == 1 && out[3] == 0,
		 "got %d: %u %u %u %u", c, out[0], out[1], out[2], out[3]);
	c = ivindex_find(ix, 30, out, ARRAY_SIZE(out));
	T_CHECK("depth: two at 30", c == 2 && out[0] == 2 && out[1] == 0);
	c = ivindex_find(ix, 100, out, ARRAY_SIZE(out));
	T_CHECK("depth: end excluded", c == 0);
	T_CHECK("depth: not deep yet", !ivindex_deep(ix));
	ivindex_reset(ix);
	for (u32 i = 0; i < 5; i++)
		ivindex_add(ix, 0, UINT64_MAX);
	c = ivindex_find(ix, 7, out, ARRAY_SIZE(out));
	T_CHECKF("depth: five in one level: the four highest", c == 4 &&
		 out[0] == 4 && out[3] == 1, "got %d", c);
	T_CHECK("depth: deep", ivindex_deep(ix));
	c = ivindex_find(ix, 7, out, 2);
	T_CHECK("depth: max respected", c == 2 && out[0] == 4 && out[1] == 3);
	ivindex_free(ix);
}

/* 2^17 intervals all holding one address, added one by one between
 * lookups: each lookup within the bound of the header. */
static void test_cost(void)
{
	enum { N = 1 << 17 };
	struct ivindex *ix;
	u32 out[IVINDEX_FIND_MAX(2)];
	u64 worst = 0;
	size_t wrong = 0;

	if (ivindex_new(&ix, 2) < 0)
		exit(1);
	for (u32 i = 0; i < N; i++) {
		u64 before;

		ivindex_add(ix, (u64)(N - i), (u64)N + i + 1);
		before = ivindex_probes(ix);
		wrong += ivindex_find(ix, N, out, ARRAY_SIZE(out)) < 1 || out[0] != i;
		if (ivindex_probes(ix) - before > worst)
			worst = ivindex_probes(ix) - before;
	}
	/* levels <= 18, each <= 19 search steps + 2 candidates */
	T_CHECKF("cost: nested, one by one: latest found", wrong == 0, "%zu", wrong);
	T_CHECKF("cost: a lookup is O(log^2 n)", worst <= 18 * (19 + 2),
		 "worst %llu probes", (unsigned long long)worst);
	ivindex_free(ix);
}

int main(void)
{
	test_latest();
	test_depth();
	test_cost();
	T_END();
}
