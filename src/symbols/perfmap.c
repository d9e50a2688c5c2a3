/* SPDX-License-Identifier: MIT */
/*
 * perf-PID.map parser and address index.
 *
 * A line is "START SIZE name": hex, each number optionally prefixed with
 * 0x, one space between fields, the name is the rest of the line. This is
 * the tolerant form of perf's jit-interface convention:
 *   ^(?:0[xX])?([0-9A-Fa-f]+) (?:0[xX])?([0-9A-Fa-f]+) (.*)$
 *
 * Entries are kept in order of appearance. Lookups go through a sorted
 * array of disjoint segments, each owned by the latest entry covering it
 * ("later wins" for re-used addresses). New entries are painted over the
 * existing segments lazily, on the first lookup after a feed, so a burst
 * of lines costs one O(batch log batch + segments) rebuild.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "symbols/perfmap.h"

/* Names longer than this are truncated: no runtime writes such names. */
#define PM_NAME_MAX 4096
/* Digits of one number, leading zeros included (CoreCLR writes 16). */
#define PM_NUM_MAX 32
/* The longest line prefix that matters; the rest of a line is dropped. */
#define PM_LINE_MAX (2 * (2 + PM_NUM_MAX + 1) + PM_NAME_MAX)
/* Segment and entry indexes are u32. */
#define PM_ENTRIES_MAX (UINT32_MAX - 1u)

struct pm_seg {
	u64 start;
	u64 end;		/* exclusive */
	u32 idx;		/* owning entry */
};

struct perfmap {
	struct perfmap_entry *ent;
	size_t n, cap;
	size_t indexed;		/* entries [0, indexed) are painted in seg */
	struct pm_seg *seg;
	size_t nseg;
	char part[PM_LINE_MAX];	/* an incomplete last line */
	size_t partlen;
	bool inpart;		/* a partial line is pending (maybe empty) */
	size_t bad;
	u64 seq;
};

int perfmap_new(struct perfmap **out)
{
	struct perfmap *pm = calloc(1, sizeof(*pm));

	*out = pm;
	return pm ? 0 : -ENOMEM;
}

void perfmap_reset(struct perfmap *pm)
{
	for (size_t i = 0; i < pm->n; i++)
		free(pm->ent[i].name);
	free(pm->ent);
	free(pm->seg);
	pm->ent = NULL;
	pm->seg = NULL;
	pm->n = pm->cap = pm->indexed = pm->nseg = 0;
	pm->partlen = 0;
	pm->inpart = false;
	pm->bad = 0;
	pm->seq = 0;
}

void perfmap_free(struct perfmap *pm)
{
	if (!pm)
		return;
	perfmap_reset(pm);
	free(pm);
}

size_t perfmap_count(const struct perfmap *pm)
{
	return pm->n;
}

size_t perfmap_bad(const struct perfmap *pm)
{
	return pm->bad;
}

const struct perfmap_entry *perfmap_entry_at(const struct perfmap *pm, size_t i)
{
	return i < pm->n ? &pm->ent[i] : NULL;
}

