/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder.h): one recording session. collect -> unwind ->
 * track -> record. The command (cmd-record.c) parses options, prints
 * what the recorder says and the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "collect/collect.h"
#include "record/record.h"
#include "record/recorder.h"
#include "record/fold.h"
#include "record/symdump.h"
#include "runtime/runtime.h"
#include "symbols/symtab.h"
#include "target/proc.h"
#include "track/aspace.h"
#include "track/procmaps.h"
#include "track/reorder.h"
#include "track/resident.h"
#include "track/stacks.h"
#include "unwind/unwind.h"
#include "util/vec.h"

#define REORDER_WINDOW_NS	(50ull * 1000 * 1000)
#define POLL_MS			50
#define CHECK_NS		(100ull * 1000 * 1000)
#define PERIODIC_NS		(1000ull * 1000 * 1000)
/*
 * A stack with JIT code is interned with the jitdump entries its pcs were
 * in at the event (symtab_jit_epochs): the same pcs later may be another
 * method (tiering, unloading), so another stack. Each such combination
 * gets a number, kept in stack flag bits that are never written out.
 */
#define SF_VARIANT_SHIFT	12
#define SF_VARIANT_MAX		((1u << (32 - SF_VARIANT_SHIFT)) - 1)
#define SF_WRITTEN		((1u << SF_VARIANT_SHIFT) - 1)

/* The name of an interpreted Java frame, read at the event (the Method*
 * is the target's: named while the target is alive). */
struct jframe {
	u32 stack_id;
	u32 index;		/* frame index in the stack */
	struct ml_frame f;	/* f.pc as in the stack */
};

struct recorder {
	struct recorder_opts o;
	pid_t pid;
	bool launched;

	struct collector *col;
	struct symtab *st;
	struct unwinder *uw;	/* over st's modules */
	struct runtimes *rt;	/* .NET, JVM, Node: src/runtime/ */
	struct stackdb *stacks;
	struct aspace *as;
	struct folder *fold;	/* NULL: every op written as it comes */
	struct reorder *ro;
	struct rec_writer *w;
	char *comm;		/* the target's, at attach */

	u64 start_time;
	u64 events;
	u64 lost;
	u64 reconciles;
	u64 reconciled_pages;
	u32 children;		/* processes the target started */
	u64 mm;
	bool exited;		/* the whole thread group is gone */
	int exit_status;	/* launch mode: wait status */
	bool reaped;
	int write_err;
	u64 rejected;		/* ops the live set refused */
	int rejected_err;	/* the first reason */
	int exec_baseline_err;	/* maps unreadable after an exec */
	u64 pcs[ML_STACK_MAX_FRAMES];
	/* pcs, then their epochs, then (interpreted Java) their Method* */
	u64 jitkey[3 * ML_STACK_MAX_FRAMES];
	struct stackdb *jitkeys;	/* (pcs, epochs, methods) combinations seen */
	u64 fps[ML_STACK_MAX_FRAMES];	/* frame pointers of r->pcs */
	u64 meths[ML_STACK_MAX_FRAMES];	/* Method* of interpreted Java frames */
	struct jframe *jframes;	/* their names, by (stack id, frame) */
	size_t njframes, capjframes;
	u64 *stack_time;	/* by stack id: when it was first seen */
	u32 stack_time_cap;
	u64 next_check;		/* recorder_step(): slower checks */
	u64 next_periodic;
};

static void note_err(struct recorder *r, int err)
{
	if (err < 0 && !r->write_err)
		r->write_err = err;
}

/* The one way the recorder talks to the user: a note is also recorded,
 * so the report shows it too. */
static void rec_say(struct recorder *r, enum rec_say level, const char *text)
{
	if (level == REC_SAY_NOTE && r->w)
		note_err(r, rec_put_note(r->w, ml_now_ns(CLOCK_MONOTONIC), text));
	if (r->o.say)
		r->o.say(r->o.say_ctx, level, text);
}

__attribute__((format(printf, 3, 4)))
static void rec_sayf(struct recorder *r, enum rec_say level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rec_say(r, level, buf);
}

static int apply_op(struct recorder *r, const struct ml_op *op);

/* Ops kept for folding go out before a record whose place among them
 * matters (maps, brk, the end). */
static void fold_flush(struct recorder *r)
{
	if (r->fold && r->w)
		note_err(r, folder_flush(r->fold, r->w));
}

/* An op the live set refused (-EINVAL: malformed; -ENOMEM) is counted,
 * and the report says so: the live set may then differ from the kernel's,
 * which the final check measures. */
static void count_rejected(struct recorder *r, int err)
{
	if (err < 0) {
		r->rejected++;
		if (!r->rejected_err)
			r->rejected_err = err;
	}
}

