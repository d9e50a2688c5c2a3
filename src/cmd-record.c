/* SPDX-License-Identifier: MIT */
/*
 * mapleak record: trace the mapping syscalls of a process into a
 * self-contained recording. collect -> unwind -> track -> record.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"
#include "collect/collect.h"
#include "record/record.h"
#include "symbols/dotnet.h"
#include "symbols/runtimes.h"
#include "symbols/symdump.h"
#include "symbols/symtab.h"
#include "track/aspace.h"
#include "track/procmaps.h"
#include "track/reorder.h"
#include "track/resident.h"
#include "track/stacks.h"
#include "report/report.h"

const char record_usage[] =
	"usage: mapleak record [-o FILE] [--duration SECONDS] [--stack-size BYTES]\n"
	"                      [--buffer-size SIZE] [--no-runtime-symbols]\n"
	"                      (-p PID | -- COMMAND [ARG...])\n"
	"\n"
	"Traces mmap, munmap, mremap, mprotect, brk, shmat and shmdt of every\n"
	"thread of a process, with full call stacks, until Ctrl-C, --duration or\n"
	"the end of the process. Needs root (BPF).\n"
	"\n"
	"  -p, --pid PID          attach to a running process (no restart)\n"
	"  -- COMMAND [ARG...]    run COMMAND and trace it from its exec on;\n"
	"                         stopping the recording ends it (SIGTERM)\n"
	"  -o, --output FILE      where to write (default: mapleak.data; an\n"
	"                         existing file becomes FILE.old)\n"
	"  -d, --duration SECS    stop after SECS seconds (decimals allowed)\n"
	"  -s, --stack-size BYTES user stack bytes copied per event (default\n"
	"                         16384, at most 65536); deeper stacks are cut\n"
	"  -b, --buffer-size SIZE kernel ring buffer (default 64M, power of two);\n"
	"                         if events are lost, mapleak says so and\n"
	"                         reconciles with /proc/PID/maps\n"
	"      --no-runtime-symbols\n"
	"                         leave runtimes as they are: no .NET perf map\n"
	"                         enabled over the diagnostics socket, no jcmd\n"
	"                         for a JVM (-p); no DOTNET_PerfMapEnabled=3,\n"
	"                         JAVA_TOOL_OPTIONS or NODE_OPTIONS (launch)\n"
	"  -h, --help             show this help\n"
	"\n"
	"Then: mapleak report [-i FILE]\n";

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

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct recorder {
	pid_t pid;
	bool launched;
	u32 stack_size;
	double duration;
	const char *output;
	char **command;

	struct collector *col;
	struct symtab *st;
	struct runtimes *rt;	/* JVM, Node: symbols/runtimes.c */
	bool no_runtime_symbols;
	struct dotnet_perfmap *dotnet;	/* a .NET perf map we enabled */
	struct stackdb *stacks;
	struct aspace *as;
	struct reorder *ro;
	struct rec_writer *w;

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
	u64 pcs[ML_STACK_MAX_FRAMES];
	u64 jitkey[2 * ML_STACK_MAX_FRAMES];	/* pcs, then their epochs */
	struct stackdb *jitkeys;	/* (pcs, epochs) combinations seen */
	u64 *stack_time;	/* by stack id: when it was first seen */
	u32 stack_time_cap;
};

static u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static void note_err(struct recorder *r, int err)
{
	if (err < 0 && !r->write_err)
		r->write_err = err;
}

/* The command line with NULs turned into spaces. */
static char *proc_cmdline(pid_t pid)
{
	char path[64];
	size_t len = 0;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	s = ml_read_file(path, 4096, &len);
	if (!s)
		return NULL;
	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	return s;
}

