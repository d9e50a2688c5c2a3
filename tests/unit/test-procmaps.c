/* SPDX-License-Identifier: MIT */
/* The maps parser: odd lines one by one, then this process's real maps. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "track/procmaps.h"

struct lcase {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	size_t n, bad;		/* expected counts */
	/* the first entry, when n > 0 */
	u64 start, end, offset, inode;
	u32 prot, shared, major, minor;
	const char *path;	/* NULL: anonymous */
};

#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)
#define BAD(name, text) { (name), (text), .bad = 1 }

static const struct lcase cases[] = {
	{ "file mapping",
	  "55d0c8a00000-55d0c8a02000 r-xp 00002000 fe:01 1234567    /usr/bin/cat\n",
	  0, 1, 0, 0x55d0c8a00000, 0x55d0c8a02000, 0x2000, 1234567, RX, 0,
	  0xfe, 1, "/usr/bin/cat" },
	{ "anonymous without trailing space",
	  "7f0000000000-7f0000001000 rw-p 00000000 00:00 0\n",
	  0, 1, 0, 0x7f0000000000, 0x7f0000001000, 0, 0, RW, 0, 0, 0, NULL },
	{ "anonymous with trailing spaces",
	  "7f0000000000-7f0000001000 ---p 00000000 00:00 0            \n",
	  0, 1, 0, 0x7f0000000000, 0x7f0000001000, 0, 0, 0, 0, 0, 0, NULL },
	{ "shared",
	  "7f0000000000-7f0000001000 rw-s 00000000 00:05 42 /dev/zero (deleted)\n",
	  0, 1, 0, 0x7f0000000000, 0x7f0000001000, 0, 42, RW, 1, 0, 5,
	  "/dev/zero (deleted)" },
	{ "path with spaces and (deleted)",
	  "10000-11000 r--p 00000000 08:02 7   /tmp/a b  c (deleted)\n",
	  0, 1, 0, 0x10000, 0x11000, 0, 7, PROT_READ, 0, 8, 2,
	  "/tmp/a b  c (deleted)" },
	{ "pseudo path", "7ffd0000-7ffd1000 rw-p 00000000 00:00 0  [stack]\n",
	  0, 1, 0, 0x7ffd0000, 0x7ffd1000, 0, 0, RW, 0, 0, 0, "[stack]" },
	{ "vsyscall at the top of the address space",
	  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n",
	  0, 1, 0, 0xffffffffff600000, 0xffffffffff601000, 0, 0, PROT_EXEC, 0,
	  0, 0, "[vsyscall]" },
	{ "no trailing newline keeps the last character",
	  "1000-2000 r--p 00000000 00:00 0 /x/libfoo.so",
	  0, 1, 0, 0x1000, 0x2000, 0, 0, PROT_READ, 0, 0, 0, "/x/libfoo.so" },
	{ "upper-case hex and big inode",
	  "ABC000-ABD000 r--p 0000000A 1F:fF 18446744073709551615 /f\n",
	  0, 1, 0, 0xabc000, 0xabd000, 10, UINT64_MAX, PROT_READ, 0, 0x1f,
	  0xff, "/f" },
	BAD("17 hex digits is too big",
	    "10000000000000000-10000000000001000 r--p 00000000 00:00 0\n"),
	BAD("inode overflow",
	    "1000-2000 r--p 00000000 00:00 18446744073709551616\n"),
	BAD("start after end", "2000-1000 r--p 00000000 00:00 0\n"),
	BAD("empty range", "2000-2000 r--p 00000000 00:00 0\n"),
	BAD("missing inode", "1000-2000 r--p 00000000 00:00\n"),
	BAD("missing dev", "1000-2000 r--p 00000000\n"),
	BAD("only addresses", "1000-2000\n"),
	BAD("bad perms", "1000-2000 rwzp 00000000 00:00 0\n"),
	BAD("short perms", "1000-2000 rw 00000000 00:00 0\n"),
	BAD("no dash", "1000 2000 r--p 00000000 00:00 0\n"),
	BAD("garbage", "hello world\n"),
	BAD("inode glued to path", "1000-2000 r--p 00000000 00:00 0/x\n"),
	{ "NUL inside a line", "1000-2000 r--p 00000000 00:00 0 /a\0b\n",
	  .len = 37, .bad = 1 },
	{ "blank lines are not errors",
	  "\n\n1000-2000 r--p 00000000 00:00 0\n\n", 0, 1, 0, 0x1000, 0x2000,
	  0, 0, PROT_READ, 0, 0, 0, NULL },
	{ "good lines around bad ones",
	  "x\n1000-2000 r--p 00000000 00:00 0\nyy\n3000-4000 rw-p 0 0:0 0\n",
	  0, 2, 2, 0x1000, 0x2000, 0, 0, PROT_READ, 0, 0, 0, NULL },
	{ "empty input", "", .n = 0 },
};

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void test_lines(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct lcase *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct maps_entry *e = NULL;
		size_t n = 99, bad = 99;
		int ret = procmaps_parse(c->text, len, &e, &n, &bad);
		bool ok = ret == 0 && n == c->n && bad == c->bad;

		if (ok && n > 0)
			ok = e[0].start == c->start && e[0].end == c->end &&
			     e[0].offset == c->offset && e[0].inode == c->inode &&
			     e[0].prot == c->prot && e[0].shared == c->shared &&
			     e[0].dev_major == c->major &&
			     e[0].dev_minor == c->minor &&
			     str_eq(e[0].path, c->path);
		T_CHECKF(c->name, ok,
			 "\n  Expected: n=%zu bad=%zu %#" PRIx64 "-%#" PRIx64
			 " prot=%u shared=%u off=%#" PRIx64 " dev=%x:%x ino=%"
			 PRIu64 " path=%s\n  Got:      ret=%d n=%zu bad=%zu %#"
			 PRIx64 "-%#" PRIx64 " prot=%u shared=%u off=%#" PRIx64
			 " dev=%x:%x ino=%" PRIu64 " path=%s",
			 c->n, c->bad, c->start, c->end, c->prot, c->shared,
			 c->offset, c->major, c->minor, c->inode,
			 c->path ? c->path : "(null)", ret, n, bad,
			 n ? e[0].start : 0, n ? e[0].end : 0, n ? e[0].prot : 0,
			 n ? e[0].shared : 0, n ? e[0].offset : 0,
			 n ? e[0].dev_major : 0, n ? e[0].dev_minor : 0,
			 n ? e[0].inode : 0,
			 n && e[0].path ? e[0].path : "(null)");
		procmaps_free(e, n);
	}
}

