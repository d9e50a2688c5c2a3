/* SPDX-License-Identifier: MIT */
/* Residency from pagemap, measured on this process's own pages. */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "track/resident.h"

#define PS 4096ul

static void test_touched(int fd)
{
	char *p = mmap(NULL, 64 * PS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u64 res = 1, swp = 1, start;
	int ret;

	if (p == MAP_FAILED) {
		T_SKIP("64 pages, 10 touched", "mmap failed");
		return;
	}
	start = (u64)(uintptr_t)p;
	ret = resident_measure(fd, start, start + 64 * PS, &res, &swp);
	T_CHECKF("untouched mapping has nothing resident",
		 ret == 0 && res == 0 && swp == 0, "ret=%d res=%llu", ret,
		 (unsigned long long)res);
	for (int i = 0; i < 10; i++)
		p[(size_t)i * 6 * PS + 17] = 1;
	ret = resident_measure(fd, start, start + 64 * PS, &res, &swp);
	T_CHECKF("64 pages, 10 touched: exactly 10 resident",
		 ret == 0 && res == 10 * PS && swp == 0,
		 "Expected: %lu Got: ret=%d res=%llu swp=%llu", 10 * PS, ret,
		 (unsigned long long)res, (unsigned long long)swp);
	/* Unaligned bounds widen to whole pages: page 0 and page 6. */
	ret = resident_measure(fd, start + 100, start + 6 * PS + 1, &res, &swp);
	T_CHECKF("unaligned range covers whole pages",
		 ret == 0 && res == 2 * PS, "Got: ret=%d res=%llu", ret,
		 (unsigned long long)res);
	munmap(p, 64 * PS);
	ret = resident_measure(fd, start, start + 64 * PS, &res, &swp);
	T_CHECK("unmapped range is not resident", ret == 0 && res == 0);
}

/* A 1 GiB reservation crosses several read chunks. */
static void test_chunks(int fd)
{
	const size_t pages = 262144, touch[] = { 0, 65535, 65536, 200001,
						   262143 };
	char *p = mmap(NULL, pages * PS, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	u64 res = 0, swp = 0, start;
	int ret;

	if (p == MAP_FAILED) {
		T_SKIP("1 GiB sparse", "mmap failed");
		return;
	}
	start = (u64)(uintptr_t)p;
	for (size_t i = 0; i < ARRAY_SIZE(touch); i++) {
		mprotect(p + touch[i] * PS, PS, PROT_READ | PROT_WRITE);
		p[touch[i] * PS] = 1;
	}
	ret = resident_measure(fd, start, start + pages * PS, &res, &swp);
	T_CHECKF("1 GiB sparse: touched pages across chunk edges",
		 ret == 0 && res == ARRAY_SIZE(touch) * PS,
		 "Expected: %zu Got: ret=%d res=%llu", ARRAY_SIZE(touch) * PS,
		 ret, (unsigned long long)res);
	munmap(p, pages * PS);
}

int main(void)
{
	int fd = resident_open(getpid()), bad;
	u64 res, swp;

	T_CHECKF("open own pagemap", fd >= 0, "ret=%d", fd);
	if (fd >= 0) {
		test_touched(fd);
		test_chunks(fd);
		T_CHECK("end before start is refused",
			resident_measure(fd, 2 * PS, PS, &res, &swp) == -EINVAL);
		close(fd);
	}
	bad = resident_open(0x7ffffff0);
	T_CHECKF("pagemap of a process that does not exist",
		 bad == -ENOENT || bad == -ESRCH, "ret=%d", bad);
	T_CHECK("bad fd", resident_measure(-1, 0, PS, &res, &swp) == -EINVAL);
	T_END();
}
