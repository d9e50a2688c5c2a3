/* SPDX-License-Identifier: MIT */
/*
 * .NET perf map on demand over the runtime's diagnostics IPC socket.
 *
 * The socket is $TMPDIR/dotnet-diagnostic-<nspid>-<starttime>-socket in
 * the target's mount namespace: we open that folder through
 * /proc/PID/root (openat2 RESOLVE_IN_ROOT, so the container's own
 * symlinks resolve inside it) and connect through /proc/self/fd/N/NAME,
 * which stays far below sun_path's 108 bytes whatever the real path is.
 * One command per connection; every step has a deadline, so a stopped or
 * hung runtime costs mapleak the timeout and nothing else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "symbols/dotnet.h"
#include "symbols/ipc.h"
#include "symbols/rootfs.h"
#include "track/procmaps.h"
#include "target/proc.h"

#define DN_ENVIRON_MAX	(256u * 1024)
#define DN_STAT_MAX	4096u
#define DN_REPLY_MAX	256u	/* perf map replies are 24 bytes */
#define DN_NAME_MAX	96u	/* socket and map file names */
#define DN_CANDIDATES	8	/* sockets tried when the key does not match */
#define DN_FD_SCAN_MAX	(1u << 20)
#define DN_STARTUP_MS	2000u	/* a runtime this old is past startup */
#define DN_POLL_MS	100u
#define DN_MARK_DIR	"/run/mapleak"	/* root-only: markers of enables */

/* ---- little-endian helpers ---- */

static void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* ---- wire format ---- */

int dotnet_ipc_encode(u8 *buf, size_t cap, u8 set, u8 id,
		      const void *payload, size_t len)
{
	size_t total = DOTNET_IPC_HDR_SIZE + len;

	if (total > 0xFFFF)
		return -EINVAL;
	if (cap < total)
		return -ENOSPC;
	memcpy(buf, DOTNET_IPC_MAGIC, sizeof(DOTNET_IPC_MAGIC));
	put_le16(buf + 14, (u16)total);
	buf[16] = set;
	buf[17] = id;
	put_le16(buf + 18, 0);
	if (len)
		memcpy(buf + DOTNET_IPC_HDR_SIZE, payload, len);
	return (int)total;
}

int dotnet_ipc_reply_size(const u8 *hdr, size_t len)
{
	u16 size;

	if (len < DOTNET_IPC_HDR_SIZE ||
	    memcmp(hdr, DOTNET_IPC_MAGIC, sizeof(DOTNET_IPC_MAGIC)) != 0)
		return -EBADMSG;
	size = get_le16(hdr + 14);
	if (size < DOTNET_IPC_HDR_SIZE)
		return -EBADMSG;
	return size;
}

int dotnet_ipc_parse_reply(const u8 *buf, size_t len, u32 *hresult)
{
	int size = dotnet_ipc_reply_size(buf, len);

	if (size < 0)
		return size;
	if ((size_t)size != len || buf[16] != DOTNET_IPC_SET_SERVER)
		return -EBADMSG;
	if (buf[17] != DOTNET_IPC_RESP_OK && buf[17] != DOTNET_IPC_RESP_ERROR)
		return -EBADMSG;
	if (len < DOTNET_IPC_HDR_SIZE + 4)
		return -EBADMSG;
	*hresult = get_le32(buf + DOTNET_IPC_HDR_SIZE);
	/* An error reply with a success code would be a lie: keep it an error. */
	if (buf[17] == DOTNET_IPC_RESP_ERROR && !(*hresult & 0x80000000u))
		return -EBADMSG;
	return 0;
}

/* ---- one bounded IPC round trip ---- */

/* The listener is process peer (0: any). */
static int check_peer(int fd, pid_t peer)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (!peer)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	return cr.pid == peer ? 0 : -EPERM;
}

