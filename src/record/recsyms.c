/* SPDX-License-Identifier: MIT */
/*
 * Naming from a recording: the same answers symtab_name() gave while the
 * target was alive, from what the recording kept (symbols/symdump.c).
 *
 * Order of lookup: a FRAME record of exactly this pc named the same way
 * (return address or not); the symbol table of the module loaded there;
 * the maps snapshots (ReadyToRun .dll, JIT memory) and the JIT names;
 * a FRAME record of this pc named the other way; unknown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "symbols/perfmap.h"
#include "record/recsyms.h"
#include "symbols/symtab.h"
#include "util/ivindex.h"
#include "util/vec.h"
#include "util/range.h"

#define DELETED " (deleted)"

struct rframe {
	struct ml_frame f;	/* f.pc: the pc as in stacks */
	u32 ra;			/* named as a return address */
};

struct rsnap {
	struct maps_entry *e;	/* sorted by start */
	size_t n;
};

struct rmod {
	u64 lo, hi, bias;
	char *module;
	struct ml_rec_sym *s;	/* sorted by start; ELF addresses */
	size_t n, cap;
};

struct recsyms {
	u32 pid;
	struct rframe *frames;
	size_t nframes, capframes;
	struct rsnap *snaps;	/* in recording order: later ones win */
	size_t nsnaps, capsnaps;
	struct rmod *mods;	/* in recording order: later ones win */
	size_t nmods, capmods;
	struct perfmap *pm;
	bool tables;
	/* Lookups in O(log^2 n) however many snapshots and modules a
	 * recording (outside data) holds, later ones winning: */
	struct ivindex *mapix;	/* interval i: *mapref[i] */
	const struct maps_entry **mapref;
	struct ivindex *modix;	/* interval i: mods[i] */
};

