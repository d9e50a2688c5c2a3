/* SPDX-License-Identifier: MIT */
/*
 * HotSpot JVMs (runtime.h): asks for the perf map (Compiler.perfmap, JDK
 * 17+) over the attach socket (symbols/jvmattach.h; no jcmd or other
 * program is run) when recording starts and again before frames are
 * named; checks -XX:+PreserveFramePointer (VM.flags), without which
 * compiled Java frames break the frame-pointer walk. Launch mode adds
 * that flag to JAVA_TOOL_OPTIONS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime-int.h"
#include "symbols/ipc.h"
#include "symbols/jvmattach.h"
#include "symbols/symtab.h"

/* How long asking a JVM may take (attach, VM.flags, Compiler.perfmap). */
#define JVM_ATTACH_TIMEOUT_MS 15000
#define RT_OUT_MAX (64 * 1024)		/* a diagnostic command's output kept */

#define PFP "-XX:+PreserveFramePointer"

struct jvm {
	bool jvm_done;		/* JVM checks and notes made once */
	bool map_existed;	/* perf map present before mapleak acted */
	bool map_ours;		/* mapleak caused it: remove at the end */
	bool jcmd_failed;	/* the JVM could not be asked: do not retry */
};

static bool is_libjvm(const char *path, size_t n)
{
	return rt_has_suffix_n(path, n, "/libjvm.so");
}

static bool jvm_detect(const struct rt_target *t)
{
	return rt_maps_any(t, is_libjvm);
}

static void jvm_launch_env(const struct rt_session *s, void *priv)
{
	rt_append_env("JAVA_TOOL_OPTIONS", PFP, "PreserveFramePointer", NULL);
}

/* The most telling line of a diagnostic command's output: the first exception or error
 * line, else the last non-empty line. Copied into buf. */
static void jcmd_reason(const char *out, char *buf, size_t size)
{
	const char *best = NULL, *last = NULL, *p = out;
	size_t bl = 0, ll = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l > 0 && !best &&
		    (memmem(p, l, "Exception", 9) || memmem(p, l, "rror", 4) ||
		     memmem(p, l, "nknown", 6))) {
			best = p;
			bl = l;
		}
		if (l > 0) {
			last = p;
			ll = l;
		}
		p = nl ? nl + 1 : p + l;
	}
	if (!best) {
		best = last;
		bl = ll;
	}
	if (!best) {
		snprintf(buf, size, "no output");
		return;
	}
	if (bl > 160)
		bl = 160;
	snprintf(buf, size, "%.*s", (int)bl, best);
}

/* Has the JVM write /tmp/perf-<nspid>.map; also learns from VM.flags
 * whether it preserves frame pointers. Both requests share one deadline.
 * Returns true when the map exists after the command. */
