// SPDX-License-Identifier: MIT
/*
 * From a recording to an answer: replays the recorded ops through a fresh
 * live set (the recorder wrote them in the order they took effect), then
 * groups what is still mapped by the stack that mapped it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "report/analysis.h"
#include "report/labels.h"
#include "track/aspace.h"
#include "track/stacks.h"
#include "util/vec.h"
#include "util/range.h"

/* One named pc; a pc can be named twice (as the interrupted pc and as a
 * return address, which is looked up at pc - 1). */
struct frame_slot {
	bool used;
	bool ra;
	u32 stack_id;		/* 0: any stack; else only that one (re-used JIT code) */
	u32 idx;		/* with stack_id: 0 any frame, else frame idx - 1 */
	struct ml_frame f;	/* strings owned */
};

struct load_ctx {
	struct ml_result *r;
	struct aspace *as;
	struct stackdb *db;

	struct frame_slot *frames;	/* open addressing, power-of-two size */
	size_t frames_cap, frames_used;

	struct ml_rec_resident_entry *res;
	size_t nres, res_cap;
	bool have_resident;

	u64 nops, bad_ops, bad_stacks;
	u64 last_op_time;
	u64 lost;

	size_t notes_cap;

	/* jitdump marker mappings at the end (see is_jitdump_marker()) */
	struct { u64 start, end; } *markers;
	size_t nmarkers;
	u64 marker_bytes;

	struct label_snaps snaps;	/* maps snapshots for region labels */

	/* ANALYSIS_BY_THREAD: who made each op that can give a region its
	 * origin, found again by the region's (time, stack) */
	bool by_thread;
	unsigned flags;		/* ANALYSIS_* */
	/* stacks that reserved a .NET GC range: a commit inside is the GC's */
	u32 *gc_reserves;
	size_t ngc_reserves;
	struct op_tid { u64 time; u32 stack_id, tid; } *tids;
	size_t ntids, tids_cap;

	const struct analysis_opts *o;
	struct timeline *tl;	/* live bytes per stack over time */
	u64 now_rel;		/* time of what is being applied */
	bool muted;		/* a PATCH: its changes are in the FOLD before it */
	int tl_err;
	u64 end_rel;		/* the end of the recording, since its start */
	u64 tl_end;		/* the end of the timelines */
};

/* --- small helpers ----------------------------------------------------- */

