/* SPDX-License-Identifier: MIT */
/*
 * JVM and Node: detection, launch settings, the JVM's perf map on demand,
 * and readable names for their perf-map entries. See runtimes.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "symbols/rootfs.h"
#include "symbols/runtimes.h"
#include "util.h"
#include "symbols/symtab.h"
#include "symbols/ipc.h"
#include "symbols/jvmattach.h"
#include "target/proc.h"

#define RT_MAPS_MAX (256u << 20)
#define RT_SMALL_MAX (256 * 1024)	/* status, cmdline, environ */
#define RT_OUT_MAX (64 * 1024)		/* a diagnostic command's output kept */
#define RT_NOTES_MAX 8

#define PFP "-XX:+PreserveFramePointer"
/* Only functions: plain --perf-basic-prof also turns on V8's code log,
 * which leaves an isolate-*-v8.log in the target's working directory (and
 * NODE_OPTIONS may not carry --logfile to redirect it). Functions are what
 * the report names; builtins and stubs show as unknown JIT code. */
#define NODE_FLAGS "--perf-basic-prof-only-functions --interpreted-frames-native-stack"

struct runtimes {
	pid_t pid;
	pid_t nspid;
	uid_t euid;
	gid_t egid;
	bool launched;
	unsigned kinds;
	bool jvm_done;		/* JVM checks and notes made once */
	bool node_done;
	bool map_existed;	/* perf map present before mapleak acted */
	bool map_ours;		/* mapleak caused it: remove at the end */
	bool jcmd_failed;	/* the JVM could not be asked: do not retry */
	const volatile sig_atomic_t *stops;	/* the command's stop signals */
	char *notes[RT_NOTES_MAX];
	size_t nnotes, reported;
};

/* ---- small helpers ---- */