/* Takes /proc/PID/maps as the starting point of a (new) address space. */
static int take_baseline(struct recorder *r, u32 purpose, u64 time)
{
	struct maps_entry *e = NULL;
	struct ml_rec_maps m;
	struct ml_rec_brk b = { 0 };
	size_t n = 0;
	int err;

	fold_flush(r);
	err = procmaps_read(r->pid, &e, &n);
	if (err)
		return err;
	m.purpose = purpose;
	m.n = n;
	m.e = e;
	err = aspace_add_baseline(r->as, e, n);
	note_err(r, rec_put_maps(r->w, time, &m));
	b.start_brk = proc_start_brk(r->pid);
	b.brk = b.start_brk;
	for (size_t i = 0; i < n; i++)
		if (e[i].path && !strcmp(e[i].path, "[heap]"))
			b.brk = e[i].end;
	aspace_set_brk(r->as, b.start_brk, b.brk);
	note_err(r, rec_put_brk(r->w, time, &b));
	procmaps_free(e, n);
	return err;
}

/* After lost events: the kernel's view wins; the recording says so. */
static void reconcile(struct recorder *r)
{
	struct maps_entry *e = NULL;
	struct ml_rec_maps m;
	struct ml_op op;
	size_t n = 0;
	u64 changed = 0;

	while (reorder_pop(r->ro, &op, true) == 1)
		count_rejected(r, apply_op(r, &op));
	if (procmaps_read(r->pid, &e, &n))
		return;
	/* An exiting process (its exit event lost with the others) shows
	 * no maps at all: that is not a state to take as the live set. */
	if (n == 0) {
		procmaps_free(e, n);
		return;
	}
	m.purpose = ML_MAPS_RECONCILE;
	m.n = n;
	m.e = e;
	fold_flush(r);
	note_err(r, rec_put_maps(r->w, ml_now_ns(CLOCK_MONOTONIC), &m));
	aspace_reconcile(r->as, e, n, &changed);
	procmaps_free(e, n);
	r->reconciles++;
	r->reconciled_pages += changed;
}

static int apply_op(struct recorder *r, const struct ml_op *op)
{
	int err;

	if (r->fold) {
		err = folder_apply(r->fold, r->w, op);
		if (err == -EINVAL || err == -ENOMEM)
			return err;	/* refused by the live set */
		note_err(r, err);	/* else a write error */
	} else {
		err = aspace_apply(r->as, op);
		if (err)
			return err;
		note_err(r, rec_put_op(r->w, op));
	}
	if (op->kind == ML_OP_EXEC) {
		/* A new image: its first mappings were made by the kernel. */
		symtab_reset(r->st);
		err = take_baseline(r, ML_MAPS_EXEC, op->time);
		if (err && !r->exec_baseline_err)
			r->exec_baseline_err = err;
	}
	return 0;
}

/* Can this change bring a new module (code) that unwinding must know?
 * Only executable mappings do; re-reading maps for every munmap would
 * cost the target its mmap_lock and us a maps read per event. */
static bool maps_code(const struct ml_event_hdr *ev)
{
	switch (ev->kind) {
	case ML_OP_MMAP:
	case ML_OP_MPROTECT:
		return ev->args[2] & PROT_EXEC;
	case ML_OP_MREMAP:
		return true;
	default:
		return false;
	}
}

/*
 * The SF_VARIANT bits for r->pcs[0..n) at time: 0 without JIT code the
 * jitdump knows and without interpreted Java frames (njava: how many
 * r->meths holds). Interpreted frames return into the same interpreter
 * pcs whatever method they run, so the methods tell stacks apart.
 */
static u32 jit_variant(struct recorder *r, u32 n, u64 time, u32 njava)
{
	u32 kid = 0, nkey = 2 * n;

	if (!symtab_jit_epochs(r->st, r->pcs, n, time, r->jitkey + n) && !njava)
		return 0;
	if (!r->jitkeys && stackdb_new(&r->jitkeys))
		return 0;
	memcpy(r->jitkey, r->pcs, n * sizeof(*r->pcs));
	if (njava) {
		memcpy(r->jitkey + 2 * n, r->meths, n * sizeof(*r->meths));
		nkey = 3 * n;
	}
	if (stackdb_intern(r->jitkeys, r->jitkey, nkey, 0, &kid, NULL) ||
	    kid > SF_VARIANT_MAX)
		return 0;	/* named as of the end: the latest method */
	return kid << SF_VARIANT_SHIFT;
}

/* When stack id was first seen: its JIT frames are named as of then. */
static void remember_time(struct recorder *r, u32 id, u64 time)
{
	if (id >= r->stack_time_cap) {
		u32 cap = r->stack_time_cap ? r->stack_time_cap : 1024;
		u64 *p;

		while (cap <= id && cap < UINT32_MAX / 2)
			cap *= 2;
		if (cap <= id)
			return;
		p = reallocarray(r->stack_time, cap, sizeof(*p));
		if (!p)
			return;
		memset(p + r->stack_time_cap, 0,
		       (size_t)(cap - r->stack_time_cap) * sizeof(*p));
		r->stack_time = p;
		r->stack_time_cap = cap;
	}
	r->stack_time[id] = time;
}

