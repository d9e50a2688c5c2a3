/* SPDX-License-Identifier: MIT */
/* JVM and Node: perf-map names made readable, runtime detection; the
 * runtimes session (src/runtime/): registry, launch settings, notes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/runtime.h"
#include "symbols/runtimes.h"

static bool eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static const char *s(const char *v)
{
	return v ? v : "(null)";
}

/* Names `in` and compares every field with the expectation. */
static void name_case(const char *in, int want_ret, const char *sym,
		      const char *file, u32 line, const char *tier, u32 kind)
{
	struct ml_frame f = { .kind = ML_FK_UNKNOWN };
	int ret = runtimes_name_jit(in, &f);
	char what[200];

	snprintf(what, sizeof(what), "name '%s'", in);
	T_CHECKF(what, ret == want_ret && eq(f.symbol, sym) && eq(f.file, file) &&
		 f.line == line && eq(f.tier, tier) && (!want_ret || f.kind == kind),
		 "expected ret %d symbol %s file %s line %u tier %s kind %u, got "
		 "ret %d symbol %s file %s line %u tier %s kind %u", want_ret,
		 s(sym), s(file), line, s(tier), kind, ret, s(f.symbol), s(f.file),
		 f.line, s(f.tier), f.kind);
	ml_frame_release(&f);
}

static void test_hotspot(void)
{
	name_case("java.nio.MappedByteBuffer MapLeak.leakOne(java.nio.channels.FileChannel, long, long)",
		  1, "MapLeak.leakOne(java.nio.channels.FileChannel, long, long)",
		  NULL, 0, NULL, ML_FK_JIT);
	name_case("long sun.nio.ch.FileChannelImpl.map0(int, long, long, boolean)",
		  1, "sun.nio.ch.FileChannelImpl.map0(int, long, long, boolean)",
		  NULL, 0, NULL, ML_FK_JIT);
	name_case("void java.lang.Object.<init>()", 1, "java.lang.Object.<init>()",
		  NULL, 0, NULL, ML_FK_JIT);
	name_case("byte[] a.B$C.d(int[][])", 1, "a.B$C.d(int[][])", NULL, 0, NULL,
		  ML_FK_JIT);
	name_case("Interpreter", 1, "[interpreted Java]", NULL, 0, NULL, ML_FK_STUB);
	name_case("Lcom/foo/Bar;::run", 1, "com.foo.Bar::run", NULL, 0, NULL,
		  ML_FK_JIT);
	name_case("I2C/C2I adapters", 1, "I2C/C2I adapters", NULL, 0, NULL,
		  ML_FK_STUB);
	name_case("StubRoutines (1)", 1, "StubRoutines (1)", NULL, 0, NULL,
		  ML_FK_STUB);
	name_case("new_instance Runtime1 stub", 1, "new_instance Runtime1 stub",
		  NULL, 0, NULL, ML_FK_STUB);
	name_case("SafepointBlob", 1, "SafepointBlob", NULL, 0, NULL, ML_FK_STUB);
	/* not HotSpot's shape: left alone */
	name_case("py::f:/x.py", 0, NULL, NULL, 0, NULL, 0);
	name_case("void noclass(int)", 0, NULL, NULL, 0, NULL, 0);
	name_case("a b c.d(x)", 0, NULL, NULL, 0, NULL, 0);
	name_case("Lcom/foo/Bar;", 0, NULL, NULL, 0, NULL, 0);
	name_case("", 0, NULL, NULL, 0, NULL, 0);
	name_case(")", 0, NULL, NULL, 0, NULL, 0);
}