static void test_bounds(void)
{
	/* A path longer than any the kernel prints is refused, not copied. */
	size_t plen = 20000, hlen = 34;
	char *buf = malloc(hlen + plen + 2);
	struct maps_entry *e = NULL;
	size_t n = 0, bad = 0;
	int ret;

	if (!buf)
		return;
	memcpy(buf, "1000-2000 r--p 00000000 00:00 0 /", hlen);
	memset(buf + hlen, 'a', plen);
	buf[hlen + plen] = '\n';
	ret = procmaps_parse(buf, hlen + plen + 1, &e, &n, &bad);
	T_CHECKF("overlong path is a bad line", ret == 0 && n == 0 && bad == 1,
		 "Got: ret=%d n=%zu bad=%zu", ret, n, bad);
	procmaps_free(e, n);
	free(buf);

	ret = procmaps_parse(NULL, 0, &e, &n, NULL);
	T_CHECK("NULL buffer, NULL bad counter", ret == 0 && n == 0 && !e);
	procmaps_free(NULL, 0);
}

/* Maps of this process: more than the first read buffer, and odd names. */
static void test_self(void)
{
	char dir[] = "/tmp/mapleak test XXXXXX", path[PATH_MAX], want[PATH_MAX + 16];
	enum { NMAP = 3000 };
	struct maps_entry *e = NULL;
	char *big = MAP_FAILED, *fm = MAP_FAILED;
	size_t n = 0, found = 0;
	bool sorted = true, file_ok = false;
	int fd = -1, ret;

	/* Alternating prot keeps the kernel from merging the pieces. */
	big = mmap(NULL, NMAP * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (big == MAP_FAILED) {
		T_SKIP("live maps", "mmap failed");
		return;
	}
	for (size_t i = 0; i < NMAP; i += 2)
		mprotect(big + i * 4096, 4096, PROT_NONE);
	if (mkdtemp(dir)) {
		snprintf(path, sizeof(path), "%s/a file (with) spaces", dir);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	}
	if (fd >= 0 && ftruncate(fd, 4096) == 0)
		fm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0) {
		unlink(path);
		close(fd);
	}
	rmdir(dir);
	snprintf(want, sizeof(want), "%s (deleted)", path);

	ret = procmaps_read(getpid(), &e, &n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (i && e[i].start < e[i - 1].end)
			sorted = false;
		if (e[i].start >= (u64)(uintptr_t)big &&
		    e[i].end <= (u64)(uintptr_t)big + NMAP * 4096)
			found += (e[i].end - e[i].start) / 4096;
		if (fm != MAP_FAILED && e[i].start == (u64)(uintptr_t)fm)
			file_ok = e[i].path && !strcmp(e[i].path, want) &&
				  e[i].shared && e[i].prot == PROT_READ;
	}
	T_CHECKF("read /proc/self/maps larger than the first buffer",
		 ret == 0 && n > NMAP, "ret=%d n=%zu", ret, n);
	T_CHECK("entries are sorted and do not overlap", sorted);
	T_CHECKF("every page of the alternating mapping is found",
		 found == NMAP, "Expected: %d pages Got: %zu", NMAP, found);
	if (fm != MAP_FAILED)
		T_CHECKF("deleted file with spaces keeps its whole path", file_ok,
			 "Expected: '%s'", want);
	else
		T_SKIP("deleted file with spaces keeps its whole path",
		       "could not map a temporary file");
	procmaps_free(e, n);
	munmap(big, NMAP * 4096);
	if (fm != MAP_FAILED)
		munmap(fm, 4096);
}

static void test_gone(void)
{
	struct maps_entry *e = (struct maps_entry *)1;
	size_t n = 7;
	int ret;

	/* pid_max is at most 2^22: this pid cannot exist. */
	ret = procmaps_read(0x7ffffff0, &e, &n);
	T_CHECKF("a process that does not exist", (ret == -ENOENT ||
		 ret == -ESRCH) && e == NULL && n == 0, "Got: ret=%d", ret);
}

int main(void)
{
	test_lines();
	test_bounds();
	test_self();
	test_gone();
	T_END();
}
