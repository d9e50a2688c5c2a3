/* SPDX-License-Identifier: MIT */
/*
 * The recorder: one recording session of one process, as a library.
 *
 *   recorder_new()      load BPF collection (or none: events are fed)
 *   recorder_launch()   optional: start a command stopped at its exec
 *   recorder_attach()   create the output, trace the pid, take the baseline
 *   recorder_start_runtimes()  ask JIT runtimes for their symbols
 *   recorder_run()      the event loop, until stop/exit/deadline
 *     or recorder_feed() one event at a time (tests, other sources)
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
	const char *output;		/* recording file */
	u32 stack_size;			/* bytes of user stack per event */
	size_t ringbuf_size;		/* 0: default */
	bool no_runtime_symbols;	/* leave runtimes as they are */
	bool no_collector;		/* no BPF: events come from recorder_feed */
	bool no_fold;			/* write every op (record/fold.h) */
	u32 fold_window;		/* ops per fold window; 0: default */
	u64 max_size;			/* --max-size (needs folding); 0: none */
	void (*say)(void *ctx, enum rec_say level, const char *text);
	void *say_ctx;
	/* Stop signals received so far (may be NULL): one more ends a wait
	 * on a runtime (the JVM attach) at once. */
	const volatile sig_atomic_t *stops;
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
	u64 rejected;			/* ops the live set refused (noted) */
};

int recorder_new(struct recorder **out, const struct recorder_opts *o);
void recorder_free(struct recorder *r);		/* NULL is a no-op */

/* Forks and execs command, stopped at its exec (ptrace) so its first
 * mappings are the baseline; recorder_attach() lets it run. */
int recorder_launch(struct recorder *r, char **command);

/* Creates the output file. -errno; the command says "cannot create". */
int recorder_open_output(struct recorder *r);

/* Traces pid (or the launched command), writes the target record and
 * the baseline. -ESRCH/-ENOENT: it exited; -EACCES/-EPERM: /proc denied. */
int recorder_attach(struct recorder *r, pid_t pid);

/* .NET perf map over the diagnostics socket, JVM/Node symbols. */
void recorder_start_runtimes(struct recorder *r);

/* Until *stop is set, the target exits or deadline (CLOCK_MONOTONIC ns,
 * 0 = none). Returns ML_STOP_* or -errno when events cannot be read. */
int recorder_run(struct recorder *r, u64 deadline, const volatile sig_atomic_t *stop);

/* One event, as the collector delivers it; then recorder_drain(). */
int recorder_feed(struct recorder *r, const struct ml_event_hdr *ev,
		  const void *stack, size_t size);
void recorder_drain(struct recorder *r, bool flush);

/* Final snapshot while the target lives, names, END record; closes the
 * file (a launched command is ended first). */
int recorder_finish(struct recorder *r, u32 stopped_by, struct recorder_summary *s);

pid_t recorder_pid(const struct recorder *r);
const char *recorder_comm(const struct recorder *r);

#endif
