/* SPDX-License-Identifier: MIT */
/* A descriptor of a file's current bytes that nobody else can change:
 * see stable.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "symbols/stable.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define STABLE_CHUNK (1u << 20)

bool stable_modifiable(const struct stat *sb, const uid_t *uids,
		       size_t nuids)
{
	/* A POSIX ACL that grants anyone write access needs a mask with
	 * write, and the mask is what the group bits show: S_IWGRP. */
	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return true;
	for (size_t i = 0; i < nuids; i++)
		if (uids[i] == 0 || uids[i] == sb->st_uid)
			return true;
	return false;
}

/* A memfd that can be sealed and, where the kernel knows the flag, never
 * made executable (vm.memfd_noexec=2 refuses memfds without it). */
static int new_memfd(void)
{
	int fd = memfd_create("mapleak-stable",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("mapleak-stable",
				  MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

/* pread/write, where sendfile cannot (unusual filesystems). */
static int copy_rw(int dst, int src, off_t off, off_t size, off_t *done)
{
	char *buf = malloc(STABLE_CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (off < size) {
		size_t want = (size_t)(size - off) < STABLE_CHUNK ?
			      (size_t)(size - off) : STABLE_CHUNK;
		ssize_t n = pread(src, buf, want, off), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : 0;	/* 0: it shrank */
			break;
		}
		while (w < n) {
			ssize_t k = write(dst, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				ret = k < 0 ? -errno : -EIO;
				goto out;
			}
			w += k;
		}
		off += n;
	}
out:
	free(buf);
	*done = off;
	return ret;
}

/* Copies the first size bytes of src (fewer if it shrinks meanwhile). */
static int copy_file(int dst, int src, off_t size, off_t *done)
{
	off_t off = 0;

	while (off < size) {
		size_t want = (size_t)(size - off) < (1u << 30) ?
			      (size_t)(size - off) : (1u << 30);
		ssize_t n = sendfile(dst, src, &off, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS) && off == 0)
			return copy_rw(dst, src, 0, size, done);
		if (n < 0) {
			*done = off;
			return -errno;
		}
		if (n == 0)
			break;		/* the file shrank: what was there */
	}
	*done = off;
	return 0;
}

int stable_reopen(int fd, const uid_t *uids, size_t nuids,
		  unsigned long long cap, unsigned long long *copied)
{
	struct stat sb;
	off_t done = 0;
	int mfd, ret;

	if (copied)
		*copied = 0;
	if (fstat(fd, &sb) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -EPERM;
	}
	if (!stable_modifiable(&sb, uids, nuids))
		return fd;
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > cap) {
		close(fd);
		return -EFBIG;
	}
	mfd = new_memfd();
	if (mfd < 0) {
		close(fd);
		return mfd;
	}
	ret = copy_file(mfd, fd, sb.st_size, &done);
	close(fd);
	/* Sealed: even a descriptor leaked to another process could not
	 * shrink, grow or write it under our mappings. */
	if (ret == 0 &&
	    (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
				      F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
	     lseek(mfd, 0, SEEK_SET) < 0))
		ret = -errno;
	if (ret < 0) {
		close(mfd);
		return ret;
	}
	if (copied)
		*copied = (unsigned long long)done;
	return mfd;
}