static bool has_suffix_n(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Reads a whole (procfs) file, at most max bytes, NUL-terminated. */
static void add_note(struct runtimes *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_note(struct runtimes *rt, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	if (rt->nnotes == RT_NOTES_MAX)
		return;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r >= 0)
		rt->notes[rt->nnotes++] = s;
}

/* Uid/Gid (effective) and the innermost NSpid (target/proc.c parses). */
static void read_ids(struct runtimes *rt)
{
	struct proc_status ps;

	proc_status(rt->pid, &ps);
	rt->nspid = ps.nspid;
	if (ps.have & PROC_HAVE_UIDS)
		rt->euid = ps.uids[1];
	if (ps.have & PROC_HAVE_GIDS)
		rt->egid = ps.gids[1];
}

/* Does NUL-separated text (cmdline, environ) hold this word? */
static bool nul_text_has(const char *buf, size_t len, const char *word)
{
	return memmem(buf, len, word, strlen(word)) != NULL;
}

static bool proc_text_has(pid_t pid, const char *file, const char *word)
{
	char path[64], *s;
	size_t len = 0;
	bool ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	s = ml_read_file(path, RT_SMALL_MAX, &len);
	if (!s)
		return false;
	ret = nul_text_has(s, len, word);
	free(s);
	return ret;
}

static void perfmap_path(const struct runtimes *rt, char *buf, size_t size)
{
	snprintf(buf, size, "perf-%d.map", (int)rt->nspid);
}

/* /tmp/perf-N.map in the target's root: its own symlinks resolve inside
 * it (rootfs.h). The folder's O_PATH fd, *sb filled; or -errno. */
static int perfmap_stat(const struct runtimes *rt, struct stat *sb)
{
	char name[48];
	int rootfd = rootfs_open_root(-1, rt->pid), dirfd;

	if (rootfd < 0)
		return rootfd;
	dirfd = rootfs_openat(rootfd, "/tmp", O_PATH | O_DIRECTORY);
	close(rootfd);
	if (dirfd < 0)
		return dirfd;
	perfmap_path(rt, name, sizeof(name));
	if (fstatat(dirfd, name, sb, AT_SYMLINK_NOFOLLOW) < 0) {
		int err = -errno;

		close(dirfd);
		return err;
	}
	return dirfd;
}

static bool perfmap_exists(const struct runtimes *rt)
{
	struct stat sb;
	int dirfd = perfmap_stat(rt, &sb);

	if (dirfd < 0)
		return false;
	close(dirfd);
	return S_ISREG(sb.st_mode);
}

/* Removes the map we caused: a regular file of the target's user only. */
static void perfmap_remove(const struct runtimes *rt)
{
	char name[48];
	struct stat sb;
	int dirfd = perfmap_stat(rt, &sb);

	if (dirfd < 0)
		return;
	perfmap_path(rt, name, sizeof(name));
	if (S_ISREG(sb.st_mode) && sb.st_uid == rt->euid)
		unlinkat(dirfd, name, 0);
	close(dirfd);
}

/* ---- launch mode ---- */

static void append_env(const char *var, const char *add, const char *skip1,
		       const char *skip2)
{
	const char *old = getenv(var);
	char *v;

	if (old && (strstr(old, skip1) || (skip2 && strstr(old, skip2))))
		return;		/* the user decided */
	if (!old || !*old) {
		setenv(var, add, 1);
		return;
	}
	if (asprintf(&v, "%s %s", old, add) < 0)
		return;
	setenv(var, v, 1);
	free(v);
}

void runtimes_launch_env(void)
{
	append_env("JAVA_TOOL_OPTIONS", PFP, "PreserveFramePointer", NULL);
	append_env("NODE_OPTIONS", NODE_FLAGS, "--perf-basic-prof", "--perf-prof");
}

/* ---- detection ---- */

unsigned runtimes_detect_maps(const char *maps, size_t len, const char *comm)
{
	const char *p = maps, *end = maps + len;
	unsigned k = 0;

	if (comm && (!strcmp(comm, "node") || !strcmp(comm, "nodejs")))
		k |= ML_RT_NODE;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *path = memchr(p, '/', (size_t)(le - p));
		size_t n;

		if (path) {
			n = (size_t)(le - path);
			if (has_suffix_n(path, n, " (deleted)"))
				n -= strlen(" (deleted)");
			if (has_suffix_n(path, n, "/libjvm.so"))
				k |= ML_RT_JVM;
			else if (has_suffix_n(path, n, "/libcoreclr.so"))
				k |= ML_RT_DOTNET;
			else if (has_suffix_n(path, n, "/bin/node") ||
				 has_suffix_n(path, n, "/libnode.so") ||
				 memmem(path, n, "/libnode.so.", 12))
				k |= ML_RT_NODE;
		}
		p = le + 1;
	}
	return k;
}

static unsigned detect(pid_t pid)
{
	char path[64], *maps, *comm;
	size_t len = 0;
	unsigned k;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = ml_read_file(path, RT_MAPS_MAX, &len);
	comm = proc_comm(pid);
	k = runtimes_detect_maps(maps ? maps : "", maps ? len : 0, comm);
	free(maps);
	free(comm);
	return k;
}

/* ---- the JVM's perf map over the attach socket ---- */

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
static bool jvm_perfmap(struct runtimes *rt, bool check_flags, bool *pfp)
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
	ipc_clock_start(&c, ML_JVM_ATTACH_TIMEOUT_MS, rt->stops);
	if (check_flags) {
		ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, RT_OUT_MAX, &status);
		if (ret)
			cmd = "VM.flags";
		else if (status == 0)
			flags_pfp = strstr(out, PFP) != NULL;
	}
	if (!ret)
		ret = jvm_attach_jcmd(&t, cmd, &c, out, RT_OUT_MAX, &status);
	if (!ret && status == 0 && perfmap_exists(rt)) {
		if (pfp)
			*pfp = flags_pfp;
		free(out);
		return true;
	}
	rt->jcmd_failed = true;
	if (ret == -ENOTSUP) {
		add_note(rt, "JVM %d does not handle SIGQUIT (-Xrs?) and has no attach "
			 "listener: mapleak did not signal it, which would kill it; "
			 "Java frames stay unnamed (restart it without -Xrs, or with "
			 "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit)",
			 (int)rt->pid);
		free(out);
		return false;
	}
	if (ret == -ETIMEDOUT)
		snprintf(reason, sizeof(reason), "no answer within %d s",
			 ML_JVM_ATTACH_TIMEOUT_MS / 1000);
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
	add_note(rt, "cannot get the perf map of JVM %d (%s over its attach "
		 "socket: %s): Java frames stay unnamed; it needs a HotSpot JDK 17+ "
		 "with the attach mechanism on", (int)rt->pid, cmd, reason);
	free(out);
	return false;
}

