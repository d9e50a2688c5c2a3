/* SPDX-License-Identifier: MIT */
/* Runtime IPC under a target's root, with deadlines. See ipc.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "symbols/ipc.h"

/* Longest single wait: a stop signal that lands just before a wait
 * begins is seen after at most this. */
#define IPC_SLICE_MS 100u

u64 ipc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

void ipc_clock_start(struct ipc_clock *c, int timeout_ms,
		     const volatile sig_atomic_t *sigs)
{
	c->deadline = ipc_mono_ms() + (u64)(timeout_ms > 0 ? timeout_ms : 1);
	c->sigs = sigs;
	c->sigs0 = sigs ? *sigs : 0;
}

int ipc_clock_check(const struct ipc_clock *c)
{
	if (c->sigs && *c->sigs != c->sigs0)
		return -EINTR;
	if (ipc_mono_ms() >= c->deadline)
		return -ETIMEDOUT;
	return 0;
}

/* The next wait: at most IPC_SLICE_MS, never past the deadline. */
static int slice_ms(const struct ipc_clock *c, unsigned want, int *ms)
{
	int err = ipc_clock_check(c);
	u64 left;

	if (err)
		return err;
	left = c->deadline - ipc_mono_ms();
	if (left > want)
		left = want;
	if (left > IPC_SLICE_MS)
		left = IPC_SLICE_MS;
	*ms = (int)left;
	return 0;
}

int ipc_sleep(const struct ipc_clock *c, unsigned ms)
{
	u64 end = ipc_mono_ms() + ms;

	for (;;) {
		u64 now = ipc_mono_ms();
		int err, step;

		if (now >= end)
			return ipc_clock_check(c);
		err = slice_ms(c, (unsigned)(end - now), &step);
		if (err)
			return err;
		/* poll() with no fd: a handled signal cuts it short (EINTR). */
		poll(NULL, 0, step);
	}
}

int ipc_wait_fd(int fd, short events, const struct ipc_clock *c)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int n, step, err = slice_ms(c, IPC_SLICE_MS, &step);

		if (err)
			return err;
		n = poll(&pfd, 1, step);
		if (n < 0 && errno == EINTR)
			continue;	/* a stop signal shows in the next check */
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0;
	}
}

int ipc_connect_path(int sock, const char *path, const struct ipc_clock *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* A full backlog: the server is busy or not accepting. */
		if (errno == EAGAIN) {
			n = ipc_sleep(c, 10);
			if (n)
				return n;
			continue;
		}
		if (errno != EINPROGRESS)
			return -errno;
		break;
	}
	n = ipc_wait_fd(sock, POLLOUT, c);
	if (n == 0) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -errno;
		n = -soerr;
	}
	return n;
}

int ipc_connect_fd(int sock, int pathfd, const struct ipc_clock *c)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", pathfd);
	return ipc_connect_path(sock, path, c);
}

int ipc_send_all(int fd, const void *buf, size_t len, const struct ipc_clock *c)
{
	const u8 *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			int err = ipc_wait_fd(fd, POLLOUT, c);

			if (err)
				return err;
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ipc_recv_all(int fd, void *buf, size_t len, const struct ipc_clock *c)
{
	u8 *p = buf;

	while (len) {
		ssize_t r = recv(fd, p, len, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			int err = ipc_wait_fd(fd, POLLIN, c);

			if (err)
				return err;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNRESET;	/* closed without a full answer */
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int ipc_recv_to_eof(int fd, void *buf, size_t cap, size_t *len, bool *cut,
		    const struct ipc_clock *c)
{
	u8 *p = buf, sink[4096];

	*len = 0;
	*cut = false;
	for (;;) {
		bool room = *len < cap;
		ssize_t r = room ? recv(fd, p + *len, cap - *len, MSG_DONTWAIT)
				 : recv(fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			int err = ipc_wait_fd(fd, POLLIN, c);

			if (err)
				return err;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		if (room)
			*len += (size_t)r;
		else
			*cut = true;
	}
}

int ipc_check_peer(int sock, pid_t pid, uid_t uid)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return -errno;
	return cr.pid == pid && cr.uid == uid ? 0 : -EPERM;
}

int ipc_open_socket(int dirfd, const char *name, uid_t owner, struct stat *sb)
{
	struct stat st;
	int fd;

	if (!*name || strchr(name, '/'))
		return -EINVAL;
	/* O_PATH with O_NOFOLLOW: a symlink is opened as itself (and refused
	 * below), never followed. */
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISSOCK(st.st_mode)) {
		close(fd);
		return -ENOTSOCK;
	}
	if (owner != (uid_t)-1 && st.st_uid != owner) {
		close(fd);
		return -EPERM;
	}
	if (sb)
		*sb = st;
	return fd;
}