static char *proc_comm(pid_t pid)
{
	char path[64];
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	s = ml_read_file(path, 64, NULL);
	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The last NSpid field of /proc/PID/status: the pid inside its namespace. */
static u32 proc_nspid(pid_t pid)
{
	char path[64];
	char *s, *line;
	u32 nspid = (u32)pid;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = ml_read_file(path, 8192, NULL);
	if (!s)
		return nspid;
	line = strstr(s, "\nNSpid:");
	if (line) {
		char *end = strchr(line + 1, '\n');
		char *p = line + 7;

		if (end)
			*end = '\0';
		while (*p) {
			char *q;
			unsigned long v = strtoul(p, &q, 10);

			if (q == p)
				break;
			nspid = (u32)v;
			p = q;
		}
	}
	free(s);
	return nspid;
}

/* start_brk is field 47 of /proc/PID/stat (after the parenthesized comm). */
static u64 proc_start_brk(pid_t pid)
{
	char path[64];
	char *s, *p;
	u64 v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ml_read_file(path, 4096, NULL);
	if (!s)
		return 0;
	p = strrchr(s, ')');
	if (p) {
		int field = 2;

		for (p++; *p && field < 47; p++)
			if (*p == ' ')
				field++;
		if (field == 47)
			v = strtoull(p, NULL, 10);
	}
	free(s);
	return v;
}

static bool proc_alive(pid_t pid)
{
	char path[64];
	char *s, *p;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ml_read_file(path, 4096, NULL);
	if (!s)
		return false;
	p = strrchr(s, ')');
	alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(s);
	return alive;
}

static int apply_op(struct recorder *r, const struct ml_op *op);

/* Takes /proc/PID/maps as the starting point of a (new) address space. */
static int take_baseline(struct recorder *r, u32 purpose, u64 time)
{
	struct maps_entry *e = NULL;
	struct ml_rec_maps m;
	struct ml_rec_brk b = { 0 };
	size_t n = 0;
	int err;

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
		apply_op(r, &op);
	if (procmaps_read(r->pid, &e, &n))
		return;
	m.purpose = ML_MAPS_RECONCILE;
	m.n = n;
	m.e = e;
	note_err(r, rec_put_maps(r->w, now_ns(CLOCK_MONOTONIC), &m));
	aspace_reconcile(r->as, e, n, &changed);
	procmaps_free(e, n);
	r->reconciles++;
	r->reconciled_pages += changed;
}

static int apply_op(struct recorder *r, const struct ml_op *op)
{
	int err;

	err = aspace_apply(r->as, op);
	if (err)
		return err;
	note_err(r, rec_put_op(r->w, op));
	if (op->kind == ML_OP_EXEC) {
		/* A new image: its first mappings were made by the kernel. */
		symtab_reset(r->st);
		take_baseline(r, ML_MAPS_EXEC, op->time);
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

/* The SF_VARIANT bits for r->pcs[0..n) at time: 0 without JIT code the
 * jitdump knows. */
static u32 jit_variant(struct recorder *r, u32 n, u64 time)
{
	u32 kid = 0;

	if (!symtab_jit_epochs(r->st, r->pcs, n, time, r->jitkey + n))
		return 0;
	if (!r->jitkeys && stackdb_new(&r->jitkeys))
		return 0;
	memcpy(r->jitkey, r->pcs, n * sizeof(*r->pcs));
	if (stackdb_intern(r->jitkeys, r->jitkey, 2 * n, 0, &kid, NULL) ||
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
	fprintf(stderr, "mapleak: note: %s\n", note);
	note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), note));
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
		err = symtab_unwind(r->st, ev->tid, (const u64 *)ev->regs, stack, len, ev->flags,
				    r->pcs, ML_STACK_MAX_FRAMES, &n, &sflags);
		if (err || n == 0) {
			/* Keep at least the interrupted pc. */
			r->pcs[0] = ev->regs[ML_REG_IP];
			n = r->pcs[0] ? 1 : 0;
			sflags |= ML_SF_UNWIND_ERR;
		}
		if (n) {
			err = stackdb_intern(r->stacks, r->pcs, n,
					     sflags | jit_variant(r, n, op.time),
					     &op.stack_id, &is_new);
			if (err)
				return err;
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
		apply_op(r, &op);
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

	if (rc->n == rc->cap) {
		size_t cap = rc->cap ? rc->cap * 2 : 1024;
		void *p = realloc(rc->e, cap * sizeof(*rc->e));

		if (!p)
			return -ENOMEM;
		rc->e = p;
		rc->cap = cap;
	}
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
	u64 t = now_ns(CLOCK_MONOTONIC);

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
	t = now_ns(CLOCK_MONOTONIC);
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

/* Why a runtime's frames may stay unnamed: on stderr and in the report. */
static void runtime_notes(struct recorder *r)
{
	size_t n = 0;
	const char *const *notes = runtimes_new_notes(r->rt, &n);

	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "mapleak: %s\n", notes[i]);
		note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), notes[i]));
	}
}

#define DOTNET_IPC_TIMEOUT_MS	5000

/* The fallback the user always has, in one line: stderr and the report. */
static void dotnet_note(struct recorder *r, const char *why)
{
	char note[512];

	snprintf(note, sizeof(note), "cannot enable the .NET perf map (%s): managed "
		 "frames stay unnamed; restart the process with DOTNET_PerfMapEnabled=3",
		 why);
	fprintf(stderr, "mapleak: note: %s\n", note);
	note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), note));
}

