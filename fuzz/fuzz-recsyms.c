// SPDX-License-Identifier: MIT
/*
 * Fuzzes naming from a recording (mapleak resolve -i, report): the
 * recording is outside data, and its FRAME, MAPS, JITSYMS and MODSYMS
 * records become indexes (util/ivindex) and a perf map. Every address a
 * record mentions, and its neighbours, is named; ASan checks the strings,
 * and a name must be a NUL-terminated string or NULL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/recsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* everything read is summed here, so nothing is optimized away */
static volatile size_t sink;

/* ctx: the addresses to name, gathered from the records themselves */
struct addrs {
	u64 a[64];
	size_t n;
};

static void add(struct addrs *as, u64 a)
{
	if (as->n < 64)
		as->a[as->n++] = a;
}

static int f_frame(void *ctx, u64 time, const struct ml_rec_frame *f)
{
	add(ctx, f->f.pc);
	return 0;
}

static int f_maps(void *ctx, u64 time, const struct ml_rec_maps *m)
{
	for (size_t i = 0; i < m->n && i < 8; i++) {
		add(ctx, m->e[i].start);
		add(ctx, m->e[i].end - 1);
	}
	return 0;
}

static int f_jitsyms(void *ctx, u64 time, const struct ml_rec_jitsyms *j)
{
	for (size_t i = 0; i < j->n && i < 8; i++) {
		add(ctx, j->e[i].start);
		add(ctx, j->e[i].start + j->e[i].size);
	}
	return 0;
}

static int f_modsyms(void *ctx, u64 time, const struct ml_rec_modsyms *m)
{
	add(ctx, m->lo);
	add(ctx, m->hi - 1);
	for (size_t i = 0; i < m->n && i < 8; i++)
		add(ctx, m->lo + m->e[i].start);
	return 0;
}

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rec_visitor v = {
		.frame = f_frame, .maps = f_maps, .jitsyms = f_jitsyms,
		.modsyms = f_modsyms,
	};
	struct addrs as = { .n = 0 };
	struct recsyms *rs = NULL;
	int rc;

	rec_read_mem(data, size, &v, &as, NULL);
	add(&as, 0);
	add(&as, UINT64_MAX);
	rc = recsyms_load_mem(data, size, &rs, NULL);
	if (rc && rc != -ENODATA) {
		if (rs)
			abort();	/* no table on a hard error */
		return 0;
	}
	if (!rs)
		abort();
	sink += recsyms_pid(rs) + recsyms_has_tables(rs);
	for (size_t i = 0; i < as.n; i++)
		for (int d = -1; d <= 1; d++)
			for (int ra = 0; ra <= 1; ra++) {
				struct ml_frame f;

				if (recsyms_name(rs, as.a[i] + (u64)d, ra, &f))
					continue;	/* out of memory */
				sink += touch(f.symbol) + touch(f.module) +
					touch(f.file) + touch(f.tier) + f.kind;
				ml_frame_release(&f);
			}
	recsyms_free(rs);
	return 0;
}