static char *dup_or_null(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

/* ---- loading ---- */

static int v_target(void *ctx, u64 time, const struct ml_rec_target *t)
{
	struct recsyms *rs = ctx;

	if (!rs->pid)
		rs->pid = t->pid;
	return 0;
}

static int v_frame(void *ctx, u64 time, const struct ml_rec_frame *f)
{
	struct recsyms *rs = ctx;
	struct rframe *r;
	int err = 0;

	if (ML_VEC_GROW(rs->frames, rs->capframes, rs->nframes + 1))
		return -ENOMEM;
	r = &rs->frames[rs->nframes];
	memset(r, 0, sizeof(*r));
	r->f = f->f;
	r->f.symbol = dup_or_null(f->f.symbol, &err);
	r->f.module = dup_or_null(f->f.module, &err);
	r->f.file = dup_or_null(f->f.file, &err);
	r->f.tier = dup_or_null(f->f.tier, &err);
	r->ra = f->return_address ? 1 : 0;
	rs->nframes++;
	return err;
}

static int cmp_maps(const void *a, const void *b)
{
	const struct maps_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int v_maps(void *ctx, u64 time, const struct ml_rec_maps *m)
{
	struct recsyms *rs = ctx;
	struct rsnap *s;
	int err = 0;

	if (ML_VEC_GROW(rs->snaps, rs->capsnaps, rs->nsnaps + 1))
		return -ENOMEM;
	s = &rs->snaps[rs->nsnaps];
	s->n = 0;
	s->e = m->n ? calloc(m->n, sizeof(*s->e)) : NULL;
	if (m->n && !s->e)
		return -ENOMEM;
	rs->nsnaps++;
	for (size_t i = 0; i < m->n && !err; i++) {
		s->e[i] = m->e[i];
		s->e[i].path = dup_or_null(m->e[i].path, &err);
		s->n = i + 1;
	}
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_maps);
	return err;
}

/* JIT names go through the perf map parser: the same "later wins" index
 * as when recording. */
static int v_jitsyms(void *ctx, u64 time, const struct ml_rec_jitsyms *j)
{
	struct recsyms *rs = ctx;

	rs->tables = true;
	for (size_t i = 0; i < j->n; i++) {
		const char *name = j->e[i].name ? j->e[i].name : "";
		char *line;
		int n, rc;

		/* a name is one line of the perf map it came from */
		if (strchr(name, '\n'))
			continue;
		n = asprintf(&line, "%" PRIx64 " %" PRIx64 " %s\n",
			     j->e[i].start, j->e[i].size, name);
		if (n < 0)
			return -ENOMEM;
		rc = perfmap_feed(rs->pm, line, (size_t)n);
		free(line);
		if (rc)
			return rc;
	}
	return 0;
}

static int v_modsyms(void *ctx, u64 time, const struct ml_rec_modsyms *m)
{
	struct recsyms *rs = ctx;
	struct rmod *md = rs->nmods ? &rs->mods[rs->nmods - 1] : NULL;
	int err = 0;

	rs->tables = true;
	if (!m->module || m->hi <= m->lo)
		return 0;
	/* a long table comes in several records */
	if (!md || md->lo != m->lo || md->hi != m->hi || md->bias != m->bias ||
	    strcmp(md->module, m->module) != 0) {
		if (ML_VEC_GROW(rs->mods, rs->capmods, rs->nmods + 1))
			return -ENOMEM;
		md = &rs->mods[rs->nmods];
		memset(md, 0, sizeof(*md));
		md->module = strdup(m->module);
		if (!md->module)
			return -ENOMEM;
		md->lo = m->lo;
		md->hi = m->hi;
		md->bias = m->bias;
		rs->nmods++;
	}
	for (size_t i = 0; i < m->n && !err; i++) {
		if (!m->e[i].name)
			continue;
		if (ML_VEC_GROW(md->s, md->cap, md->n + 1))
			return -ENOMEM;
		md->s[md->n] = m->e[i];
		md->s[md->n].name = dup_or_null(m->e[i].name, &err);
		if (!err)
			md->n++;
	}
	return err;
}

static int cmp_frames(const void *a, const void *b)
{
	const struct rframe *x = a, *y = b;

	if (x->f.pc != y->f.pc)
		return x->f.pc < y->f.pc ? -1 : 1;
	return (int)x->ra - (int)y->ra;
}

static int cmp_syms(const void *a, const void *b)
{
	const struct ml_rec_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The indexes of snapshots and modules, in recording order. */
static int build_index(struct recsyms *rs)
{
	size_t total = 0, k = 0;

	if (ivindex_new(&rs->mapix, 1) || ivindex_new(&rs->modix, 1))
		return -ENOMEM;
	for (size_t i = 0; i < rs->nsnaps; i++)
		total += rs->snaps[i].n;
	rs->mapref = total ? calloc(total, sizeof(*rs->mapref)) : NULL;
	if (total && !rs->mapref)
		return -ENOMEM;
	/* k < total: the counts were summed without an overflow check */
	for (size_t i = 0; i < rs->nsnaps; i++)
		for (size_t j = 0; j < rs->snaps[i].n && k < total; j++) {
			const struct maps_entry *e = &rs->snaps[i].e[j];

			rs->mapref[k++] = e;
			if (ivindex_add(rs->mapix, e->start, e->end))
				return -ENOMEM;
		}
	for (size_t i = 0; i < rs->nmods; i++)
		if (ivindex_add(rs->modix, rs->mods[i].lo, rs->mods[i].hi))
			return -ENOMEM;
	return 0;
}

/* From the file at path, or (path NULL) from buf. */
static int load(const char *path, const void *buf, size_t len,
		struct recsyms **out, struct rec_read_status *st)
{
	static const struct rec_visitor v = {
		.target = v_target, .frame = v_frame, .maps = v_maps,
		.jitsyms = v_jitsyms, .modsyms = v_modsyms,
	};
	struct recsyms *rs;
	int rc, rc2;

	*out = NULL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	if (perfmap_new(&rs->pm)) {
		free(rs);
		return -ENOMEM;
	}
	rc = path ? rec_read(path, &v, rs, st) : rec_read_mem(buf, len, &v, rs, st);
	if (rc && rc != -ENODATA) {
		recsyms_free(rs);
		return rc;
	}
	perfmap_finish(rs->pm);
	rc2 = build_index(rs);
	if (rc2) {
		recsyms_free(rs);
		return rc2;
	}
	/* qsort() wants a non-NULL array even when empty */
	if (rs->nframes > 1)
		qsort(rs->frames, rs->nframes, sizeof(*rs->frames), cmp_frames);
	for (size_t i = 0; i < rs->nmods; i++)
		if (rs->mods[i].n > 1)
			qsort(rs->mods[i].s, rs->mods[i].n, sizeof(*rs->mods[i].s),
			      cmp_syms);
	*out = rs;
	return rc;
}

int recsyms_load(const char *path, struct recsyms **out,
		 struct rec_read_status *st)
{
	return load(path, NULL, 0, out, st);
}

int recsyms_load_mem(const void *buf, size_t len, struct recsyms **out,
		     struct rec_read_status *st)
{
	return load(NULL, buf, len, out, st);
}

void recsyms_free(struct recsyms *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nframes; i++)
		ml_frame_release(&rs->frames[i].f);
	free(rs->frames);
	for (size_t i = 0; i < rs->nsnaps; i++)
		procmaps_free(rs->snaps[i].e, rs->snaps[i].n);
	free(rs->snaps);
	for (size_t i = 0; i < rs->nmods; i++) {
		for (size_t k = 0; k < rs->mods[i].n; k++)
			free(rs->mods[i].s[k].name);
		free(rs->mods[i].s);
		free(rs->mods[i].module);
	}
	free(rs->mods);
	perfmap_free(rs->pm);
	ivindex_free(rs->mapix);
	ivindex_free(rs->modix);
	free(rs->mapref);
	free(rs);
}

bool recsyms_has_tables(const struct recsyms *rs)
{
	return rs->tables;
}

u32 recsyms_pid(const struct recsyms *rs)
{
	return rs->pid;
}

/* ---- naming ---- */

static const struct rframe *find_frame(const struct recsyms *rs, u64 pc, u32 ra)
{
	size_t lo = 0, hi = rs->nframes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rframe *f = &rs->frames[mid];

		if (f->f.pc < pc || (f->f.pc == pc && f->ra < ra))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < rs->nframes && rs->frames[lo].f.pc == pc &&
	    rs->frames[lo].ra == ra)
		return &rs->frames[lo];
	return NULL;
}

