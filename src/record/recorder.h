/* SPDX-License-Identifier: MIT */
/*
 * The recorder: one recording session of one process, as a library.
 *
 *   recorder_new()      load BPF collection (or none: events are fed)
 *   recorder_launch()   optional: start a command stopped at its exec
 *   recorder_attach()   create the output, trace the pid, take the baseline
 *   recorder_start_runtimes()  ask JIT runtimes for their symbols
 *   recorder_run()      the event loop, until stop/exit/deadline
 *     or recorder_step() one turn of it, then recorder_end_run()
 *     or recorder_feed() one event at a time (tests, other sources)
 *   recorder_sites()    the live set by stack, any time (mapleak top)
 *   recorder_finish()   final check, names, END record, close the file
 *   recorder_free()
 *
 * Every event goes collect -> recorder_feed (unwind, intern the stack)
 * -> reorder (effect time) -> aspace (the live set) + the recording.
 * A module: returns 0 or -errno, never prints; what the user should read
 * goes through opts.say (see enum rec_say).
 */
#ifndef MAPLEAK_RECORDER_H
#define MAPLEAK_RECORDER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "mapleak.h"
#include "collect/events.h"
#include "track/aspace.h"

struct recorder;

enum rec_say {
	REC_SAY_NOTE,		/* also written to the recording */
	REC_SAY_INFO,		/* progress for the user only */
	REC_SAY_WARN,		/* something went wrong, recording goes on */
};

struct recorder_opts {
	const char *output;		/* recording file; NULL: keep none */
	u32 stack_size;			/* bytes of user stack per event */
	size_t ringbuf_size;		/* 0: default */
	bool no_runtime_symbols;	/* leave runtimes as they are */
	bool no_collector;		/* no BPF: events come from recorder_feed */
	bool no_fold;			/* write every op (record/fold.h) */
	u32 fold_window;		/* ops per fold window; 0: default */
	u64 max_size;			/* --max-size (needs folding); 0: none */
	bool keep_child;		/* launch: no SIGTERM at the end, no
					 * PR_SET_PDEATHSIG */
	void (*say)(void *ctx, enum rec_say level, const char *text);
	void *say_ctx;
	/* Stop signals received so far (may be NULL): one more ends a wait
	 * on a runtime (the JVM attach) at once. */
	const volatile sig_atomic_t *stops;
	/* Set: reads of the target's JIT files stop short (a huge perf map
	 * or jitdump must not hold Ctrl-C up). */
	const volatile sig_atomic_t *cancel_reads;
};

/* What the command prints at the end. */
struct recorder_summary {
	u32 stopped_by;			/* ML_STOP_* */
	bool alive_at_end;
	bool checked;			/* chk is valid */
	struct aspace_check chk;
	u64 events, lost;
	double seconds;
	u64 live_bytes;			/* made while tracing, still mapped */
	u32 live_sites;
	int write_err;			/* first error writing the file, or 0 */
	bool cut;			/* the file stopped at a write error */
	u64 rejected;			/* ops the live set refused (noted) */
};

int recorder_new(struct recorder **out, const struct recorder_opts *o);
void recorder_free(struct recorder *r);		/* NULL is a no-op */

/* Forks and execs command, stopped at its exec (ptrace) so its first
 * mappings are the baseline; recorder_attach() lets it run. */
int recorder_launch(struct recorder *r, char **command);

/* Creates the output file (before a launch: a refused file starts
 * nothing). -EINVAL: a FIFO, device or socket; -EPERM: another user's
 * file or link in a sticky folder; else -errno. */
int recorder_open_output(struct recorder *r);

/* Traces pid (or the launched command), writes the target record and
 * the baseline. -ESRCH/-ENOENT: it exited; -EACCES/-EPERM: /proc denied. */
int recorder_attach(struct recorder *r, pid_t pid);

/* .NET, JVM and Node symbols (src/runtime/ session: recover, detect,
 * enable; undone in recorder_finish()). */
void recorder_start_runtimes(struct recorder *r);

/* Until *stop is set, the target exits or deadline (CLOCK_MONOTONIC ns,
 * 0 = none). Returns ML_STOP_*, 0 when writing the file failed (a full
 * disk: stopped at once), or -errno when events cannot be read. */
int recorder_run(struct recorder *r, u64 deadline, const volatile sig_atomic_t *stop);

/* One turn of recorder_run(): reads events for up to ms milliseconds,
 * applies those out of the reorder window, and a few times a second
 * reconciles after lost events, reads new JIT symbols, flushes the file
 * and looks whether the target lives. 0: go on; ML_STOP_EXIT: the target
 * is gone; -errno when events cannot be read. After the last turn,
 * recorder_end_run(): what is still in the ring and the window. */
int recorder_step(struct recorder *r, int ms);
void recorder_end_run(struct recorder *r);

/* One event, as the collector delivers it; then recorder_drain(). */
int recorder_feed(struct recorder *r, const struct ml_event_hdr *ev,
		  const void *stack, size_t size);
void recorder_drain(struct recorder *r, bool flush);

/* Final snapshot while the target lives, names, END record; closes the
 * file (a launched command is ended first). */
int recorder_finish(struct recorder *r, u32 stopped_by, struct recorder_summary *s);

/* What one stack holds now: live bytes mapped since tracing began (the
 * baseline is no site), as the report would count them. */
struct recorder_site {
	u32 stack_id;
	u64 bytes;
	u64 reserved_bytes;	/* the PROT_NONE part of bytes */
	u64 mappings;		/* adjacent pieces of one call count once */
	u64 oldest, newest;	/* CLOCK_MONOTONIC ns of its oldest/newest region */
};

/* The live set by stack, in stack id order, into a new array (free it).
 * Ops still in the reorder window (50 ms) are not in it yet. 0 or -ENOMEM. */
int recorder_sites(struct recorder *r, struct recorder_site **out, size_t *n);

/* Names the frames of stack_id, innermost first, into a new array: free
 * each with ml_frame_release() and the array with free(). A pc that cannot
 * be named has only its pc. 0, -ENOENT (no such stack) or -ENOMEM. */
int recorder_name_stack(struct recorder *r, u32 stack_id, struct ml_frame **out,
			u32 *nframes);

/* The file cannot be written any more (a full disk): -errno, else 0.
 * recorder_run() stops then; a loop of recorder_step() should too. */
int recorder_write_error(const struct recorder *r);

/* When tracing began (CLOCK_MONOTONIC ns); events and lost so far. */
u64 recorder_start_time(const struct recorder *r);
void recorder_counts(const struct recorder *r, u64 *events, u64 *lost);

pid_t recorder_pid(const struct recorder *r);
const char *recorder_comm(const struct recorder *r);

#endif
