/* SPDX-License-Identifier: MIT */
/*
 * perf-PID.map parser and address index.
 *
 * A line is "START SIZE name": hex, each number optionally prefixed with
 * 0x, one space between fields, the name is the rest of the line. This is
 * the tolerant form of perf's jit-interface convention:
 *   ^(?:0[xX])?([0-9A-Fa-f]+) (?:0[xX])?([0-9A-Fa-f]+) (.*)$
 *
 * Entries are kept in order of appearance. Lookups go through
 * util/ivindex, depth 1: the latest entry covering an address ("later
 * wins" for re-used addresses), in O(log^2 n) whatever the ranges. The
 * file is the target's: PERFMAP_*_MAX cap what it may cost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "symbols/perfmap.h"
#include "util/arena.h"
#include "util/ivindex.h"
#include "util/vec.h"

/* Names longer than this are truncated: no runtime writes such names. */
#define PM_NAME_MAX 4096
/* Digits of one number, leading zeros included (CoreCLR writes 16). */
#define PM_NUM_MAX 32
/* The longest line prefix that matters; the rest of a line is dropped. */
#define PM_LINE_MAX (2 * (2 + PM_NUM_MAX + 1) + PM_NAME_MAX)

struct perfmap {
	struct perfmap_entry *ent;
	size_t n, cap;
	struct ivindex *ix;	/* entry i is interval i */
	struct ml_arena names;
	unsigned capped;
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
	if (!pm)
		return -ENOMEM;
	if (ivindex_new(&pm->ix, 1) < 0) {
		free(pm);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

void perfmap_reset(struct perfmap *pm)
{
	ml_arena_clear(&pm->names);
	pm->capped = 0;
	ivindex_reset(pm->ix);
	free(pm->ent);
	pm->ent = NULL;
	pm->n = pm->cap = 0;
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
	ivindex_free(pm->ix);
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

unsigned perfmap_capped(const struct perfmap *pm)
{
	return pm->capped;
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

/* A copy of name in the arena, or NULL (out of memory, or the cap). */
static char *keep_name(struct perfmap *pm, const char *name, size_t nlen)
{
	bool capped = false;
	char *d = ml_arena_strndup(&pm->names, name, nlen, PERFMAP_NAMES_MAX, &capped);

	if (capped)
		pm->capped |= PERFMAP_CAP_NAMES;
	return d;
}

/* Past a cap, lines are still counted as read but no longer kept. */
static int add_entry(struct perfmap *pm, u64 start, u64 size,
		     const char *name, size_t nlen)
{
	struct perfmap_entry *e;
	char *kept;

	if (pm->capped)
		return 0;
	if (pm->n >= PERFMAP_ENTRIES_MAX) {
		pm->capped |= PERFMAP_CAP_ENTRIES;
		return 0;
	}
	if (ML_VEC_GROW(pm->ent, pm->cap, pm->n + 1))
		return -ENOMEM;
	kept = keep_name(pm, name, nlen);
	if (!kept)
		return pm->capped ? 0 : -ENOMEM;
	if (ivindex_add(pm->ix, start, start + size) < 0)
		return -ENOMEM;
	e = &pm->ent[pm->n];
	e->name = kept;
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

/* ---- lookups ---- */

static u64 ent_end(const struct perfmap_entry *e)
{
	return e->start + e->size;	/* no overflow: saturated at parse */
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
	u32 idx;
	int n = ivindex_find(pm->ix, addr, &idx, 1);

	if (n < 0)
		return scan(pm, addr);
	return n ? &pm->ent[idx] : NULL;
}