static int strdup_null(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* Not ml_frame_release(): that belongs to the symbols module, and the
 * report must link without it. */
static void frame_clear(struct ml_frame *f)
{
	free(f->symbol);
	free(f->module);
	free(f->file);
	free(f->tier);
	memset(f, 0, sizeof(*f));
}

static int frame_copy(struct ml_frame *dst, const struct ml_frame *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->pc = src->pc;
	dst->kind = src->kind;
	dst->line = src->line;
	dst->offset = src->offset;
	if (strdup_null(&dst->symbol, src->symbol) ||
	    strdup_null(&dst->module, src->module) ||
	    strdup_null(&dst->file, src->file) ||
	    strdup_null(&dst->tier, src->tier)) {
		frame_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int note_addf(struct load_ctx *c, const char *fmt, ...)
{
	struct ml_result *r = c->r;
	va_list ap;
	char *s;
	int n;

	if (ml_vec_grow((void **)&r->notes, &c->notes_cap, r->nnotes + 1,
		 sizeof(*r->notes)))
		return -ENOMEM;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r->notes[r->nnotes++] = s;
	return 0;
}

/* --- frame names: (pc, return_address) -> frame ------------------------ */

static size_t frame_hash(u64 pc, bool ra, u32 sid, u32 idx)
{
	u64 h = (pc ^ ((u64)sid << 32 | sid) ^ ((u64)idx << 20)) * 0x9e3779b97f4a7c15ULL ^
		(ra ? 0xff51afd7ed558ccdULL : 0);

	return (size_t)(h ^ (h >> 29));
}

static struct frame_slot *frame_find(const struct load_ctx *c, u64 pc, bool ra,
				     u32 sid, u32 idx)
{
	size_t mask, i;

	if (!c->frames_cap)
		return NULL;
	mask = c->frames_cap - 1;
	for (i = frame_hash(pc, ra, sid, idx) & mask; c->frames[i].used; i = (i + 1) & mask)
		if (c->frames[i].f.pc == pc && c->frames[i].ra == ra &&
		    c->frames[i].stack_id == sid && c->frames[i].idx == idx)
			return &c->frames[i];
	return NULL;
}

static int frame_table_grow(struct load_ctx *c)
{
	size_t ncap = c->frames_cap ? c->frames_cap * 2 : 256;
	struct frame_slot *old = c->frames, *nt;
	size_t oldcap = c->frames_cap, i, j;

	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		for (j = frame_hash(old[i].f.pc, old[i].ra, old[i].stack_id, old[i].idx) &
			 (ncap - 1);
		     nt[j].used; j = (j + 1) & (ncap - 1))
			;
		nt[j] = old[i];
	}
	free(old);
	c->frames = nt;
	c->frames_cap = ncap;
	return 0;
}

static int frame_put(struct load_ctx *c, const struct ml_frame *f, bool ra,
		     u32 sid, u32 idx)
{
	struct frame_slot *s = frame_find(c, f->pc, ra, sid, idx);
	struct ml_frame copy;
	size_t i, mask;
	int err;

	err = frame_copy(&copy, f);
	if (err)
		return err;
	if (s) {		/* a later name wins (e.g. after a perf map update) */
		frame_clear(&s->f);
		s->f = copy;
		return 0;
	}
	if ((c->frames_used + 1) * 2 > c->frames_cap) {
		err = frame_table_grow(c);
		if (err) {
			frame_clear(&copy);
			return err;
		}
	}
	mask = c->frames_cap - 1;
	for (i = frame_hash(f->pc, ra, sid, idx) & mask; c->frames[i].used; i = (i + 1) & mask)
		;
	c->frames[i].used = true;
	c->frames[i].ra = ra;
	c->frames[i].stack_id = sid;
	c->frames[i].idx = idx;
	c->frames[i].f = copy;
	c->frames_used++;
	return 0;
}

/* --- visitor ----------------------------------------------------------- */

static u64 rel_time(const struct ml_result *r, u64 t)
{
	return t > r->target.start_time ? t - r->target.start_time : 0;
}

static int v_target(void *ctx, u64 time, const struct ml_rec_target *t)
{
	struct load_ctx *c = ctx;
	struct ml_rec_target *dst = &c->r->target;
	char *cmd, *comm;

	if (strdup_null(&cmd, t->command))
		return -ENOMEM;
	if (strdup_null(&comm, t->comm)) {
		free(cmd);
		return -ENOMEM;
	}
	free(dst->command);
	free(dst->comm);
	*dst = *t;
	dst->command = cmd;
	dst->comm = comm;
	c->r->have_target = true;
	return 0;
}

/*
 * The runtime maps the first page of its jit-PID.dump read+exec as a
 * marker for `perf inject --jit` (.NET with PerfMapEnabled 1 or 2, V8
 * --perf-prof): bookkeeping, not a leak. Identified in the final maps by
 * path and size. Region labels for the report could reuse this list.
 */
static int note_markers(struct load_ctx *c, const struct ml_rec_maps *m)
{
	size_t cap = c->nmarkers;

	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		if (!(e->prot & PROT_EXEC) || e->prot & PROT_WRITE ||
		    e->end - e->start > ML_PAGE_SIZE || !label_is_jitdump_path(e->path))
			continue;
		if (ml_vec_grow((void **)&c->markers, &cap, c->nmarkers + 1,
			 sizeof(*c->markers)))
			return -ENOMEM;
		c->markers[c->nmarkers].start = e->start;
		c->markers[c->nmarkers].end = e->end;
		c->nmarkers++;
	}
	return 0;
}

static bool is_jitdump_marker(const struct load_ctx *c, const struct ml_region *reg)
{
	for (size_t i = 0; i < c->nmarkers; i++)
		if (reg->start >= c->markers[i].start && reg->end <= c->markers[i].end)
			return true;
	return false;
}

static int v_maps(void *ctx, u64 time, const struct ml_rec_maps *m)
{
	struct load_ctx *c = ctx;
	u64 changed = 0;
	int ret;

	c->now_rel = rel_time(c->r, time);
	ret = label_snaps_keep(&c->snaps, time, m->purpose == ML_MAPS_FINAL,
			       m->e, m->n);
	if (ret)
		return ret;
	switch (m->purpose) {
	case ML_MAPS_BASELINE:
	case ML_MAPS_EXEC:
		return aspace_add_baseline(c->as, m->e, m->n);
	case ML_MAPS_RECONCILE:
		c->r->reconciles++;
		ret = aspace_reconcile(c->as, m->e, m->n, &changed);
		c->r->reconciled_pages += changed;
		return ret;
	case ML_MAPS_FINAL:
		return note_markers(c, m);
	default:	/* the CHECK record already holds the verdict */
		return 0;
	}
}

static void on_bytes(void *ctx, u32 stack_id, s64 delta)
{
	struct load_ctx *c = ctx;
	int err;

	if (c->muted)
		return;
	err = timeline_add(c->tl, stack_id, c->now_rel, delta);
	if (err && !c->tl_err)
		c->tl_err = err;
}

static int v_op(void *ctx, const struct ml_op *op)
{
	struct load_ctx *c = ctx;
	int err;

	c->nops++;
	c->now_rel = rel_time(c->r, op->time);
	if (op->stack_id && timeline_count(c->tl, op->stack_id, 1))
		return -ENOMEM;
	if (op->time > c->last_op_time)
		c->last_op_time = op->time;
	if (c->by_thread && op->stack_id) {
		if (ml_vec_grow((void **)&c->tids, &c->tids_cap, c->ntids + 1, sizeof(*c->tids)))
			return -ENOMEM;
		c->tids[c->ntids++] = (struct op_tid){ op->time, op->stack_id, op->tid };
	}
	err = aspace_apply(c->as, op);
	if (err == -EINVAL) {	/* one odd op must not hide the rest */
		c->bad_ops++;
		return 0;
	}
	return err;
}

static int v_stack(void *ctx, u64 time, const struct ml_rec_stack *s)
{
	struct load_ctx *c = ctx;
	int err = stackdb_put(c->db, s->id, s->pcs, s->n, s->flags);

	if (err == -ENOMEM)
		return err;
	if (err)
		c->bad_stacks++;
	return 0;
}

static int v_frame(void *ctx, u64 time, const struct ml_rec_frame *f)
{
	/* a frame index means nothing without its stack */
	return frame_put(ctx, &f->f, f->return_address != 0, f->stack_id,
			 f->stack_id ? f->frame : 0);
}

static int v_lost(void *ctx, u64 time, u64 lost_total)
{
	struct load_ctx *c = ctx;

	if (lost_total > c->lost)
		c->lost = lost_total;
	return 0;
}

static int v_resident(void *ctx, u64 time, const struct ml_rec_resident *rr)
{
	struct load_ctx *c = ctx;

	/* Several records may be written when one would be too large. */
	if (ml_vec_grow((void **)&c->res, &c->res_cap, c->nres + rr->n, sizeof(*c->res)))
		return -ENOMEM;
	if (rr->n)
		memcpy(c->res + c->nres, rr->e, rr->n * sizeof(*c->res));
	c->nres += rr->n;
	c->have_resident = true;
	return 0;
}

static int v_check(void *ctx, u64 time, const struct ml_rec_check *chk)
{
	struct load_ctx *c = ctx;

	c->r->check = *chk;
	c->r->have_check = true;
	return 0;
}

static int v_end(void *ctx, u64 time, const struct ml_rec_end *e)
{
	struct load_ctx *c = ctx;

	c->r->end = *e;
	c->r->have_end = true;
	return 0;
}

static int v_brk(void *ctx, u64 time, const struct ml_rec_brk *b)
{
	struct load_ctx *c = ctx;

	aspace_set_brk(c->as, b->start_brk, b->brk);
	return 0;
}

static int v_note(void *ctx, u64 time, const char *text)
{
	return note_addf(ctx, "%s", text ? text : "");
}

/* Ops the recorder folded: their counts and byte changes, exactly as the
 * ops would have given them (same ticks). */
static int v_fold(void *ctx, u64 time, const struct ml_rec_fold *f)
{
	struct load_ctx *c = ctx;

	for (size_t i = 0; i < f->ncounts; i++)
		if (timeline_count(c->tl, f->counts[i].stack_id, f->counts[i].calls))
			return -ENOMEM;
	for (size_t i = 0; i < f->ndeltas; i++)
		if (timeline_add_tick(c->tl, f->deltas[i].stack_id, f->deltas[i].tick,
				      f->deltas[i].delta))
			return -ENOMEM;
	c->nops += f->ops;
	c->r->folded_ops += f->ops;
	if (time > c->last_op_time)
		c->last_op_time = time;
	aspace_set_brk(c->as, f->start_brk, f->brk);
	return 0;
}

static int v_patch(void *ctx, u64 time, const struct ml_rec_patch *p)
{
	struct load_ctx *c = ctx;
	struct ml_region *v = NULL;
	int err;

	if (p->n && !(v = calloc(p->n, sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		v[i] = p->e[i].r;
		if (c->by_thread && p->e[i].tid) {
			if (ml_vec_grow((void **)&c->tids, &c->tids_cap, c->ntids + 1,
				 sizeof(*c->tids))) {
				free(v);
				return -ENOMEM;
			}
			c->tids[c->ntids++] = (struct op_tid){ v[i].time, v[i].stack_id,
							      p->e[i].tid };
		}
	}
	c->muted = true;
	err = aspace_patch(c->as, p->start, p->end, v, p->n);
	c->muted = false;
	free(v);
	return err;
}

static const struct rec_visitor load_visitor = {
	.fold = v_fold,
	.patch = v_patch,
	.target = v_target,
	.maps = v_maps,
	.op = v_op,
	.stack = v_stack,
	.frame = v_frame,
	.lost = v_lost,
	.resident = v_resident,
	.check = v_check,
	.end = v_end,
	.brk = v_brk,
	.note = v_note,
};

/* --- grouping the live set into sites ---------------------------------- */

struct region_list {
	struct ml_region *v;
	size_t n, cap;
};

struct collect_ctx {
	struct region_list live, base;
	struct load_ctx *c;
};

/* --older-than, --from, --to */
static bool region_wanted(const struct load_ctx *c, const struct ml_region *reg)
{
	const struct analysis_opts *o = c->o;
	u64 t = rel_time(c->r, reg->time);

	if (o->older_than_ns && (t > c->end_rel || c->end_rel - t < o->older_than_ns))
		return false;
	if (o->have_from && t < o->from_ns)
		return false;
	if (o->have_to && t > o->to_ns)
		return false;
	return true;
}

static int collect_region(void *ctx, const struct ml_region *reg)
{
	struct collect_ctx *cc = ctx;
	struct region_list *l = (reg->flags & ML_RF_BASELINE) ? &cc->base : &cc->live;

	if (l == &cc->live && is_jitdump_marker(cc->c, reg)) {
		cc->c->marker_bytes += reg->end - reg->start;
		return 0;
	}
	if (l == &cc->live && !region_wanted(cc->c, reg))
		return 0;

	if (ml_vec_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return -ENOMEM;
	l->v[l->n++] = *reg;
	return 0;
}

static int cmp_stack_then_addr(const void *a, const void *b)
{
	const struct ml_region *x = a, *y = b;

	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

static int cmp_op_tid(const void *a, const void *b)
{
	const struct op_tid *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

/* The thread whose op gave reg its origin; 0 when not known. */
static u32 region_tid(const struct load_ctx *c, const struct ml_region *reg)
{
	struct op_tid key = { reg->time, reg->stack_id, 0 };
	const struct op_tid *t;

	if (!c->ntids)
		return 0;
	t = bsearch(&key, c->tids, c->ntids, sizeof(*c->tids), cmp_op_tid);
	return t ? t->tid : 0;
}

static int cmp_thread_stack_addr(const void *a, const void *b, void *ctx)
{
	u32 ta = region_tid(ctx, a), tb = region_tid(ctx, b);

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return cmp_stack_then_addr(a, b);
}

static int cmp_res_start(const void *a, const void *b)
{
	const struct ml_rec_resident_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Regions in address order; adjacent pieces of one call (same stack, same
 * time, touching) count as one mapping: mprotect splits must not inflate
 * the count. */
static u64 count_mappings(const struct ml_region *v, size_t n)
{
	u64 m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (i == 0 || v[i - 1].end != v[i].start ||
		    v[i - 1].stack_id != v[i].stack_id ||
		    v[i - 1].time != v[i].time)
			m++;
	return m;
}

/* Resident bytes of [start, end) from the sorted entries; an entry that
 * spans more than this region is prorated by overlap. */
static bool resident_of(const struct load_ctx *c, u64 start, u64 end, u64 *bytes)
{
	bool found = false;
	size_t i;

	/* from the first entry that ends after start; entries do not overlap */
	for (i = ML_RANGE_LOWER(c->res, c->nres, end, start); i < c->nres && c->res[i].start < end; i++) {
		const struct ml_rec_resident_entry *e = &c->res[i];
		u64 s = e->start > start ? e->start : start;
		u64 t = e->end < end ? e->end : end;

		if (e->end <= start || t <= s)
			continue;
		found = true;
		if (s == e->start && t == e->end)
			*bytes += e->resident;
		else
			*bytes += (u64)((unsigned __int128)e->resident * (t - s) /
					(e->end - e->start));
	}
	return found;
}

/*
 * A walk that got to a thread's entry point is whole even when the
 * unwinder then failed on the last frame (_start of a stripped binary has
 * no CFI saying "outermost").
 */
static bool reached_entry(const struct ml_site *s)
{
	static const char *const entries[] = {
		"__libc_start_main", "__libc_start_call_main", "start_thread",
		"clone", "clone3", "_start", "_dl_start",
	};

	for (u32 i = 0; i < s->nframes; i++)
		for (size_t j = 0; s->frames[i].symbol && j < ARRAY_SIZE(entries); j++)
			if (!strcmp(s->frames[i].symbol, entries[j]))
				return true;
	return false;
}

static int site_frames(struct load_ctx *c, struct ml_site *s)
{
	const u64 *pcs;
	u32 n = 0, flags = 0, i;

	pcs = stackdb_get(c->db, s->stack_id, &n, &flags);
	if (!pcs)
		return 0;
	s->stack_flags = flags;
	if (!n)
		return 0;
	s->frames = calloc(n, sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* This frame's own name first (interpreted Java: the method
		 * its frame held), then this stack's name for pc (JIT code
		 * re-used by another method later), then pc's for any stack. */
		const struct frame_slot *fs = frame_find(c, pcs[i], i > 0,
							 s->stack_id, i + 1);

		if (!fs)
			fs = frame_find(c, pcs[i], i > 0, s->stack_id, 0);
		if (!fs)
			fs = frame_find(c, pcs[i], i > 0, 0, 0);

		if (fs) {
			if (frame_copy(&s->frames[i], &fs->f))
				return -ENOMEM;
			s->frames[i].pc = pcs[i];
		} else {
			s->frames[i].pc = pcs[i];
			s->frames[i].kind = ML_FK_UNKNOWN;
		}
		s->nframes = i + 1;	/* so that a failure frees what was copied */
	}
	if ((s->stack_flags & ML_SF_UNWIND_ERR) && reached_entry(s))
		s->stack_flags &= ~ML_SF_UNWIND_ERR;
	return 0;
}

static int site_label(struct ml_site *s)
{
	const char **rl = calloc(s->nregions, sizeof(*rl));
	const char *l;

	if (!rl)
		return -ENOMEM;
	for (size_t i = 0; s->rinfo && i < s->nregions; i++)
		rl[i] = s->rinfo[i].label;
	l = label_site(s->frames, s->nframes, rl, s->nregions, s->reserved_bytes);
	free(rl);
	if (l && !(s->label = strdup(l)))
		return -ENOMEM;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_reserve(const void *a, const void *b)
{
	const struct ml_region *x = a, *y = b;

	return x->reserve_stack_id < y->reserve_stack_id ? -1 :
	       x->reserve_stack_id > y->reserve_stack_id;
}

/*
 * The stacks whose reservation is the .NET GC's and has commits inside
 * (mprotect from PROT_NONE gives them the committing stack, often the
 * program's own allocating code): labelled by the reservation's stack and
 * whole size, the same rule as a site (label_site()). Fills c->gc_reserves.
 */
static int find_gc_reserves(struct load_ctx *c, const struct ml_region *live,
			    size_t n)
{
	struct ml_region *v;
	size_t i, j;
	int err = 0;

	if (!n)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, live, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_reserve);
	for (i = 0; i < n && !err; i = j) {
		u32 id = v[i].reserve_stack_id;
		bool commits = false;
		u64 total = 0;
		struct ml_site tmp = { .stack_id = id };
		const char *l;

		for (j = i; j < n && v[j].reserve_stack_id == id; j++) {
			total += v[j].end - v[j].start;
			commits |= v[j].stack_id != id;
		}
		if (!id || !commits)
			continue;
		err = site_frames(c, &tmp);
		l = err ? NULL : label_site(tmp.frames, tmp.nframes, NULL, 0, total);
		if (l && (!strcmp(l, LABEL_GC_RESERVE) || !strcmp(l, LABEL_GC_HEAP))) {
			u32 *ng = reallocarray(c->gc_reserves, c->ngc_reserves + 1,
					       sizeof(*ng));

			if (!ng)
				err = -ENOMEM;
			else {
				c->gc_reserves = ng;
				c->gc_reserves[c->ngc_reserves++] = id;
			}
		}
		for (u32 k = 0; k < tmp.nframes; k++)
			frame_clear(&tmp.frames[k]);
		free(tmp.frames);
	}
	free(v);
	/* ids come in order: bsearch-able */
	return err;
}

/* Commits inside a GC reservation that nothing else names. */
static int label_gc_commits(const struct load_ctx *c, const struct ml_region *v,
			    size_t n, struct ml_region_info *ri)
{
	for (size_t i = 0; ri && c->ngc_reserves && i < n; i++) {
		u32 id = v[i].reserve_stack_id;

		if (id == v[i].stack_id || ri[i].label ||
		    !bsearch(&id, c->gc_reserves, c->ngc_reserves,
			     sizeof(id), cmp_u32))
			continue;
		ri[i].label = strdup(LABEL_GC_COMMIT);
		if (!ri[i].label)
			return -ENOMEM;
	}
	return 0;
}

static int build_site(struct load_ctx *c, const struct ml_region *v, size_t n,
		      struct ml_site *s)
{
	size_t i;
	bool any_res = false;

	memset(s, 0, sizeof(*s));
	s->stack_id = v[0].stack_id;
	s->regions = malloc(n * sizeof(*s->regions));
	if (!s->regions)
		return -ENOMEM;
	memcpy(s->regions, v, n * sizeof(*v));
	s->nregions = n;
	s->first_time = UINT64_MAX;
	for (i = 0; i < n; i++) {
		u64 len = v[i].end - v[i].start, t = rel_time(c->r, v[i].time);

		s->bytes += len;
		if (v[i].prot == PROT_NONE)
			s->reserved_bytes += len;
		if (t < s->first_time)
			s->first_time = t;
		if (t > s->last_time)
			s->last_time = t;
		if (c->have_resident &&
		    resident_of(c, v[i].start, v[i].end, &s->resident_bytes))
			any_res = true;
	}
	s->resident_known = any_res;
	if (!any_res)
		s->resident_bytes = 0;
	s->mappings = count_mappings(v, n);
	if (site_frames(c, s) || label_regions(&c->snaps, v, n, &s->rinfo) ||
	    label_gc_commits(c, v, n, s->rinfo))
		return -ENOMEM;
	s->calls = timeline_calls(c->tl, s->stack_id);
	/* by thread, a stack's history is not the (thread, stack) site's */
	if (!c->by_thread) {
		s->timeline = calloc(TIMELINE_POINTS, sizeof(*s->timeline));
		if (!s->timeline)
			return -ENOMEM;
		s->ntimeline = timeline_points(c->tl, s->stack_id, c->tl_end,
					       s->timeline, TIMELINE_POINTS);
		s->growth_bytes_per_s = timeline_slope(c->tl, s->stack_id, c->tl_end);
	}
	return site_label(s);
}

static int build_result(struct load_ctx *c)
{
	struct ml_result *r = c->r;
	struct collect_ctx cc = { .c = c };
	size_t i, j;
	int err;

	err = aspace_foreach(c->as, collect_region, &cc);
	if (!err && c->marker_bytes)
		err = note_addf(c, "%llu bytes of jitdump marker mappings (jit-PID.dump "
				"mapped for perf inject) are not counted as live",
				(unsigned long long)c->marker_bytes);
	if (err)
		goto out;
	if (c->nres)
		qsort(c->res, c->nres, sizeof(*c->res), cmp_res_start);

	r->baseline = cc.base.v;
	r->nbaseline = cc.base.n;
	cc.base.v = NULL;
	for (i = 0; i < r->nbaseline; i++)
		r->baseline_bytes += r->baseline[i].end - r->baseline[i].start;
	/* baseline regions all have time 0: each one is a maps line */
	r->baseline_mappings = r->nbaseline;
	err = label_regions(&c->snaps, r->baseline, r->nbaseline,
			    &r->baseline_rinfo);
	if (err)
		goto out;
	/* The recorder's own count, where the reconcile snapshots are gone. */
	if (r->have_check && r->check.reconciled > r->reconciles)
		r->reconciles = r->check.reconciled;

	if (c->ntids)
		qsort(c->tids, c->ntids, sizeof(*c->tids), cmp_op_tid);
	if (cc.live.n && c->by_thread)
		qsort_r(cc.live.v, cc.live.n, sizeof(*cc.live.v),
			cmp_thread_stack_addr, c);
	else if (cc.live.n)
		qsort(cc.live.v, cc.live.n, sizeof(*cc.live.v), cmp_stack_then_addr);
	err = find_gc_reserves(c, cc.live.v, cc.live.n);
	if (err)
		goto out;
	/* at most one site per region; trimmed below */
	if (cc.live.n) {
		r->sites = calloc(cc.live.n, sizeof(*r->sites));
		if (!r->sites) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < cc.live.n; i = j) {
		u32 tid = c->by_thread ? region_tid(c, &cc.live.v[i]) : 0;

		for (j = i + 1; j < cc.live.n &&
		     cc.live.v[j].stack_id == cc.live.v[i].stack_id &&
		     (!c->by_thread || region_tid(c, &cc.live.v[j]) == tid); j++)
			;
		err = build_site(c, cc.live.v + i, j - i, &r->sites[r->nsites]);
		r->sites[r->nsites].tid = tid;
		r->nsites++;	/* counted even on failure: analysis_free frees it */
		if (err)
			goto out;
		r->live_bytes += r->sites[r->nsites - 1].bytes;
		r->live_reserved_bytes += r->sites[r->nsites - 1].reserved_bytes;
		r->live_mappings += r->sites[r->nsites - 1].mappings;
	}
	/* one leak, one site; filtered and sorted there (report/group.c) */
	err = analysis_group(r, c->o);
	if (err)
		goto out;
	/* the modules' ranges, for formats that carry mappings (pprof) */
	{
		struct label_snap *sn = c->snaps.final.have ? &c->snaps.final :
					&c->snaps.last;

		r->maps = sn->e;
		r->nmaps = sn->n;
		memset(sn, 0, sizeof(*sn));
	}
out:
	free(cc.live.v);
	free(cc.base.v);
	return err;
}

/* --- load -------------------------------------------------------------- */

static int add_read_notes(struct load_ctx *c, int rc)
{
	struct ml_result *r = c->r;
	const struct rec_read_status *st = &r->read_status;
	int err = 0;

	if (rc == -ENODATA && st->truncated)
		err = note_addf(c, "recording cut short after %llu records: the recorder did not finish (killed?); results cover what was recorded",
				(unsigned long long)st->records);
	else if (rc == -ENODATA)
		err = note_addf(c, "recording damaged after %llu records (at byte %llu): results cover the sound part only",
				(unsigned long long)st->records,
				(unsigned long long)st->good_bytes);
	else if (!r->have_end)
		err = note_addf(c, "recording has no end record after %llu records: the recorder did not finish (killed?); results cover what was recorded",
				(unsigned long long)st->records);
	if (!err && st->bad_records)
		err = note_addf(c, "%llu damaged records were skipped",
				(unsigned long long)st->bad_records);
	if (!err && st->skipped_unknown)
		err = note_addf(c, "%llu records of unknown type were skipped (recorded by a newer mapleak?)",
				(unsigned long long)st->skipped_unknown);
	if (!err && c->bad_ops)
		err = note_addf(c, "%llu recorded operations could not be applied and were ignored",
				(unsigned long long)c->bad_ops);
	if (!err && c->bad_stacks)
		err = note_addf(c, "%llu recorded stacks could not be loaded; their sites show no frames",
				(unsigned long long)c->bad_stacks);
	return err;
}

int analysis_load(const char *path, struct ml_result **out)
{
	return analysis_load_by(path, 0, out);
}

int analysis_load_by(const char *path, unsigned flags, struct ml_result **out)
{
	struct analysis_opts o = { .flags = flags };

	return analysis_load_opts(path, &o, out);
}

int analysis_load_opts(const char *path, const struct analysis_opts *o,
		       struct ml_result **out)
{
	struct load_ctx c = { .by_thread = o->flags & ANALYSIS_BY_THREAD, .o = o,
			      .flags = o->flags };
	struct ml_result *r;
	size_t i;
	int rc, err;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	c.r = r;
	r->by_thread = c.by_thread;
	err = aspace_new(&c.as);
	if (!err)
		err = stackdb_new(&c.db);
	if (!err)
		err = timeline_new(&c.tl);
	if (err)
		goto out;
	aspace_set_hook(c.as, on_bytes, &c);

	rc = rec_read(path, &load_visitor, &c, &r->read_status);
	/* -ENODATA: a sound prefix was delivered; use it */
	if (rc && rc != -ENODATA) {
		err = rc < 0 ? rc : -EIO;
		goto out;
	}

	r->lost = c.lost;
	if (r->have_end) {
		r->events = r->end.events;
		if (r->end.lost > r->lost)
			r->lost = r->end.lost;
		c.end_rel = rel_time(r, r->end.end_time);
	} else {
		/* without END, the ops read are all we know of */
		r->events = c.nops;
		c.end_rel = rel_time(r, c.last_op_time);
	}
	r->duration_s = (double)c.end_rel / 1e9;
	if (o->span_ns)
		c.tl_end = o->span_ns;
	else
		c.tl_end = c.end_rel;
	if (c.tl_err) {
		err = c.tl_err;
		goto out;
	}
	timeline_finish(c.tl);

	err = add_read_notes(&c, rc);
	if (!err)
		err = build_result(&c);
out:
	for (i = 0; i < c.frames_cap; i++)
		if (c.frames[i].used)
			frame_clear(&c.frames[i].f);
	free(c.frames);
	free(c.res);
	free(c.markers);
	free(c.tids);
	free(c.gc_reserves);
	label_snaps_clear(&c.snaps);
	timeline_free(c.tl);
	if (c.db)
		stackdb_free(c.db);
	aspace_free(c.as);
	if (err) {
		analysis_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void analysis_free(struct ml_result *r)
{
	size_t i;

	if (!r)
		return;
	free(r->target.command);
	free(r->target.comm);
	for (i = 0; i < r->nsites; i++)
		analysis_site_release(&r->sites[i]);
	free(r->sites);
	free(r->baseline);
	label_info_free(r->baseline_rinfo, r->nbaseline);
	procmaps_free(r->maps, r->nmaps);
	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r);
}
