/* SPDX-License-Identifier: MIT */
/* The HotSpot attach protocol without jcmd. See jvmattach.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "symbols/jvmattach.h"
#include "symbols/rootfs.h"
#include "util.h"
#include "target/proc.h"

#define JA_NAME_MAX	48u
#define JA_POLL_STEP_MS	100u	/* first wait for the socket; grows by this */

int jvm_attach_encode(char *buf, size_t cap, const char *cmd, const char *arg)
{
	size_t cl = strlen(cmd), al = arg ? strlen(arg) : 0;
	size_t n = 2 + cl + 1 + al + 1 + 2;

	if (cl == 0 || cl > JVM_ATTACH_NAME_MAX || al > JVM_ATTACH_ARG_MAX)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	/* Version "1", the command, then always three arguments (empty
	 * ones are a bare NUL): HotSpot reads exactly five strings. */
	memcpy(buf, "1", 2);
	memcpy(buf + 2, cmd, cl + 1);
	if (al)
		memcpy(buf + 2 + cl + 1, arg, al);
	buf[2 + cl + 1 + al] = '\0';
	buf[n - 2] = '\0';
	buf[n - 1] = '\0';
	return (int)n;
}

int jvm_attach_parse_reply(const char *buf, size_t len, int *status)
{
	size_t i = 0, digits = 0;
	long v = 0;
	bool neg = false;

	if (len > 0 && buf[0] == '-') {
		neg = true;
		i = 1;
	}
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (++digits > 9)
			return -EBADMSG;
		v = v * 10 + (buf[i] - '0');
	}
	if (!digits || i >= len || buf[i] != '\n')
		return -EBADMSG;
	*status = (int)(neg ? -v : v);
	return (int)(i + 1);
}

/* ---- waking the listener ---- */

static int pidfd_open_(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

/* SIGQUIT to the process behind pidfd (kill() on kernels without
 * pidfds: the caller still traces the pid, so it was not reused). */
static int send_quit(int pidfd, pid_t pid)
{
	int r = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, SIGQUIT,
					 NULL, 0)
			   : kill(pid, SIGQUIT);

	return r < 0 ? -errno : 0;
}

/* SIGQUIT is handled (bit SIGQUIT-1 of SigCgt): it wakes the attach
 * listener instead of killing the JVM (as it would under -Xrs, or before
 * HotSpot installed its handlers). */
static bool catches_sigquit(pid_t pid)
{
	struct proc_status ps;

	if (proc_status(pid, &ps) < 0 || !(ps.have & PROC_HAVE_SIGCGT))
		return false;
	return (ps.sigcgt >> (SIGQUIT - 1)) & 1;
}

/*
 * Creates .attach_pid<nspid> in the JVM's /tmp (tmpfd), never through a
 * link, owned by the JVM's user (HotSpot ignores one owned by another
 * user; root's is accepted, but root may be unmapped in the JVM's user
 * namespace). /tmp only: jcmd tries the JVM's working folder first, a
 * folder the target chose, and HotSpot looks in /tmp when it has none.
 * Returns 0 and the file's stat (to remove only ours), -EEXIST when one
 * is there already (left alone), or -errno.
 */