/* "(0x)?HEX" then one space; advances *p. False on junk or overflow. */
static bool take_num(const char **p, const char *end, u64 *out)
{
	const char *s = *p;
	u64 v = 0;
	size_t nd = 0;
	int d;

	if (end - s >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    ml_hexval(s[2]) >= 0)
		s += 2;
	while (s < end && (d = ml_hexval(*s)) >= 0) {
		if (++nd > PM_NUM_MAX || v >> 60)
			return false;
		v = (v << 4) | (u64)d;
		s++;
	}
	if (nd == 0 || s >= end || *s != ' ')
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

static int add_entry(struct perfmap *pm, u64 start, u64 size,
		     const char *name, size_t nlen)
{
	struct perfmap_entry *e;

	if (pm->n == pm->cap) {
		size_t ncap = pm->cap ? pm->cap * 2 : 256;

		if (pm->n >= PM_ENTRIES_MAX)
			return -ENOMEM;
		e = reallocarray(pm->ent, ncap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		pm->ent = e;
		pm->cap = ncap;
	}
	e = &pm->ent[pm->n];
	e->name = strndup(name, nlen);
	if (!e->name)
		return -ENOMEM;
	e->start = start;
	e->size = size;
	e->seq = pm->seq++;
	pm->n++;
	return 0;
}

/* One line without its newline. */
static int parse_line(struct perfmap *pm, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *nul;
	u64 start, size;
	size_t nlen;

	if (!take_num(&p, end, &start) || !take_num(&p, end, &size)) {
		pm->bad++;
		return 0;
	}
	if (size == 0)
		return 0;
	/* Saturate: an entry reaching the top of the address space is odd
	 * but harmless. */
	if (size > UINT64_MAX - start)
		size = UINT64_MAX - start;
	nlen = (size_t)(end - p);
	if (nlen > PM_NAME_MAX)
		nlen = PM_NAME_MAX;
	nul = memchr(p, '\0', nlen);
	if (nul)
		nlen = (size_t)(nul - p);
	return add_entry(pm, start, size, p, nlen);
}

/* Appends to the pending partial line; bytes past PM_LINE_MAX cannot
 * change the result (the name is truncated anyway) and are dropped. */
static void part_append(struct perfmap *pm, const char *buf, size_t len)
{
	size_t room = sizeof(pm->part) - pm->partlen;

	if (len > room)
		len = room;
	memcpy(pm->part + pm->partlen, buf, len);
	pm->partlen += len;
	pm->inpart = true;
}

int perfmap_feed(struct perfmap *pm, const char *buf, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t ll;
		int ret;

		if (!nl) {
			part_append(pm, buf, len);
			return 0;
		}
		ll = (size_t)(nl - buf);
		if (pm->inpart) {
			part_append(pm, buf, ll);
			ret = parse_line(pm, pm->part, pm->partlen);
			pm->partlen = 0;
			pm->inpart = false;
		} else {
			ret = parse_line(pm, buf, ll);
		}
		if (ret < 0)
			return ret;
		buf = nl + 1;
		len -= ll + 1;
	}
	return 0;
}

int perfmap_finish(struct perfmap *pm)
{
	int ret = 0;

	if (pm->inpart)
		ret = parse_line(pm, pm->part, pm->partlen);
	pm->partlen = 0;
	pm->inpart = false;
	return ret;
}

/* ---- the segment index ---- */

struct seg_vec {
	struct pm_seg *v;
	size_t n, cap;
};

static int seg_push(struct seg_vec *sv, u64 start, u64 end, u32 idx)
{
	if (start >= end)
		return 0;
	/* Merge with a contiguous piece of the same entry. */
	if (sv->n > 0 && sv->v[sv->n - 1].idx == idx &&
	    sv->v[sv->n - 1].end == start) {
		sv->v[sv->n - 1].end = end;
		return 0;
	}
	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 64;
		struct pm_seg *nv = reallocarray(sv->v, ncap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sv->v = nv;
		sv->cap = ncap;
	}
	sv->v[sv->n++] = (struct pm_seg){ start, end, idx };
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_by_start(const void *a, const void *b, void *arg)
{
	const struct perfmap_entry *ent = arg;
	u64 x = ent[*(const u32 *)a].start;
	u64 y = ent[*(const u32 *)b].start;

	return x < y ? -1 : x > y;
}

/* Max-heap of entry indexes by seq (= index order: higher index wins). */
static void heap_push(u32 *h, size_t *hn, u32 idx)
{
	size_t i = (*hn)++;

	while (i > 0 && h[(i - 1) / 2] < idx) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = idx;
}

static void heap_pop(u32 *h, size_t *hn)
{
	size_t n = --(*hn), i = 0;
	u32 last = h[n];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1] > h[c])
			c++;
		if (h[c] <= last)
			break;
		h[i] = h[c];
		i = c;
	}
	if (n > 0)
		h[i] = last;
}

static u64 ent_end(const struct perfmap_entry *e)
{
	return e->start + e->size;	/* no overflow: saturated at parse */
}

/* Disjoint segments of entries [lo, hi), the latest winning overlaps. */
static int flatten(const struct perfmap *pm, size_t lo, size_t hi,
		   struct seg_vec *out)
{
	size_t m = hi - lo, nb = 0, k = 0, hn = 0;
	u32 *order = malloc(m * sizeof(*order));
	u32 *heap = malloc(m * sizeof(*heap));
	u64 *bnd = malloc(2 * m * sizeof(*bnd));
	int ret = -ENOMEM;

