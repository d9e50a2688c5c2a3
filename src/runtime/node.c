/* SPDX-License-Identifier: MIT */
/*
 * Node (runtime.h): uses /tmp/perf-PID.map when node runs with
 * --perf-basic-prof; launch mode adds the flags to NODE_OPTIONS, and the
 * map they cause is removed at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime-int.h"
#include "symbols/symtab.h"

/* Only functions: plain --perf-basic-prof also turns on V8's code log,
 * which leaves an isolate-*-v8.log in the target's working directory (and
 * NODE_OPTIONS may not carry --logfile to redirect it). Functions are what
 * the report names; builtins and stubs show as unknown JIT code. */
#define NODE_FLAGS "--perf-basic-prof-only-functions --interpreted-frames-native-stack"

struct node {
	bool node_done;		/* checks and notes made once */
	bool map_ours;		/* mapleak caused it: remove at the end */
};

static bool is_node(const char *path, size_t n)
{
	return rt_has_suffix_n(path, n, "/bin/node") ||
	       rt_has_suffix_n(path, n, "/libnode.so") ||
	       memmem(path, n, "/libnode.so.", 12);
}

static bool node_detect(const struct rt_target *t)
{
	if (t->comm && (!strcmp(t->comm, "node") || !strcmp(t->comm, "nodejs")))
		return true;
	return rt_maps_any(t, is_node);
}

static void node_prepare_launch(struct rt_session *s, void *priv)
{
	struct node *n = priv;
	const char *no = getenv("NODE_OPTIONS");

	/* node_launch_env() adds the flag unless one was there. */
	n->map_ours = !(no && (strstr(no, "--perf-basic-prof") ||
			       strstr(no, "--perf-prof")));
}

static void node_launch_env(const struct rt_session *s, void *priv)
{
	rt_append_env("NODE_OPTIONS", NODE_FLAGS, "--perf-basic-prof", "--perf-prof");
}

static void node_enable(struct rt_session *rt, void *priv)
{
	struct node *n = priv;

	/* A JVM that looks like node (comm) is the JVM's. */
	if (rt->o.no_runtime_symbols || (rt->kinds & ML_RT_JVM))
		return;
	n->node_done = true;
	if (!rt_perfmap_exists(rt)) {
		rt_sayf(rt, RT_SAY_NOTE, "node %d writes no perf map: JavaScript frames stay "
			 "unnamed (restart it with --perf-basic-prof, or "
			 "--perf-basic-prof-only-functions, plus "
			 "--interpreted-frames-native-stack, e.g. in NODE_OPTIONS)",
			 (int)rt->pid);
		return;
	}
	if (!rt_proc_text_has(rt->pid, "cmdline", "--interpreted-frames-native-stack") &&
	    !rt_proc_text_has(rt->pid, "environ", "--interpreted-frames-native-stack"))
		rt_sayf(rt, RT_SAY_NOTE, "node %d runs without --interpreted-frames-native-stack: "
			 "interpreted JavaScript functions show as "
			 "InterpreterEntryTrampoline (restart it with that flag to "
			 "name them)", (int)rt->pid);
}

static void node_refresh(struct rt_session *rt, void *priv, bool alive,
			 bool detected)
{
	struct node *n = priv;

	if (!detected || (rt->kinds & ML_RT_JVM))
		return;
	if (rt->st)
		symtab_update_jit(rt->st);
	if (!rt->launched && !n->node_done)
		node_enable(rt, priv);
}

/* Read: symtab keeps the file open, the name can go. */
static void node_disable(struct rt_session *rt, void *priv, bool alive,
			 bool detected)
{
	struct node *n = priv;

	if (n->map_ours && alive && detected && !(rt->kinds & ML_RT_JVM))
		rt_perfmap_remove(rt);
	n->map_ours = false;
}

const struct runtime_ops runtime_node = {
	.name = "node",
	.kind = ML_RT_NODE,
	.priv_size = sizeof(struct node),
	.detect = node_detect,
	.prepare_launch = node_prepare_launch,
	.launch_env = node_launch_env,
	.enable = node_enable,
	.refresh = node_refresh,
	.disable = node_disable,
};