static bool jvm_perfmap(struct rt_session *rt, struct jvm *j, bool check_flags,
			bool *pfp)
{
	struct jvm_target t = { .pid = rt->pid, .nspid = rt->nspid,
				.euid = rt->euid, .egid = rt->egid };
	const char *cmd = "Compiler.perfmap";
	char *out = malloc(RT_OUT_MAX), reason[200];
	struct ipc_clock c;
	bool flags_pfp = true;
	int ret = 0, status = 0;

	if (!out)
		return false;
	ipc_clock_start(&c, JVM_ATTACH_TIMEOUT_MS, rt->o.stops);
	if (check_flags) {
		ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, RT_OUT_MAX, &status);
		if (ret)
			cmd = "VM.flags";
		else if (status == 0)
			flags_pfp = strstr(out, PFP) != NULL;
	}
	if (!ret)
		ret = jvm_attach_jcmd(&t, cmd, &c, out, RT_OUT_MAX, &status);
	if (!ret && status == 0 && rt_perfmap_exists(rt)) {
		if (pfp)
			*pfp = flags_pfp;
		free(out);
		return true;
	}
	j->jcmd_failed = true;
	if (ret == -ENOTSUP) {
		rt_sayf(rt, RT_SAY_NOTE, "JVM %d does not handle SIGQUIT (-Xrs?) and has no attach "
			 "listener: mapleak did not signal it, which would kill it; "
			 "Java frames stay unnamed (restart it without -Xrs, or with "
			 "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit)",
			 (int)rt->pid);
		free(out);
		return false;
	}
	if (ret == -ETIMEDOUT)
		snprintf(reason, sizeof(reason), "no answer within %d s",
			 JVM_ATTACH_TIMEOUT_MS / 1000);
	else if (ret == -EPERM)
		snprintf(reason, sizeof(reason), "refused its attach socket "
			 "/tmp/.java_pid%d: not a socket of the JVM's user (uid %d) "
			 "served by the JVM", (int)rt->nspid, (int)rt->euid);
	else if (ret == -ENOTSOCK)
		snprintf(reason, sizeof(reason), "refused /tmp/.java_pid%d: not a "
			 "socket (a link or another file)", (int)rt->nspid);
	else if (ret == -EINTR)
		snprintf(reason, sizeof(reason), "interrupted");
	else if (ret == -EBADMSG)
		snprintf(reason, sizeof(reason), "not an attach protocol answer");
	else if (ret < 0)
		snprintf(reason, sizeof(reason), "%s", strerror(-ret));
	else if (status != 0)
		jcmd_reason(out, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "no /tmp/perf-%d.map was written",
			 (int)rt->nspid);
	rt_sayf(rt, RT_SAY_NOTE, "cannot get the perf map of JVM %d (%s over its attach "
		 "socket: %s): Java frames stay unnamed; it needs a HotSpot JDK 17+ "
		 "with the attach mechanism on", (int)rt->pid, cmd, reason);
	free(out);
	return false;
}

static void jvm_enable(struct rt_session *rt, void *priv)
{
	struct jvm *j = priv;
	bool pfp = true;

	if (rt->o.no_runtime_symbols)
		return;
	j->jvm_done = true;
	j->map_existed = rt_perfmap_exists(rt);
	if (!jvm_perfmap(rt, j, true, &pfp))
		return;
	j->map_ours = !j->map_existed;
	if (rt->st)
		symtab_reread_jit(rt->st);
	if (!pfp)
		rt_sayf(rt, RT_SAY_NOTE, "JVM %d runs without " PFP ": the walk stops or goes "
			 "astray at JIT-compiled Java frames, so their callers may "
			 "be missing (restart it with " PFP ", e.g. in "
			 "JAVA_TOOL_OPTIONS)", (int)rt->pid);
}

static void jvm_refresh(struct rt_session *rt, void *priv, bool alive,
			bool detected)
{
	struct jvm *j = priv;

	if (!detected)
		return;
	if (!alive) {
		if (rt->launched || !j->jvm_done)
			rt_sayf(rt, RT_SAY_NOTE, "JVM %d exited before mapleak could ask for "
				 "its perf map: JIT-compiled Java frames may be "
				 "unnamed (stop the recording while it runs)",
				 (int)rt->pid);
	} else if (!j->jcmd_failed) {
		if (!j->jvm_done) {
			/* Launched: the first chance to ask. */
			j->jvm_done = true;
			j->map_existed = rt_perfmap_exists(rt);
		}
		if (jvm_perfmap(rt, j, false, NULL)) {
			j->map_ours = j->map_ours || !j->map_existed;
			if (rt->st)
				symtab_reread_jit(rt->st);
		}
	}
}

/* Read: symtab keeps the file open, the name can go. */
static void jvm_disable(struct rt_session *rt, void *priv, bool alive,
			bool detected)
{
	struct jvm *j = priv;

	if (j->map_ours && alive && detected)
		rt_perfmap_remove(rt);
	j->map_ours = false;
}

const struct runtime_ops runtime_jvm = {
	.name = "jvm",
	.kind = ML_RT_JVM,
	.priv_size = sizeof(struct jvm),
	.detect = jvm_detect,
	.launch_env = jvm_launch_env,
	.enable = jvm_enable,
	.refresh = jvm_refresh,
	.disable = jvm_disable,
};