static void test_v8(void)
{
	name_case("JS:*leakBuffer /tmp/nt/x.js:3:20", 1, "leakBuffer",
		  "/tmp/nt/x.js", 3, "optimized", ML_FK_JIT);
	name_case("LazyCompile:~leak /srv/app/x.js:12:5", 1, "leak",
		  "/srv/app/x.js", 12, "interpreted", ML_FK_JIT);
	name_case("JS:^run node:internal/main/run_main_module:23:48", 1, "run",
		  "node:internal/main/run_main_module", 23, "baseline", ML_FK_JIT);
	name_case("JS:+f file.js:1:1", 1, "f", "file.js", 1, "maglev", ML_FK_JIT);
	name_case("JS:~ /tmp/x.js:1:1", 1, "(anonymous)", "/tmp/x.js", 1,
		  "interpreted", ML_FK_JIT);
	name_case("Function:foo", 1, "foo", NULL, 0, NULL, ML_FK_JIT);
	name_case("JS:*f /a b/x.js:7", 1, "f", "/a b/x.js:7", 0, "optimized",
		  ML_FK_JIT);
	name_case("JS:*f x.js:7:", 1, "f", "x.js:7:", 0, "optimized", ML_FK_JIT);
	name_case("JS:*f :1:2", 1, "f", NULL, 1, "optimized", ML_FK_JIT);
	name_case("Builtin:ArrayPrototypePush", 1, "Builtin:ArrayPrototypePush",
		  NULL, 0, NULL, ML_FK_STUB);
	name_case("BytecodeHandler:Ldar", 1, "BytecodeHandler:Ldar", NULL, 0, NULL,
		  ML_FK_STUB);
	name_case("JS", 0, NULL, NULL, 0, NULL, 0);
}

static void test_detect(void)
{
	static const char jvm[] =
		"5581a0000000-5581a0001000 r--p 00000000 08:01 1 /usr/lib/jvm/j17/bin/java\n"
		"7f0000000000-7f0000100000 r-xp 00000000 08:01 2 /usr/lib/jvm/j17/lib/server/libjvm.so\n";
	static const char node[] =
		"5581a0000000-5581a0001000 r-xp 00000000 08:01 1 /usr/local/bin/node\n";
	static const char libnode[] =
		"7f0000000000-7f0000100000 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libnode.so.108\n";
	static const char dotnet[] =
		"7f0000000000-7f0000100000 r-xp 00000000 08:01 2 /usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.0/libcoreclr.so (deleted)\n";
	static const char plain[] =
		"7f0000000000-7f0000100000 r-xp 00000000 08:01 2 /usr/lib/libjvm.so.bak\n"
		"7f0000100000-7f0000200000 rw-p 00000000 00:00 0 \n"
		"7f0000200000-7f0000300000 rw-p 00000000 00:00 0";

	T_CHECK("detect JVM by libjvm.so",
		runtimes_detect_maps(jvm, strlen(jvm), "java") == ML_RT_JVM);
	T_CHECK("detect node by its binary",
		runtimes_detect_maps(node, strlen(node), "MainThread") == ML_RT_NODE);
	T_CHECK("detect node by libnode.so.N",
		runtimes_detect_maps(libnode, strlen(libnode), "x") == ML_RT_NODE);
	T_CHECK("detect node by comm", runtimes_detect_maps("", 0, "node") == ML_RT_NODE);
	T_CHECK("detect .NET by libcoreclr.so (deleted)",
		runtimes_detect_maps(dotnet, strlen(dotnet), "app") == ML_RT_DOTNET);
	T_CHECK("no runtime in a plain process",
		runtimes_detect_maps(plain, strlen(plain), "cat") == 0);
}

/* Each runtime once, with its own kind, and a detect hook. */
static void test_registry(void)
{
	unsigned all = 0, dup = 0;
	size_t n = 0;

	for (size_t i = 0; runtime_all[i]; i++, n++) {
		const struct runtime_ops *ops = runtime_all[i];

		T_CHECKF("runtime has a name and detect", ops->name && ops->detect,
			 "entry %zu", i);
		dup |= all & ops->kind;
		all |= ops->kind;
	}
	T_CHECKF("registry: .NET, JVM and Node, each kind once",
		 n == 3 && !dup && all == (ML_RT_DOTNET | ML_RT_JVM | ML_RT_NODE),
		 "Expected: 3 runtimes, kinds 0x7. Got: %zu, kinds 0x%x, twice 0x%x",
		 n, all, dup);
}

struct said {
	int notes, infos, warns;
};

static void say(void *ctx, enum rt_say level, const char *text)
{
	struct said *s = ctx;

	printf("# said %d: %s\n", (int)level, text);
	if (level == RT_SAY_NOTE)
		s->notes++;
	else if (level == RT_SAY_INFO)
		s->infos++;
	else
		s->warns++;
}

static const char *const launch_vars[] = {
	"DOTNET_PerfMapEnabled", "COMPlus_PerfMapEnabled", "JAVA_TOOL_OPTIONS",
	"NODE_OPTIONS",
};

static void clear_launch_vars(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(launch_vars); i++)
		unsetenv(launch_vars[i]);
}

