/* SPDX-License-Identifier: MIT */
/*
 * .NET (CoreCLR; runtime.h): the policy around symbols/dotnet.c's IPC.
 * Attached (-p), a runtime whose settings make no perf map gets one over
 * its diagnostics socket (it replays what it compiled so far), turned off
 * and its file removed at the end; launched, the child gets
 * DOTNET_PerfMapEnabled=3 and the files it causes are removed after the
 * last read. What a killed mapleak left on is undone first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime-int.h"
#include "symbols/dotnet.h"
#include "symbols/symtab.h"
#include "util.h"

/* Each diagnostics-socket exchange (enable, disable, recovery). */
#define DOTNET_IPC_TIMEOUT_MS	5000

struct clr {
	struct dotnet_perfmap *dp;	/* a perf map we enabled */
	bool perfmap_env;	/* launch: we set DOTNET_PerfMapEnabled */
};

static bool is_coreclr(const char *path, size_t n)
{
	return rt_has_suffix_n(path, n, "/libcoreclr.so");
}

static bool clr_detect(const struct rt_target *t)
{
	return rt_maps_any(t, is_coreclr);
}

/* A mapleak killed while it had a .NET perf map on left it on: turn it
 * off now (whatever this run records), and say so. */
static void clr_recover(struct rt_session *s, void *priv)
{
	struct dotnet_recovered rv[8];
	size_t n = 0;

	if (dotnet_recover(DOTNET_IPC_TIMEOUT_MS, rv, ARRAY_SIZE(rv), &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (rv[i].err)
			rt_sayf(s, RT_SAY_NOTE, "a mapleak that was killed left the "
				"perf map of .NET process %d on, and it cannot be "
				"turned off: %s", (int)rv[i].pid, strerror(-rv[i].err));
		else if (rv[i].disabled || rv[i].removed)
			rt_sayf(s, RT_SAY_NOTE, "a mapleak that was killed left the "
				"perf map of .NET process %d on: %s%s", (int)rv[i].pid,
				rv[i].disabled ? "turned it off" : "it was off already",
				rv[i].removed ? ", removed the map file it caused" : "");
	}
}

/* Unless the user asked for a perf map (then the files are theirs), the
 * child's runtime writes one for us and we remove it at the end. */
static void clr_prepare_launch(struct rt_session *s, void *priv)
{
	struct clr *c = priv;

	c->perfmap_env = !getenv("DOTNET_PerfMapEnabled") &&
			 !getenv("COMPlus_PerfMapEnabled");
}

static void clr_launch_env(const struct rt_session *s, void *priv)
{
	const struct clr *c = priv;

	if (c->perfmap_env)
		setenv("DOTNET_PerfMapEnabled", "3", 0);
}

/* The fallback the user always has, in one line. */
static void clr_note(struct rt_session *s, const char *why)
{
	rt_sayf(s, RT_SAY_NOTE, "cannot enable the .NET perf map (%s): managed "
		"frames stay unnamed; restart the process with DOTNET_PerfMapEnabled=3",
		why);
}

/* -p on a .NET process whose settings make no perf map: turn it on over
 * the diagnostics socket (the runtime replays what it compiled so far). */
static void clr_enable(struct rt_session *s, void *priv)
{
	struct clr *c = priv;
	struct dotnet_probe p;
	char why[300];
	u32 hr = 0;
	int err;

	if (s->launched || dotnet_probe(s->pid, &p) || !p.coreclr ||
	    dotnet_perfmap_preset(&p))
		return;
	if (s->o.no_runtime_symbols) {
		clr_note(s, "--no-runtime-symbols");
		return;
	}
	if (p.env.diag_off[0]) {
		clr_note(s, p.env.diag_off);
		return;
	}
	err = dotnet_perfmap_enable(s->pid, &p, DOTNET_IPC_TIMEOUT_MS, &c->dp, &hr);
	switch (err) {
	case 0:
		rt_say(s, RT_SAY_INFO, ".NET runtime: perf map enabled over the "
		       "diagnostics socket (will be disabled at the end)");
		if (s->st)	/* the replay of compiled methods */
			symtab_update_jit(s->st);
		return;
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
	clr_note(s, why);
}

/*
 * Turns off what clr_enable() turned on and removes the map file it made;
 * launched, removes the perf map (and .NET 8's perfinfo file) that our
 * DOTNET_PerfMapEnabled made the program write, after the last read (a
 * runtime still running keeps writing to its open file, unseen). Only for
 * a .NET program: another runtime's map under that name is not ours.
 */
static void clr_disable(struct rt_session *s, void *priv, bool alive,
			bool detected)
{
	struct clr *c = priv;
	u32 hr = 0;
	int err;

	if (c->dp) {
		err = dotnet_perfmap_undo(c->dp, DOTNET_IPC_TIMEOUT_MS, &hr, NULL);
		c->dp = NULL;
		/* A target that is gone has nothing left to disable. */
		if (err == -EPROTO)
			rt_sayf(s, RT_SAY_WARN, "cannot disable the .NET perf map: the "
				"runtime answered HRESULT 0x%08x", hr);
		else if (err && (alive || (err != -ECONNREFUSED && err != -ENOENT)))
			rt_sayf(s, RT_SAY_WARN, "cannot disable the .NET perf map or "
				"remove its file: %s", strerror(-err));
	}
	/* A program that exited at once may leave no maps read after it
	 * loaded the runtime: its perf map still says it was .NET. */
	if (!s->launched || !c->perfmap_env || !s->st ||
	    (!symtab_maps_have(s->st, "/libcoreclr.so") &&
	     !symtab_perfmap_is_dotnet(s->st)))
		return;
	c->perfmap_env = false;
	err = symtab_remove_perfmap(s->st);
	if (err)
		rt_sayf(s, RT_SAY_WARN, "cannot remove the .NET perf map of pid %d "
			"(/tmp/perf-PID.map in its root): %s", (int)s->pid,
			strerror(-err));
}

static void clr_release(void *priv)
{
	struct clr *c = priv;

	dotnet_perfmap_undo(c->dp, DOTNET_IPC_TIMEOUT_MS, NULL, NULL);
	c->dp = NULL;
}

const struct runtime_ops runtime_dotnet = {
	.name = "dotnet",
	.kind = ML_RT_DOTNET,
	.priv_size = sizeof(struct clr),
	.detect = clr_detect,
	.recover = clr_recover,
	.prepare_launch = clr_prepare_launch,
	.launch_env = clr_launch_env,
	.enable = clr_enable,
	.disable = clr_disable,
	.release = clr_release,
};
