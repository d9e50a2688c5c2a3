// SPDX-License-Identifier: MIT
/*
 * Fuzzes the recording reader. The visitor reads every field and every
 * string byte, so that ASan sees any pointer or length the reader got
 * wrong, and checks what the reader promises about its status.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ctx points at a sum of everything read, so nothing is optimized away */
#define SINK (*(u64 *)ctx)

static void touch_str(void *ctx, const char *s)
{
	if (s)
		SINK += strlen(s);
}

static int f_target(void *ctx, u64 time, const struct ml_rec_target *t)
{
	SINK += time + t->pid + t->nspid + t->launched + t->stack_size +
		t->start_time + t->start_realtime;
	touch_str(ctx, t->command);
	touch_str(ctx, t->comm);
	return 0;
}

static int f_maps(void *ctx, u64 time, const struct ml_rec_maps *m)
{
	SINK += time + m->purpose;
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->e[i];

		SINK += e->start + e->end + e->offset + e->inode + e->prot +
			e->shared + e->dev_major + e->dev_minor;
		touch_str(ctx, e->path);
	}
	return 0;
}

static int f_op(void *ctx, const struct ml_op *op)
{
	SINK += op->kind + op->stack_id + op->time + op->tid + op->flags +
		(u64)op->ret + op->aux;
	for (int i = 0; i < 6; i++)
		SINK += op->args[i];
	return 0;
}

static int f_stack(void *ctx, u64 time, const struct ml_rec_stack *s)
{
	SINK += time + s->id + s->flags;
	for (u32 i = 0; i < s->n; i++)
		SINK += s->pcs[i];
	return 0;
}

static int f_frame(void *ctx, u64 time, const struct ml_rec_frame *f)
{
	SINK += time + f->f.pc + f->f.kind + f->f.line + f->f.offset +
		f->return_address;
	touch_str(ctx, f->f.symbol);
	touch_str(ctx, f->f.module);
	touch_str(ctx, f->f.file);
	touch_str(ctx, f->f.tier);
	return 0;
}

static int f_lost(void *ctx, u64 time, u64 lost)
{
	SINK += time + lost;
	return 0;
}

static int f_resident(void *ctx, u64 time, const struct ml_rec_resident *r)
{
	SINK += time;
	for (size_t i = 0; i < r->n; i++)
		SINK += r->e[i].start + r->e[i].end + r->e[i].resident +
			r->e[i].swapped;
	return 0;
}

static int f_check(void *ctx, u64 time, const struct ml_rec_check *c)
{
	SINK += time + c->kernel_pages + c->model_pages + c->missing_pages +
		c->extra_pages + c->prot_mismatch_pages + c->first_missing +
		c->first_extra + c->reconciled;
	return 0;
}

static int f_end(void *ctx, u64 time, const struct ml_rec_end *e)
{
	SINK += time + e->stopped_by + e->target_alive + e->end_time +
		e->events + e->lost + (u64)e->exit_status;
	return 0;
}

static int f_brk(void *ctx, u64 time, const struct ml_rec_brk *b)
{
	SINK += time + b->start_brk + b->brk;
	return 0;
}

static int f_note(void *ctx, u64 time, const char *text)
{
	SINK += time;
	touch_str(ctx, text);
	return 0;
}

static void touch_syms(void *ctx, const struct ml_rec_sym *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		SINK += e[i].start + e[i].size;
		touch_str(ctx, e[i].name);
	}
}

static int f_jitsyms(void *ctx, u64 time, const struct ml_rec_jitsyms *j)
{
	SINK += time;
	touch_syms(ctx, j->e, j->n);
	return 0;
}

static int f_modsyms(void *ctx, u64 time, const struct ml_rec_modsyms *m)
{
	SINK += time + m->lo + m->hi + m->bias;
	touch_str(ctx, m->module);
	touch_syms(ctx, m->e, m->n);
	return 0;
}

static int f_fold(void *ctx, u64 time, const struct ml_rec_fold *f)
{
	u64 *sum = ctx;

	*sum += time + f->first_time + f->ops + f->start_brk + f->brk;
	for (size_t i = 0; i < f->ncounts; i++)
		*sum += f->counts[i].stack_id + f->counts[i].calls;
	for (size_t i = 0; i < f->ndeltas; i++)
		*sum += f->deltas[i].stack_id + f->deltas[i].tick + (u64)f->deltas[i].delta;
	return 0;
}

static int f_patch(void *ctx, u64 time, const struct ml_rec_patch *p)
{
	u64 *sum = ctx;

	*sum += time + p->start + p->end;
	for (size_t i = 0; i < p->n; i++)
		*sum += p->e[i].r.start + p->e[i].r.end + p->e[i].r.prot + p->e[i].r.flags +
			p->e[i].r.stack_id + p->e[i].r.reserve_stack_id + p->e[i].r.time +
			p->e[i].tid;
	return 0;
}

static const struct rec_visitor visitor = {
	.fold = f_fold, .patch = f_patch,
	.target = f_target, .maps = f_maps, .op = f_op, .stack = f_stack,
	.frame = f_frame, .lost = f_lost, .resident = f_resident,
	.check = f_check, .end = f_end, .brk = f_brk, .note = f_note,
	.jitsyms = f_jitsyms, .modsyms = f_modsyms,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u64 sum;
	struct rec_read_status st;
	int rc = rec_read_mem(data, size, &visitor, &sum, &st);

	/* the reader's promises: these error codes only, and a sound
	 * prefix never longer than the input */
	if (rc != 0 && rc != -ENODATA && rc != -EBADMSG)
		abort();
	if (st.good_bytes > size || (st.truncated && rc != -ENODATA))
		abort();
	return 0;
}
