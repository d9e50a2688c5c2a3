/* SPDX-License-Identifier: MIT */
/*
 * What the runtimes of runtime.h share: the session they act in and the
 * helpers for the perf map of a target's /tmp. Only src/runtime/ includes it.
 */
#ifndef MAPLEAK_RUNTIME_INT_H
#define MAPLEAK_RUNTIME_INT_H

#include "runtime/runtime.h"

#define RT_SMALL_MAX (256 * 1024)	/* status, cmdline, environ */
#define RT_NOTES_MAX 16			/* notes per session */

struct rt_session {
	struct rt_opts o;
	pid_t pid;
	pid_t nspid;
	uid_t euid;
	gid_t egid;
	bool launched;
	unsigned kinds;		/* ML_RT_* detected */
	struct symtab *st;	/* may be NULL */
	size_t nnotes;
};

/* A line for the user (notes capped per session). */
void rt_say(struct rt_session *s, enum rt_say level, const char *text);
void rt_sayf(struct rt_session *s, enum rt_say level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Does /proc/PID/FILE (cmdline, environ: NUL-separated) hold word? */
bool rt_proc_text_has(pid_t pid, const char *file, const char *word);

/* /tmp/perf-<nspid>.map in the target's root: present (a regular file)?
 * Removed only when it is a regular file of the target's user. */
bool rt_perfmap_exists(const struct rt_session *s);
void rt_perfmap_remove(const struct rt_session *s);

/* Adds add to the space-separated variable var unless it holds skip1 or
 * skip2 (the user decided). */
void rt_append_env(const char *var, const char *add, const char *skip1,
		   const char *skip2);

/* Does a mapping of t (its path, " (deleted)" cut) satisfy match? */
bool rt_maps_any(const struct rt_target *t,
		 bool (*match)(const char *path, size_t n));
bool rt_has_suffix_n(const char *s, size_t n, const char *suf);

extern const struct runtime_ops runtime_dotnet;
extern const struct runtime_ops runtime_jvm;
extern const struct runtime_ops runtime_node;

#endif
