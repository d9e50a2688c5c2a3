/* SPDX-License-Identifier: MIT */
/*
 * Managed runtimes other than .NET (src/symbols/dotnet.c): what mapleak
 * must do so that a HotSpot JVM's or Node's JIT frames get names.
 *
 *   JVM:  asks for its perf map (Compiler.perfmap, JDK 17+) over the
 *         HotSpot attach socket (jvmattach.h; no jcmd or other program is
 *         run) when recording starts and again before frames are named;
 *         checks -XX:+PreserveFramePointer (VM.flags), without which
 *         compiled Java frames break the frame-pointer walk.
 *   Node: uses /tmp/perf-PID.map when node runs with --perf-basic-prof.
 *   Launch mode adds both settings to the environment of the command.
 *
 * Nothing here prints: what the user must know comes back as notes (one
 * line each) that the caller prints and stores in the recording.
 */
#ifndef MAPLEAK_RUNTIMES_H
#define MAPLEAK_RUNTIMES_H

#include <signal.h>

#include "mapleak.h"

struct symtab;
struct runtimes;

enum {
	ML_RT_DOTNET = 1u << 0,	/* libcoreclr.so mapped */
	ML_RT_JVM = 1u << 1,	/* libjvm.so mapped */
	ML_RT_NODE = 1u << 2,	/* node binary or libnode.so */
};

/* How long asking a JVM may take (attach, VM.flags, Compiler.perfmap). */
#define ML_JVM_ATTACH_TIMEOUT_MS 15000

/*
 * In the launched child, after fork and before exec: appends
 * -XX:+PreserveFramePointer to JAVA_TOOL_OPTIONS and --perf-basic-prof
 * --interpreted-frames-native-stack to NODE_OPTIONS, unless the user's
 * value already decides it. Only those runtimes read these variables.
 */
void runtimes_launch_env(void);

/*
 * After attaching (st open, target traced): detects the runtime and, for
 * a running JVM, has it write its perf map, then reads it into st.
 * launched: mapleak started the target (with runtimes_launch_env()).
 * stops (may be NULL) counts the stop signals the command received: one
 * more ends a wait on the JVM at once, here and in runtimes_finish().
 * Returns 0 or -ENOMEM; failures to name frames become notes.
 */
int runtimes_start(struct runtimes **out, pid_t pid, bool launched,
		   struct symtab *st, const volatile sig_atomic_t *stops);

/*
 * Before frames are named: a JVM writes its perf map again (methods
 * compiled while recording), st re-reads it, and a map file that
 * mapleak caused is removed. alive: the target still runs.
 */
void runtimes_finish(struct runtimes *rt, struct symtab *st, bool alive);

/* Notes added since the last call (borrowed, valid until the next call
 * or runtimes_free()); *n gets their count. */
const char *const *runtimes_new_notes(struct runtimes *rt, size_t *n);

unsigned runtimes_kinds(const struct runtimes *rt);	/* ML_RT_* */
void runtimes_free(struct runtimes *rt);	/* NULL is a no-op */

/* Detects runtimes from a /proc/PID/maps text and the comm; ML_RT_*. */
unsigned runtimes_detect_maps(const char *maps, size_t len, const char *comm);

/*
 * Names a HotSpot or V8 perf-map entry readably (a small, bounded parser:
 * perf maps are outside data):
 *   "java.nio.MappedByteBuffer MapLeak.leakOne(long)" -> MapLeak.leakOne(long)
 *   "Lcom/foo/Bar;::run"                              -> com.foo.Bar::run
 *   "Interpreter"                                     -> [interpreted Java], stub
 *   "JS:*leak /app/x.js:3:20" -> leak, file /app/x.js, line 3, tier optimized
 * Fills symbol (and file, line, tier, kind) of f. Returns 1 when the name
 * had one of these shapes, 0 when not (f untouched), -ENOMEM.
 */
int runtimes_name_jit(const char *name, struct ml_frame *f);

#endif
