/* SPDX-License-Identifier: MIT */
/*
 * Managed runtimes: what mapleak does so that JIT frames get names, and
 * undoes afterwards. One interface (struct runtime_ops) that .NET
 * (dotnet.c), HotSpot JVMs (jvm.c) and Node (node.c) implement, listed in
 * runtime_all[], and one session (struct runtimes) that record, top (both
 * through the recorder) and resolve use:
 *
 *   runtimes_new()            the options and where notes go
 *   runtimes_prepare_launch() parent, before fork: what the child's
 *                             environment will decide (files it causes)
 *   runtimes_launch_env()     child, after fork, before exec
 *   runtimes_start()          recover what a killed mapleak left on,
 *                             detect, enable (perf maps on demand)
 *   runtimes_refresh()        before frames are named (methods compiled
 *                             while recording)
 *   runtimes_finish()         after the last read of the JIT files and
 *                             before a launched child is reaped: disable
 *                             and remove what mapleak caused
 *   runtimes_free()
 *
 * Naming JIT frames stays with the symbol tables (symbols/runtimes.c,
 * symtab-hotspot.c): symbols/ does not depend on runtime/.
 *
 * A module: nothing here prints; what the user must know goes through
 * opts.say, one line each, in the same words for every command.
 */
#ifndef MAPLEAK_RUNTIME_H
#define MAPLEAK_RUNTIME_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "mapleak.h"

struct symtab;
struct runtimes;
struct rt_session;

enum {
	ML_RT_DOTNET = 1u << 0,	/* libcoreclr.so mapped */
	ML_RT_JVM = 1u << 1,	/* libjvm.so mapped */
	ML_RT_NODE = 1u << 2,	/* node binary or libnode.so */
};

enum rt_say {
	RT_SAY_NOTE,		/* why names may be missing: kept in a report */
	RT_SAY_INFO,		/* progress for the user only */
	RT_SAY_WARN,		/* something could not be undone */
};

struct rt_opts {
	/* Leave runtimes as they are: only what a killed mapleak left on
	 * is undone (and .NET says its frames stay unnamed). */
	bool no_runtime_symbols;
	/* Stop signals received so far (may be NULL): one more ends a wait
	 * on a runtime (the JVM attach) at once. */
	const volatile sig_atomic_t *stops;
	void (*say)(void *ctx, enum rt_say level, const char *text);
	void *say_ctx;
};

/* What detection looks at: the process's /proc/PID/maps text and comm. */
struct rt_target {
	const char *maps;
	size_t len;
	const char *comm;	/* may be NULL */
};

/*
 * One runtime. Every hook but detect may be NULL; priv is the runtime's
 * own state (priv_size bytes, zeroed, freed with the session).
 */
struct runtime_ops {
	const char *name;
	unsigned kind;		/* ML_RT_* */
	size_t priv_size;
	bool (*detect)(const struct rt_target *t);
	/* Always, first, even with no_runtime_symbols: what an earlier,
	 * killed mapleak left turned on. */
	void (*recover)(struct rt_session *s, void *priv);
	/* Launch mode, in the parent before fork / in the child. */
	void (*prepare_launch)(struct rt_session *s, void *priv);
	void (*launch_env)(const struct rt_session *s, void *priv);
	/* Attach mode, the runtime detected: have it write its symbols.
	 * Called with no_runtime_symbols too, to say what stays unnamed. */
	void (*enable)(struct rt_session *s, void *priv);
	/* Before naming; alive: the target still runs. detected: it was
	 * seen at the start or is seen now. */
	void (*refresh)(struct rt_session *s, void *priv, bool alive, bool detected);
	/* After the last read: turn off and remove what mapleak caused. */
	void (*disable)(struct rt_session *s, void *priv, bool alive, bool detected);
	/* The session is freed: undo what disable did not get to. */
	void (*release)(void *priv);
};

extern const struct runtime_ops *const runtime_all[];

int runtimes_new(struct runtimes **out, const struct rt_opts *o);
void runtimes_free(struct runtimes *rt);	/* NULL is a no-op */

/* Launch mode: in the parent before fork, then in the child before
 * exec (adds settings to the child's environment, unless the user's
 * value already decides them; nothing with no_runtime_symbols). */
void runtimes_prepare_launch(struct runtimes *rt);
void runtimes_launch_env(const struct runtimes *rt);

/*
 * After attaching (st open, the target traced; a launched target is
 * stopped at its exec, nothing to detect yet): undoes what a killed
 * mapleak left on, detects the runtimes and enables what names their
 * JIT code; st (may be NULL) reads what they wrote. 0 or -ENOMEM.
 */
int runtimes_start(struct runtimes *rt, pid_t pid, bool launched,
		   struct symtab *st);
void runtimes_refresh(struct runtimes *rt, bool alive);
void runtimes_finish(struct runtimes *rt, bool alive);

unsigned runtimes_kinds(const struct runtimes *rt);	/* ML_RT_* */

/* Detects runtimes from a /proc/PID/maps text and the comm; ML_RT_*. */
unsigned runtimes_detect_maps(const char *maps, size_t len, const char *comm);

#endif