static int make_attach_file(int tmpfd, const char *name,
			    const struct jvm_target *t, struct stat *sb)
{
	int fd = openat(tmpfd, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return -errno;
	/* On failure root's file still triggers a JVM that sees root. */
	(void)!fchown(fd, t->euid, t->egid);
	if (fstat(fd, sb) < 0)
		err = -errno;
	close(fd);
	if (err)
		unlinkat(tmpfd, name, 0);
	return err;
}

static void remove_attach_file(int tmpfd, const char *name,
			       const struct stat *ours)
{
	struct stat sb;

	/* Replaced meanwhile: not ours to remove. */
	if (fstatat(tmpfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    sb.st_dev == ours->st_dev && sb.st_ino == ours->st_ino)
		unlinkat(tmpfd, name, 0);
}

/*
 * The listener's socket file, opened O_PATH; started first when absent
 * (as jcmd does: attach file, SIGQUIT, poll with a growing step, SIGQUIT
 * again halfway through the time). fd or -errno.
 */
static int listener(int tmpfd, const struct jvm_target *t,
		    const struct ipc_clock *c)
{
	char sock[JA_NAME_MAX], trigger[JA_NAME_MAX];
	struct stat mine = { 0 };
	bool have_file = false;
	unsigned step = 0;
	u64 now, half;
	int fd, pidfd, err;

	snprintf(sock, sizeof(sock), ".java_pid%d", (int)t->nspid);
	fd = ipc_open_socket(tmpfd, sock, t->euid, NULL);
	if (fd != -ENOENT)
		return fd;

	pidfd = pidfd_open_(t->pid);
	if (pidfd == -ESRCH)
		return -ESRCH;
	/* Read after the pidfd was opened: it speaks of that process. */
	if (!catches_sigquit(t->pid)) {
		if (pidfd >= 0)
			close(pidfd);
		return kill(t->pid, 0) < 0 && errno == ESRCH ? -ESRCH : -ENOTSUP;
	}
	snprintf(trigger, sizeof(trigger), ".attach_pid%d", (int)t->nspid);
	err = make_attach_file(tmpfd, trigger, t, &mine);
	if (err && err != -EEXIST)
		goto out;
	have_file = err == 0;
	err = send_quit(pidfd, t->pid);
	if (err)
		goto out_file;
	now = ipc_mono_ms();
	half = now < c->deadline ? now + (c->deadline - now) / 2 : now;
	for (;;) {
		step += JA_POLL_STEP_MS;
		err = ipc_sleep(c, step);
		fd = ipc_open_socket(tmpfd, sock, t->euid, NULL);
		if (fd != -ENOENT) {
			err = fd < 0 ? fd : 0;
			break;
		}
		if (err) {
			fd = err;
			break;
		}
		if (half && ipc_mono_ms() >= half) {
			half = 0;
			err = send_quit(pidfd, t->pid);
			if (err) {
				fd = err;
				break;
			}
		}
	}
out_file:
	if (have_file)
		remove_attach_file(tmpfd, trigger, &mine);
out:
	if (pidfd >= 0)
		close(pidfd);
	return err ? err : fd;
}

/* ---- one command ---- */

int jvm_attach_jcmd(const struct jvm_target *t, const char *command,
		    const struct ipc_clock *c, char *out, size_t outsize,
		    int *status)
{
	char req[2 + JVM_ATTACH_NAME_MAX + JVM_ATTACH_ARG_MAX + 8];
	size_t len = 0;
	bool cut;
	int rootfd, tmpfd, pathfd = -1, sock = -1, n, err;

	out[0] = '\0';
	*status = -1;
	/* Without the JVM's user no socket can be checked: none is used. */
	if (t->euid == (uid_t)-1 || t->egid == (gid_t)-1)
		return -ESRCH;
	n = jvm_attach_encode(req, sizeof(req), "jcmd", command);
	if (n < 0)
		return n;
	rootfd = rootfs_open_root(-1, t->pid);
	if (rootfd < 0)
		return rootfd;
	/* HotSpot's temporary folder is always /tmp (os::get_temp_directory),
	 * resolved here inside the JVM's root: its links cannot lead out. */
	tmpfd = rootfs_openat(rootfd, "/tmp", O_PATH | O_DIRECTORY);
	close(rootfd);
	if (tmpfd < 0)
		return tmpfd;
	pathfd = listener(tmpfd, t, c);
	close(tmpfd);
	if (pathfd < 0)
		return pathfd;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		err = -errno;
		goto out;
	}
	err = ipc_connect_fd(sock, pathfd, c);
	if (!err)
		err = ipc_check_peer(sock, t->pid, t->euid);
	if (!err)
		err = ipc_send_all(sock, req, (size_t)n, c);
	if (!err)
		err = ipc_recv_to_eof(sock, out, outsize - 1, &len, &cut, c);
	if (err)
		goto out;
	out[len] = '\0';
	n = jvm_attach_parse_reply(out, len, status);
	if (n < 0) {
		err = n;
		goto out;
	}
	memmove(out, out + n, len - (size_t)n + 1);
out:
	if (sock >= 0)
		close(sock);
	close(pathfd);
	return err;
}