/* -p on a .NET process whose settings make no perf map: turn it on over the
 * diagnostics socket (the runtime replays what it compiled so far). Returns
 * true when it was turned on. */
static bool dotnet_start(struct recorder *r)
{
	struct dotnet_probe p;
	char why[300];
	u32 hr = 0;
	int err;

	if (r->launched || r->no_runtime_symbols || dotnet_probe(r->pid, &p) ||
	    !p.coreclr || dotnet_perfmap_preset(&p))
		return false;
	if (p.env.diag_off[0]) {
		dotnet_note(r, p.env.diag_off);
		return false;
	}
	err = dotnet_perfmap_enable(r->pid, &p, DOTNET_IPC_TIMEOUT_MS, &r->dotnet, &hr);
	switch (err) {
	case 0:
		fprintf(stderr, "mapleak: .NET runtime: perf map enabled over the "
			"diagnostics socket (will be disabled at the end)\n");
		return true;
	case -EOPNOTSUPP:
		snprintf(why, sizeof(why), "the runtime is older than .NET 8");
		break;
	case -EPROTO:
		snprintf(why, sizeof(why), "the runtime answered HRESULT 0x%08x", hr);
		break;
	case -ENOENT:
		snprintf(why, sizeof(why), "no diagnostics socket dotnet-diagnostic-%u-*-socket "
			 "in %.200s", p.nspid, p.env.tmpdir[0] ? p.env.tmpdir : "/tmp");
		break;
	case -ECONNREFUSED:
		snprintf(why, sizeof(why), "its diagnostics socket refuses connections");
		break;
	case -EXDEV:
		snprintf(why, sizeof(why), "it sets PerfMapJitDumpPath=%.200s; mapleak "
			 "reads and removes a perf map only in /tmp", p.env.perfmap_dir);
		break;
	case -EACCES:
	case -EPERM:
		snprintf(why, sizeof(why), "permission denied on its diagnostics socket");
		break;
	case -ETIMEDOUT:
		snprintf(why, sizeof(why), "no answer on its diagnostics socket within %d s",
			 DOTNET_IPC_TIMEOUT_MS / 1000);
		break;
	default:
		snprintf(why, sizeof(why), "diagnostics socket: %s", strerror(-err));
		break;
	}
	dotnet_note(r, why);
	return false;
}

/* A mapleak killed while it had a .NET perf map on left it on: turn it
 * off now (whatever this run records), and say so. */
static void dotnet_recover_notes(struct recorder *r)
{
	struct dotnet_recovered rv[8];
	char note[300];
	size_t n = 0;

	if (dotnet_recover(DOTNET_IPC_TIMEOUT_MS, rv, ARRAY_SIZE(rv), &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (rv[i].err)
			snprintf(note, sizeof(note), "a mapleak that was killed left the "
				 "perf map of .NET process %d on, and it cannot be "
				 "turned off: %s", (int)rv[i].pid, strerror(-rv[i].err));
		else if (!rv[i].disabled && !rv[i].removed)
			continue;
		else
			snprintf(note, sizeof(note), "a mapleak that was killed left the "
				 "perf map of .NET process %d on: %s%s", (int)rv[i].pid,
				 rv[i].disabled ? "turned it off" : "it was off already",
				 rv[i].removed ? ", removed the map file it caused" : "");
		fprintf(stderr, "mapleak: note: %s\n", note);
		note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), note));
	}
}