#define CHILD_NOTES 3

/* mapleak follows one process: say so when it starts others, whose
 * mappings are not in this recording (`-- sh -c ...`, `dotnet run`). */
static void note_child(struct recorder *r, pid_t child)
{
	char note[200];

	if (++r->children > CHILD_NOTES)
		return;
	snprintf(note, sizeof(note),
		 "pid %d started process %d, which is not traced (mapleak "
		 "follows one process; to see its mappings: mapleak record -p %d)",
		 r->pid, child, child);
	rec_say(r, REC_SAY_NOTE, note);
}

/* Names the interpreted Java frames (r->meths) of new stack id now,
 * while the target and its Method*s live. A frame that cannot be read
 * keeps the interpreter's generic name. */
static void name_java_frames(struct recorder *r, u32 id, u32 n)
{
	for (u32 i = 1; i < n; i++) {
		struct jframe *j;

		if (!r->meths[i])
			continue;
		if (r->njframes == r->capjframes) {
			size_t cap = r->capjframes ? r->capjframes * 2 : 64;
			struct jframe *p = reallocarray(r->jframes, cap, sizeof(*p));

			if (!p)
				return;
			r->jframes = p;
			r->capjframes = cap;
		}
		j = &r->jframes[r->njframes];
		memset(j, 0, sizeof(*j));
		if (symtab_java_method(r->st, r->meths[i], &j->f))
			continue;
		j->f.pc = r->pcs[i];
		j->stack_id = id;
		j->index = i;
		r->njframes++;
	}
}

static int on_event(void *ctx, const struct ml_event_hdr *ev,
		    const void *stack, size_t size)
{
	struct recorder *r = ctx;
	struct ml_op op = { 0 };
	u32 n = 0, sflags = 0;
	int err;

	if (ev->tgid != (u32)r->pid)
		return 0;
	r->events++;
	if (ev->kind == ML_OP_EXIT) {
		r->exited = true;
		return 0;
	}
	if (ev->kind == ML_OP_FORK) {
		note_child(r, (pid_t)ev->aux);
		return 0;
	}
	if (maps_code(ev))
		symtab_maps_changed(r->st);

	op.kind = ev->kind;
	op.time = ev->t_order ? ev->t_order : ev->t_exit;
	op.tid = ev->tid;
	op.flags = ev->flags;
	memcpy(op.args, ev->args, sizeof(op.args));
	op.ret = ev->ret;
	op.aux = ev->aux;

	/* Only what maps memory gets an origin: no unwinding for brk(0)
	 * queries, shrinks or unmaps. */
	if (ml_op_maps_memory(ev->kind, ev->ret, ev->aux)) {
		bool is_new = false;
		u32 len = ev->stack_len <= size ? ev->stack_len : (u32)size;

		symtab_refresh(r->st);
		err = unwinder_walk(r->uw, ev->tid, (const u64 *)ev->regs, stack, len,
				    ev->flags, r->pcs, r->fps, ML_STACK_MAX_FRAMES, &n,
				    &sflags);
		if (err || n == 0) {
			/* Keep at least the interrupted pc. */
			r->pcs[0] = ev->regs[ML_REG_IP];
			n = r->pcs[0] ? 1 : 0;
			sflags |= ML_SF_UNWIND_ERR;
		}
		if (n) {
			u32 njava = symtab_java_methods(r->st, r->pcs, r->fps, n, stack,
							ev->regs[ML_REG_SP], len,
							r->meths);

			n = symtab_java_gaps(r->st, r->pcs, n, ML_STACK_MAX_FRAMES,
					     r->meths);
			err = stackdb_intern(r->stacks, r->pcs, n,
					     sflags | jit_variant(r, n, op.time, njava),
					     &op.stack_id, &is_new);
			if (err)
				return err;
			if (is_new && njava)
				name_java_frames(r, op.stack_id, n);
			if (is_new) {
				struct ml_rec_stack s = {
					.id = op.stack_id, .flags = sflags & SF_WRITTEN,
					.n = n, .pcs = r->pcs,
				};
				note_err(r, rec_put_stack(r->w, op.time, &s));
				remember_time(r, op.stack_id, op.time);
			}
		}
	}
	return reorder_push(r->ro, &op, ev->t_exit);
}

static void drain_ready(struct recorder *r, bool flush)
{
	struct ml_op op;

	while (reorder_pop(r->ro, &op, flush) == 1)
		count_rejected(r, apply_op(r, &op));
}

struct resident_ctx {
	int fd;
	size_t n, cap;
	struct ml_rec_resident_entry *e;
};

static int resident_cb(void *ctx, const struct ml_region *reg)
{
	struct resident_ctx *rc = ctx;
	struct ml_rec_resident_entry *e;
	u64 res = 0, swp = 0;

	if (ML_VEC_GROW(rc->e, rc->cap, rc->n + 1))
		return -ENOMEM;
	if (resident_measure(rc->fd, reg->start, reg->end, &res, &swp))
		return 0;
	e = &rc->e[rc->n++];
	e->start = reg->start;
	e->end = reg->end;
	e->resident = res;
	e->swapped = swp;
	return 0;
}

