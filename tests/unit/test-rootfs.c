/* SPDX-License-Identifier: MIT */
/* Opening paths under a process's root: symlinks and ".." stay inside,
 * only regular files of the right owner are opened for reading. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/rootfs.h"

static char base[] = "/tmp/mapleak-test-rootfs.XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The first bytes of fd, NUL-terminated. */
static const char *first(int fd)
{
	static char buf[64];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int main(void)
{
	char path[256], outside[256];
	uid_t me = geteuid(), other = me + 1;
	struct stat sb;
	int rootfd, fd;

	if (!mkdtemp(base)) {
		T_SKIP("rootfs", "cannot create a temporary folder");
		T_END();
	}
	/* base/root is the "process's root"; base/outside is not in it. */
	snprintf(path, sizeof(path), "%s/root", base);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/root/in", base);
	mkdir(path, 0755);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mkdir(outside, 0755);
	put("outside/f", "OUTSIDE");
	put("root/in/f", "INSIDE");
	put("root/outside-named", "x");
	/* An absolute link and a climbing one, both aimed outside. */
	snprintf(path, sizeof(path), "%s/root/abs", base);
	T_CHECK("links made", symlink(outside, path) == 0);
	snprintf(path, sizeof(path), "%s/root/up", base);
	symlink("../../outside", path);
	snprintf(path, sizeof(path), "%s/root/in/link", base);
	symlink("f", path);
	snprintf(path, sizeof(path), "%s/root/in/fifo", base);
	mkfifo(path, 0600);

	snprintf(path, sizeof(path), "%s/root", base);
	rootfd = open(path, O_PATH | O_DIRECTORY);
	T_CHECK("root opened", rootfd >= 0);

	fd = rootfs_open_reg(rootfd, "/in/f", &me, 1, &sb);
	T_CHECKF("a regular file of its owner is read", fd >= 0 &&
		 !strcmp(first(fd), "INSIDE"), "fd=%d", fd);
	if (fd >= 0)
		close(fd);

	/* base/outside exists under mapleak's root only: inside "root",
	 * /abs resolves to root/<base>/outside, which is not there. */
	fd = rootfs_open_reg(rootfd, "/abs/f", NULL, 0, NULL);
	T_CHECKF("an absolute symlink resolves inside the root, not outside",
		 fd == -ENOENT, "fd=%d (%s)", fd, first(fd));
	if (fd >= 0)
		close(fd);
	fd = rootfs_open_reg(rootfd, "/up/f", NULL, 0, NULL);
	T_CHECKF("'..' in a symlink stops at the root", fd < 0, "fd=%d (%s)",
		 fd, first(fd));
	if (fd >= 0)
		close(fd);
	fd = rootfs_open_reg(rootfd, "/../../outside/f", NULL, 0, NULL);
	T_CHECKF("'..' in the path stops at the root", fd < 0, "fd=%d", fd);
	if (fd >= 0)
		close(fd);

	fd = rootfs_open_reg(rootfd, "/in/link", NULL, 0, NULL);
	T_CHECKF("the file's own name is never followed", fd == -EPERM, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_open_reg(rootfd, "/in/fifo", NULL, 0, NULL);
	T_CHECKF("a FIFO is refused without blocking", fd == -EPERM, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_open_reg(rootfd, "/in", NULL, 0, NULL);
	T_CHECKF("a folder is not a file to read", fd == -EPERM, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_open_reg(rootfd, "/in/f", &other, 1, NULL);
	T_CHECKF("another owner's file is refused", fd == -EPERM, "fd=%d", fd);
	if (fd >= 0)
		close(fd);

	fd = rootfs_openat(rootfd, "/abs", O_PATH | O_DIRECTORY);
	T_CHECKF("a folder symlink is followed, inside the root",
		 fd == -ENOENT, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat(rootfd, "/", O_RDONLY | O_DIRECTORY);
	T_CHECK("'/' is the root itself", fd >= 0 && fstat(fd, &sb) == 0 &&
		faccessat(fd, "in/f", F_OK, 0) == 0);
	if (fd >= 0)
		close(fd);

	/* Without openat2: stricter, never outside. */
	fd = rootfs_openat_walk(rootfd, "/in/f", O_RDONLY);
	T_CHECKF("walk: a plain path opens", fd >= 0 && !strcmp(first(fd), "INSIDE"),
		 "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat_walk(rootfd, "//in/./f", O_RDONLY);
	T_CHECKF("walk: '//' and '.' are harmless", fd >= 0, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat_walk(rootfd, "/abs/f", O_RDONLY);
	T_CHECKF("walk: a symlinked folder is refused", fd == -ELOOP, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat_walk(rootfd, "/in/link", O_RDONLY);
	T_CHECKF("walk: a symlinked file is refused", fd == -ELOOP, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat_walk(rootfd, "/in/../../outside/f", O_RDONLY);
	T_CHECKF("walk: '..' is refused", fd == -EXDEV, "fd=%d", fd);
	if (fd >= 0)
		close(fd);
	fd = rootfs_openat_walk(rootfd, "/", O_PATH | O_DIRECTORY);
	T_CHECK("walk: '/' is the root", fd >= 0 && faccessat(fd, "in/f", F_OK, 0) == 0);
	if (fd >= 0)
		close(fd);

	fd = rootfs_open_root(-1, getpid());
	T_CHECK("the root of this process opens", fd >= 0);
	if (fd >= 0)
		close(fd);
	T_CHECK("a pid that does not exist: -ESRCH",
		rootfs_open_root(-1, 0x3fffffff) == -ESRCH);

	close(rootfd);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd))
			T_SKIP("cleanup", base);
	}
	T_END();
}