int dotnet_ipc_call(int dirfd, const char *name, u8 set, u8 id,
		    const void *payload, size_t len, int timeout_ms,
		    u32 *hresult, bool *sent)
{
	return dotnet_ipc_call_peer(0, dirfd, name, set, id, payload, len,
				    timeout_ms, hresult, sent);
}

int dotnet_ipc_call_peer(pid_t peer, int dirfd, const char *name, u8 set,
			 u8 id, const void *payload, size_t len, int timeout_ms,
			 u32 *hresult, bool *sent)
{
	u8 req[64], rep[DN_REPLY_MAX];
	struct ipc_clock clk;
	struct stat sb;
	int fd, sfd, n, size, err;

	*sent = false;
	/* No stop signals: the caller's loop handles Ctrl-C after the
	 * (bounded) round trip. */
	ipc_clock_start(&clk, timeout_ms, NULL);
	n = dotnet_ipc_encode(req, sizeof(req), set, id, payload, len);
	if (n < 0)
		return n;
	/* Only a socket, and the one checked: never a planted symlink, and no
	 * window between the check and the connect. */
	if (strchr(name, '/'))
		return -EINVAL;
	sfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	if (fstat(sfd, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		close(sfd);
		return -ENOENT;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		close(sfd);
		return err;
	}
	err = ipc_connect_fd(fd, sfd, &clk);
	close(sfd);
	if (!err)
		err = check_peer(fd, peer);
	if (!err)
		err = ipc_send_all(fd, req, (size_t)n, &clk);
	if (err)
		goto out;
	*sent = true;
	err = ipc_recv_all(fd, rep, DOTNET_IPC_HDR_SIZE, &clk);
	if (err)
		goto out;
	size = dotnet_ipc_reply_size(rep, DOTNET_IPC_HDR_SIZE);
	if (size < 0 || (size_t)size > sizeof(rep)) {
		err = -EBADMSG;
		goto out;
	}
	err = ipc_recv_all(fd, rep + DOTNET_IPC_HDR_SIZE,
			   (size_t)size - DOTNET_IPC_HDR_SIZE, &clk);
	if (!err)
		err = dotnet_ipc_parse_reply(rep, (size_t)size, hresult);
out:
	close(fd);
	return err;
}

/* ---- /proc parsers (bounded: the bytes come from the target) ---- */

/* CLRConfig reads DWORD settings as hex; anything else is "unset". */
static int parse_hex_setting(const char *v, size_t n)
{
	unsigned long x = 0;
	size_t i = 0, digits = 0;

	if (n >= 2 && v[0] == '0' && (v[1] | 0x20) == 'x')
		i = 2;
	for (; i < n; i++) {
		char c = v[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		if (++digits > 8)
			return -1;
		x = x << 4 | (unsigned long)d;
	}
	if (!digits || x > INT_MAX)
		return -1;
	return (int)x;
}

/* Value of NAME=... with a DOTNET_ or COMPlus_ prefix. 2: DOTNET_, 1:
 * COMPlus_, 0: not this setting. */
static int clr_setting(const char *e, size_t n, const char *setting,
		       const char **val, size_t *vlen)
{
	static const char *const prefixes[] = { "DOTNET_", "COMPlus_" };
	size_t sl = strlen(setting);

	for (int k = 0; k < 2; k++) {
		size_t pl = strlen(prefixes[k]);

		if (n > pl + sl && !memcmp(e, prefixes[k], pl) &&
		    !memcmp(e + pl, setting, sl) && e[pl + sl] == '=') {
			*val = e + pl + sl + 1;
			*vlen = n - pl - sl - 1;
			return 2 - k;
		}
	}
	return 0;
}

static void copy_bounded(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

void dotnet_env_parse(const char *buf, size_t len, struct dotnet_env *env)
{
	/* Per setting: the strongest prefix seen (2 DOTNET_, 1 COMPlus_). */
	int pm_rank = 0, dir_rank = 0, diag_rank[2] = { 0, 0 };
	int diag_val[2] = { 1, 1 };
	char diag_txt[2][48] = { "", "" };
	size_t i = 0;

	memset(env, 0, sizeof(*env));
	env->perfmap = -1;
	while (i < len) {
		const char *e = buf + i, *nul = memchr(e, '\0', len - i);
		size_t n = nul ? (size_t)(nul - e) : len - i;
		const char *v;
		size_t vl;
		int rank;

		i += n + 1;
		if ((rank = clr_setting(e, n, "PerfMapEnabled", &v, &vl)) > pm_rank) {
			pm_rank = rank;
			env->perfmap = parse_hex_setting(v, vl);
		} else if ((rank = clr_setting(e, n, "PerfMapJitDumpPath", &v, &vl)) > dir_rank) {
			dir_rank = rank;
			env->perfmap_dir[0] = '\0';
			if (vl < sizeof(env->perfmap_dir))
				copy_bounded(env->perfmap_dir, sizeof(env->perfmap_dir), v, vl);
		} else if ((rank = clr_setting(e, n, "EnableDiagnostics", &v, &vl)) > diag_rank[0]) {
			diag_rank[0] = rank;
			diag_val[0] = parse_hex_setting(v, vl);
			copy_bounded(diag_txt[0], sizeof(diag_txt[0]), e, n);
		} else if ((rank = clr_setting(e, n, "EnableDiagnostics_IPC", &v, &vl)) > diag_rank[1]) {
			diag_rank[1] = rank;
			diag_val[1] = parse_hex_setting(v, vl);
			copy_bounded(diag_txt[1], sizeof(diag_txt[1]), e, n);
		} else if (n > 7 && !memcmp(e, "TMPDIR=", 7)) {
			env->tmpdir[0] = '\0';
			if (n - 7 < sizeof(env->tmpdir))
				copy_bounded(env->tmpdir, sizeof(env->tmpdir), e + 7, n - 7);
		}
	}
	/* The runtime listens only when both are non-zero (an unparsable
	 * value means the default, 1). */
	for (int k = 0; k < 2; k++)
		if (diag_val[k] == 0) {
			memcpy(env->diag_off, diag_txt[k], sizeof(env->diag_off));
			break;
		}
}

int dotnet_stat_starttime(const char *buf, size_t len, u64 *out)
{
	const char *p = NULL, *end = buf + len;
	int field = 3;		/* the one after ") " */
	u64 v = 0;
	size_t digits = 0;

	/* comm may hold ')' and spaces: the last ')' ends it. */
	for (size_t i = len; i-- > 0;)
		if (buf[i] == ')') {
			p = buf + i + 1;
			break;
		}
	if (!p || p >= end || *p != ' ')
		return -EINVAL;
	p++;
	while (p < end && field < 22) {
		if (*p == ' ')
			field++;
		p++;
	}
	if (field != 22)
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 19)
			return -EINVAL;
		v = v * 10 + (u64)(*p - '0');
	}
	if (!digits || (p < end && *p != ' ' && *p != '\n'))
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- probing a process ---- */

static char *read_proc(pid_t pid, const char *what, size_t max, size_t *len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	return ml_read_file(path, max, len);
}

static bool base_is(const char *path, const char *name)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b && !strcmp(b + 1, name);
}

static int scan_maps(pid_t pid, bool *coreclr, bool *jit)
{
	struct maps_entry *e = NULL;
	size_t n = 0;
	int err = procmaps_read(pid, &e, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (base_is(e[i].path, "libcoreclr.so"))
			*coreclr = true;
		if (base_is(e[i].path, "libclrjit.so"))
			*jit = true;
	}
	procmaps_free(e, n);
	return 0;
}

/* Does it hold perf-<nspid>.map or jit-<nspid>.dump open (enabled by its
 * settings, by another tool over IPC, or by a mapleak that was killed)? */
static bool maps_open(pid_t pid, u32 nspid)
{
	char dir[64], perf[48], jit[48];
	struct dirent *d;
	unsigned scanned = 0;
	bool found = false;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(perf, sizeof(perf), "/perf-%u.map", nspid);
	snprintf(jit, sizeof(jit), "/jit-%u.dump", nspid);
	dp = opendir(dir);
	if (!dp)
		return false;
	while (!found && (d = readdir(dp)) && scanned++ < DN_FD_SCAN_MAX) {
		char link[PATH_MAX];
		ssize_t n;
		size_t pl = strlen(perf), jl = strlen(jit);

		if (d->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(dp), d->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (((size_t)n >= pl && !strcmp(link + n - pl, perf)) ||
		    ((size_t)n >= jl && !strcmp(link + n - jl, jit)))
			found = true;
	}
	closedir(dp);
	return found;
}

static u64 age_ms(u64 starttime)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);
	u64 now, start;

	if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return UINT64_MAX;
	now = (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
	start = starttime * 1000 / (u64)hz;
	return now > start ? now - start : 0;
}

int dotnet_probe(pid_t pid, struct dotnet_probe *p)
{
	size_t len = 0;
	char *s;
	int err;

	memset(p, 0, sizeof(*p));
	p->env.perfmap = -1;
	err = scan_maps(pid, &p->coreclr, &p->jit_loaded);
	if (err)
		return err;
	p->nspid = proc_nspid(pid);
	s = read_proc(pid, "stat", DN_STAT_MAX, &len);
	if (!s)
		return -ESRCH;
	if (dotnet_stat_starttime(s, len, &p->start_key))
		p->start_key = 0;
	free(s);
	p->age_ms = p->start_key ? age_ms(p->start_key) : UINT64_MAX;
	s = read_proc(pid, "environ", DN_ENVIRON_MAX, &len);
	if (s) {
		dotnet_env_parse(s, len, &p->env);
		p->env_read = true;
		free(s);
	}
	p->map_open = maps_open(pid, p->nspid);
	return 0;
}

bool dotnet_perfmap_preset(const struct dotnet_probe *p)
{
	return p->env.perfmap > 0 || p->map_open;
}

/* ---- enable and undo ---- */

struct dn_file {
	char name[DN_NAME_MAX];
	bool existed;		/* before we enabled: not ours to remove */
	bool seen;		/* dev/ino below are valid */
	dev_t dev;
	ino_t ino;
};

struct dotnet_perfmap {
	pid_t pid;
	u64 start_key;
	u32 nspid;
	uid_t uids[4];		/* the target's: the runtime's files are its */
	int sockdir;		/* the socket's folder, in the target's root */
	char sockname[DN_NAME_MAX];
	int mapdir;		/* /tmp in the target's root */
	struct dn_file files[2];	/* perf-<nspid>.map, perfinfo-<nspid>.map */
	bool marked;		/* a marker in DN_MARK_DIR names this enable */
};

/* Uid: real, effective, saved, fs of /proc/PID/status. */
static int read_uids(pid_t pid, uid_t uids[4])
{
	struct proc_status ps;
	int err = proc_status(pid, &ps);

	if (err < 0)
		return err;
	if (!(ps.have & PROC_HAVE_UIDS))
		return -EIO;
	memcpy(uids, ps.uids, sizeof(ps.uids));
	return 0;
}

static bool uid_in(uid_t uid, const uid_t uids[4])
{
	for (int i = 0; i < 4; i++)
		if (uids[i] == uid)
			return true;
	return false;
}

/* The process's start time (clock ticks since boot), 0 if gone. */
static u64 start_of(pid_t pid)
{
	size_t len = 0;
	char *s = read_proc(pid, "stat", DN_STAT_MAX, &len);
	u64 key = 0;

	if (s && dotnet_stat_starttime(s, len, &key))
		key = 0;
	free(s);
	return key;
}

/*
 * Markers: mapleak may be killed (SIGKILL, OOM) between the enable and the
 * undo, and the runtime then writes its map until it exits. Before the
 * enable, "dotnet-<pid>-<starttime>" in a root-only folder records it (and
 * which mapleak holds it); the undo removes it; the next record finds the
 * markers whose mapleak is gone and undoes for it. The folder must be
 * root's and closed to others: a marker is trusted to name a process to
 * send a command to.
 */
static const char *mark_dir_path(void)
{
	const char *d = getenv("MAPLEAK_STATE_DIR");	/* tests */

	return d && *d == '/' ? d : DN_MARK_DIR;
}

static int mark_dir(bool create)
{
	const char *path = mark_dir_path();
	struct stat sb;
	int fd;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void mark_name(char *buf, size_t size, pid_t pid, u64 key)
{
	snprintf(buf, size, "dotnet-%d-%llu", (int)pid, (unsigned long long)key);
}

/* Writes (or rewrites) the marker of dp: who holds it, and the map file
 * once it is known, so a later undo removes only that file. */
static int mark_write(struct dotnet_perfmap *dp)
{
	char name[64], tmp[80], text[160];
	int dfd = mark_dir(true), fd, n, err = 0;
	const struct dn_file *f = &dp->files[0];

	if (dfd < 0)
		return dfd;
	mark_name(name, sizeof(name), dp->pid, dp->start_key);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	n = snprintf(text, sizeof(text), "%d %llu %u %llu %llu\n", (int)getpid(),
		     (unsigned long long)start_of(getpid()), dp->nspid,
		     (unsigned long long)(f->seen ? f->dev : 0),
		     (unsigned long long)(f->seen ? f->ino : 0));
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	errno = EIO;
	if (fd < 0 || write(fd, text, (size_t)n) != n || renameat(dfd, tmp, dfd, name))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		unlinkat(dfd, tmp, 0);
	else
		dp->marked = true;
	close(dfd);
	return err;
}

static void mark_remove(struct dotnet_perfmap *dp)
{
	char name[64];
	int dfd;

	if (!dp->marked || (dfd = mark_dir(false)) < 0)
		return;
	mark_name(name, sizeof(name), dp->pid, dp->start_key);
	unlinkat(dfd, name, 0);
	close(dfd);
	dp->marked = false;
}

struct dn_cand {
	char name[DN_NAME_MAX];
	s64 mtime;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct dn_cand *x = a, *y = b;

	return (x->mtime < y->mtime) - (x->mtime > y->mtime);	/* newest first */
}

/* dotnet-diagnostic-<nspid>-<digits>-socket, newest first; the exact key
 * first of all. A pid reused in a container can leave stale sockets. */
static size_t find_sockets(int dirfd, u32 nspid, u64 key, struct dn_cand *c,
			   size_t max)
{
	char prefix[48];
	size_t pl, n = 0;
	struct dirent *d;
	struct stat sb;
	int fd;
	DIR *dp;

	if (key) {
		snprintf(c[0].name, sizeof(c[0].name),
			 "dotnet-diagnostic-%u-%llu-socket", nspid,
			 (unsigned long long)key);
		if (fstatat(dirfd, c[0].name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISSOCK(sb.st_mode))
			return 1;
	}
	pl = (size_t)snprintf(prefix, sizeof(prefix), "dotnet-diagnostic-%u-", nspid);
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return 0;
	}
	while ((d = readdir(dp)) != NULL) {
		const char *s = d->d_name;
		size_t len = strlen(s), k;

		if (len >= DN_NAME_MAX || len < pl + 8 || strncmp(s, prefix, pl) ||
		    strcmp(s + len - 7, "-socket"))
			continue;
		for (k = pl; k < len - 7 && s[k] >= '0' && s[k] <= '9'; k++)
			;
		if (k == pl || k != len - 7)
			continue;
		if (fstatat(dirfd, s, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISSOCK(sb.st_mode))
			continue;
		if (n == max) {
			/* Keep the newest: replace the oldest kept. */
			qsort(c, n, sizeof(*c), cand_cmp);
			if (sb.st_mtime <= c[n - 1].mtime)
				continue;
			n--;
		}
		memcpy(c[n].name, s, len + 1);
		c[n].mtime = sb.st_mtime;
		n++;
	}
	closedir(dp);
	qsort(c, n, sizeof(*c), cand_cmp);
	return n;
}

static void file_state(int dirfd, struct dn_file *f, bool before)
{
	struct stat sb;

	if (fstatat(dirfd, f->name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (before) {
		f->existed = true;
		return;
	}
	if (S_ISREG(sb.st_mode)) {
		f->seen = true;
		f->dev = sb.st_dev;
		f->ino = sb.st_ino;
	}
}

static void dn_free(struct dotnet_perfmap *dp)
{
	if (!dp)
		return;
	if (dp->sockdir >= 0)
		close(dp->sockdir);
	if (dp->mapdir >= 0)
		close(dp->mapdir);
	free(dp);
}

/* Older 10.0 runtimes crashed on an enable during early startup: wait
 * until the JIT is loaded or the process is a couple of seconds old. */
static void wait_startup(pid_t pid, const struct dotnet_probe *p)
{
	u64 waited = 0, age = p->age_ms;
	bool jit = p->jit_loaded;

	while (!jit && age < DN_STARTUP_MS && waited < DN_STARTUP_MS) {
		bool coreclr = false;

		usleep(DN_POLL_MS * 1000);
		waited += DN_POLL_MS;
		age += DN_POLL_MS;
		if (scan_maps(pid, &coreclr, &jit))
			return;
	}
}

/* PerfMapJitDumpPath names another folder than /tmp: the runtime would
 * write there, where mapleak neither reads nor removes anything. */
static bool map_elsewhere(const struct dotnet_probe *p)
{
	const char *d = p->env.perfmap_dir;
	size_t n = strlen(d);

	while (n > 1 && d[n - 1] == '/')
		n--;
	return n && !(n == 4 && !memcmp(d, "/tmp", 4));
}

/* The target's sockets folder and /tmp, inside its root; its uids. */
static int dn_open(struct dotnet_perfmap *dp, pid_t pid, const struct dotnet_probe *p)
{
	int rootfd;

	dp->pid = pid;
	dp->nspid = p->nspid;
	dp->start_key = p->start_key;
	if (read_uids(pid, dp->uids) < 0)
		return -ESRCH;
	rootfd = rootfs_open_root(-1, pid);
	if (rootfd < 0)
		return rootfd;
	dp->sockdir = rootfs_openat(rootfd, p->env.tmpdir[0] ? p->env.tmpdir : "/tmp",
				    O_RDONLY | O_DIRECTORY);
	dp->mapdir = rootfs_openat(rootfd, "/tmp", O_PATH | O_DIRECTORY);
	close(rootfd);
	snprintf(dp->files[0].name, DN_NAME_MAX, "perf-%u.map", p->nspid);
	snprintf(dp->files[1].name, DN_NAME_MAX, "perfinfo-%u.map", p->nspid);
	return dp->sockdir < 0 ? dp->sockdir : 0;
}

int dotnet_perfmap_enable(pid_t pid, const struct dotnet_probe *p,
			  int timeout_ms, struct dotnet_perfmap **out,
			  u32 *hresult)
{
	const u8 type[4] = { DOTNET_PERFMAP_ONLY, 0, 0, 0 };
	struct dn_cand cand[DN_CANDIDATES];
	struct dotnet_perfmap *dp;
	size_t n;
	bool sent = false;
	int err = -ENOENT;

	*out = NULL;
	*hresult = 0;
	if (map_elsewhere(p))
		return -EXDEV;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->sockdir = dp->mapdir = -1;
	err = dn_open(dp, pid, p);
	if (err)
		goto fail;
	if (dp->mapdir >= 0)
		for (int i = 0; i < 2; i++)
			file_state(dp->mapdir, &dp->files[i], true);

	wait_startup(pid, p);
	n = find_sockets(dp->sockdir, p->nspid, p->start_key, cand, DN_CANDIDATES);
	/* Best effort: without the marker only a SIGKILL leaves it on. */
	if (n && p->start_key)
		mark_write(dp);
	err = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		err = dotnet_ipc_call_peer(pid, dp->sockdir, cand[i].name,
					   DOTNET_IPC_SET_PROCESS,
					   DOTNET_IPC_ENABLE_PERFMAP, type, sizeof(type),
					   timeout_ms, hresult, &sent);
		/* A stale socket (a pid reused in a container), or another
		 * process's: try the next. */
		if (!sent && (err == -ECONNREFUSED || err == -ENOENT || err == -EPERM))
			continue;
		memcpy(dp->sockname, cand[i].name, sizeof(dp->sockname));
		break;
	}
	if (sent && err) {
		/* No clear answer (timeout, cut reply): it may have acted on
		 * the request, so the caller undoes it at the end. */
		*out = dp;
		return err;
	}
	if (err)
		goto fail;
	if (*hresult == DOTNET_HR_UNKNOWN_COMMAND) {
		err = -EOPNOTSUPP;
		goto fail;
	}
	if (*hresult != 0) {
		err = -EPROTO;
		goto fail;
	}
	if (dp->mapdir >= 0)
		for (int i = 0; i < 2; i++)
			if (!dp->files[i].existed)
				file_state(dp->mapdir, &dp->files[i], false);
	if (dp->marked)
		mark_write(dp);		/* now with the map file's identity */
	*out = dp;
	return 0;
fail:
	mark_remove(dp);
	dn_free(dp);
	return err;
}

/*
 * Removes what the enable made: /tmp/perf-<nspid>.map (and perfinfo-) in
 * the target's root, only if it did not exist before, is still a regular
 * file of the target's user and, when we saw it made, the same inode.
 * Never anywhere else: the target chooses nothing here.
 */
static int remove_files(struct dotnet_perfmap *dp, int *removed)
{
	int err = 0;

	for (int i = 0; dp->mapdir >= 0 && i < 2; i++) {
		struct dn_file *f = &dp->files[i];
		struct stat sb;

		if (f->existed ||
		    fstatat(dp->mapdir, f->name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode) || !uid_in(sb.st_uid, dp->uids))
			continue;
		/* Replaced since (the user enabled it again)? Not ours. */
		if (f->seen && (sb.st_dev != f->dev || sb.st_ino != f->ino))
			continue;
		if (unlinkat(dp->mapdir, f->name, 0) == 0) {
			if (removed)
				(*removed)++;
		} else if (!err) {
			err = -errno;
		}
	}
	return err;
}

int dotnet_perfmap_undo(struct dotnet_perfmap *dp, int timeout_ms,
			u32 *hresult, int *removed)
{
	int err = 0, rerr;
	u32 hr = 0;
	bool sent;

	if (removed)
		*removed = 0;
	if (hresult)
		*hresult = 0;
	if (!dp)
		return 0;
	if (dp->sockname[0]) {
		err = dotnet_ipc_call_peer(dp->pid, dp->sockdir, dp->sockname,
					   DOTNET_IPC_SET_PROCESS,
					   DOTNET_IPC_DISABLE_PERFMAP, NULL, 0,
					   timeout_ms, &hr, &sent);
		if (!err && hr)
			err = -EPROTO;
		if (hresult)
			*hresult = hr;
	}
	rerr = remove_files(dp, removed);
	if (!err)
		err = rerr;
	/* Undone, or the process is gone: nothing for a later run to do. */
	if (!err || start_of(dp->pid) != dp->start_key)
		mark_remove(dp);
	dn_free(dp);
	return err;
}

/* ---- what a killed mapleak left on ---- */

/* Parses a marker: "<mapleak pid> <its start> <nspid> <dev> <ino>". */
static int mark_parse(int dfd, const char *name, pid_t *owner, u64 *owner_start,
		      u32 *nspid, u64 *dev, u64 *ino)
{
	char buf[160];
	unsigned long long v[5];
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EBADMSG;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4]) != 5 || !v[0] || v[0] > INT_MAX || v[2] > UINT32_MAX)
		return -EBADMSG;
	*owner = (pid_t)v[0];
	*owner_start = v[1];
	*nspid = (u32)v[2];
	*dev = v[3];
	*ino = v[4];
	return 0;
}

/* Undoes one marker's enable, whose mapleak is gone. */
static void recover_one(pid_t pid, u64 key, u32 nspid, u64 dev, u64 ino,
			int timeout_ms, struct dotnet_recovered *r)
{
	struct dotnet_probe p;
	struct dotnet_perfmap *dp;
	struct dn_cand cand[DN_CANDIDATES];
	size_t n;

	r->pid = pid;
	if (dotnet_probe(pid, &p) || p.start_key != key || p.nspid != nspid ||
	    !p.coreclr) {
		r->gone = true;		/* exited (or the pid is another's) */
		return;
	}
	/* Its own settings make the map: then it was never ours. */
	if (p.env.perfmap > 0)
		return;
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		r->err = -ENOMEM;
		return;
	}
	dp->sockdir = dp->mapdir = -1;
	r->err = dn_open(dp, pid, &p);
	if (!r->err && p.map_open) {
		bool sent = false;
		u32 hr = 0;

		r->err = -ENOENT;
		n = find_sockets(dp->sockdir, p.nspid, p.start_key, cand, DN_CANDIDATES);
		for (size_t i = 0; i < n; i++) {
			r->err = dotnet_ipc_call_peer(pid, dp->sockdir, cand[i].name,
						      DOTNET_IPC_SET_PROCESS,
						      DOTNET_IPC_DISABLE_PERFMAP, NULL, 0,
						      timeout_ms, &hr, &sent);
			if (!sent && (r->err == -ECONNREFUSED || r->err == -ENOENT ||
				      r->err == -EPERM))
				continue;
			break;
		}
		if (!r->err && hr)
			r->err = -EPROTO;
		r->disabled = !r->err;
	}
	/* The file only if it is the very one that enable made. */
	if (ino) {
		dp->files[0].seen = true;
		dp->files[0].dev = (dev_t)dev;
		dp->files[0].ino = (ino_t)ino;
		remove_files(dp, &r->removed);
	}
	dn_free(dp);
}

