/* SPDX-License-Identifier: MIT */
/*
 * Talking to a runtime over a local socket safely: the socket file
 * checked before use (a socket, owned by the runtime's user, no link
 * followed) and reached through that very file (no check-then-connect
 * race), the peer checked (SO_PEERCRED), and socket I/O where every step
 * shares one deadline and a new stop signal ends the wait. Folders under
 * the target's root come from rootfs.h. Used by the HotSpot attach
 * protocol (jvmattach.c) and the .NET diagnostics IPC (dotnet.c).
 *
 * Functions return 0 (or an fd) or -errno; nothing prints.
 */
#ifndef MAPLEAK_IPC_H
#define MAPLEAK_IPC_H

#include <signal.h>

#include "mapleak.h"

struct stat;

/* One operation's time budget. */
struct ipc_clock {
	u64 deadline;		/* CLOCK_MONOTONIC, ms */
	const volatile sig_atomic_t *sigs;	/* stop signals so far, or NULL */
	sig_atomic_t sigs0;	/* its value when the operation began */
};

u64 ipc_mono_ms(void);

/* timeout_ms from now; sigs (may be NULL) counts the stop signals
 * (SIGINT...) the command received: one more ends every wait. */
void ipc_clock_start(struct ipc_clock *c, int timeout_ms,
		     const volatile sig_atomic_t *sigs);

/* 0 while time is left, -ETIMEDOUT past the deadline, -EINTR after a
 * new stop signal. */
int ipc_clock_check(const struct ipc_clock *c);

/* Sleeps ms (cut at the deadline); 0, -ETIMEDOUT or -EINTR. */
int ipc_sleep(const struct ipc_clock *c, unsigned ms);

/* Waits for events on fd; 0, -ETIMEDOUT, -EINTR or -errno. */
int ipc_wait_fd(int fd, short events, const struct ipc_clock *c);

/* Connects a non-blocking AF_UNIX socket to a path (below sun_path's
 * size). 0 or -errno (-ETIMEDOUT when the listener's backlog stays
 * full). */
int ipc_connect_path(int sock, const char *path, const struct ipc_clock *c);

/* Connects to the socket file held by pathfd (O_PATH, see
 * ipc_open_socket) through /proc/self/fd/N: the file checked is the one
 * connected to, whatever is renamed meanwhile. */
int ipc_connect_fd(int sock, int pathfd, const struct ipc_clock *c);

int ipc_send_all(int fd, const void *buf, size_t len, const struct ipc_clock *c);

/* Reads exactly len bytes; -ECONNRESET when the peer closes first. */
int ipc_recv_all(int fd, void *buf, size_t len, const struct ipc_clock *c);

/* Reads until the peer closes: the first cap bytes into buf (*len gets
 * their count), the rest read and dropped (*cut set). 0 or -errno. */
int ipc_recv_to_eof(int fd, void *buf, size_t cap, size_t *len, bool *cut,
		    const struct ipc_clock *c);

/* The connected peer (SO_PEERCRED) is process pid running as uid:
 * 0, -EPERM when not, -errno. */
int ipc_check_peer(int sock, pid_t pid, uid_t uid);

/*
 * NAME (one path component) in dirfd, opened O_PATH | O_NOFOLLOW: a
 * socket (else -ENOTSOCK; a symlink is not followed) owned by owner
 * (else -EPERM; (uid_t)-1: any owner). fd or -errno; sb (may be NULL)
 * gets its stat.
 */
int ipc_open_socket(int dirfd, const char *name, uid_t owner, struct stat *sb);

#endif
