/* SPDX-License-Identifier: MIT */
/* Opening a path under a traced process's root safely: see rootfs.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "symbols/rootfs.h"

int rootfs_open_root(int procfd, pid_t pid)
{
	char path[32];
	int fd;

	if (procfd >= 0) {
		fd = openat(procfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	return fd;
}

/*
 * Kernels before 5.6 have no openat2: walk the path one component at a
 * time and refuse any symlink and "..", which is stricter than
 * RESOLVE_IN_ROOT but never leaves the root.
 */
int rootfs_openat_walk(int rootfd, const char *path, int flags)
{
	char *copy = strdup(path), *save = NULL, *comp, *next;
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		free(copy);
		return -errno;
	}
	comp = strtok_r(copy, "/", &save);
	while (comp) {
		int nfd;

		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "..")) {
			err = -EXDEV;
			break;
		}
		if (!strcmp(comp, ".") && next) {
			comp = next;
			continue;
		}
		nfd = next ? openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC)
			   : openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			err = errno == ENOTDIR && next ? -ELOOP : -errno;
			break;
		}
		close(fd);
		fd = nfd;
		comp = next;
		if (!comp)
			goto out;
	}
	if (!err) {
		/* "/" itself: the root. */
		int nfd = openat(fd, ".", flags | O_CLOEXEC);

		err = nfd < 0 ? -errno : 0;
		close(fd);
		fd = nfd;
	}
out:
	free(copy);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int rootfs_openat(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (u_int64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	/* A file's own name is never followed (perf's rule for its maps); a
	 * folder's symlink may be, it resolves inside the root anyway. */
	if (!(flags & O_DIRECTORY))
		how.flags |= O_NOFOLLOW;
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return rootfs_openat_walk(rootfd, path, flags);
	return fd < 0 ? -errno : fd;
}

static bool owner_ok(uid_t uid, const uid_t *owners, size_t nowners)
{
	if (!nowners)
		return true;
	for (size_t i = 0; i < nowners; i++)
		if (owners[i] == uid)
			return true;
	return false;
}

int rootfs_reopen_reg(int pathfd, const uid_t *owners, size_t nowners,
		      struct stat *sb)
{
	struct stat tmp;
	char self[40];
	int fd;

	if (!sb)
		sb = &tmp;
	if (fstat(pathfd, sb) < 0)
		return -errno;
	if (!S_ISREG(sb->st_mode) || !owner_ok(sb->st_uid, owners, nowners))
		return -EPERM;
	/* The same inode (an O_PATH descriptor pins it), now for reading. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pathfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int rootfs_open_reg(int rootfd, const char *path, const uid_t *owners,
		    size_t nowners, struct stat *sb)
{
	int pfd = rootfs_openat(rootfd, path, O_PATH), fd;

	if (pfd < 0)
		return pfd;
	fd = rootfs_reopen_reg(pfd, owners, nowners, sb);
	close(pfd);
	return fd;
}
