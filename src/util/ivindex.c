/* SPDX-License-Identifier: MIT */
/*
 * Stabbing index (util/ivindex.h).
 *
 * A level covers the intervals numbered [base, base + m). It is the
 * sorted list of every start and end of its intervals (the boundaries):
 * between two neighbours nothing starts or ends, so one list of numbers
 * answers the whole segment. Lists are made by a sweep over the
 * boundaries with a Fenwick tree marking the intervals open there; its
 * k-th-set-bit search picks the latest `depth` of them in O(depth log m),
 * however many are open. Levels are merged like the digits of a binary
 * counter (the logarithmic method), so there are at most log2(n) + 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/ivindex.h"
#include "util/vec.h"

#define IV_LEVELS_MAX 33

struct iv_level {
	u32 base, m;		/* intervals [base, base + m) */
	size_t nb;		/* boundaries */
	u64 *bnd;		/* sorted, distinct; segment i: [bnd[i], bnd[i + 1]) */
	u32 *off;		/* nb + 1: segment i holds pool[off[i] .. off[i + 1]) */
	u32 *pool;		/* interval numbers, highest first per segment */
};

struct ivindex {
	u64 *start, *end;
	size_t n, cap;
	size_t indexed;		/* intervals [0, indexed) are in levels */
	struct iv_level lv[IV_LEVELS_MAX];
	size_t nlv;
	u32 depth;
	bool deep;
	u64 probes;
};

int ivindex_new(struct ivindex **out, u32 depth)
{
	struct ivindex *ix = calloc(1, sizeof(*ix));

	*out = ix;
	if (!ix)
		return -ENOMEM;
	ix->depth = depth ? depth : 1;
	return 0;
}

static void level_free(struct iv_level *l)
{
	free(l->bnd);
	free(l->off);
	free(l->pool);
	memset(l, 0, sizeof(*l));
}

void ivindex_reset(struct ivindex *ix)
{
	for (size_t i = 0; i < ix->nlv; i++)
		level_free(&ix->lv[i]);
	free(ix->start);
	free(ix->end);
	ix->start = ix->end = NULL;
	ix->n = ix->cap = ix->indexed = ix->nlv = 0;
	ix->deep = false;
}

void ivindex_free(struct ivindex *ix)
{
	if (!ix)
		return;
	ivindex_reset(ix);
	free(ix);
}

size_t ivindex_count(const struct ivindex *ix)
{
	return ix->n;
}

bool ivindex_deep(const struct ivindex *ix)
{
	return ix->deep;
}

u64 ivindex_probes(const struct ivindex *ix)
{
	return ix->probes;
}

int ivindex_add(struct ivindex *ix, u64 start, u64 end)
{
	if (ix->n == ix->cap) {
		/* two arrays of one capacity: both grow alike from it */
		size_t cs = ix->cap, ce = ix->cap;

		if (ix->n >= UINT32_MAX - 1u)
			return -E2BIG;
		if (ML_VEC_GROW(ix->start, cs, ix->n + 1) ||
		    ML_VEC_GROW(ix->end, ce, ix->n + 1))
			return -ENOMEM;
		ix->cap = cs;
	}
	ix->start[ix->n] = start;
	ix->end[ix->n] = end;
	ix->n++;
	return 0;
}

/* ---- building a level ---- */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts local numbers by key[base + number]. */
struct by_key {
	const u64 *key;
	u32 base;
};

static int cmp_by_key(const void *a, const void *b, void *arg)
{
	const struct by_key *k = arg;
	u64 x = k->key[k->base + *(const u32 *)a];
	u64 y = k->key[k->base + *(const u32 *)b];

	return x < y ? -1 : x > y;
}

static void fw_add(u32 *fw, u32 m, u32 i, int d)
{
	for (u32 p = i + 1; p <= m; p += p & -p)
		fw[p] += (u32)d;
}

/* The local number of the k-th (from 1) open interval, lowest first. */
static u32 fw_kth(const u32 *fw, u32 m, u32 k)
{
	u32 pos = 0, step = 1;

	while (step <= m / 2)
		step <<= 1;
	for (; step; step >>= 1) {
		if (pos + step <= m && fw[pos + step] < k) {
			pos += step;
			k -= fw[pos];
		}
	}
	return pos;
}

