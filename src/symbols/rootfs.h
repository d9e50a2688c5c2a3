/* SPDX-License-Identifier: MIT */
/*
 * Opening a path under a traced process's root safely.
 *
 * mapleak runs as root; the names it opens for a target (/tmp/perf-N.map,
 * jit-N.dump, mapped files, the diagnostics socket's folder) are chosen by
 * the target, whose symlinks and mounts must not make root read, connect
 * to or unlink anything the target itself could not. Every such open goes
 * through here:
 *  - resolved inside the target's root (openat2 RESOLVE_IN_ROOT |
 *    RESOLVE_NO_MAGICLINKS: its absolute symlinks and ".." stay inside;
 *    without openat2, a component walk that refuses every symlink);
 *  - the last component never followed;
 *  - opened O_PATH first and checked (type, owner) before it is opened for
 *    reading, so a FIFO or a device is never opened on its behalf.
 */
#ifndef MAPLEAK_ROOTFS_H
#define MAPLEAK_ROOTFS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* O_PATH descriptor of /proc/PID/root (procfd: an open /proc/PID, or -1
 * to use pid). fd or -errno. */
int rootfs_open_root(int procfd, pid_t pid);

/* Opens PATH (as the target sees it; relative ones from rootfd too) under
 * rootfd with flags (O_PATH, O_DIRECTORY, O_RDONLY...; O_NOFOLLOW and
 * O_CLOEXEC are added). fd or -errno. */
int rootfs_openat(int rootfd, const char *path, int flags);

/* What rootfs_openat() does without openat2 (kernels before 5.6): one
 * component at a time, refusing every symlink (-ELOOP) and ".." (-EXDEV). */
int rootfs_openat_walk(int rootfd, const char *path, int flags);

/*
 * A regular file to read: checks pathfd (any descriptor, typically O_PATH)
 * and opens the same inode O_RDONLY | O_NONBLOCK. owners: the uids the
 * file may belong to (nowners 0: any). *sb (may be NULL) gets its stat.
 * fd, -EPERM (not a regular file, or another owner), or -errno.
 */
int rootfs_reopen_reg(int pathfd, const uid_t *owners, size_t nowners,
		      struct stat *sb);

/* rootfs_openat(O_PATH) then rootfs_reopen_reg(). */
int rootfs_open_reg(int rootfd, const char *path, const uid_t *owners,
		    size_t nowners, struct stat *sb);

#endif
