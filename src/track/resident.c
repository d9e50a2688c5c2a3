/* SPDX-License-Identifier: MIT */
/*
 * Residency from /proc/PID/pagemap: one u64 per virtual page, bit 63 =
 * present in RAM, bit 62 = swapped. One large pread per chunk is far
 * cheaper than one per page; the buffer is bounded so a huge sparse range
 * costs a few reads, not a huge allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "track/resident.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
/* 64 Ki entries = 512 KiB of buffer, 256 MiB of address space per pread. */
#define RS_CHUNK_PAGES 65536u
/* File offsets are page * 8 and must fit an off_t. */
#define RS_MAX_PAGE ((u64)INT64_MAX / 8)

int resident_open(pid_t pid)
{
	char path[64];
	int fd;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int resident_measure(int pagemap_fd, u64 start, u64 end, u64 *resident,
		     u64 *swapped)
{
	u64 page = start / ML_PAGE_SIZE;
	u64 last = end / ML_PAGE_SIZE + (end % ML_PAGE_SIZE != 0);
	u64 nres = 0, nswap = 0;
	u64 *buf;
	size_t cap;

	if (pagemap_fd < 0 || end < start)
		return -EINVAL;
	if (last > RS_MAX_PAGE)
		last = RS_MAX_PAGE;
	cap = last - page < RS_CHUNK_PAGES ? (size_t)(last - page) : RS_CHUNK_PAGES;
	buf = malloc((cap ? cap : 1) * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	while (page < last) {
		size_t want = last - page < cap ? (size_t)(last - page) : cap;
		ssize_t r = pread(pagemap_fd, buf, want * sizeof(*buf),
				  (off_t)(page * sizeof(*buf)));
		size_t got;

		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			free(buf);
			return -err;
		}
		/* Past the top of the address space: nothing more is mapped. */
		if (r == 0)
			break;
		got = (size_t)r / sizeof(*buf);
		if (got == 0)
			break;
		for (size_t i = 0; i < got; i++) {
			if (buf[i] & PM_PRESENT)
				nres++;
			else if (buf[i] & PM_SWAPPED)
				nswap++;
		}
		page += got;
	}
	free(buf);
	*resident = nres * ML_PAGE_SIZE;
	*swapped = nswap * ML_PAGE_SIZE;
	return 0;
}