/* ---- start and finish ---- */

static void jvm_start(struct runtimes *rt, struct symtab *st)
{
	bool pfp = true;

	rt->jvm_done = true;
	rt->map_existed = perfmap_exists(rt);
	if (!jvm_perfmap(rt, true, &pfp))
		return;
	rt->map_ours = !rt->map_existed;
	symtab_reread_jit(st);
	if (!pfp)
		add_note(rt, "JVM %d runs without " PFP ": the walk stops or goes "
			 "astray at JIT-compiled Java frames, so their callers may "
			 "be missing (restart it with " PFP ", e.g. in "
			 "JAVA_TOOL_OPTIONS)", (int)rt->pid);
}

static void node_start(struct runtimes *rt)
{
	rt->node_done = true;
	if (!perfmap_exists(rt)) {
		add_note(rt, "node %d writes no perf map: JavaScript frames stay "
			 "unnamed (restart it with --perf-basic-prof, or "
			 "--perf-basic-prof-only-functions, plus "
			 "--interpreted-frames-native-stack, e.g. in NODE_OPTIONS)",
			 (int)rt->pid);
		return;
	}
	if (!proc_text_has(rt->pid, "cmdline", "--interpreted-frames-native-stack") &&
	    !proc_text_has(rt->pid, "environ", "--interpreted-frames-native-stack"))
		add_note(rt, "node %d runs without --interpreted-frames-native-stack: "
			 "interpreted JavaScript functions show as "
			 "InterpreterEntryTrampoline (restart it with that flag to "
			 "name them)", (int)rt->pid);
}

int runtimes_start(struct runtimes **out, pid_t pid, bool launched,
		   struct symtab *st, const volatile sig_atomic_t *stops)
{
	struct runtimes *rt = calloc(1, sizeof(*rt));

	*out = rt;
	if (!rt)
		return -ENOMEM;
	rt->pid = pid;
	rt->launched = launched;
	rt->stops = stops;
	rt->euid = (uid_t)-1;
	rt->egid = (gid_t)-1;
	read_ids(rt);
	/* Launched: stopped at its exec, nothing to detect yet. */
	if (launched) {
		const char *no = getenv("NODE_OPTIONS");

		/* runtimes_launch_env() adds the flag unless one was there. */
		rt->map_ours = !(no && (strstr(no, "--perf-basic-prof") ||
					strstr(no, "--perf-prof")));
		rt->map_existed = false;
		return 0;
	}
	rt->kinds = detect(pid);
	if (rt->kinds & ML_RT_JVM)
		jvm_start(rt, st);
	else if (rt->kinds & ML_RT_NODE)
		node_start(rt);
	return 0;
}

