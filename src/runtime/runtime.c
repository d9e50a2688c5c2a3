/* SPDX-License-Identifier: MIT */
/*
 * The runtimes session (runtime.h): runs each runtime of runtime_all[]
 * through detect, enable, refresh and disable, and the helpers they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime-int.h"
#include "symbols/rootfs.h"
#include "target/proc.h"
#include "util.h"

#define RT_MAPS_MAX (256u << 20)

/* To add a runtime: its file in src/runtime/, its ops here. .NET first:
 * its recovery undoes what a killed mapleak left before anything else. */
const struct runtime_ops *const runtime_all[] = {
	&runtime_dotnet,
	&runtime_jvm,
	&runtime_node,
	NULL,
};

struct runtimes {
	struct rt_session s;
	void *priv[ARRAY_SIZE(runtime_all)];
};

#define for_each_rt(i, ops) \
	for (size_t i = 0; ((ops) = runtime_all[i]) != NULL; i++)

/* ---- helpers for the runtimes ---- */

void rt_say(struct rt_session *s, enum rt_say level, const char *text)
{
	if (level == RT_SAY_NOTE && s->nnotes++ >= RT_NOTES_MAX)
		return;
	if (s->o.say)
		s->o.say(s->o.say_ctx, level, text);
}

void rt_sayf(struct rt_session *s, enum rt_say level, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	rt_say(s, level, text);
	free(text);
}

bool rt_has_suffix_n(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

bool rt_maps_any(const struct rt_target *t,
		 bool (*match)(const char *path, size_t n))
{
	const char *p = t->maps, *end = t->maps + t->len;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *path = memchr(p, '/', (size_t)(le - p));

		if (path) {
			size_t n = (size_t)(le - path);

			if (rt_has_suffix_n(path, n, " (deleted)"))
				n -= strlen(" (deleted)");
			if (match(path, n))
				return true;
		}
		p = le + 1;
	}
	return false;
}

/* Uid/Gid (effective) and the innermost NSpid (target/proc.c parses). */
static void read_ids(struct rt_session *rt)
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

bool rt_proc_text_has(pid_t pid, const char *file, const char *word)
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

static void perfmap_path(const struct rt_session *rt, char *buf, size_t size)
{
	snprintf(buf, size, "perf-%d.map", (int)rt->nspid);
}

/* /tmp/perf-N.map in the target's root: its own symlinks resolve inside
 * it (rootfs.h). The folder's O_PATH fd, *sb filled; or -errno. */
static int perfmap_stat(const struct rt_session *rt, struct stat *sb)
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

bool rt_perfmap_exists(const struct rt_session *rt)
{
	struct stat sb;
	int dirfd = perfmap_stat(rt, &sb);

	if (dirfd < 0)
		return false;
	close(dirfd);
	return S_ISREG(sb.st_mode);
}

/* Removes the map we caused: a regular file of the target's user only. */
void rt_perfmap_remove(const struct rt_session *rt)
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

void rt_append_env(const char *var, const char *add, const char *skip1,
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

/* ---- detection ---- */

unsigned runtimes_detect_maps(const char *maps, size_t len, const char *comm)
{
	struct rt_target t = { .maps = maps, .len = len, .comm = comm };
	const struct runtime_ops *ops;
	unsigned k = 0;

	for_each_rt(i, ops)
		if (ops->detect(&t))
			k |= ops->kind;
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

/* ---- the session ---- */

int runtimes_new(struct runtimes **out, const struct rt_opts *o)
{
	struct runtimes *rt = calloc(1, sizeof(*rt));
	const struct runtime_ops *ops;

	*out = NULL;
	if (!rt)
		return -ENOMEM;
	rt->s.o = *o;
	rt->s.euid = (uid_t)-1;
	rt->s.egid = (gid_t)-1;
	for_each_rt(i, ops) {
		rt->priv[i] = calloc(1, ops->priv_size ? ops->priv_size : 1);
		if (!rt->priv[i]) {
			runtimes_free(rt);
			return -ENOMEM;
		}
	}
	*out = rt;
	return 0;
}

void runtimes_free(struct runtimes *rt)
{
	const struct runtime_ops *ops;

	if (!rt)
		return;
	for_each_rt(i, ops) {
		if (rt->priv[i] && ops->release)
			ops->release(rt->priv[i]);
		free(rt->priv[i]);
	}
	free(rt);
}

void runtimes_prepare_launch(struct runtimes *rt)
{
	const struct runtime_ops *ops;

	if (!rt || rt->s.o.no_runtime_symbols)
		return;
	for_each_rt(i, ops)
		if (ops->prepare_launch)
			ops->prepare_launch(&rt->s, rt->priv[i]);
}

void runtimes_launch_env(const struct runtimes *rt)
{
	const struct runtime_ops *ops;

	if (!rt || rt->s.o.no_runtime_symbols)
		return;
	for_each_rt(i, ops)
		if (ops->launch_env)
			ops->launch_env(&rt->s, rt->priv[i]);
}

int runtimes_start(struct runtimes *rt, pid_t pid, bool launched,
		   struct symtab *st)
{
	const struct runtime_ops *ops;

	if (!rt)
		return -EINVAL;
	rt->s.pid = pid;
	rt->s.launched = launched;
	rt->s.st = st;
	read_ids(&rt->s);
	for_each_rt(i, ops)
		if (ops->recover)
			ops->recover(&rt->s, rt->priv[i]);
	/* Launched: stopped at its exec, nothing to detect yet. */
	if (launched)
		return 0;
	rt->s.kinds = detect(pid);
	for_each_rt(i, ops)
		if ((rt->s.kinds & ops->kind) && ops->enable)
			ops->enable(&rt->s, rt->priv[i]);
	return 0;
}

void runtimes_refresh(struct runtimes *rt, bool alive)
{
	const struct runtime_ops *ops;

	if (!rt || rt->s.o.no_runtime_symbols)
		return;
	if (alive)
		rt->s.kinds |= detect(rt->s.pid);
	for_each_rt(i, ops)
		if (ops->refresh)
			ops->refresh(&rt->s, rt->priv[i], alive,
				     rt->s.kinds & ops->kind);
}

void runtimes_finish(struct runtimes *rt, bool alive)
{
	const struct runtime_ops *ops;

	if (!rt)
		return;
	for_each_rt(i, ops)
		if (ops->disable)
			ops->disable(&rt->s, rt->priv[i], alive,
				     rt->s.kinds & ops->kind);
}

unsigned runtimes_kinds(const struct runtimes *rt)
{
	return rt ? rt->s.kinds : 0;
}