int dotnet_recover(int timeout_ms, struct dotnet_recovered *out, size_t max,
		   size_t *nout)
{
	int dfd = mark_dir(false), fd;
	struct dirent *d;
	DIR *dir;

	*nout = 0;
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	fd = dup(dfd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		return -ENOMEM;
	}
	while ((d = readdir(dir)) != NULL && *nout < max) {
		unsigned long long pid, key;
		u64 owner_start = 0, dev = 0, ino = 0;
		pid_t owner = 0;
		u32 nspid = 0;
		char tail;

		if (sscanf(d->d_name, "dotnet-%llu-%llu%c", &pid, &key, &tail) != 2 ||
		    !pid || pid > INT_MAX)
			continue;
		if (mark_parse(dfd, d->d_name, &owner, &owner_start, &nspid, &dev, &ino)) {
			unlinkat(dfd, d->d_name, 0);
			continue;
		}
		/* Its mapleak still runs (a parallel recording): its own. */
		if (owner_start && start_of(owner) == owner_start)
			continue;
		memset(&out[*nout], 0, sizeof(out[*nout]));
		recover_one((pid_t)pid, key, nspid, dev, ino, timeout_ms, &out[*nout]);
		if (!out[*nout].err || out[*nout].gone)
			unlinkat(dfd, d->d_name, 0);
		if (!out[*nout].gone)
			(*nout)++;
	}
	closedir(dir);
	close(dfd);
	return 0;
}