static int level_build(struct ivindex *ix, u32 base, u32 m, struct iv_level *l)
{
	u32 *by_s = NULL, *by_e = NULL, *fw = NULL, *pool = NULL;
	u64 *bnd = NULL;
	u32 *off = NULL;
	size_t nb = 0, live = 0, pn = 0, pcap, s = 0, e = 0;
	struct by_key ks = { ix->start, base }, ke = { ix->end, base };
	u32 open = 0;
	int ret = -ENOMEM;

	memset(l, 0, sizeof(*l));
	l->base = base;
	l->m = m;
	by_s = malloc(((size_t)m + 1) * sizeof(*by_s));
	by_e = malloc(((size_t)m + 1) * sizeof(*by_e));
	fw = calloc((size_t)m + 1, sizeof(*fw));
	bnd = malloc((2 * (size_t)m + 1) * sizeof(*bnd));
	if (!by_s || !by_e || !fw || !bnd)
		goto out;
	for (u32 i = 0; i < m; i++) {
		if (ix->start[base + i] >= ix->end[base + i])
			continue;	/* empty: never found */
		by_s[live] = by_e[live] = i;
		bnd[2 * live] = ix->start[base + i];
		bnd[2 * live + 1] = ix->end[base + i];
		live++;
	}
	qsort_r(by_s, live, sizeof(*by_s), cmp_by_key, &ks);
	qsort_r(by_e, live, sizeof(*by_e), cmp_by_key, &ke);
	qsort(bnd, 2 * live, sizeof(*bnd), cmp_u64);
	for (size_t i = 0; i < 2 * live; i++)
		if (nb == 0 || bnd[nb - 1] != bnd[i])
			bnd[nb++] = bnd[i];
	off = malloc((nb + 1) * sizeof(*off));
	pcap = nb + 16;
	pool = malloc(pcap * sizeof(*pool));
	if (!off || !pool)
		goto out;

	for (size_t b = 0; b < nb; b++) {
		u64 x = bnd[b];
		u32 take;

		while (s < live && ix->start[base + by_s[s]] <= x) {
			fw_add(fw, m, by_s[s++], 1);
			open++;
		}
		while (e < live && ix->end[base + by_e[e]] <= x) {
			fw_add(fw, m, by_e[e++], -1);
			open--;
		}
		take = open < ix->depth ? open : ix->depth;
		if (open > ix->depth)
			ix->deep = true;
		if (pn + take > UINT32_MAX) {
			ret = -E2BIG;
			goto out;
		}
		if (ML_VEC_GROW(pool, pcap, pn + take))
			goto out;
		off[b] = (u32)pn;
		for (u32 j = 0; j < take; j++)
			pool[pn++] = base + fw_kth(fw, m, open - j);
	}
	off[nb] = (u32)pn;
	l->nb = nb;
	l->bnd = bnd;
	l->off = off;
	l->pool = pool;
	bnd = NULL;
	off = NULL;
	pool = NULL;
	ret = 0;
out:
	free(by_s);
	free(by_e);
	free(fw);
	free(bnd);
	free(off);
	free(pool);
	return ret;
}

/* Indexes the intervals added since: a new level, merged with the
 * levels no larger than it (each merge at least doubles a level). */
static int update(struct ivindex *ix)
{
	u32 base = (u32)ix->indexed, m = (u32)(ix->n - ix->indexed);
	size_t keep = ix->nlv;
	struct iv_level nl;
	int ret;

	if (m == 0)
		return 0;
	while (keep > 0 && ix->lv[keep - 1].m <= m) {
		keep--;
		base = ix->lv[keep].base;
		m += ix->lv[keep].m;
	}
	/* Rebuilt from scratch: the depth flag is for what the levels hold. */
	ret = level_build(ix, base, m, &nl);
	if (ret < 0)
		return ret;
	while (ix->nlv > keep)
		level_free(&ix->lv[--ix->nlv]);
	ix->lv[ix->nlv++] = nl;
	ix->indexed = ix->n;
	return 0;
}

int ivindex_find(struct ivindex *ix, u64 addr, u32 *out, size_t max)
{
	size_t got = 0;
	int ret = update(ix);

	if (ret < 0)
		return ret;
	for (size_t i = ix->nlv; i-- > 0 && got < max;) {
		const struct iv_level *l = &ix->lv[i];
		size_t lo = 0, hi = l->nb;

		/* the last boundary at or below addr */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			ix->probes++;
			if (l->bnd[mid] <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			continue;
		for (u32 k = l->off[lo - 1]; k < l->off[lo] && got < max; k++) {
			ix->probes++;
			out[got++] = l->pool[k];
		}
	}
	return (int)got;
}