static int copy_frame(const struct ml_frame *src, struct ml_frame *out)
{
	int err = 0;

	*out = *src;
	out->symbol = dup_or_null(src->symbol, &err);
	out->module = dup_or_null(src->module, &err);
	out->file = dup_or_null(src->file, &err);
	out->tier = dup_or_null(src->tier, &err);
	return err;
}

/* The latest snapshot's mapping holding addr, or NULL. */
static const struct maps_entry *find_map(struct recsyms *rs, u64 addr)
{
	u32 i;

	return ivindex_find(rs->mapix, addr, &i, 1) == 1 ? rs->mapref[i] : NULL;
}

/* The latest module holding addr, or NULL. */
static const struct rmod *find_mod(struct recsyms *rs, u64 addr)
{
	u32 i;

	return ivindex_find(rs->modix, addr, &i, 1) == 1 ? &rs->mods[i] : NULL;
}

/* The function holding ELF address a: the last start <= a, within its
 * size; a symbol without size holds everything up to the next (as
 * libdwfl treats them). */
static const struct ml_rec_sym *find_sym(const struct rmod *m, u64 a)
{
	ssize_t i = ML_RANGE_LAST_LE(m->s, m->n, start, a);
	const struct ml_rec_sym *s;

	if (i < 0)
		return NULL;
	s = &m->s[i];
	return s->size == 0 || a - s->start < s->size ? s : NULL;
}