/* While the target is still alive: check against the kernel, measure RAM. */
static bool final_snapshot(struct recorder *r, struct aspace_check *chk)
{
	struct maps_entry *e = NULL;
	struct resident_ctx rc = { .fd = -1 };
	struct ml_rec_resident res;
	struct ml_rec_check c = { 0 };
	struct ml_rec_maps m;
	size_t n = 0;
	u64 t;

	if (r->exited || !proc_alive(r->pid))
		return false;
	rc.fd = resident_open(r->pid);
	/*
	 * A busy target keeps mapping while we look: take a snapshot that no
	 * event came after (the ring was drained before it, and is still
	 * empty after it), or the check would compare two different moments.
	 */
	for (int tries = 0;; tries++) {
		u64 before = r->events;

		if (procmaps_read(r->pid, &e, &n)) {
			if (rc.fd >= 0)
				close(rc.fd);
			return false;
		}
		while (collector_poll(r->col, 0, on_event, r) > 0)
			;
		drain_ready(r, true);
		if (r->events == before || tries == 9)
			break;
		procmaps_free(e, n);
		e = NULL;
		n = 0;
	}
	t = ml_now_ns(CLOCK_MONOTONIC);
	fold_flush(r);
	m.purpose = ML_MAPS_FINAL;
	m.n = n;
	m.e = e;
	note_err(r, rec_put_maps(r->w, t, &m));
	if (!aspace_check(r->as, e, n, chk)) {
		c.kernel_pages = chk->kernel_pages;
		c.model_pages = chk->model_pages;
		c.missing_pages = chk->missing_pages;
		c.extra_pages = chk->extra_pages;
		c.prot_mismatch_pages = chk->prot_mismatch_pages;
		c.first_missing = chk->first_missing;
		c.first_extra = chk->first_extra;
		c.reconciled = (u32)r->reconciles;
		note_err(r, rec_put_check(r->w, t, &c));
	}
	procmaps_free(e, n);
	if (rc.fd >= 0) {
		aspace_foreach(r->as, resident_cb, &rc);
		res.n = rc.n;
		res.e = rc.e;
		note_err(r, rec_put_resident(r->w, t, &res));
		free(rc.e);
		close(rc.fd);
	}
	return true;
}

/* JIT files over a cap (symtab.c): on stderr and in the report. */
static void symtab_notes(struct recorder *r)
{
	size_t n = 0;
	const char *const *notes = symtab_new_notes(r->st, &n);

	for (size_t i = 0; i < n; i++)
		rec_say(r, REC_SAY_NOTE, notes[i]);
}

/* What a runtime says (src/runtime/): a note also goes to the report. */
static void runtime_say(void *ctx, enum rt_say level, const char *text)
{
	static const enum rec_say lv[] = {
		[RT_SAY_NOTE] = REC_SAY_NOTE,
		[RT_SAY_INFO] = REC_SAY_INFO,
		[RT_SAY_WARN] = REC_SAY_WARN,
	};

	rec_say(ctx, lv[level], text);
}

/*
 * JIT frames of stack id whose method at the stack's time is not the one
 * the pc's generic FRAME names (its address was re-used since): a FRAME
 * scoped to this stack.
 */
static void write_timed_frames(struct recorder *r, u32 id, const u64 *pcs,
			       u32 n, u64 t)
{
	u64 when = id < r->stack_time_cap ? r->stack_time[id] : 0;

	for (u32 i = 0; when && i < n; i++) {
		struct ml_rec_frame f = { 0 };
		u64 then = symtab_jit_epoch(r->st, pcs[i], i > 0, when);

		if (!then || then == symtab_jit_epoch(r->st, pcs[i], i > 0,
						      UINT64_MAX))
			continue;
		if (symtab_name_at(r->st, pcs[i], i > 0, when, &f.f))
			continue;
		f.f.pc = pcs[i];
		f.return_address = i > 0;
		f.stack_id = id;
		note_err(r, rec_put_frame(r->w, t, &f));
		ml_frame_release(&f.f);
	}
}

/* Names every distinct pc of every stack, once; and JIT pcs re-used by
 * another method per stack, as of when the stack was seen. */
