/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the perf map parser: the input is fed in chunks
 * whose sizes come from the input itself (partial lines across feeds),
 * then finished and looked up. A naive reference parser with a linear
 * "latest entry wins" scan is the oracle for every lookup.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_NAME_MAX 4096
#define REF_NUM_MAX 32

struct ref {
	u64 start, end;
	size_t nlen;
	const char *name;	/* into the input */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The regex ^(?:0[xX])?([0-9A-Fa-f]+) (?:0[xX])?([0-9A-Fa-f]+) (.*)$
 * with the parser's bounds: at most 32 digits, value below 2^64. */
static bool ref_num(const char **p, const char *end, u64 *v)
{
	const char *s = *p;
	size_t nd = 0, sig = 0;

	*v = 0;
	if (end - s >= 3 && s[0] == '0' && (s[1] | 0x20) == 'x' &&
	    hexval(s[2]) >= 0)
		s += 2;
	for (; s < end && hexval(*s) >= 0; s++) {
		nd++;
		if (sig || *s != '0')
			sig++;
		*v = (*v << 4) | (u64)hexval(*s);
	}
	if (nd == 0 || nd > REF_NUM_MAX || sig > 16 || s >= end || *s != ' ')
		return false;
	*p = s + 1;
	return true;
}

static size_t ref_parse(const char *s, size_t len, struct ref *out, size_t n)
{
	const char *p = s, *end = s + len, *nul;
	u64 a, b;

	if (!ref_num(&p, end, &a) || !ref_num(&p, end, &b) || b == 0)
		return n;
	out[n].start = a;
	out[n].end = b > UINT64_MAX - a ? UINT64_MAX : a + b;
	out[n].name = p;
	out[n].nlen = (size_t)(end - p) > REF_NAME_MAX ? REF_NAME_MAX
						       : (size_t)(end - p);
	nul = memchr(p, '\0', out[n].nlen);
	if (nul)
		out[n].nlen = (size_t)(nul - p);
	return n + 1;
}

static void check(struct perfmap *pm, const struct ref *r, size_t nr, u64 addr)
{
	const struct perfmap_entry *e = perfmap_lookup(pm, addr);
	const struct ref *want = NULL;

	for (size_t i = nr; i-- > 0;)
		if (addr >= r[i].start && addr < r[i].end) {
			want = &r[i];
			break;
		}
	if (!want != !e)
		abort();
	if (!e)
		return;
	if (e->seq != (u64)(want - r) || e->start != want->start ||
	    strlen(e->name) != want->nlen ||
	    memcmp(e->name, want->name, want->nlen) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct perfmap *pm;
	struct ref *r;
	size_t nr = 0, off = 0, chunk;
	unsigned step = size ? data[0] : 0;

	if (perfmap_new(&pm) < 0)
		return 0;
	/* Chunk sizes 1..16 cycling from the first byte. */
	while (off < size) {
		chunk = 1 + (step++ % 16);
		if (chunk > size - off)
			chunk = size - off;
		if (perfmap_feed(pm, s + off, chunk) < 0)
			goto out;
		/* Interleave lookups with feeds to exercise re-indexing. */
		if ((step & 7) == 0)
			(void)perfmap_lookup(pm, (u64)step << 12);
		off += chunk;
	}
	if (perfmap_finish(pm) < 0)
		goto out;

	r = calloc(size / 2 + 1, sizeof(*r));
	if (!r)
		goto out;
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(s + i, '\n', size - i);
		size_t ll = nl ? (size_t)(nl - (s + i)) : size - i;

		nr = ref_parse(s + i, ll, r, nr);
		i += ll + 1;
	}
	if (nr != perfmap_count(pm))
		abort();
	for (size_t i = 0; i < nr; i++) {
		check(pm, r, nr, r[i].start);
		check(pm, r, nr, r[i].end - 1);
		check(pm, r, nr, r[i].end);
		if (r[i].start > 0)
			check(pm, r, nr, r[i].start - 1);
	}
	check(pm, r, nr, 0);
	check(pm, r, nr, UINT64_MAX);
	free(r);
out:
	perfmap_free(pm);
	return 0;
}
