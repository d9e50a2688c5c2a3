/* SPDX-License-Identifier: MIT */
/*
 * The HotSpot dynamic attach protocol (Linux, protocol version 1), spoken
 * directly: mapleak runs no program (no jcmd) to talk to a JVM.
 *
 *   1. The listener is /tmp/.java_pid<nspid> in the JVM's root. If it is
 *      not there yet, create /tmp/.attach_pid<nspid> (O_EXCL, O_NOFOLLOW,
 *      owned by the JVM's user, which HotSpot requires of it), send
 *      SIGQUIT (only to a JVM that catches it: -Xrs or an early JVM would
 *      die), wait for the socket, remove the attach file.
 *   2. Open the socket file O_PATH | O_NOFOLLOW under the JVM's root,
 *      check it is a socket owned by the JVM's euid, connect through that
 *      very fd (/proc/self/fd/N), and check the peer (SO_PEERCRED) is the
 *      JVM's process and user.
 *   3. Send "1\0jcmd\0<command>\0\0\0"; the reply is "<status>\n" then
 *      the command's output, up to the JVM closing the connection.
 *
 * Every step shares one deadline (ipc.h) and a stop signal ends it.
 */
#ifndef MAPLEAK_JVMATTACH_H
#define MAPLEAK_JVMATTACH_H

#include "mapleak.h"
#include "symbols/ipc.h"

/* HotSpot's limits on a request (AttachOperation). */
#define JVM_ATTACH_NAME_MAX	16
#define JVM_ATTACH_ARG_MAX	1024

struct jvm_target {
	pid_t pid;		/* in mapleak's pid namespace */
	pid_t nspid;		/* as the JVM sees itself: its file names */
	uid_t euid;		/* the JVM's effective ids */
	gid_t egid;
};

/* "1\0CMD\0ARG\0\0\0" into buf. Its length, -EINVAL (a name or argument
 * over HotSpot's limits) or -ENOSPC. */
int jvm_attach_encode(char *buf, size_t cap, const char *cmd, const char *arg);

/* The status line of a reply ("0\n", "-1\n", "101\n"...): *status gets
 * the code; returns where the output starts, or -EBADMSG. */
int jvm_attach_parse_reply(const char *buf, size_t len, int *status);

/*
 * Runs one diagnostic command (what `jcmd PID COMMAND` would; several
 * separated by '\n') in the JVM t. out gets its output, NUL-terminated
 * (at most outsize - 1 bytes, the rest dropped); *status the JVM's
 * completion code (0: done). Returns 0 when the JVM answered, else
 *   -ENOTSUP   no listener yet and the JVM does not catch SIGQUIT
 *   -EPERM     the socket is not a socket of the JVM's user, or the
 *              process behind it is not the JVM
 *   -ETIMEDOUT no listener or no answer in time; -EINTR a stop signal
 *   -ESRCH     the JVM is gone; -EBADMSG no status line; other -errno
 */
int jvm_attach_jcmd(const struct jvm_target *t, const char *command,
		    const struct ipc_clock *c, char *out, size_t outsize,
		    int *status);

#endif
