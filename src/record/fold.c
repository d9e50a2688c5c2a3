// SPDX-License-Identifier: MIT
/*
 * One window of ops: kept in memory, applied to the live set as they come
 * with their byte changes summed per (stack, tick) and the address ranges
 * they touched listed. At the end of the window, whichever is smaller is
 * written: the ops themselves, or FOLD + PATCH. A PATCH covers each
 * touched range widened to whole live regions, so replacing the range in
 * the reader's live set by the PATCH regions gives exactly the writer's
 * live set, node for node (see aspace_patch()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "record/fold.h"
#include "track/timeline.h"

/* Record sizes, for choosing the smaller form (docs/recording-format.md). */
#define OP_REC_BYTES		80u	/* an OP record, typically */
#define FOLD_REC_BYTES		64u
#define PATCH_REC_BYTES		40u
#define PATCH_REGION_BYTES	48u
#define COUNT_BYTES		16u
#define DELTA_BYTES		24u

struct range {
	u64 start, end;
};

struct folder {
	struct aspace *as;
	u64 start_time;
	u32 window;

	struct ml_op *ops;
	size_t nops;
	bool unfoldable;	/* an op whose touched range is not known */

	struct range *rg;
	size_t nrg, rg_cap;

	struct ml_rec_fold_delta *d;
	size_t nd, d_cap;
	u64 cur_tick;		/* of the op being applied */
	u64 shm_run;		/* bytes a shmdt without size detaches */
	bool active;		/* applying a window op: count its changes */
	int err;		/* -ENOMEM while counting */

	struct ml_rec_patch_region *pr;	/* PATCH scratch */
	size_t npr, pr_cap;

	/* folded but not yet written: counts; deltas and ranges are above */
	struct ml_rec_fold_count *cnt;
	size_t ncnt, cnt_cap;
	u64 pend_ops, pend_first, pend_last;

	u64 cap;		/* --max-size, 0: none */
	bool capped;		/* the file reached it */
	u64 capped_time;