static void write_frames(struct recorder *r)
{
	u32 count = stackdb_count(r->stacks);
	struct stackdb *seen = NULL;
	struct symdump_stats sds;
	u64 t = ml_now_ns(CLOCK_MONOTONIC);

	/* A stackdb doubles as a set of (pc, is-return) keys. */
	if (stackdb_new(&seen))
		return;
	symtab_update_jit(r->st);
	for (u32 id = 1; id <= count; id++) {
		u32 n = 0, fl = 0;
		const u64 *pcs = stackdb_get(r->stacks, id, &n, &fl);

		if (!pcs)
			continue;	/* an id never handed out */
		for (u32 i = 0; i < n; i++) {
			u64 key[2] = { pcs[i], i > 0 };
			struct ml_rec_frame f = { 0 };
			bool is_new = false;
			u32 kid;

			if (stackdb_intern(seen, key, 2, 0, &kid, &is_new) || !is_new)
				continue;
			if (symtab_name(r->st, pcs[i], i > 0, &f.f))
				continue;
			f.f.pc = pcs[i];
			f.return_address = i > 0;
			note_err(r, rec_put_frame(r->w, t, &f));
			ml_frame_release(&f.f);
		}
		write_timed_frames(r, id, pcs, n, t);
	}
	stackdb_free(seen);
	for (size_t i = 0; i < r->njframes; i++) {
		struct ml_rec_frame f = {
			.f = r->jframes[i].f, .return_address = 1,
			.stack_id = r->jframes[i].stack_id,
			.frame = r->jframes[i].index + 1,
		};

		note_err(r, rec_put_frame(r->w, t, &f));
	}
	/* What resolve -i needs for addresses that are in no stack. */
	if (symdump_write(r->w, t, r->st, r->stacks, &sds) == -ENOMEM ||
	    sds.cut)
		note_err(r, rec_put_note(r->w, t, "symbol tables incomplete (out of "
					 "memory or over 64 MiB): resolve -i may not "
					 "name addresses outside the stacks"));
}

struct totals {
	u64 bytes;
	u32 nsites;
	u32 nbits;
	u8 *seen;		/* one byte per stack id */
};

static int totals_cb(void *ctx, const struct ml_region *reg)
{
	struct totals *t = ctx;

	if (reg->flags & ML_RF_BASELINE)
		return 0;
	t->bytes += reg->end - reg->start;
	if (t->seen && reg->stack_id < t->nbits && !t->seen[reg->stack_id]) {
		t->seen[reg->stack_id] = 1;
		t->nsites++;
	}
	return 0;
}

