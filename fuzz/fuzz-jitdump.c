/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the jitdump reader: the input is fed in chunks
 * whose sizes come from the input itself (records split across feeds),
 * with lookups between feeds. A naive reference reader over the whole
 * buffer is the oracle for the entries (CODE_LOAD only; inputs with a
 * CODE_MOVE are checked for safety, not content), and a linear scan is
 * the oracle for the index (unless jitdump_deep(): more entries over one
 * address than the index keeps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/jitdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref {
	u64 start, size, time;
	const uint8_t *name;
	size_t nlen;
};

static u32 rd32(const uint8_t *p, bool swap)
{
	u32 v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static u64 rd64(const uint8_t *p, bool swap)
{
	u64 v;

	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

/* Entries of a whole in-memory file; *moves when a CODE_MOVE was met. */
static size_t ref_parse(const uint8_t *d, size_t n, struct ref *out, bool *moves,
			bool *timed)
{
	size_t off, cnt = 0;
	u32 magic, hsize;
	bool swap;

	*moves = false;
	*timed = false;
	if (n < 40)
		return 0;
	memcpy(&magic, d, 4);
	if (magic != JITDUMP_MAGIC && magic != __builtin_bswap32(JITDUMP_MAGIC))
		return 0;
	swap = magic != JITDUMP_MAGIC;
	hsize = rd32(d + 8, swap);
	if (rd32(d + 4, swap) < 1 || hsize < 40 || hsize > (1u << 20))
		return 0;
	*timed = !(rd64(d + 32, swap) & 1);
	for (off = hsize; off + 16 <= n;) {
		u32 id = rd32(d + off, swap), tot = rd32(d + off + 4, swap);
		size_t body = off + 16, end = off + (size_t)tot;

		if (tot < 16)
			break;
		if (id == JITDUMP_CODE_MOVE && tot >= 64)
			*moves = true;
		if (id == JITDUMP_CODE_LOAD && tot >= 56 && body + 40 <= n) {
			size_t lim = end < n ? end : n, ns = body + 40;
			const uint8_t *nul = memchr(d + ns, 0, lim - ns);
			u64 csize = rd64(d + body + 24, swap);

			if (nul && csize) {
				struct ref *r = &out[cnt++];

				r->start = rd64(d + body + 16, swap);
				r->size = csize > UINT64_MAX - r->start ?
					  UINT64_MAX - r->start : csize;
				r->time = *timed ? rd64(d + off + 8, swap) : 0;
				r->name = d + ns;
				r->nlen = (size_t)(nul - (d + ns));
				if (r->nlen > JITDUMP_NAME_MAX)
					r->nlen = JITDUMP_NAME_MAX;
			}
		}
		if ((u64)off + tot > n)
			break;
		off += tot;
	}
	return cnt;
}

static void check_lookup(struct jitdump *jd, u64 addr)
{
	const struct jitdump_entry *want = NULL, *got = jitdump_lookup(jd, addr);
	bool moved = false;

	for (size_t k = 0; k < jitdump_count(jd); k++) {
		const struct jitdump_entry *e = jitdump_entry_at(jd, k);

		if (addr >= e->start && addr - e->start < e->size) {
			if (e->moved_at)
				moved = true;
			else
				want = e;
		}
	}
	/* Past JITDUMP_DEPTH entries over one address the oldest are not
	 * looked at: then only what follows holds. */
	if (!jitdump_deep(jd) && (want ? got != want : moved != (got != NULL)))
		abort();
	if (got && !(addr >= got->start && addr - got->start < got->size))
		abort();
	got = jitdump_lookup_at(jd, addr, addr ^ 0x5555);
	if (got && !(addr >= got->start && addr - got->start < got->size))
		abort();
	if (!got != !jitdump_lookup(jd, addr))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jitdump *jd;
	struct ref *r;
	size_t nr, off = 0;
	unsigned step = size ? data[size - 1] : 0;
	bool moves, timed;

	if (jitdump_new(&jd) < 0)
		return 0;
	while (off < size) {
		size_t chunk = 1 + (step++ % 61);

		if (chunk > size - off)
			chunk = size - off;
		if (jitdump_feed(jd, data + off, chunk) < 0)
			goto out;
		if ((step & 3) == 0)
			(void)jitdump_lookup(jd, (u64)step << 8);
		off += chunk;
	}
	if (jitdump_offset(jd) != size)
		abort();
	r = calloc(size / 56 + 1, sizeof(*r));
	if (!r)
		goto out;
	nr = ref_parse(data, size, r, &moves, &timed);
	if (!moves) {
		if (nr != jitdump_count(jd))
			abort();
		for (size_t i = 0; i < nr; i++) {
			const struct jitdump_entry *e = jitdump_entry_at(jd, i);

			if (e->start != r[i].start || e->size != r[i].size ||
			    e->time != r[i].time || strlen(e->name) != r[i].nlen ||
			    memcmp(e->name, r[i].name, r[i].nlen) != 0)
				abort();
		}
	}
	for (size_t i = 0; i < jitdump_count(jd); i++) {
		const struct jitdump_entry *e = jitdump_entry_at(jd, i);

		check_lookup(jd, e->start);
		check_lookup(jd, e->start + e->size - 1);
		if (e->start + e->size > e->start)
			check_lookup(jd, e->start + e->size);
	}
	check_lookup(jd, 0);
	check_lookup(jd, UINT64_MAX);
	free(r);
out:
	jitdump_free(jd);
	return 0;
}