	if (!order || !heap || !bnd)
		goto out;
	for (size_t i = 0; i < m; i++) {
		const struct perfmap_entry *e = &pm->ent[lo + i];

		order[i] = (u32)(lo + i);
		bnd[2 * i] = e->start;
		bnd[2 * i + 1] = ent_end(e);
	}
	qsort_r(order, m, sizeof(*order), cmp_by_start, pm->ent);
	qsort(bnd, 2 * m, sizeof(*bnd), cmp_u64);
	for (size_t i = 0; i < 2 * m; i++)
		if (nb == 0 || bnd[nb - 1] != bnd[i])
			bnd[nb++] = bnd[i];

	ret = 0;
	for (size_t b = 0; b + 1 < nb; b++) {
		u64 x = bnd[b];

		while (k < m && pm->ent[order[k]].start <= x)
			heap_push(heap, &hn, order[k++]);
		while (hn > 0 && ent_end(&pm->ent[heap[0]]) <= x)
			heap_pop(heap, &hn);
		if (hn > 0) {
			ret = seg_push(out, x, bnd[b + 1], heap[0]);
			if (ret < 0)
				break;
		}
	}
out:
	free(order);
	free(heap);
	free(bnd);
	return ret;
}

/* Segments of old minus the ranges covered by top (both sorted, disjoint). */
static int subtract(const struct pm_seg *old, size_t nold,
		    const struct pm_seg *top, size_t ntop, struct seg_vec *out)
{
	size_t j = 0;

	for (size_t i = 0; i < nold; i++) {
		u64 cur = old[i].start;

		while (cur < old[i].end) {
			u64 to = old[i].end;

			while (j < ntop && top[j].end <= cur)
				j++;
			if (j < ntop && top[j].start < old[i].end)
				to = top[j].start > cur ? top[j].start : cur;
			if (seg_push(out, cur, to, old[i].idx) < 0)
				return -ENOMEM;
			cur = to;
			if (j < ntop && top[j].start <= cur)
				cur = top[j].end;
		}
	}
	return 0;
}

/* Merges two sorted lists of segments that do not overlap each other. */
static int merge(const struct seg_vec *a, const struct seg_vec *b,
		 struct seg_vec *out)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		const struct pm_seg *s;

		if (j >= b->n || (i < a->n && a->v[i].start < b->v[j].start))
			s = &a->v[i++];
		else
			s = &b->v[j++];
		if (seg_push(out, s->start, s->end, s->idx) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int reindex(struct perfmap *pm)
{
	struct seg_vec top = { 0 }, merged = { 0 };
	int ret;

	ret = flatten(pm, pm->indexed, pm->n, &top);
	if (ret < 0)
		goto fail;
	if (pm->nseg == 0) {
		merged = top;
		top.v = NULL;
	} else {
		struct seg_vec rest = { 0 };

		ret = subtract(pm->seg, pm->nseg, top.v, top.n, &rest);
		if (ret == 0)
			ret = merge(&rest, &top, &merged);
		free(rest.v);
		if (ret < 0)
			goto fail;
	}
	free(top.v);
	free(pm->seg);
	pm->seg = merged.v;
	pm->nseg = merged.n;
	pm->indexed = pm->n;
	return 0;
fail:
	free(top.v);
	free(merged.v);
	return ret;
}

/* Without an index (out of memory): the latest entry holding addr. */
static const struct perfmap_entry *scan(const struct perfmap *pm, u64 addr)
{
	for (size_t i = pm->n; i-- > 0;) {
		const struct perfmap_entry *e = &pm->ent[i];

		if (addr >= e->start && addr < ent_end(e))
			return e;
	}
	return NULL;
}

const struct perfmap_entry *perfmap_lookup(struct perfmap *pm, u64 addr)
{
	size_t lo = 0, hi;

	if (pm->indexed < pm->n && reindex(pm) < 0)
		return scan(pm, addr);
	hi = pm->nseg;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->seg[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pm->nseg && pm->seg[lo].start <= addr)
		return &pm->ent[pm->seg[lo].idx];
	return NULL;
}
