/* SPDX-License-Identifier: MIT */
/*
 * The target's files: the file behind a mapping, a sealed copy of one the
 * target may modify, files under its root. Moved out of symtab.c so that
 * the other symtab files (r2r, jitdump) open files without calling back
 * into symtab.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/rootfs.h"
#include "symbols/stable.h"
#include "symbols/symtab-int.h"
#include "target/proc.h"

/* Opens the file behind mapping m: map_files first (the exact mapped
 * file, deleted ones too, in any mount namespace), then the path under the
 * target's root; either way checked as a regular file before it is opened
 * for reading (never a FIFO or a device, rootfs.h). */
static int open_mapping(const struct symtab *st, const struct maps_entry *m)
{
	char rel[64];
	struct stat sb;
	int fd, pfd, rootfd;

	snprintf(rel, sizeof(rel), "map_files/%llx-%llx",
		 (unsigned long long)m->start, (unsigned long long)m->end);
	pfd = openat(st->tg.procfd, rel, O_PATH | O_CLOEXEC);
	if (pfd >= 0) {
		fd = rootfs_reopen_reg(pfd, NULL, 0, &sb);
		close(pfd);
	} else if (m->path && m->path[0] == '/' && !has_suffix(m->path, ST_DELETED)) {
		rootfd = rootfs_open_root(st->tg.procfd, st->pid);
		if (rootfd < 0)
			return rootfd;
		fd = rootfs_open_reg(rootfd, m->path, NULL, 0, &sb);
		close(rootfd);
	} else {
		return -errno;
	}
	if (fd < 0)
		return fd;
	/* The path may have been replaced since it was mapped. */
	if (m->inode && sb.st_ino != m->inode) {
		close(fd);
		return -ENOEXEC;
	}
	return fd;
}

int st_open_mapping(const struct symtab *st, const struct maps_entry *m)
{
	return open_mapping(st, m);
}

int st_stable(struct symtab *st, int fd)
{
	static const uid_t as_root[] = { 0 };
	u64 left = ST_STABLE_TOTAL_MAX - st->stable_bytes;
	unsigned long long copied;
	bool ns = st->own_userns;

	fd = stable_reopen(fd, ns ? as_root : st->tg.status.uids,
			   ns ? ARRAY_SIZE(as_root) : ARRAY_SIZE(st->tg.status.uids),
			   left < STABLE_COPY_MAX ? left : STABLE_COPY_MAX,
			   &copied);
	if (fd == -EFBIG)
		st->stable_capped = true;	/* symtab_new_notes() tells */
	if (fd >= 0)
		st->stable_bytes += copied;
	return fd;
}

/* The target's root: the live /proc/PID/root while it exists, else the
 * one held since symtab_open (a program that exited left its files). The
 * caller closes *owned when it is >= 0. */
static int st_root(const struct symtab *st, int *owned)
{
	int live = rootfs_open_root(st->tg.procfd, st->pid);

	*owned = live;
	if (live >= 0)
		return live;
	return st->tg.rootfd >= 0 ? st->tg.rootfd : live;
}

int st_open_in_root(const struct symtab *st, const char *rel, int flags)
{
	int owned, dir = st_root(st, &owned), fd;

	if (dir < 0)
		return -ESRCH;
	fd = rootfs_openat(dir, rel, flags);
	if (owned >= 0)
		close(owned);
	return fd;
}

int st_open_target_file(const struct symtab *st, const char *path)
{
	int owned, rootfd = st_root(st, &owned), fd;

	if (rootfd < 0)
		return -ESRCH;
	fd = rootfs_open_reg(rootfd, path, target_uids(&st->tg),
			     ARRAY_SIZE(st->tg.status.uids), NULL);
	if (owned >= 0)
		close(owned);
	return fd;
}
