/* SPDX-License-Identifier: MIT */
/* The process layer (see proc.h): /proc readers and struct target. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"
#include "target/proc.h"
#include "track/procmaps.h"

/* PF_KTHREAD of include/linux/sched.h: the flags field of stat. */
#define PROC_PF_KTHREAD	0x00200000u

/* ---- /proc/PID/status ---- */

/* Up to max unsigned decimal (or hex) numbers after a "Name:" prefix, to
 * the end of the line. Returns how many were read. */
static int parse_nums(const char *p, const char *end, int base,
		      unsigned long long *v, int max)
{
	int n = 0;

	while (p < end && n < max) {
		unsigned long long x = 0;
		const char *q;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (q = p; q < end; q++) {
			int d = ml_hexval(*q);

			if (d < 0 || d >= base)
				break;
			if (x > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
				return n;	/* overflow: not a field we know */
			x = x * (unsigned)base + (unsigned)d;
		}
		if (q == p)
			break;
		v[n++] = x;
		p = q;
	}
	return n;
}

int proc_status_parse(const char *buf, size_t len, pid_t pid,
		      struct proc_status *ps)
{
	const char *p = buf, *end = buf + len;

	memset(ps, 0, sizeof(*ps));
	ps->nspid = pid;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;
		unsigned long long v[64];
		size_t klen;
		int n;

		if (!eol)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			goto next;
		klen = (size_t)(colon - p);
		colon++;
#define KEY(s) (klen == sizeof(s) - 1 && !memcmp(p, s, klen))
		if (KEY("Tgid")) {
			if (parse_nums(colon, eol, 10, v, 1) == 1 &&
			    v[0] > 0 && v[0] <= INT_MAX) {
				ps->tgid = (pid_t)v[0];
				ps->have |= PROC_HAVE_TGID;
			}
		} else if (KEY("NSpid")) {
			/* one field per pid namespace, outermost first */
			n = parse_nums(colon, eol, 10, v, (int)ARRAY_SIZE(v));
			if (n > 0 && v[n - 1] > 0 && v[n - 1] <= INT_MAX) {
				ps->nspid = (pid_t)v[n - 1];
				ps->have |= PROC_HAVE_NSPID;
			}
		} else if (KEY("Uid") || KEY("Gid")) {
			bool uid = p[0] == 'U';

			if (parse_nums(colon, eol, 10, v, 4) == 4 &&
			    v[0] <= UINT_MAX && v[1] <= UINT_MAX &&
			    v[2] <= UINT_MAX && v[3] <= UINT_MAX) {
				for (int i = 0; i < 4; i++) {
					if (uid)
						ps->uids[i] = (uid_t)v[i];
					else
						ps->gids[i] = (gid_t)v[i];
				}
				ps->have |= uid ? PROC_HAVE_UIDS : PROC_HAVE_GIDS;
			}
		} else if (KEY("SigCgt")) {
			if (parse_nums(colon, eol, 16, v, 1) == 1) {
				ps->sigcgt = v[0];
				ps->have |= PROC_HAVE_SIGCGT;
			}
		}
#undef KEY
next:
		p = eol + 1;
	}
	return ps->have & (PROC_HAVE_TGID | PROC_HAVE_UIDS) ? 0 : -EIO;
}

static int gone_errno(int err)
{
	if (err == ENOENT || err == ESRCH)
		return -ESRCH;
	return err > 0 ? -err : -EIO;
}

/* Reads name from an open /proc/PID (or /proc when dirfd is AT_FDCWD and
 * name a full path), at most max bytes, truncating. */
static int read_at(int dirfd, const char *name, size_t max, char **out,
		   size_t *len)
{
	int fd, err;

	*out = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gone_errno(errno);
	err = ml_read_fd(fd, max, true, out, len);
	close(fd);
	/* a process that exits while read gives ESRCH from read() */
	if (err < 0)
		return gone_errno(-err);
	return *out ? 0 : -EIO;
}

int proc_status_at(int procfd, pid_t pid, struct proc_status *ps)
{
	char *s = NULL;
	size_t len = 0;
	int err = read_at(procfd, "status", PROC_STATUS_MAX, &s, &len);

	if (err < 0 || !s) {
		memset(ps, 0, sizeof(*ps));
		ps->nspid = pid;
		return err < 0 ? err : -EIO;
	}
	err = proc_status_parse(s, len, pid, ps);
	free(s);
	return err;
}

int proc_status(pid_t pid, struct proc_status *ps)
{
	char path[32];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		memset(ps, 0, sizeof(*ps));
		ps->nspid = pid;
		return gone_errno(errno);
	}
	err = proc_status_at(fd, pid, ps);
	close(fd);
	return err;
}

/* ---- small readers by pid ---- */

/* The command line with NULs turned into spaces. */
char *proc_cmdline(pid_t pid)
{
	char path[64];
	size_t len = 0;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	s = ml_read_file(path, 4096, &len);
	if (!s)
		return NULL;
	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	return s;
}