/* Turns off what dotnet_start() turned on and removes the map file it made. */
static void dotnet_finish(struct recorder *r, bool alive)
{
	u32 hr = 0;
	int err;

	if (!r->dotnet)
		return;
	err = dotnet_perfmap_undo(r->dotnet, DOTNET_IPC_TIMEOUT_MS, &hr, NULL);
	r->dotnet = NULL;
	/* A target that is gone has nothing left to disable. */
	if (err == -EPROTO)
		warning("cannot disable the .NET perf map: the runtime answered "
			"HRESULT 0x%08x", hr);
	else if (err && (alive || (err != -ECONNREFUSED && err != -ENOENT)))
		warning("cannot disable the .NET perf map or remove its file: %s",
			strerror(-err));
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
	u64 t = now_ns(CLOCK_MONOTONIC);

	/* A stackdb doubles as a set of (pc, is-return) keys. */
	if (stackdb_new(&seen))
		return;
	symtab_update_jit(r->st);
	for (u32 id = 1; id <= count; id++) {
		u32 n = 0, fl = 0;
		const u64 *pcs = stackdb_get(r->stacks, id, &n, &fl);

		for (u32 i = 0; pcs && i < n; i++) {
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

static pid_t launch(struct recorder *r)
{
	int pfd[2];
	pid_t pid;
	int st, child_errno = 0;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int e;

		close(pfd[0]);
		signal(SIGPIPE, SIG_DFL);
		/* Stop at the exec so the kernel-made mappings become the baseline
		 * before the program runs a single instruction. */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) {
			if (!r->no_runtime_symbols && !getenv("DOTNET_PerfMapEnabled") &&
			    !getenv("COMPlus_PerfMapEnabled"))
				setenv("DOTNET_PerfMapEnabled", "3", 0);
			if (!r->no_runtime_symbols)
				runtimes_launch_env();
			execvp(r->command[0], r->command);
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

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_stack_size(const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	}
	if (*end || v < 256 || v > ML_STACK_MAX)
		return -ERANGE;
	*out = (u32)v;
	return 0;
}

/* The BPF ring buffer's size: a power of two of whole pages. */
static int parse_buffer_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (*end || v < 65536 || v > (1ull << 30) || (v & (v - 1)))
		return -ERANGE;
	*out = (size_t)v;
	return 0;
}

static const char *collector_error(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "cannot load BPF programs: permission denied (record needs "
		       "root, or CAP_BPF + CAP_PERFMON + CAP_SYS_PTRACE)";
	case -ENOSYS:
	case -EOPNOTSUPP:
	case -ENOENT:
		return "BPF tracing is unavailable on this kernel (needs BPF, BTF "
		       "at /sys/kernel/btf/vmlinux and tp_btf, Linux 5.15+)";
	default:
		return NULL;
	}
}

static int record_loop(struct recorder *r, u64 deadline)
{
	u64 next_periodic = now_ns(CLOCK_MONOTONIC) + PERIODIC_NS;
	u64 next_check = 0, lost;
	int stopped_by = 0;

	for (;;) {
		u64 before = now_ns(CLOCK_MONOTONIC);
		int n = collector_poll(r->col, POLL_MS, on_event, r);
		u64 t = now_ns(CLOCK_MONOTONIC);

		if (n < 0 && n != -EINTR) {
			error("cannot read events: %s", strerror(-n));
			return ML_STOP_SIGNAL;
		}
		/* The poll drained the ring: all that exited before it is in. */
		if (n >= 0)
			reorder_advance(r->ro, before);
		drain_ready(r, false);
		if (stop_signal) {
			stopped_by = ML_STOP_SIGNAL;
			break;
		}
		if (r->exited) {
			stopped_by = ML_STOP_EXIT;
			break;
		}
		if (deadline && t >= deadline) {
			stopped_by = ML_STOP_DURATION;
			break;
		}
		/* Slower checks: a few times a second, not per batch. */
		if (t < next_check)
			continue;
		next_check = t + CHECK_NS;
		lost = collector_lost(r->col);
		if (lost != r->lost) {
			r->lost = lost;
			note_err(r, rec_put_lost(r->w, t, r->lost));
			reconcile(r);
		}
		if (t >= next_periodic) {
			symtab_update_jit(r->st);
			note_err(r, rec_writer_flush(r->w));
			next_periodic = t + PERIODIC_NS;
		}
		if (r->launched) {
			int st;

			if (waitpid(r->pid, &st, WNOHANG) == r->pid &&
			    (WIFEXITED(st) || WIFSIGNALED(st))) {
				r->reaped = true;
				r->exit_status = st;
				r->exited = true;
				stopped_by = ML_STOP_EXIT;
				break;
			}
		} else if (!proc_alive(r->pid)) {
			r->exited = true;
			stopped_by = ML_STOP_EXIT;
			break;
		}
	}
	/* What is still in the ring belongs to the recording. */
	while (collector_poll(r->col, 0, on_event, r) > 0)
		;
	drain_ready(r, true);
	lost = collector_lost(r->col);
	if (lost != r->lost) {
		r->lost = lost;
		note_err(r, rec_put_lost(r->w, now_ns(CLOCK_MONOTONIC), r->lost));
		if (!r->exited)
			reconcile(r);
	}
	return stopped_by;
}

/* Launch mode: stopping the recording ends the command, as timeout(1) does. */
static void end_child(struct recorder *r)
{
	int st;

	if (!r->launched || r->reaped)
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

static void cleanup(struct recorder *r)
{
	collector_close(r->col);
	symtab_close(r->st);
	stackdb_free(r->jitkeys);
	free(r->stack_time);
	runtimes_free(r->rt);
	dotnet_perfmap_undo(r->dotnet, DOTNET_IPC_TIMEOUT_MS, NULL, NULL);
	stackdb_free(r->stacks);
	aspace_free(r->as);
	reorder_free(r->ro);
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stack-size", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "no-runtime-symbols", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct recorder rec = {
		.output = "mapleak.data",
		.stack_size = ML_STACK_DEFAULT,
		.exit_status = -1,
	};
	struct recorder *r = &rec;
	struct collect_opts co = { 0 };
	struct ml_rec_target tg = { 0 };
	struct ml_rec_end end = { 0 };
	struct aspace_check chk = { 0 };
	struct sigaction sa = { 0 };
	struct totals tot;
	char sz[32];
	bool have_pid = false, alive_at_end;
	u64 deadline = 0;
	int c, err, status = 0;
	const char *msg;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:o:d:s:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ml_parse_pid(optarg, &r->pid))
				return usage_error(record_usage, "-p takes a process id, not '%s'",
						   optarg);
			have_pid = true;
			break;
		case 'o':
			r->output = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &r->duration))
				return usage_error(record_usage,
						   "--duration takes seconds > 0, not '%s'", optarg);
			break;
		case 'b':
			if (parse_buffer_size(optarg, &co.ringbuf_size))
				return usage_error(record_usage,
						   "--buffer-size takes a power of two from 64K "
						   "to 1G, not '%s'", optarg);
			break;
		case 's':
			if (parse_stack_size(optarg, &r->stack_size))
				return usage_error(record_usage,
						   "--stack-size takes 256 to %d bytes, not '%s'",
						   ML_STACK_MAX, optarg);
			break;
		case 'R':
			r->no_runtime_symbols = true;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return 0;
		case ':':
			return usage_error(record_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(record_usage, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc && !strcmp(argv[optind - 1], "--"))
		r->command = argv + optind;
	else if (optind < argc)
		return usage_error(record_usage, "unexpected argument '%s' (a command "
				   "to launch goes after '--')", argv[optind]);
	if (have_pid && r->command)
		return usage_error(record_usage, "give either -p PID or -- COMMAND, not both");
	if (!have_pid && !r->command)
		return usage_error(record_usage, "nothing to record: give -p PID or -- COMMAND");
	r->launched = r->command != NULL;

	if (have_pid) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d", r->pid);
		if (access(path, F_OK)) {
			error("no such process: %d", r->pid);
			return 1;
		}
		if (!proc_alive(r->pid)) {
			error("process %d is exiting (zombie): nothing to record", r->pid);
			return 1;
		}
	}
	co.stack_size = r->stack_size;
	err = collector_open(&r->col, &co);
	if (err) {
		msg = collector_error(err);
		if (msg)
			error("%s", msg);
		else
			error("cannot start BPF tracing: %s", strerror(-err));
		return 1;
	}
	if (stackdb_new(&r->stacks) || aspace_new(&r->as) ||
	    reorder_new(&r->ro, REORDER_WINDOW_NS)) {
		error("out of memory");
		cleanup(r);
		return 1;
	}

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (r->launched) {
		pid_t pid = launch(r);

		if (pid < 0) {
			error("cannot run '%s': %s", r->command[0], strerror((int)-pid));
			cleanup(r);
			return 1;
		}
		r->pid = pid;
	}

	err = rec_writer_open(&r->w, r->output);
	if (err) {
		error("cannot create '%s': %s", r->output, strerror(-err));
		if (r->launched)
			ptrace(PTRACE_DETACH, r->pid, NULL, NULL);
		r->exited = false;
		end_child(r);
		cleanup(r);
		return 1;
	}

	/* Trace first, then read the baseline: nothing falls between the two
	 * (a change seen both ways is applied over the baseline). */
	err = collector_add_tgid(r->col, r->pid);
	if (!err)
		err = symtab_open(&r->st, r->pid);
	r->start_time = now_ns(CLOCK_MONOTONIC);
	if (!err) {
		tg.pid = (u32)r->pid;
		tg.nspid = proc_nspid(r->pid);
		tg.launched = r->launched;
		tg.stack_size = r->stack_size;
		tg.start_time = r->start_time;
		tg.start_realtime = now_ns(CLOCK_REALTIME);
		tg.command = proc_cmdline(r->pid);
		tg.comm = proc_comm(r->pid);
		note_err(r, rec_put_target(r->w, r->start_time, &tg));
		err = take_baseline(r, ML_MAPS_BASELINE, r->start_time);
	}
	if (r->launched)
		ptrace(PTRACE_DETACH, r->pid, NULL, NULL);
	if (err) {
		if (err == -ESRCH || err == -ENOENT)
			error("process %d exited before tracing began", r->pid);
		else if (err == -EACCES || err == -EPERM)
			error("cannot read /proc/%d: permission denied (run as root or "
			      "as the process's user with CAP_SYS_PTRACE)", r->pid);
		else
			error("cannot attach to process %d: %s", r->pid, strerror(-err));
		rec_writer_abort(r->w);
		end_child(r);
		cleanup(r);
		free(tg.command);
		free(tg.comm);
		return 1;
	}
	symtab_update_jit(r->st);
	dotnet_recover_notes(r);
	if (dotnet_start(r))
		symtab_update_jit(r->st);	/* the replay of compiled methods */
	if (!r->no_runtime_symbols &&
	    runtimes_start(&r->rt, r->pid, r->launched, r->st) == 0)
		runtime_notes(r);
	fprintf(stderr, "mapleak: recording pid %d (%s), Ctrl-C to stop\n", r->pid,
		tg.comm ? tg.comm : "?");

	if (r->duration > 0)
		deadline = r->start_time + (u64)(r->duration * 1e9);
	end.stopped_by = record_loop(r, deadline);

	alive_at_end = final_snapshot(r, &chk);
	symtab_update_jit(r->st);
	runtimes_finish(r->rt, r->st, alive_at_end);
	runtime_notes(r);
	write_frames(r);
	dotnet_finish(r, alive_at_end);	/* after the map was read for the last time */
	end_child(r);

	if (r->children > CHILD_NOTES) {
		char note[160];

		snprintf(note, sizeof(note),
			 "pid %d started %u processes in all, none of them traced",
			 r->pid, r->children);
		fprintf(stderr, "mapleak: note: %s\n", note);
		note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), note));
	}
	if (r->lost) {
		char note[240];

		/* One line for the report, not one per reconciliation. */
		snprintf(note, sizeof(note),
			 "%" PRIu64 " events lost (ring buffer full; a larger "
			 "--buffer-size helps): live set reconciled with /proc/%d/maps %"
			 PRIu64 " times, %" PRIu64 " pages corrected (origin unknown)",
			 r->lost, r->pid, r->reconciles, r->reconciled_pages);
		note_err(r, rec_put_note(r->w, now_ns(CLOCK_MONOTONIC), note));
	}
	end.target_alive = alive_at_end;
	end.end_time = now_ns(CLOCK_MONOTONIC);
	end.events = r->events;
	end.lost = r->lost;
	end.exit_status = r->launched && r->reaped ? r->exit_status : -1;
	note_err(r, rec_put_end(r->w, end.end_time, &end));
	if (r->write_err) {
		rec_writer_close(r->w);
		error("cannot write '%s': %s", r->output, strerror(-r->write_err));
		status = 1;
	} else {
		err = rec_writer_close(r->w);
		if (err) {
			error("cannot write '%s': %s", r->output, strerror(-err));
			status = 1;
		}
	}

	memset(&tot, 0, sizeof(tot));
	tot.nbits = stackdb_count(r->stacks) + 1;
	tot.seen = calloc(tot.nbits, 1);
	aspace_foreach(r->as, totals_cb, &tot);
	free(tot.seen);
	fprintf(stderr, "mapleak: %" PRIu64 " events (%" PRIu64 " lost) in %.1f s; "
		"%s live from %u stacks; %s '%s'\n",
		r->events, r->lost, (double)(end.end_time - r->start_time) / 1e9,
		report_human_size(tot.bytes, sz, sizeof(sz)), tot.nsites,
		status ? "could not write" : "wrote", r->output);
	if (alive_at_end && (chk.missing_pages || chk.extra_pages))
		warning("live set differs from /proc/%d/maps: %" PRIu64 " pages missing, %"
			PRIu64 " extra (see the report)", r->pid, chk.missing_pages,
			chk.extra_pages);
	if (r->lost)
		warning("%" PRIu64 " events were lost; the live set was reconciled with "
			"/proc/%d/maps", r->lost, r->pid);
	free(tg.command);
	free(tg.comm);
	cleanup(r);
	return status;
}