void runtimes_finish(struct runtimes *rt, struct symtab *st, bool alive)
{
	if (!rt)
		return;
	if (alive)
		rt->kinds |= detect(rt->pid);
	if (rt->kinds & ML_RT_JVM) {
		if (!alive) {
			if (rt->launched || !rt->jvm_done)
				add_note(rt, "JVM %d exited before mapleak could ask for "
					 "its perf map: JIT-compiled Java frames may be "
					 "unnamed (stop the recording while it runs)",
					 (int)rt->pid);
		} else if (!rt->jcmd_failed) {
			if (!rt->jvm_done) {
				/* Launched: the first chance to ask. */
				rt->jvm_done = true;
				rt->map_existed = perfmap_exists(rt);
			}
			if (jvm_perfmap(rt, false, NULL)) {
				rt->map_ours = rt->map_ours || !rt->map_existed;
				symtab_reread_jit(st);
			}
		}
	} else if (rt->kinds & ML_RT_NODE) {
		symtab_update_jit(st);
		if (!rt->launched && !rt->node_done)
			node_start(rt);
	} else {
		rt->map_ours = false;	/* neither: not ours to touch */
	}
	/* Read: symtab keeps the file open, the name can go. */
	if (rt->map_ours && alive && (rt->kinds & (ML_RT_JVM | ML_RT_NODE)))
		perfmap_remove(rt);
}

const char *const *runtimes_new_notes(struct runtimes *rt, size_t *n)
{
	size_t from;

	if (!rt) {
		*n = 0;
		return NULL;
	}
	from = rt->reported;
	*n = rt->nnotes - from;
	rt->reported = rt->nnotes;
	return (const char *const *)rt->notes + from;
}

unsigned runtimes_kinds(const struct runtimes *rt)
{
	return rt ? rt->kinds : 0;
}

void runtimes_free(struct runtimes *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->nnotes; i++)
		free(rt->notes[i]);
	free(rt);
}

/* ---- names ---- */

#define RT_NAME_MAX 4096