char *proc_comm(pid_t pid)
{
	char path[64];
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	s = ml_read_file(path, 64, NULL);
	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The last NSpid field of /proc/PID/status: the pid inside its namespace. */
u32 proc_nspid(pid_t pid)
{
	struct proc_status ps;

	proc_status(pid, &ps);
	return (u32)ps.nspid;
}

/*
 * The fields of /proc/PID/stat after the comm (which may hold spaces and
 * parentheses: they follow the last ')'). *fields points at field 3
 * (state). The caller frees *buf. 0 or -ESRCH/-errno.
 */
static int read_stat_at(int dirfd, const char *name, char **buf,
			const char **fields)
{
	char *p;
	int err = read_at(dirfd, name, 4096, buf, NULL);

	if (err < 0 || !*buf)
		return err < 0 ? err : -EIO;
	p = strrchr(*buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	*fields = p + 2;
	return 0;
}

/* Field n (>= 3) of the stat fields that start at field 3, as a number. */
static unsigned long long stat_field(const char *f, int n)
{
	for (int field = 3; *f && field < n; f++)
		if (*f == ' ')
			field++;
	return *f ? strtoull(f, NULL, 10) : 0;
}

static int read_stat(pid_t pid, char **buf, const char **fields)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return read_stat_at(AT_FDCWD, path, buf, fields);
}

/* start_brk is field 47 of /proc/PID/stat. */
u64 proc_start_brk(pid_t pid)
{
	char *s;
	const char *f;
	u64 v;

	if (read_stat(pid, &s, &f) < 0)
		return 0;
	v = stat_field(f, 47);
	free(s);
	return v;
}

u64 proc_start_time(pid_t pid)
{
	char *s;
	const char *f;
	u64 v;

	if (read_stat(pid, &s, &f) < 0)
		return 0;
	v = stat_field(f, 22);
	free(s);
	return v;
}

bool proc_alive(pid_t pid)
{
	char *s;
	const char *f;
	bool alive;

	if (read_stat(pid, &s, &f) < 0)
		return false;
	alive = f[0] != 'Z' && f[0] != 'X';
	free(s);
	return alive;
}

int ml_task_kind(pid_t pid, enum ml_task_kind *kind, pid_t *tgid)
{
	struct proc_status ps;
	unsigned long long flags;
	const char *f;
	char *s;
	char state;
	int err;

	err = read_stat(pid, &s, &f);
	if (err < 0)
		return err == -ESRCH ? -ENOENT : err;
	state = f[0];
	flags = stat_field(f, 9);
	free(s);

	err = proc_status(pid, &ps);
	if (err < 0)
		return err == -ESRCH ? -ENOENT : err;
	if (!(ps.have & PROC_HAVE_TGID))
		return -EIO;
	*tgid = ps.tgid;
	if (flags & PROC_PF_KTHREAD)
		*kind = ML_TASK_KERNEL;
	else if (*tgid != pid)
		*kind = ML_TASK_THREAD;
	else if (state == 'Z' || state == 'X')
		*kind = ML_TASK_ZOMBIE;
	else
		*kind = ML_TASK_PROCESS;
	return 0;
}

/* ---- struct target ---- */

static int sys_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int target_refresh(struct target *t)
{
	char *s = NULL;
	const char *f;
	size_t len = 0;
	int err, fd;

	err = proc_status_at(t->procfd, t->pid, &t->status);
	if (err < 0)
		return err;
	err = read_stat_at(t->procfd, "stat", &s, &f);
	if (err < 0)
		return err;
	t->start_time = stat_field(f, 22);
	free(s);
	if (read_at(t->procfd, "comm", sizeof(t->comm) + 1, &s, &len) == 0 && s) {
		s[strcspn(s, "\n")] = '\0';
		snprintf(t->comm, sizeof(t->comm), "%s", s);
		free(s);
	}
	/* Held for the files the target writes, read after it exits. A
	 * zombie or another user's process without ptrace rights has none. */
	fd = openat(t->procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close_fd(&t->rootfd);
		t->rootfd = fd;
	}
	return 0;
}

int target_open(struct target *t, pid_t pid)
{
	char path[32];
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->procfd = t->rootfd = -1;
	if (pid <= 0)
		return -EINVAL;
	t->pid = pid;
	/* The pidfd first: if the pid was reused between the two opens, the
	 * start times below would differ from what the caller saw. */
	t->pidfd = sys_pidfd_open(pid);
	if (t->pidfd < 0 && errno == ESRCH)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	t->procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->procfd < 0) {
		err = gone_errno(errno);
		target_release(t);
		return err;
	}
	err = target_refresh(t);
	if (err < 0)
		target_release(t);
	return err;
}

void target_release(struct target *t)
{
	if (!t)
		return;
	/* a zeroed struct has fd 0 fields that it never opened */
	if (t->pid <= 0)
		return;
	close_fd(&t->pidfd);
	close_fd(&t->procfd);
	close_fd(&t->rootfd);
	t->pid = 0;
}

bool target_alive(const struct target *t)
{
	char *s;
	const char *f;
	bool alive;

	if (t->pidfd >= 0) {
		/* readable once the process has exited (zombie or reaped) */
		struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

		if (poll(&pfd, 1, 0) != 0)
			return false;
	}
	if (read_stat_at(t->procfd, "stat", &s, &f) < 0)
		return false;
	alive = f[0] != 'Z' && f[0] != 'X';
	free(s);
	return alive;
}

int target_maps(const struct target *t, struct maps_entry **out, size_t *n)
{
	return procmaps_read_at(t->procfd, out, n);
}
