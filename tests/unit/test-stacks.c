/* SPDX-License-Identifier: MIT */
/* Stack interning: dedup by content, dense ids, loading by id. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "track/stacks.h"

static bool same_stack(const struct stackdb *db, u32 id, const u64 *pcs, u32 n,
		       u32 flags)
{
	u32 gn = 0, gf = 0;
	const u64 *g = stackdb_get(db, id, &gn, &gf);

	return g && gn == n && gf == flags &&
	       (n == 0 || !memcmp(g, pcs, n * sizeof(*pcs)));
}

static void test_basic(void)
{
	const u64 a[] = { 0x401000, 0x402000, 0x403000 };
	const u64 b[] = { 0x401000, 0x402000, 0x403001 };
	struct stackdb *db;
	u32 ia = 0, ib = 0, ia2 = 0, iaf = 0, ie = 0, ip = 0;
	bool na = false, nb = false, na2 = true;

	if (stackdb_new(&db)) {
		T_CHECK("stackdb_new", false);
		return;
	}
	T_CHECK("empty db has count 0 and no id 1",
		stackdb_count(db) == 0 && !stackdb_get(db, 1, NULL, NULL));
	stackdb_intern(db, a, 3, 0, &ia, &na);
	stackdb_intern(db, b, 3, 0, &ib, &nb);
	stackdb_intern(db, a, 3, 0, &ia2, &na2);
	T_CHECKF("ids are dense from 1 and equal content dedups",
		 ia == 1 && ib == 2 && ia2 == 1 && na && nb && !na2,
		 "Got: a=%u b=%u a again=%u new=%d,%d,%d", ia, ib, ia2, na, nb,
		 na2);
	stackdb_intern(db, a, 3, ML_SF_TRUNCATED, &iaf, NULL);
	T_CHECKF("flags are part of the identity", iaf == 3, "Got: %u", iaf);
	stackdb_intern(db, a, 2, 0, &ip, NULL);
	T_CHECKF("a prefix is another stack", ip == 4, "Got: %u", ip);
	T_CHECK("intern of an empty stack", stackdb_intern(db, NULL, 0, 0, &ie,
		NULL) == 0 && ie == 5 && same_stack(db, 5, NULL, 0, 0));
	T_CHECK("get returns the content",
		same_stack(db, 1, a, 3, 0) && same_stack(db, 2, b, 3, 0) &&
		same_stack(db, 3, a, 3, ML_SF_TRUNCATED) &&
		same_stack(db, 4, a, 2, 0));
	T_CHECK("get out of range is NULL",
		!stackdb_get(db, 0, NULL, NULL) &&
		!stackdb_get(db, 6, NULL, NULL) && stackdb_count(db) == 5);
	T_CHECK("too many frames is refused",
		stackdb_intern(db, a, ML_STACK_MAX_FRAMES + 1, 0, &ia, NULL) ==
		-EINVAL);
	stackdb_free(db);
	stackdb_free(NULL);
}

/* Many stacks: the table grows; every id must still map to its content. */
static void test_many(void)
{
	enum { N = 200000 };
	struct stackdb *db;
	u64 pcs[ML_STACK_MAX_FRAMES];
	bool ok = true;

	if (stackdb_new(&db))
		return;
	for (u32 i = 0; i < N && ok; i++) {
		u32 n = 1 + i % ML_STACK_MAX_FRAMES, id = 0;

		for (u32 k = 0; k < n; k++)
			pcs[k] = 0x400000 + (u64)i * 7919 + k;
		ok = stackdb_intern(db, pcs, n, 0, &id, NULL) == 0 &&
		     id == i + 1;
	}
	T_CHECK("200000 distinct stacks get ids 1..200000", ok &&
		stackdb_count(db) == N);
	for (u32 i = 0; i < N && ok; i += 997) {
		u32 n = 1 + i % ML_STACK_MAX_FRAMES, id = 0;
		bool is_new = true;

		for (u32 k = 0; k < n; k++)
			pcs[k] = 0x400000 + (u64)i * 7919 + k;
		ok = stackdb_intern(db, pcs, n, 0, &id, &is_new) == 0 &&
		     id == i + 1 && !is_new && same_stack(db, id, pcs, n, 0);
	}
	T_CHECK("after growth, known stacks are found, not added", ok &&
		stackdb_count(db) == N);
	stackdb_free(db);
}

static void test_put(void)
{
	const u64 a[] = { 1, 2, 3 }, b[] = { 4, 5 };
	struct stackdb *db;
	u32 id = 0;
	bool is_new = false;

	if (stackdb_new(&db))
		return;
	T_CHECK("put with gaps", stackdb_put(db, 3, a, 3, 0) == 0 &&
		stackdb_put(db, 1, b, 2, ML_SF_UNWIND_ERR) == 0 &&
		stackdb_count(db) == 3);
	T_CHECK("a gap has no stack", !stackdb_get(db, 2, NULL, NULL));
	T_CHECK("put content is readable", same_stack(db, 3, a, 3, 0) &&
		same_stack(db, 1, b, 2, ML_SF_UNWIND_ERR));
	T_CHECK("intern finds a put stack",
		stackdb_intern(db, a, 3, 0, &id, &is_new) == 0 && id == 3 &&
		!is_new);
	T_CHECK("intern after put continues after the highest id",
		stackdb_intern(db, a, 2, 0, &id, &is_new) == 0 && id == 4 &&
		is_new);
	T_CHECK("put of the same stack again is fine",
		stackdb_put(db, 3, a, 3, 0) == 0);
	T_CHECK("put of another stack on a used id is refused",
		stackdb_put(db, 3, b, 2, 0) == -EEXIST);
	T_CHECK("put id 0 is refused", stackdb_put(db, 0, a, 3, 0) == -EINVAL);
	T_CHECK("put far beyond the highest id is refused",
		stackdb_put(db, 0x7fff0000u, a, 3, 0) == -ERANGE);
	stackdb_free(db);
}

int main(void)
{
	test_basic();
	test_many();
	test_put();
	T_END();
}
