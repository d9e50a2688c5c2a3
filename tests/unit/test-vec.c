// SPDX-License-Identifier: MIT
/*
 * The shared array helpers: ml_vec_grow() (doubling, overflow refused
 * with the array left intact) and the range searches of util/range.h
 * against a linear scan over every boundary of a table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "util/range.h"
#include "util/vec.h"

static void test_grow(void)
{
	int *v = NULL;
	size_t cap = 0, n, grows = 0, last_cap = 0;
	bool kept = true;

	for (n = 0; n < 1000; n++) {
		if (ML_VEC_GROW(v, cap, n + 1)) {
			kept = false;
			break;
		}
		if (cap != last_cap) {
			grows++;
			last_cap = cap;
		}
		v[n] = (int)n;
	}
	for (size_t i = 0; kept && i < n; i++)
		kept = v[i] == (int)i;
	T_CHECKF("grow: 1000 appends keep every value", kept && n == 1000,
		 "n %zu", n);
	/* 16, 32, ..., 1024: seven reallocations, not one per append */
	T_CHECKF("grow: doubling from ML_VEC_MIN", cap == 1024 && grows == 7,
		 "Expected cap 1024 after 7 grows, got cap %zu after %zu", cap, grows);
	T_CHECK("grow: need within the capacity is a no-op",
		ML_VEC_GROW(v, cap, 10) == 0 && cap == 1024);
	{
		int *before = v;
		size_t cap_before = cap;
		int rc = ML_VEC_GROW(v, cap, SIZE_MAX / sizeof(*v) + 1);

		T_CHECKF("grow: a size that overflows is -ENOMEM, array intact",
			 rc == -ENOMEM && v == before && cap == cap_before &&
			 v[999] == 999, "rc %d cap %zu", rc, cap);
		rc = ML_VEC_GROW(v, cap, SIZE_MAX / sizeof(*v) / 4);
		T_CHECKF("grow: a size no allocator gives is -ENOMEM, array intact",
			 rc == -ENOMEM && v == before && cap == cap_before,
			 "rc %d cap %zu", rc, cap);
	}
	free(v);
}

struct r {
	u32 pad;	/* the fields are not first: offsets matter */
	u64 start;
	u64 end;
	u64 size;
};

static void test_range(void)
{
	/* [0x100,0x200) [0x200,0x300) gap [0x1000,0x1010) [0x2000,0x2001) */
	static const struct r t[] = {
		{ 0, 0x100, 0x200, 0x100 }, { 0, 0x200, 0x300, 0x100 },
		{ 0, 0x1000, 0x1010, 0x10 }, { 0, 0x2000, 0x2001, 0x1 },
	};
	static const u64 probes[] = {
		0, 0xff, 0x100, 0x1ff, 0x200, 0x2ff, 0x300, 0xfff, 0x1000,
		0x100f, 0x1010, 0x1fff, 0x2000, 0x2001, UINT64_MAX,
	};
	int bad = 0;

	for (size_t k = 0; k < ARRAY_SIZE(probes); k++) {
		u64 x = probes[k];
		ssize_t want_find = -1, want_le = -1;
		size_t want_lower = ARRAY_SIZE(t);

		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			if (t[i].start <= x && x < t[i].end)
				want_find = (ssize_t)i;
			if (t[i].start <= x)
				want_le = (ssize_t)i;
			if (t[i].end > x && want_lower == ARRAY_SIZE(t))
				want_lower = i;
		}
		if (ML_RANGE_FIND(t, ARRAY_SIZE(t), start, end, x) != want_find ||
		    ML_RANGE_LAST_LE(t, ARRAY_SIZE(t), start, x) != want_le ||
		    ML_RANGE_LOWER(t, ARRAY_SIZE(t), end, x) != want_lower) {
			printf("# probe 0x%llx: find %zd (want %zd) le %zd (want %zd) "
			       "lower %zu (want %zu)\n", (unsigned long long)x,
			       ML_RANGE_FIND(t, ARRAY_SIZE(t), start, end, x), want_find,
			       ML_RANGE_LAST_LE(t, ARRAY_SIZE(t), start, x), want_le,
			       ML_RANGE_LOWER(t, ARRAY_SIZE(t), end, x), want_lower);
			bad++;
		}
	}
	T_CHECKF("range: find, last_le and lower agree with a scan at every "
		 "boundary", bad == 0, "%d probes differ", bad);
	T_CHECK("range: 0x1ff is in the first range, 0x200 in the second",
		ML_RANGE_FIND(t, ARRAY_SIZE(t), start, end, 0x1ff) == 0 &&
		ML_RANGE_FIND(t, ARRAY_SIZE(t), start, end, 0x200) == 1);
	T_CHECK("range: a gap holds nothing",
		ML_RANGE_FIND(t, ARRAY_SIZE(t), start, end, 0x800) == -1);
	T_CHECK("range: an empty array finds nothing",
		ML_RANGE_FIND((const struct r *)NULL, 0, start, end, 5) == -1 &&
		ML_RANGE_LAST_LE((const struct r *)NULL, 0, start, 5) == -1 &&
		ML_RANGE_LOWER((const struct r *)NULL, 0, end, 5) == 0);
	/* start + size tables: last start <= x, then the size */
	{
		ssize_t i = ML_RANGE_LAST_LE(t, ARRAY_SIZE(t), start, 0x100f);

		T_CHECK("range: last_le then size finds a sized symbol",
			i == 2 && 0x100f - t[i].start < t[i].size);
	}
}

int main(void)
{
	test_grow();
	test_range();
	T_END();
}