static pid_t launch(struct recorder *r, char **command)
{
	int pfd[2];
	pid_t pid, parent = getpid();
	int st, child_errno = 0;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	/* What the child's runtime settings decide (files it will write). */
	runtimes_prepare_launch(r->rt);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int e;

		close(pfd[0]);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		/* A command left running by a killed mapleak would run on
		 * untraced, unseen: it dies with mapleak unless asked. */
		if (!r->o.keep_child &&
		    (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
			_exit(127);
		/* Stop at the exec so the kernel-made mappings become the baseline
		 * before the program runs a single instruction. */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) {
			runtimes_launch_env(r->rt);
			execvp(command[0], command);
		}
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	if (waitpid(pid, &st, 0) < 0) {
		close(pfd[0]);
		return -errno;
	}
	if (read(pfd[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		close(pfd[0]);
		if (!WIFEXITED(st))
			waitpid(pid, &st, 0);
		return -child_errno;
	}
	close(pfd[0]);
	if (!WIFSTOPPED(st)) {
		return -ECHILD;
	}
	return pid;
}

/* Is the target gone? */
static bool target_gone(struct recorder *r)
{
	if (r->launched) {
		siginfo_t si = { 0 };

		/* Not reaped yet (end_child does): while it is a zombie its
		 * pid, and so its perf map's name, is nobody else's. */
		if (waitid(P_PID, (id_t)r->pid, &si,
			   WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == r->pid)
			r->exited = true;
	} else if (!proc_alive(r->pid)) {
		r->exited = true;
	}
	return r->exited;
}

int recorder_step(struct recorder *r, int ms)
{
	u64 before = ml_now_ns(CLOCK_MONOTONIC);
	int n = collector_poll(r->col, ms, on_event, r);
	u64 t = ml_now_ns(CLOCK_MONOTONIC), lost;

	if (n < 0 && n != -EINTR)
		return n;
	/* The poll drained the ring: all that exited before it is in. */
	if (n >= 0)
		reorder_advance(r->ro, before);
	drain_ready(r, false);
	if (r->exited)
		return ML_STOP_EXIT;
	/* Slower checks: a few times a second, not per batch. */
	if (t < r->next_check)
		return 0;
	r->next_check = t + CHECK_NS;
	lost = collector_lost(r->col);
	if (lost != r->lost) {
		r->lost = lost;
		note_err(r, rec_put_lost(r->w, t, r->lost));
		reconcile(r);
	}
	if (t >= r->next_periodic) {
		symtab_update_jit(r->st);
		symtab_notes(r);
		if (r->fold)	/* a quiet target: its last ops go out too */
			note_err(r, folder_tick(r->fold, r->w, t));
		note_err(r, rec_writer_flush(r->w));
		r->next_periodic = t + PERIODIC_NS;
	}
	return target_gone(r) ? ML_STOP_EXIT : 0;
}

void recorder_end_run(struct recorder *r)
{
	u64 lost;

	/* What is still in the ring belongs to the recording. */
	while (collector_poll(r->col, 0, on_event, r) > 0)
		;
	drain_ready(r, true);
	lost = collector_lost(r->col);
	if (lost != r->lost) {
		r->lost = lost;
		note_err(r, rec_put_lost(r->w, ml_now_ns(CLOCK_MONOTONIC), r->lost));
		if (!r->exited)
			reconcile(r);
	}
}

int recorder_run(struct recorder *r, u64 deadline, const volatile sig_atomic_t *stop)
{
	int stopped_by;

	for (;;) {
		stopped_by = recorder_step(r, POLL_MS);
		if (stopped_by < 0)
			return stopped_by;
		if (stop && *stop) {
			stopped_by = ML_STOP_SIGNAL;
			break;
		}
		/* A full disk: stop now, the file keeps what it has. */
		if (rec_writer_error(r->w)) {
			stopped_by = 0;
			break;
		}
		if (stopped_by)
			break;
		if (deadline && ml_now_ns(CLOCK_MONOTONIC) >= deadline) {
			stopped_by = ML_STOP_DURATION;
			break;
		}
	}
	recorder_end_run(r);
	return stopped_by;
}

/* Launch mode: stopping the recording ends the command, as timeout(1) does. */
static void end_child(struct recorder *r)
{
	int st;

	if (!r->launched || r->reaped || r->o.keep_child)
		return;
	if (!r->exited)
		kill(r->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->reaped = true;
			r->exit_status = st;
			return;
		}
		usleep(50000);
	}
	kill(r->pid, SIGKILL);
	if (waitpid(r->pid, &st, 0) == r->pid) {
		r->reaped = true;
		r->exit_status = st;
	}
}


/* ---- the session ---- */

int recorder_new(struct recorder **out, const struct recorder_opts *o)
{
	struct recorder *r = calloc(1, sizeof(*r));
	struct rt_opts ro = {
		.no_runtime_symbols = o->no_runtime_symbols,
		.stops = o->stops,
		.say = runtime_say,
		.say_ctx = r,
	};
	int err;

	if (!r)
		return -ENOMEM;
	r->o = *o;
	if (!r->o.stack_size)
		r->o.stack_size = ML_STACK_DEFAULT;
	r->exit_status = -1;
	if (!o->no_collector) {
		struct collect_opts co = {
			.stack_size = r->o.stack_size,
			.ringbuf_size = o->ringbuf_size,
		};

		err = collector_open(&r->col, &co);
		if (err) {
			free(r);
			return err;
		}
	}
	if (stackdb_new(&r->stacks) || aspace_new(&r->as) ||
	    reorder_new(&r->ro, REORDER_WINDOW_NS) || runtimes_new(&r->rt, &ro)) {
		recorder_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int recorder_launch(struct recorder *r, char **command)
{
	pid_t pid = launch(r, command);

	if (pid < 0)
		return (int)pid;
	r->pid = pid;
	r->launched = true;
	return 0;
}

int recorder_open_output(struct recorder *r)
{
	return r->o.output ? rec_writer_open(&r->w, r->o.output) :
	       rec_writer_open_discard(&r->w);
}

int recorder_attach(struct recorder *r, pid_t pid)
{
	struct ml_rec_target tg = { 0 };
	int err = 0;

	if (!r->launched)
		r->pid = pid;
	/* Trace first, then read the baseline: nothing falls between the two
	 * (a change seen both ways is applied over the baseline). */
	if (r->col)
		err = collector_add_tgid(r->col, r->pid);
	if (!err)
		err = symtab_open(&r->st, r->pid);
	if (!err)
		err = unwinder_new(&r->uw, symtab_unwind_modules(r->st));
	r->start_time = ml_now_ns(CLOCK_MONOTONIC);
	if (!err && !r->o.no_fold)
		err = folder_new(&r->fold, r->as, r->start_time, r->o.fold_window);
	if (!err && r->fold)
		folder_set_max_size(r->fold, r->o.max_size);
	r->next_periodic = r->start_time + PERIODIC_NS;
	if (!err) {
		if (r->o.cancel_reads)
			symtab_set_cancel(r->st, r->o.cancel_reads);
		tg.pid = (u32)r->pid;
		tg.nspid = proc_nspid(r->pid);
		tg.launched = r->launched;
		tg.stack_size = r->o.stack_size;
		tg.start_time = r->start_time;
		tg.start_realtime = ml_now_ns(CLOCK_REALTIME);
		tg.command = proc_cmdline(r->pid);
		tg.comm = proc_comm(r->pid);
		note_err(r, rec_put_target(r->w, r->start_time, &tg));
		err = take_baseline(r, ML_MAPS_BASELINE, r->start_time);
	}
	if (r->launched)
		ptrace(PTRACE_DETACH, r->pid, NULL, NULL);
	free(tg.command);
	r->comm = tg.comm;
	if (err) {
		rec_writer_abort(r->w);
		r->w = NULL;
		end_child(r);
	}
	return err;
}

void recorder_start_runtimes(struct recorder *r)
{
	symtab_update_jit(r->st);
	runtimes_start(r->rt, r->pid, r->launched, r->st);
}

int recorder_feed(struct recorder *r, const struct ml_event_hdr *ev,
		  const void *stack, size_t size)
{
	return on_event(r, ev, stack, size);
}

void recorder_drain(struct recorder *r, bool flush)
{
	drain_ready(r, flush);
}

int recorder_finish(struct recorder *r, u32 stopped_by, struct recorder_summary *s)
{
	struct ml_rec_end end = { 0 };
	struct totals tot;
	int err;

	memset(s, 0, sizeof(*s));
	if (rec_writer_error(r->w)) {
		/* Nothing more can be written: only undo what was changed in
		 * the target (perf maps), and leave it running. */
		s->cut = true;
		s->alive_at_end = !r->exited && proc_alive(r->pid);
		runtimes_refresh(r->rt, s->alive_at_end);
	} else {
		s->alive_at_end = final_snapshot(r, &s->chk);
		fold_flush(r);
		if (r->fold) {
			struct fold_stats fs;

			folder_stats(r->fold, &fs);
			if (fs.capped)
				rec_sayf(r, REC_SAY_NOTE, "the recording reached --max-size "
					 "(%" PRIu64 " bytes) at +%.1fs: the %" PRIu64 " operations "
					 "after it were not written but folded into the final "
					 "live set, per-site counts and timelines (exact; only "
					 "--group-by thread loses their threads)", r->o.max_size,
					 fs.capped_time > r->start_time ?
					 (double)(fs.capped_time - r->start_time) / 1e9 : 0.0,
					 fs.ops_capped);
			else if (fs.ops_folded)	/* the default, and the report is the same */
				rec_sayf(r, REC_SAY_INFO, "folded %" PRIu64 " of %" PRIu64 " operations "
					 "into per-site counts, timelines and the live set they "
					 "left (%" PRIu64 " window%s)", fs.ops_folded,
					 fs.ops_folded + fs.ops_written, fs.windows_folded,
					 fs.windows_folded == 1 ? "" : "s");
		}
		s->checked = s->alive_at_end;
		symtab_update_jit(r->st);
		runtimes_refresh(r->rt, s->alive_at_end);
		if (r->o.output)	/* names nobody will read cost time */
			write_frames(r);
		symtab_notes(r);
	}
	/* After the maps were read for the last time, before the pid is
	 * reaped and free: turn off and remove what mapleak caused. */
	runtimes_finish(r->rt, s->alive_at_end);
	end_child(r);

	if (r->rejected)
		rec_sayf(r, REC_SAY_NOTE, "%" PRIu64 " changes could not be applied "
			 "to the live set (%s); the check against /proc/%d/maps "
			 "measures the effect", r->rejected, strerror(-r->rejected_err),
			 r->pid);
	if (r->exec_baseline_err)
		rec_sayf(r, REC_SAY_NOTE, "cannot read /proc/%d/maps after the "
			 "process's exec (%s): its new image has no baseline",
			 r->pid, strerror(-r->exec_baseline_err));
	if (r->children > CHILD_NOTES)
		rec_sayf(r, REC_SAY_NOTE, "pid %d started %u processes in all, none "
			 "of them traced", r->pid, r->children);
	if (r->lost) {
		char note[240];

		/* One line for the report, not one per reconciliation. */
		snprintf(note, sizeof(note),
			 "%" PRIu64 " events lost (ring buffer full; a larger "
			 "--buffer-size helps): live set reconciled with /proc/%d/maps %"
			 PRIu64 " times, %" PRIu64 " pages corrected (origin unknown)",
			 r->lost, r->pid, r->reconciles, r->reconciled_pages);
		note_err(r, rec_put_note(r->w, ml_now_ns(CLOCK_MONOTONIC), note));
	}
	end.stopped_by = stopped_by;
	end.target_alive = s->alive_at_end;
	end.end_time = ml_now_ns(CLOCK_MONOTONIC);
	end.events = r->events;
	end.lost = r->lost;
	end.exit_status = r->launched && r->reaped ? r->exit_status : -1;
	note_err(r, rec_put_end(r->w, end.end_time, &end));
	/* A write error (ENOSPC) first: it is what stopped the recording. */
	err = rec_writer_error(r->w);
	if (err)
		r->write_err = err;
	err = rec_writer_close(r->w);
	r->w = NULL;
	note_err(r, err);

	memset(&tot, 0, sizeof(tot));
	tot.nbits = stackdb_count(r->stacks) + 1;
	tot.seen = calloc(tot.nbits, 1);
	aspace_foreach(r->as, totals_cb, &tot);
	free(tot.seen);
	s->stopped_by = stopped_by;
	s->events = r->events;
	s->lost = r->lost;
	s->seconds = (double)(end.end_time - r->start_time) / 1e9;
	s->live_bytes = tot.bytes;
	s->live_sites = tot.nsites;
	s->write_err = r->write_err;
	s->rejected = r->rejected;
	return r->write_err;
}

pid_t recorder_pid(const struct recorder *r)
{
	return r->pid;
}

const char *recorder_comm(const struct recorder *r)
{
	return r->comm;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	if (r->w)
		rec_writer_abort(r->w);
	collector_close(r->col);
	unwinder_free(r->uw);	/* before the modules it borrows */
	symtab_close(r->st);
	stackdb_free(r->jitkeys);
	for (size_t i = 0; i < r->njframes; i++)
		ml_frame_release(&r->jframes[i].f);
	free(r->jframes);
	free(r->stack_time);
	runtimes_free(r->rt);
	stackdb_free(r->stacks);
	folder_free(r->fold);
	aspace_free(r->as);
	reorder_free(r->ro);
	free(r->comm);
	free(r);
}

/* ---- the live view (mapleak top) ---- */

struct sites_ctx {
	struct recorder_site *v;	/* by stack id, then compacted */
	struct ml_region *prev;		/* by stack id: its previous region */
	u32 nids;
};

static int sites_cb(void *ctx, const struct ml_region *reg)
{
	struct sites_ctx *c = ctx;
	struct recorder_site *s;
	struct ml_region *p;
	u64 len = reg->end - reg->start;

	if (reg->flags & ML_RF_BASELINE || reg->stack_id >= c->nids)
		return 0;
	s = &c->v[reg->stack_id];
	p = &c->prev[reg->stack_id];
	/* Adjacent pieces of one call (mprotect splits) are one mapping, as
	 * the report counts them (regions come in address order). */
	if (!s->bytes || p->end != reg->start || p->time != reg->time)
		s->mappings++;
	if (!s->bytes || reg->time < s->oldest)
		s->oldest = reg->time;
	if (reg->time > s->newest)
		s->newest = reg->time;
	s->bytes += len;
	if (reg->prot == PROT_NONE)
		s->reserved_bytes += len;
	*p = *reg;
	return 0;
}

int recorder_sites(struct recorder *r, struct recorder_site **out, size_t *n)
{
	struct sites_ctx c = { 0 };
	size_t k = 0;
	int err;

	*out = NULL;
	*n = 0;
	c.nids = stackdb_count(r->stacks) + 1;
	c.v = calloc(c.nids, sizeof(*c.v));
	c.prev = calloc(c.nids, sizeof(*c.prev));
	if (!c.v || !c.prev) {
		free(c.v);
		free(c.prev);
		return -ENOMEM;
	}
	err = aspace_foreach(r->as, sites_cb, &c);
	free(c.prev);
	if (err) {
		free(c.v);
		return err;
	}
	for (u32 id = 1; id < c.nids; id++) {
		if (!c.v[id].bytes)
			continue;
		c.v[k] = c.v[id];
		c.v[k].stack_id = id;
		k++;
	}
	*out = c.v;
	*n = k;
	return 0;
}

int recorder_name_stack(struct recorder *r, u32 stack_id, struct ml_frame **out,
			u32 *nframes)
{
	u32 n = 0, fl = 0;
	const u64 *pcs = stackdb_get(r->stacks, stack_id, &n, &fl);
	u64 when = stack_id < r->stack_time_cap ? r->stack_time[stack_id] : 0;
	struct ml_frame *f;

	*out = NULL;
	*nframes = 0;
	if (!pcs)
		return -ENOENT;
	f = calloc(n ? n : 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (u32 i = 0; i < n; i++) {
		/* JIT code as of when the stack was seen: its address may
		 * hold another method by now. */
		int err = when ? symtab_name_at(r->st, pcs[i], i > 0, when, &f[i]) :
				 symtab_name(r->st, pcs[i], i > 0, &f[i]);

		if (err) {
			ml_frame_release(&f[i]);
			memset(&f[i], 0, sizeof(f[i]));
		}
		f[i].pc = pcs[i];
	}
	/* interpreted Java frames: the methods read at the event */
	for (size_t j = 0; j < r->njframes; j++) {
		const struct jframe *jf = &r->jframes[j];
		struct ml_frame copy = { .pc = jf->f.pc, .kind = jf->f.kind };

		if (jf->stack_id != stack_id || jf->index >= n)
			continue;
		copy.symbol = jf->f.symbol ? strdup(jf->f.symbol) : NULL;
		copy.tier = jf->f.tier ? strdup(jf->f.tier) : NULL;
		if ((jf->f.symbol && !copy.symbol) || (jf->f.tier && !copy.tier)) {
			ml_frame_release(&copy);
			continue;	/* keeps the generic name */
		}
		ml_frame_release(&f[jf->index]);
		f[jf->index] = copy;
	}
	*out = f;
	*nframes = n;
	return 0;
}

int recorder_write_error(const struct recorder *r)
{
	return rec_writer_error(r->w);
}

u64 recorder_start_time(const struct recorder *r)
{
	return r->start_time;
}

void recorder_counts(const struct recorder *r, u64 *events, u64 *lost)
{
	*events = r->events;
	*lost = r->lost;
}