/* What runtimes_prepare_launch() then runtimes_launch_env() leave in the
 * environment (run in this process: the child's side of the fork). */
static void launch(bool no_rt)
{
	struct said sd = { 0 };
	struct rt_opts o = { .no_runtime_symbols = no_rt, .say = say,
			     .say_ctx = &sd };
	struct runtimes *rt = NULL;

	if (runtimes_new(&rt, &o)) {
		T_CHECK("runtimes_new", 0);
		return;
	}
	runtimes_prepare_launch(rt);
	runtimes_launch_env(rt);
	runtimes_free(rt);
	T_CHECK("launch settings say nothing", !sd.notes && !sd.infos && !sd.warns);
}

static void test_launch_env(void)
{
	const char *v;

	clear_launch_vars();
	launch(false);
	v = getenv("DOTNET_PerfMapEnabled");
	T_CHECKF("launch: DOTNET_PerfMapEnabled=3 (perf map only)",
		 v && !strcmp(v, "3"), "Got: %s", s(v));
	v = getenv("JAVA_TOOL_OPTIONS");
	T_CHECKF("launch: JAVA_TOOL_OPTIONS gets -XX:+PreserveFramePointer",
		 v && !strcmp(v, "-XX:+PreserveFramePointer"), "Got: %s", s(v));
	v = getenv("NODE_OPTIONS");
	T_CHECKF("launch: NODE_OPTIONS gets the perf map flags",
		 v && strstr(v, "--perf-basic-prof-only-functions") &&
		 strstr(v, "--interpreted-frames-native-stack"), "Got: %s", s(v));

	/* The user's settings decide. */
	clear_launch_vars();
	setenv("COMPlus_PerfMapEnabled", "1", 1);
	setenv("JAVA_TOOL_OPTIONS", "-Xmx64m", 1);
	setenv("NODE_OPTIONS", "--perf-prof", 1);
	launch(false);
	T_CHECKF("launch: the user's COMPlus_PerfMapEnabled leaves DOTNET_ unset",
		 !getenv("DOTNET_PerfMapEnabled"), "Got: %s",
		 s(getenv("DOTNET_PerfMapEnabled")));
	v = getenv("JAVA_TOOL_OPTIONS");
	T_CHECKF("launch: JAVA_TOOL_OPTIONS keeps the user's options first",
		 v && !strcmp(v, "-Xmx64m -XX:+PreserveFramePointer"), "Got: %s", s(v));
	v = getenv("NODE_OPTIONS");
	T_CHECKF("launch: the user's --perf-prof is left alone",
		 v && !strcmp(v, "--perf-prof"), "Got: %s", s(v));

	clear_launch_vars();
	launch(true);
	T_CHECK("launch with --no-runtime-symbols: no variable set",
		!getenv("DOTNET_PerfMapEnabled") && !getenv("JAVA_TOOL_OPTIONS") &&
		!getenv("NODE_OPTIONS"));
	clear_launch_vars();
}

/* A process with no managed runtime (this test): nothing detected,
 * nothing enabled, nothing said, from start to finish. */
static void test_session_plain(void)
{
	char dir[] = "/tmp/mapleak-rt-XXXXXX";
	struct said sd = { 0 };
	struct rt_opts o = { .say = say, .say_ctx = &sd };
	struct runtimes *rt = NULL;

	if (!mkdtemp(dir) || runtimes_new(&rt, &o)) {
		T_CHECK("session setup", 0);
		return;
	}
	/* Recovery looks here, not in /run/mapleak. */
	setenv("MAPLEAK_STATE_DIR", dir, 1);
	T_CHECK("start on a plain process", runtimes_start(rt, getpid(), false, NULL) == 0);
	T_CHECKF("no runtime detected in a plain process", runtimes_kinds(rt) == 0,
		 "Got: 0x%x", runtimes_kinds(rt));
	runtimes_refresh(rt, true);
	runtimes_finish(rt, true);
	runtimes_free(rt);
	T_CHECKF("a plain process: nothing said", !sd.notes && !sd.infos && !sd.warns,
		 "Got: %d notes, %d infos, %d warnings", sd.notes, sd.infos, sd.warns);
	unsetenv("MAPLEAK_STATE_DIR");
	rmdir(dir);
}

int main(void)
{
	test_hotspot();
	test_v8();
	test_detect();
	test_registry();
	test_launch_env();
	test_session_plain();
	T_END();
}