static int set_n(char **dst, const char *s, size_t n)
{
	free(*dst);
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* V8: "TYPE:[marker]NAME FILE:LINE:COL" (JS, LazyCompile, Function, Eval,
 * Script) or "TYPE:NAME" for runtime code (Builtin, Stub...). */
static int name_v8(const char *name, size_t len, struct ml_frame *f)
{
	static const char *const js[] = { "JS:", "LazyCompile:", "Function:",
					   "Eval:", "Script:" };
	static const char *const code[] = { "Builtin:", "BytecodeHandler:",
					    "Stub:", "RegExp:", "Handler:",
					    "KeyedLoadIC:", "KeyedStoreIC:",
					    "LoadIC:", "StoreIC:", "CallIC:" };
	const char *p = NULL, *sp, *end = name + len, *tier = NULL;
	const char *file, *fe, *c1 = NULL, *c2 = NULL;
	size_t nlen;

	for (size_t i = 0; i < ARRAY_SIZE(js) && !p; i++)
		if (!strncmp(name, js[i], strlen(js[i])))
			p = name + strlen(js[i]);
	if (!p) {
		for (size_t i = 0; i < ARRAY_SIZE(code); i++)
			if (!strncmp(name, code[i], strlen(code[i]))) {
				f->kind = ML_FK_STUB;
				return set_n(&f->symbol, name, len) ? -ENOMEM : 1;
			}
		return 0;
	}
	switch (*p) {
	case '*': tier = "optimized"; break;	/* TurboFan */
	case '+': tier = "maglev"; break;
	case '^': tier = "baseline"; break;	/* Sparkplug */
	case '~': tier = "interpreted"; break;	/* Ignition */
	}
	if (tier)
		p++;
	sp = memchr(p, ' ', (size_t)(end - p));
	nlen = sp ? (size_t)(sp - p) : (size_t)(end - p);
	f->kind = ML_FK_JIT;
	if (nlen == 0 ? set_n(&f->symbol, "(anonymous)", 11) : set_n(&f->symbol, p, nlen))
		return -ENOMEM;
	if (tier && set_n(&f->tier, tier, strlen(tier)))
		return -ENOMEM;
	if (!sp)
		return 1;
	/* "FILE:LINE:COL" or "FILE:LINE"; a file may hold ':' (node:fs). */
	file = sp + 1;
	fe = end;
	for (const char *q = end; q > file; q--) {
		if (q[-1] != ':')
			continue;
		if (!c2)
			c2 = q - 1;
		else if (!c1) {
			c1 = q - 1;
			break;
		}
	}
	if (c1 && c2) {
		bool digits = c1 + 1 < c2 && c2 + 1 < end;

		for (const char *q = c1 + 1; q < end && digits; q++)
			digits = q == c2 || isdigit((unsigned char)*q);
		if (digits) {
			long l = strtol(c1 + 1, NULL, 10);

			if (l > 0 && l < INT32_MAX)
				f->line = (u32)l;
			fe = c1;
		}
	}
	if (fe > file && set_n(&f->file, file, (size_t)(fe - file)))
		return -ENOMEM;
	return 1;
}

/* "Lcom/foo/Bar;::method" (perf-map-agent, older tools). */
static int name_jvm_sig(const char *name, size_t len, struct ml_frame *f)
{
	const char *semi = memchr(name, ';', len);
	char *s;

	if (len < 5 || name[0] != 'L' || !semi || semi[1] != ':' ||
	    semi[2] != ':')
		return 0;
	for (const char *q = name + 1; q < semi; q++)
		if (!is_ident(*q) && *q != '/')
			return 0;
	s = strndup(name + 1, len - 1);
	if (!s)
		return -ENOMEM;
	for (char *q = s; *q && q < s + (semi - name - 1); q++)
		if (*q == '/')
			*q = '.';
	/* drop the ';' */
	memmove(s + (semi - name - 1), s + (semi - name), strlen(s + (semi - name)) + 1);
	free(f->symbol);
	f->symbol = s;
	f->kind = ML_FK_JIT;
	return 1;
}

/* HotSpot 17+: "RET pkg.Class.method(ARGS)"; RET has no space. */
static int name_hotspot(const char *name, size_t len, struct ml_frame *f)
{
	const char *open = memchr(name, '(', len), *sp, *dot = NULL;

	static const char *const stubs[] = { "I2C/C2I adapters", "vtable chunks",
					     "itable chunks",
					     "native signature handlers" };

	if (len == 11 && !memcmp(name, "Interpreter", 11)) {
		f->kind = ML_FK_STUB;
		return set_n(&f->symbol, "[interpreted Java]", 18) ? -ENOMEM : 1;
	}
	/* HotSpot's generated code that is no Java method. */
	for (size_t i = 0; i < ARRAY_SIZE(stubs); i++)
		if (!strcmp(name, stubs[i]))
			goto stub;
	if (!strncmp(name, "StubRoutines (", 14) ||
	    has_suffix_n(name, len, " Runtime1 stub") ||
	    has_suffix_n(name, len, "Blob"))
		goto stub;
	if (!open || name[len - 1] != ')')
		return 0;
	sp = memchr(name, ' ', (size_t)(open - name));
	if (!sp || sp == name)
		return 0;
	/* The return type: a Java type name, maybe an array. */
	for (const char *q = name; q < sp; q++)
		if (!is_ident(*q) && *q != '.' && *q != '[' && *q != ']')
			return 0;
	for (const char *q = sp + 1; q < open; q++) {
		if (*q == '.')
			dot = q;
		else if (!is_ident(*q) && *q != '<' && *q != '>')
			return 0;
	}
	if (!dot || dot == sp + 1 || dot + 1 == open)
		return 0;
	f->kind = ML_FK_JIT;
	return set_n(&f->symbol, sp + 1, (size_t)(name + len - sp - 1)) ? -ENOMEM : 1;
stub:
	f->kind = ML_FK_STUB;
	return set_n(&f->symbol, name, len) ? -ENOMEM : 1;
}

int runtimes_name_jit(const char *name, struct ml_frame *f)
{
	size_t len = strnlen(name, RT_NAME_MAX);
	int r;

	if (len == 0)
		return 0;
	r = name_v8(name, len, f);
	if (r == 0)
		r = name_hotspot(name, len, f);
	if (r == 0)
		r = name_jvm_sig(name, len, f);
	return r;
}