static bool ends_with_ci(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	if (n >= strlen(DELETED) && !strcmp(s + n - strlen(DELETED), DELETED))
		n -= strlen(DELETED);
	return n >= m && strncasecmp(s + n - m, suf, m) == 0;
}

/* As symtab.c: where JIT code lives. */
static bool is_jit_mapping(const struct maps_entry *m)
{
	static const char *const pre[] = {
		"[anon", "//anon", "/dev/zero", "/anon_hugepage", "/memfd:",
	};

	if (!m->path)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
		if (!strncmp(m->path, pre[i], strlen(pre[i])))
			return true;
	return false;
}

static int set_module(struct ml_frame *out, const char *path)
{
	out->module = strdup(path);
	return out->module ? 0 : -ENOMEM;
}

static bool ends_with_ci(const char *s, const char *suf);

static int name_module(const struct rmod *md, u64 pc, u64 addr,
		       struct ml_frame *out)
{
	const struct ml_rec_sym *s = find_sym(md, addr - md->bias);
	/* A .dll's table holds ReadyToRun methods by RVA (symdump.c). */
	bool r2r = ends_with_ci(md->module, ".dll");

	out->kind = r2r ? ML_FK_R2R : ML_FK_NATIVE;
	if (set_module(out, md->module))
		return -ENOMEM;
	if (!s && r2r) {
		/* as symtab-r2r.c: code no method holds, by RVA */
		const char *b = strrchr(md->module, '/');
		size_t n;

		b = b ? b + 1 : md->module;
		n = strlen(b);
		if (n > strlen(DELETED) && !strcmp(b + n - strlen(DELETED), DELETED))
			n -= strlen(DELETED);
		if (asprintf(&out->symbol, "[%.*s]+0x%" PRIx64, (int)n, b,
			     pc - md->bias) < 0) {
			out->symbol = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	if (!s) {
		/* as symtab.c: the file address, for a lookup in debug files */
		out->offset = pc - md->bias;
		return 0;
	}
	out->symbol = strdup(s->name);
	out->offset = pc - (s->start + md->bias);
	return out->symbol ? 0 : -ENOMEM;
}

int recsyms_name(struct recsyms *rs, u64 pc, bool return_address,
		 struct ml_frame *out)
{
	u64 addr = return_address && pc > 0 ? pc - 1 : pc;
	const struct rframe *fr = find_frame(rs, pc, return_address);
	const struct maps_entry *m;
	const struct perfmap_entry *e;
	const struct rmod *md;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (fr)
		return copy_frame(&fr->f, out) ? (ml_frame_release(out), -ENOMEM) : 0;
	out->pc = pc;
	out->kind = ML_FK_UNKNOWN;
	md = find_mod(rs, addr);
	if (md) {
		rc = name_module(md, pc, addr, out);
		goto out;
	}
	m = find_map(rs, addr);
	if (m && m->path && ends_with_ci(m->path, ".dll")) {
		/* ReadyToRun code: PE, never in the perf map. */
		out->kind = ML_FK_R2R;
		rc = set_module(out, m->path);
		goto out;
	}
	if (!m || is_jit_mapping(m)) {
		e = perfmap_lookup(rs->pm, addr);
		if (e)
			return symtab_name_jit(e->name, e->start, pc, out);
	}
	/* recorded the other way (a return address asked as a pc...) */
	fr = find_frame(rs, pc, !return_address);
	if (fr)
		return copy_frame(&fr->f, out) ? (ml_frame_release(out), -ENOMEM) : 0;
	if (m) {
		/* code of a module no stack touched: its table was not kept */
		if ((m->prot & PROT_EXEC) && m->path && m->path[0] == '/' &&
		    !is_jit_mapping(m))
			out->kind = ML_FK_NATIVE;
		rc = set_module(out, m->path ? m->path : "[anon]");
	}
out:
	if (rc < 0) {
		ml_frame_release(out);
		return -ENOMEM;
	}
	return 0;
}