	struct fold_stats st;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	np = reallocarray(*p, ncap, elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static void on_bytes(void *ctx, u32 stack_id, s64 delta)
{
	struct folder *f = ctx;

	if (!f->active)
		return;
	if (f->nd && f->d[f->nd - 1].stack_id == stack_id &&
	    f->d[f->nd - 1].tick == f->cur_tick) {
		f->d[f->nd - 1].delta += delta;
		return;
	}
	if (grow((void **)&f->d, &f->d_cap, f->nd + 1, sizeof(*f->d))) {
		f->err = -ENOMEM;
		return;
	}
	f->d[f->nd++] = (struct ml_rec_fold_delta){ stack_id, f->cur_tick, delta };
}

int folder_new(struct folder **out, struct aspace *as, u64 start_time, u32 window)
{
	struct folder *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->as = as;
	f->start_time = start_time;
	f->window = window ? window : FOLD_WINDOW_OPS;
	f->ops = calloc(f->window, sizeof(*f->ops));
	if (!f->ops) {
		free(f);
		return -ENOMEM;
	}
	aspace_set_hook(as, on_bytes, f);
	*out = f;
	return 0;
}

void folder_free(struct folder *f)
{
	if (!f)
		return;
	aspace_set_hook(f->as, NULL, NULL);
	free(f->ops);
	free(f->rg);
	free(f->d);
	free(f->pr);
	free(f->cnt);
	free(f);
}

static int add_range(struct folder *f, u64 addr, u64 len)
{
	u64 end;

	if (!len)
		return 0;
	end = ML_PAGE_UP(addr + len);
	if (end <= addr) {		/* wraps: the op was refused anyway */
		f->unfoldable = true;
		return 0;
	}
	if (grow((void **)&f->rg, &f->rg_cap, f->nrg + 1, sizeof(*f->rg)))
		return -ENOMEM;
	f->rg[f->nrg++] = (struct range){ addr & ~(u64)(ML_PAGE_SIZE - 1), end };
	return 0;
}

/* The address ranges op can change (a superset is fine). */
static int touch(struct folder *f, const struct ml_op *op, u64 brk_before)
{
	switch (op->kind) {
	case ML_OP_MMAP:
		return add_range(f, (u64)op->ret, op->args[1]);
	case ML_OP_MUNMAP:
	case ML_OP_MPROTECT:
		return add_range(f, op->args[0], op->args[1]);
	case ML_OP_MREMAP:
		return add_range(f, op->args[0], op->args[1]) ?:
		       add_range(f, (u64)op->ret, op->args[2]);
	case ML_OP_BRK: {
		u64 old = op->aux ? op->aux : brk_before, now = (u64)op->ret;
		u64 a = ML_PAGE_UP(old), b = ML_PAGE_UP(now);

		if (!old || a == b)
			return 0;
		return a < b ? add_range(f, a, b - a) : add_range(f, b, a - b);
	}
	case ML_OP_SHMAT:
		return add_range(f, (u64)op->ret, op->aux);
	case ML_OP_SHMDT:
		if (op->aux)
			return add_range(f, op->args[0], op->aux);
		return add_range(f, op->args[0], f->shm_run);
	case ML_OP_EXIT:
		return 0;
	default:			/* EXEC and anything new: written as is */
		f->unfoldable = true;
		return 0;
	}
}

struct run_ctx {
	u64 pos;
};

static int run_cb(void *ctx, const struct ml_region *r)
{
	struct run_ctx *c = ctx;

	if (r->start > c->pos || !(r->flags & ML_RF_SHM))
		return 1;
	c->pos = r->end;
	return 0;
}

/* The contiguous run of SysV segments from addr: what shmdt without a
 * size detaches (as aspace.c finds it), measured before it does. */
static void shm_run(struct folder *f, u64 addr)
{
	struct run_ctx c = { addr };

	aspace_foreach_in(f->as, addr, UINT64_MAX, run_cb, &c);
	f->shm_run = c.pos - addr;
}

static int window_close(struct folder *f, struct rec_writer *w, bool forced);

static u64 tick_of(const struct folder *f, u64 t)
{
	return (t > f->start_time ? t - f->start_time : 0) / TIMELINE_TICK_NS;
}

int folder_apply(struct folder *f, struct rec_writer *w, const struct ml_op *op)
{
	u64 sb, brk;
	int err;

	/* EXEC empties the space: not worth folding, written in its place */
	if (op->kind == ML_OP_EXEC) {
		err = folder_flush(f, w);
		if (!err)
			err = aspace_apply(f->as, op);
		if (!err)
			f->st.ops_written++;
		return err ? err : rec_put_op(w, op);
	}
	if (f->nops && (f->nops == f->window ||
			op->time > f->ops[0].time + FOLD_HORIZON_NS)) {
		err = window_close(f, w, false);
		if (err)
			return err;
	}
	aspace_get_brk(f->as, &sb, &brk);
	if (op->kind == ML_OP_SHMDT && !op->aux)
		shm_run(f, op->args[0]);
	f->cur_tick = tick_of(f, op->time);
	f->active = true;
	err = aspace_apply(f->as, op);
	f->active = false;
	if (err)
		return err;	/* nothing changed: nothing to keep */
	f->ops[f->nops++] = *op;
	err = touch(f, op, brk);
	if (!err && f->err)
		err = f->err;
	if (err)		/* cannot describe the window: write it as ops */
		f->unfoldable = true;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts and merges overlapping or touching ranges. */
static void merge_ranges(struct folder *f)
{
	size_t k = 0;

	qsort(f->rg, f->nrg, sizeof(*f->rg), cmp_range);
	for (size_t i = 0; i < f->nrg; i++) {
		if (k && f->rg[i].start <= f->rg[k - 1].end) {
			if (f->rg[i].end > f->rg[k - 1].end)
				f->rg[k - 1].end = f->rg[i].end;
		} else {
			f->rg[k++] = f->rg[i];
		}
	}
	f->nrg = k;
}

struct widen_ctx {
	u64 lo, hi;
};

static int widen_cb(void *ctx, const struct ml_region *r)
{
	struct widen_ctx *w = ctx;

	if (r->start < w->lo)
		w->lo = r->start;
	if (r->end > w->hi)
		w->hi = r->end;
	return 0;
}

/* Each range widened to the whole regions at its ends: a region that
 * crosses the edge is then written whole, not cut in two. */
static void widen_ranges(struct folder *f)
{
	for (size_t i = 0; i < f->nrg; i++) {
		struct widen_ctx w = { f->rg[i].start, f->rg[i].end };

		aspace_foreach_in(f->as, f->rg[i].start, f->rg[i].start + 1, widen_cb, &w);
		aspace_foreach_in(f->as, f->rg[i].end - 1, f->rg[i].end, widen_cb, &w);
		f->rg[i].start = w.lo;
		f->rg[i].end = w.hi;
	}
	merge_ranges(f);
}

struct count_ctx {
	size_t n;
};

static int count_cb(void *ctx, const struct ml_region *r)
{
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static int cmp_op_time(const void *a, const void *b)
{
	const struct ml_op *x = a, *y = b;

	return x->time < y->time ? -1 : x->time > y->time;
}

/* The thread of the window op that made r, or 0 (made before). */
static u32 tid_of(const struct folder *f, const struct ml_region *r)
{
	struct ml_op key = { .time = r->time };
	const struct ml_op *o = bsearch(&key, f->ops, f->nops, sizeof(*f->ops),
					cmp_op_time);

	if (!o)
		return 0;
	/* ops of one time: look around for the stack */
	while (o > f->ops && o[-1].time == r->time)
		o--;
	for (; o < f->ops + f->nops && o->time == r->time; o++)
		if (o->stack_id == r->stack_id)
			return o->tid;
	return 0;
}

static int collect_cb(void *ctx, const struct ml_region *r)
{
	struct folder *f = ctx;

	if (grow((void **)&f->pr, &f->pr_cap, f->npr + 1, sizeof(*f->pr)))
		return -ENOMEM;
	f->pr[f->npr].r = *r;
	f->pr[f->npr].tid = tid_of(f, r);
	f->npr++;
	return 0;
}

static int write_patches(struct folder *f, struct rec_writer *w, u64 time)
{
	for (size_t i = 0; i < f->nrg; i++) {
		u64 start = f->rg[i].start;
		size_t done = 0;
		int err;

		f->npr = 0;
		err = aspace_foreach_in(f->as, f->rg[i].start, f->rg[i].end,
					collect_cb, f);
		if (err)
			return err;
		/* one record per ML_PATCH_MAX regions, split between regions */
		do {
			size_t n = f->npr - done < ML_PATCH_MAX ? f->npr - done : ML_PATCH_MAX;
			struct ml_rec_patch p = {
				.start = start,
				.end = done + n < f->npr ? f->pr[done + n - 1].r.end : f->rg[i].end,
				.n = n, .e = f->pr + done,
			};

			err = rec_put_patch(w, time, &p);
			if (err)
				return err;
			start = p.end;
			done += n;
		} while (done < f->npr);
	}
	return 0;
}

static int cmp_delta(const void *a, const void *b)
{
	const struct ml_rec_fold_delta *x = a, *y = b;

	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return x->tick < y->tick ? -1 : x->tick > y->tick;
}

static int cmp_count(const void *a, const void *b)
{
	const struct ml_rec_fold_count *x = a, *y = b;

	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

/* Per (stack, tick) sums; changes that cancel out are dropped. */
static void compact_deltas(struct folder *f)
{
	size_t nd = 0;

	qsort(f->d, f->nd, sizeof(*f->d), cmp_delta);
	for (size_t i = 0; i < f->nd; i++) {
		if (nd && f->d[nd - 1].stack_id == f->d[i].stack_id &&
		    f->d[nd - 1].tick == f->d[i].tick)
			f->d[nd - 1].delta += f->d[i].delta;
		else
			f->d[nd++] = f->d[i];
		if (nd && !f->d[nd - 1].delta)
			nd--;
	}
	f->nd = nd;
}

/* The window's ops become pending counts; the ops stay for tid_of(). */
static int absorb_window(struct folder *f)
{
	size_t n = f->ncnt;

	for (size_t i = 0; i < f->nops; i++) {
		if (f->ops[i].time > f->pend_last)
			f->pend_last = f->ops[i].time;
		if (!f->pend_ops || f->ops[i].time < f->pend_first)
			f->pend_first = f->ops[i].time;
		f->pend_ops++;
		if (!f->ops[i].stack_id)
			continue;
		if (grow((void **)&f->cnt, &f->cnt_cap, n + 1, sizeof(*f->cnt)))
			return -ENOMEM;
		f->cnt[n++] = (struct ml_rec_fold_count){ f->ops[i].stack_id, 1 };
	}
	qsort(f->cnt, n, sizeof(*f->cnt), cmp_count);
	f->ncnt = 0;
	for (size_t i = 0; i < n; i++) {
		if (f->ncnt && f->cnt[f->ncnt - 1].stack_id == f->cnt[i].stack_id)
			f->cnt[f->ncnt - 1].calls += f->cnt[i].calls;
		else
			f->cnt[f->ncnt++] = f->cnt[i];
	}
	compact_deltas(f);
	merge_ranges(f);
	return 0;
}

static void window_reset(struct folder *f)
{
	f->nops = 0;
	f->unfoldable = false;
	f->err = 0;
}

static void pending_reset(struct folder *f)
{
	f->nrg = 0;
	f->nd = 0;
	f->ncnt = 0;
	f->pend_ops = 0;
	f->pend_first = f->pend_last = 0;
}

static int write_ops(struct folder *f, struct rec_writer *w)
{
	int err = 0;

	for (size_t i = 0; i < f->nops && !err; i++)
		err = rec_put_op(w, &f->ops[i]);
	f->st.ops_written += f->nops;
	window_reset(f);
	pending_reset(f);
	return err;
}

/* FOLD and PATCH records for what is pending. */
static int write_pending(struct folder *f, struct rec_writer *w)
{
	struct ml_rec_fold fold = { 0 };
	int err;

	widen_ranges(f);
	qsort(f->ops, f->nops, sizeof(*f->ops), cmp_op_time);
	fold.first_time = f->pend_first;
	fold.ops = f->pend_ops;
	aspace_get_brk(f->as, &fold.start_brk, &fold.brk);
	fold.ncounts = f->ncnt;
	fold.counts = f->cnt;
	fold.ndeltas = f->nd;
	fold.deltas = f->d;
	err = rec_put_fold(w, f->pend_last, &fold);
	if (!err)
		err = write_patches(f, w, f->pend_last);
	f->st.ops_folded += f->pend_ops;
	f->st.windows_folded++;
	window_reset(f);
	pending_reset(f);
	return err;
}

/* Would FOLD + PATCH be smaller than the window's ops? */
static bool worth_folding(struct folder *f)
{
	size_t nregions = 0;

	compact_deltas(f);
	merge_ranges(f);
	widen_ranges(f);
	for (size_t i = 0; i < f->nrg; i++) {
		struct count_ctx c = { 0 };

		aspace_foreach_in(f->as, f->rg[i].start, f->rg[i].end, count_cb, &c);
		nregions += c.n;
	}
	return FOLD_REC_BYTES + f->nops * COUNT_BYTES + f->nd * DELTA_BYTES +
	       f->nrg * PATCH_REC_BYTES + nregions * PATCH_REGION_BYTES <
	       (u64)f->nops * OP_REC_BYTES;
}

/* The end of a window: forced (a record must follow the ops) or full. */
static int window_close(struct folder *f, struct rec_writer *w, bool forced)
{
	int err;

	if (!f->nops && !f->pend_ops)
		return 0;
	if (f->cap && !f->capped && rec_writer_size(w) >= f->cap) {
		f->capped = true;
		f->capped_time = f->nops ? f->ops[0].time : 0;
	}
	if (f->capped) {
		/* past --max-size: nothing more until a record must follow */
		err = absorb_window(f);
		if (err)
			f->unfoldable = true;	/* exact no more: said in a note */
		f->st.ops_capped += f->nops;
		if (!forced) {
			window_reset(f);
			return 0;
		}
		return write_pending(f, w);
	}
	if (f->unfoldable || f->nops < 2 || !worth_folding(f))
		return write_ops(f, w);
	err = absorb_window(f);
	if (err)
		return write_ops(f, w);
	return write_pending(f, w);
}

int folder_flush(struct folder *f, struct rec_writer *w)
{
	return window_close(f, w, true);
}

int folder_tick(struct folder *f, struct rec_writer *w, u64 now)
{
	if (f->nops && now > f->ops[0].time + FOLD_HORIZON_NS)
		return window_close(f, w, false);
	return 0;
}

void folder_set_max_size(struct folder *f, u64 max_size)
{
	f->cap = max_size;
}

void folder_stats(const struct folder *f, struct fold_stats *s)
{
	*s = f->st;
	s->capped = f->capped;
	s->capped_time = f->capped_time;
}
