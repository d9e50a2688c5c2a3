/* SPDX-License-Identifier: MIT */
/*
 * jitdump reader: synthetic files built here (valid, cut at every byte,
 * byte-swapped, unknown and zero-size records, a record larger than the
 * file, block stubs without code bytes, CODE_MOVE), lookups by address
 * and by time, and incremental reading of a growing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/jitdump.h"

/* ---- a jitdump writer for the tests ---- */

struct buf {
	unsigned char b[1 << 16];
	size_t n;
	bool swap;		/* write in the other byte order */
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->b)) {
		printf("not ok - test buffer overflow\n");
		exit(1);
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put32(struct buf *b, u32 v)
{
	if (b->swap)
		v = __builtin_bswap32(v);
	put(b, &v, 4);
}

static void put64(struct buf *b, u64 v)
{
	if (b->swap)
		v = __builtin_bswap64(v);
	put(b, &v, 8);
}

static void header(struct buf *b, u32 version, u32 size, u64 flags)
{
	put32(b, JITDUMP_MAGIC);
	put32(b, version);
	put32(b, size);
	put32(b, 62);		/* EM_X86_64 */
	put32(b, 0);
	put32(b, 4242);		/* pid */
	put64(b, 1000);		/* timestamp */
	put64(b, flags);
	for (u32 i = 40; i < size; i++)
		put(b, "", 1);
}

/* CODE_LOAD; ncode code bytes follow the name (fewer than code_size for
 * .NET's block stubs); total_size 0 means "as written". */
static void load(struct buf *b, u64 time, u64 addr, u64 size, u64 index,
		 const char *name, u32 ncode, u32 total)
{
	u32 nlen = (u32)strlen(name) + 1;

	put32(b, JITDUMP_CODE_LOAD);
	put32(b, total ? total : 56 + nlen + ncode);
	put64(b, time);
	put32(b, 4242);
	put32(b, 4243);
	put64(b, addr);		/* vma */
	put64(b, addr);
	put64(b, size);
	put64(b, index);
	put(b, name, nlen);
	for (u32 i = 0; i < ncode; i++)
		put(b, "\xcc", 1);
}

static void move(struct buf *b, u64 time, u64 from, u64 to, u64 size, u64 index)
{
	put32(b, JITDUMP_CODE_MOVE);
	put32(b, 64);
	put64(b, time);
	put32(b, 4242);
	put32(b, 4243);
	put64(b, to);
	put64(b, from);
	put64(b, to);
	put64(b, size);
	put64(b, index);
}

/* A record of another type with len payload bytes. */
static void other(struct buf *b, u32 id, u32 len)
{
	put32(b, id);
	put32(b, 16 + len);
	put64(b, 5);
	for (u32 i = 0; i < len; i++)
		put(b, "\x01", 1);
}

static struct jitdump *fresh(void)
{
	struct jitdump *jd;

	if (jitdump_new(&jd) < 0) {
		printf("not ok - jitdump_new\n");
		exit(1);
	}
	return jd;
}

static struct jitdump *parse(const struct buf *b, size_t len)
{
	struct jitdump *jd = fresh();

	if (jitdump_feed(jd, b->b, len) < 0) {
		printf("not ok - jitdump_feed: out of memory\n");
		exit(1);
	}
	return jd;
}

static const char *name_at(struct jitdump *jd, u64 addr)
{
	const struct jitdump_entry *e = jitdump_lookup(jd, addr);

	return e ? e->name : "(none)";
}

static const char *name_when(struct jitdump *jd, u64 addr, u64 t)
{
	const struct jitdump_entry *e = jitdump_lookup_at(jd, addr, t);

	return e ? e->name : "(none)";
}

#define T_STR(title, got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	T_CHECKF(title, strcmp(g_, w_) == 0, "Expected: '%s' Got: '%s'", w_, g_); \
} while (0)

#define MAIN_NAME "void [App] App.Program::Main(string[])[QuickJitted]"
#define WORK_NAME "int32 [App] App.Program::Work(int32)[OptimizedTier1]"

/* The file most tests use: two methods, an unknown record between. */
static void sample(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	header(b, 1, 40, 0);
	load(b, 2000, 0x7f0000001000, 0x80, 1, MAIN_NAME, 0x80, 0);
	other(b, JITDUMP_CODE_DEBUG_INFO, 24);
	load(b, 3000, 0x7f0000002000, 0x40, 2, WORK_NAME, 0x40, 0);
}

static void test_valid(void)
{
	struct buf b;
	struct jitdump *jd;
	const struct jitdump_entry *e;

	sample(&b);
	jd = parse(&b, b.n);
	T_CHECK("valid: header accepted", jitdump_state(jd) == JITDUMP_READING);
	T_CHECK("valid: timestamps are CLOCK_MONOTONIC", jitdump_timed(jd));
	T_CHECK("valid: header pid", jitdump_pid(jd) == 4242);
	T_CHECKF("valid: two entries", jitdump_count(jd) == 2, "Got: %zu",
		 jitdump_count(jd));
	T_CHECK("valid: debug info skipped as unknown",
		jitdump_stats(jd)->unknown == 1 && jitdump_stats(jd)->bad == 0);
	T_CHECK("valid: every byte consumed", jitdump_offset(jd) == b.n);
	e = jitdump_lookup(jd, 0x7f0000001000);
	T_CHECK("valid: entry fields", e && e->size == 0x80 && e->time == 2000 &&
		e->code_index == 1 && e->serial >= 1);
	T_STR("valid: first byte of Main", name_at(jd, 0x7f0000001000), MAIN_NAME);
	T_STR("valid: last byte of Main", name_at(jd, 0x7f000000107f), MAIN_NAME);
	T_STR("valid: past Main", name_at(jd, 0x7f0000001080), "(none)");
	T_STR("valid: inside Work", name_at(jd, 0x7f0000002010), WORK_NAME);
	T_STR("valid: below everything", name_at(jd, 0x1000), "(none)");
	jitdump_free(jd);
}

/* A file cut anywhere keeps the entries whose name was complete, and
 * feeding the rest later gives the same result as the whole file. */
static void test_truncated_everywhere(void)
{
	struct buf b;
	size_t main_end, work_end, bad = 0, resumed_bad = 0, onebyte_bad = 0;

	sample(&b);
	/* where each name's NUL ends */
	main_end = 40 + 56 + strlen(MAIN_NAME) + 1;
	work_end = b.n - 0x40;
	for (size_t cut = 0; cut <= b.n; cut++) {
		struct jitdump *jd = parse(&b, cut);
		size_t want = (cut >= main_end) + (cut >= work_end);

		if (jitdump_count(jd) != want) {
			if (!bad)
				printf("# cut at %zu: %zu entries, expected %zu\n",
				       cut, jitdump_count(jd), want);
			bad++;
		}
		if (jitdump_feed(jd, b.b + cut, b.n - cut) < 0 ||
		    jitdump_count(jd) != 2 ||
		    strcmp(name_at(jd, 0x7f0000002000), WORK_NAME) != 0)
			resumed_bad++;
		jitdump_free(jd);
	}
	T_CHECKF("truncated: at every byte, the entries whose name is whole",
		 bad == 0, "%zu cuts wrong", bad);
	T_CHECKF("truncated: resuming at every byte gives the whole file",
		 resumed_bad == 0, "%zu cuts wrong", resumed_bad);
	{
		struct jitdump *jd = fresh();

		for (size_t i = 0; i < b.n; i++)
			if (jitdump_feed(jd, b.b + i, 1) < 0)
				onebyte_bad++;
		T_CHECK("truncated: one byte at a time", onebyte_bad == 0 &&
			jitdump_count(jd) == 2 &&
			strcmp(name_at(jd, 0x7f0000001010), MAIN_NAME) == 0);
		jitdump_free(jd);
	}
}

static void test_byte_swapped(void)
{
	struct buf b = { .swap = true };
	struct jitdump *jd;
	const struct jitdump_entry *e;

	header(&b, 1, 40, 0);
	load(&b, 2000, 0x7f0000001000, 0x80, 7, MAIN_NAME, 4, 0);
	jd = parse(&b, b.n);
	T_CHECK("byte-swapped: magic 0x4454694A accepted",
		jitdump_state(jd) == JITDUMP_READING && jitdump_pid(jd) == 4242);
	e = jitdump_lookup(jd, 0x7f0000001040);
	T_CHECK("byte-swapped: fields swapped back", e && e->start == 0x7f0000001000 &&
		e->size == 0x80 && e->code_index == 7 && e->time == 2000 &&
		strcmp(e->name, MAIN_NAME) == 0);
	jitdump_free(jd);
}

static void test_bad_headers(void)
{
	struct buf b = { 0 };
	struct jitdump *jd;

	put(&b, "perf-4242.map is not a jitdump\n....................", 50);
	jd = parse(&b, b.n);
	T_CHECK("bad header: wrong magic", jitdump_state(jd) == JITDUMP_BAD_HEADER &&
		jitdump_count(jd) == 0);
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 0, 40, 0);
	load(&b, 2000, 0x1000, 0x10, 1, "x", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("bad header: version 0", jitdump_state(jd) == JITDUMP_BAD_HEADER &&
		jitdump_count(jd) == 0);
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	b.b[8] = 16;		/* header size 16 < 40 */
	jd = parse(&b, b.n);
	T_CHECK("bad header: size below 40", jitdump_state(jd) == JITDUMP_BAD_HEADER);
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	jd = parse(&b, 39);
	T_CHECK("header: 39 bytes wait for more", jitdump_state(jd) == JITDUMP_HEADER);
	jitdump_free(jd);

	/* a later version with a longer header */
	memset(&b, 0, sizeof(b));
	header(&b, 2, 64, 0);
	load(&b, 2000, 0x1000, 0x10, 1, "later", 0, 0);
	jd = parse(&b, b.n);
	T_STR("header: a longer header is skipped", name_at(jd, 0x1008), "later");
	jitdump_free(jd);
}

static void test_unknown_and_zero(void)
{
	struct buf b = { 0 };
	struct jitdump *jd;

	header(&b, 1, 40, 0);
	other(&b, JITDUMP_CODE_CLOSE, 0);
	other(&b, JITDUMP_CODE_UNWINDING_INFO, 40);
	other(&b, 99, 7);	/* odd sizes too */
	load(&b, 2000, 0x1000, 0x10, 1, "after unknown", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("unknown: three records skipped by size",
		jitdump_stats(jd)->unknown == 3);
	T_STR("unknown: the load after them", name_at(jd, 0x1000), "after unknown");
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	load(&b, 2000, 0x1000, 0x10, 1, "before zero", 0, 0);
	put32(&b, JITDUMP_CODE_LOAD);
	put32(&b, 0);		/* total_size 0 */
	put64(&b, 3000);
	load(&b, 4000, 0x2000, 0x10, 2, "after zero", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("zero size: reading ends", jitdump_state(jd) == JITDUMP_ENDED);
	T_STR("zero size: the entry before it is kept", name_at(jd, 0x1000),
	      "before zero");
	T_STR("zero size: nothing after it is read", name_at(jd, 0x2000), "(none)");
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	put32(&b, 5);
	put32(&b, 8);		/* smaller than the prefix */
	put64(&b, 3000);
	jd = parse(&b, b.n);
	T_CHECK("size < 16: reading ends", jitdump_state(jd) == JITDUMP_ENDED);
	jitdump_free(jd);

	/* a CODE_LOAD too short for its fixed part: skipped, framing kept */
	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	put32(&b, JITDUMP_CODE_LOAD);
	put32(&b, 24);
	put64(&b, 3000);
	put64(&b, 0x1000);
	load(&b, 4000, 0x2000, 0x10, 2, "after short", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("short load: skipped as bad", jitdump_stats(jd)->bad == 1);
	T_STR("short load: the next one is read", name_at(jd, 0x2000), "after short");
	jitdump_free(jd);

	/* a name without NUL up to the record's end: not an entry */
	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	load(&b, 2000, 0x1000, 0x10, 1, "abc", 0, 56 + 3);
	b.n--;			/* drop the NUL: total_size ends at 'c' */
	load(&b, 4000, 0x2000, 0x10, 2, "next", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("no NUL: not an entry", jitdump_stats(jd)->bad == 1 &&
		jitdump_lookup(jd, 0x1000) == NULL);
	T_STR("no NUL: the next one is read", name_at(jd, 0x2000), "next");
	jitdump_free(jd);
}

/* .NET 10's block stubs: code_size covers the block, no code bytes follow;
 * and a record that claims more than the file holds. */
static void test_stubs_and_oversize(void)
{
	struct buf b = { 0 };
	struct jitdump *jd;
	char longname[JITDUMP_NAME_MAX + 100];
	const struct jitdump_entry *e;

	header(&b, 1, 40, 0);
	load(&b, 2000, 0x10000, 0x4000, 1, "stub ReportStubBlock<FixupPrecode>", 0, 0);
	load(&b, 2100, 0x20000, 0x30, 2, WORK_NAME, 0x30, 0);
	jd = parse(&b, b.n);
	T_STR("block stub: its whole range", name_at(jd, 0x13fff),
	      "stub ReportStubBlock<FixupPrecode>");
	T_STR("block stub: the record after it", name_at(jd, 0x20000), WORK_NAME);
	jitdump_free(jd);

	/* total_size says 1 MiB of code; the file ends after 8 of them */
	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	load(&b, 2000, 0x1000, 0x100000, 1, "big", 8, 56 + 4 + 0x100000);
	jd = parse(&b, b.n);
	T_STR("oversize: named although its code bytes are missing",
	      name_at(jd, 0x1000), "big");
	T_CHECK("oversize: still reading (the writer may go on)",
		jitdump_state(jd) == JITDUMP_READING);
	jitdump_free(jd);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	load(&b, 2000, 0x1000, 0x10, 1, longname, 0, 0);
	load(&b, 2000, 0x2000, 0x10, 2, "after long", 0, 0);
	jd = parse(&b, b.n);
	e = jitdump_lookup(jd, 0x1000);
	T_CHECK("long name: cut to JITDUMP_NAME_MAX",
		e && strlen(e->name) == JITDUMP_NAME_MAX);
	T_STR("long name: the next record is read", name_at(jd, 0x2000), "after long");
	jitdump_free(jd);

	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 0);
	load(&b, 2000, 0x1000, 0, 1, "empty", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("code_size 0: no entry", jitdump_count(jd) == 0 &&
		jitdump_stats(jd)->bad == 1);
	jitdump_free(jd);
}

/* One address, two methods at different times (tiering, unloading). */
static void test_time_lookup(void)
{
	struct buf b = { 0 };
	struct jitdump *jd;

	header(&b, 1, 40, 0);
	load(&b, 100, 0x5000, 0x100, 1, "first", 0, 0);
	load(&b, 150, 0x9000, 0x100, 2, "elsewhere", 0, 0);
	load(&b, 200, 0x5080, 0x40, 3, "second", 0, 0);
	jd = parse(&b, b.n);
	T_STR("time: before any load, the earliest after", name_when(jd, 0x5090, 50),
	      "first");
	T_STR("time: between the loads, the first", name_when(jd, 0x5090, 199),
	      "first");
	T_STR("time: at the second load", name_when(jd, 0x5090, 200), "second");
	T_STR("time: after the second load", name_when(jd, 0x5090, 10000), "second");
	T_STR("time: a part only the first covers", name_when(jd, 0x5010, 10000),
	      "first");
	T_STR("time: plain lookup, the latest", name_at(jd, 0x5090), "second");
	T_STR("time: UINT64_MAX is the plain lookup", name_when(jd, 0x5090, UINT64_MAX),
	      "second");
	T_STR("time: nothing there", name_when(jd, 0x8000, 150), "(none)");
	jitdump_free(jd);

	/* arch timestamps (flags bit 0) cannot be compared with event times */
	memset(&b, 0, sizeof(b));
	header(&b, 1, 40, 1);
	load(&b, 100, 0x5000, 0x100, 1, "first", 0, 0);
	load(&b, 200, 0x5000, 0x100, 2, "second", 0, 0);
	jd = parse(&b, b.n);
	T_CHECK("arch timestamps: not timed", !jitdump_timed(jd));
	T_STR("arch timestamps: by time is the latest", name_when(jd, 0x5000, 150),
	      "second");
	jitdump_free(jd);
}

static void test_move(void)
{
	struct buf b = { 0 };
	struct jitdump *jd;

	header(&b, 1, 40, 0);
	load(&b, 100, 0x5000, 0x100, 9, "moving", 0, 0);
	move(&b, 300, 0x5000, 0x8000, 0x100, 9);
	move(&b, 400, 0xdead000, 0x9000, 0x100, 77);	/* never loaded */
	jd = parse(&b, b.n);
	T_CHECK("move: one move made, one unknown", jitdump_stats(jd)->moves == 1 &&
		jitdump_stats(jd)->bad == 1);
	T_STR("move: the new place", name_at(jd, 0x8010), "moving");
	T_STR("move: new place, after the move", name_when(jd, 0x8010, 350), "moving");
	T_STR("move: old place, before the move", name_when(jd, 0x5010, 200), "moving");
	T_STR("move: nothing at the unknown move's target", name_at(jd, 0x9000),
	      "(none)");
	jitdump_free(jd);
}

/* A growing file read through a descriptor; then truncated and rewritten. */
static void test_read_fd(void)
{
	char path[] = "/tmp/mapleak-test-jitdump.XXXXXX";
	struct jitdump *jd = fresh();
	struct buf b;
	size_t half;
	int fd = mkstemp(path);

	if (fd < 0) {
		T_SKIP("read_fd", "cannot create a file in /tmp");
		jitdump_free(jd);
		return;
	}
	unlink(path);
	sample(&b);
	half = 40 + 56 + strlen(MAIN_NAME) + 10;
	T_CHECK("read_fd: first part written", write(fd, b.b, half) == (ssize_t)half);
	T_CHECK("read_fd: first read", jitdump_read_fd(jd, fd, 0) == 0 &&
		jitdump_count(jd) == 1 && jitdump_offset(jd) == half);
	T_CHECK("read_fd: nothing new, nothing read", jitdump_read_fd(jd, fd, 0) == 0 &&
		jitdump_offset(jd) == half);
	T_CHECK("read_fd: the rest written",
		write(fd, b.b + half, b.n - half) == (ssize_t)(b.n - half));
	T_CHECK("read_fd: bounded read", jitdump_read_fd(jd, fd, 16) == 0 &&
		jitdump_offset(jd) == half + 16);
	T_CHECK("read_fd: the rest read", jitdump_read_fd(jd, fd, 0) == 0 &&
		jitdump_count(jd) == 2 && jitdump_offset(jd) == b.n);
	{
		u64 old_serial = jitdump_lookup(jd, 0x7f0000001000)->serial;
		struct buf c = { 0 };

		header(&c, 1, 40, 0);
		load(&c, 9000, 0x7f0000001000, 0x10, 1, "rewritten", 0, 0);
		T_CHECK("read_fd: truncated and rewritten",
			ftruncate(fd, 0) == 0 &&
			pwrite(fd, c.b, c.n, 0) == (ssize_t)c.n);
		T_CHECK("read_fd: reset on truncation", jitdump_read_fd(jd, fd, 0) == 0 &&
			jitdump_count(jd) == 1 && jitdump_offset(jd) == c.n);
		T_STR("read_fd: the new content", name_at(jd, 0x7f0000001000), "rewritten");
		T_CHECK("read_fd: serials never reused",
			jitdump_lookup(jd, 0x7f0000001000)->serial > old_serial);
	}
	close(fd);
	jitdump_free(jd);
}

/* Many entries fed in batches between lookups: the merged index finds
 * the same as a linear scan. */
static void test_index_merge(void)
{
	struct buf b = { 0 };
	struct jitdump *jd = fresh();
	size_t wrong = 0;
	u64 seed = 12345;

	header(&b, 1, 40, 0);
	jitdump_feed(jd, b.b, b.n);
	for (int batch = 0; batch < 20; batch++) {
		memset(&b, 0, sizeof(b));
		for (int i = 0; i < 50; i++) {
			char nm[32];

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			snprintf(nm, sizeof(nm), "m%d_%d", batch, i);
			load(&b, (u64)batch * 100 + (u64)i, 0x100000 + (seed >> 40) % 0x8000,
			     1 + (seed >> 20) % 0x300, 1, nm, 0, 0);
		}
		jitdump_feed(jd, b.b, b.n);
		for (u64 a = 0x100000; a < 0x108400; a += 0x1f) {
			const struct jitdump_entry *want = NULL, *got;

			for (size_t k = 0; k < jitdump_count(jd); k++) {
				const struct jitdump_entry *e = jitdump_entry_at(jd, k);

				if (a >= e->start && a - e->start < e->size)
					want = e;
			}
			got = jitdump_lookup(jd, a);
			wrong += got != want;
		}
	}
	T_CHECKF("index: lookups after every batch agree with a linear scan",
		 wrong == 0, "%zu wrong", wrong);
	jitdump_free(jd);
}

/* ---- bounds on hostile files (issue 7: security) ---- */

/* Records are built in b and fed whenever it is nearly full. */
static void flush_if(struct jitdump *jd, struct buf *b, size_t room)
{
	if (b->n + room <= sizeof(b->b))
		return;
	if (jitdump_feed(jd, b->b, b->n) < 0) {
		printf("not ok - jitdump_feed: out of memory\n");
		exit(1);
	}
	b->n = 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* floor(log2(n)) + 1 */
static u64 bits(u64 n)
{
	u64 b = 0;

	while (n) {
		b++;
		n >>= 1;
	}
	return b;
}

/* What util/ivindex promises per lookup: at most bits(n) + 1 levels, each
 * a binary search over at most 2n boundaries and JITDUMP_DEPTH entries. */
static u64 probe_bound(u64 n)
{
	return (bits(n) + 1) * (bits(2 * n) + 1 + JITDUMP_DEPTH);
}

/* 300k loads then 300k moves: each move used to scan every entry (12
 * minutes); now well under a second, names right at both places. */
static void test_many_moves(void)
{
	enum { N = 300000 };
	struct jitdump *jd = fresh();
	struct buf *b = calloc(1, sizeof(*b));
	double t0 = cpu_seconds(), dt;
	size_t wrong = 0;
	char nm[32];

	header(b, 1, 40, 0);
	for (u64 i = 0; i < N; i++) {
		flush_if(jd, b, 128);
		snprintf(nm, sizeof(nm), "m%llu", (unsigned long long)i);
		load(b, 1000 + i, 0x10000000 + i * 0x100, 0x80, i, nm, 0, 0);
	}
	for (u64 i = 0; i < N; i++) {
		flush_if(jd, b, 128);
		move(b, 1000 + N + i, 0x10000000 + i * 0x100,
		     0x80000000 + i * 0x100, 0x80, i);
	}
	flush_if(jd, b, sizeof(b->b));
	jitdump_lookup(jd, 0);	/* the index is built here */
	dt = cpu_seconds() - t0;
	T_CHECKF("bounds: 300k loads + 300k moves in seconds, not minutes",
		 dt < 2.0, "took %.2f s of CPU (was 12 minutes)", dt);
	printf("# 300k loads + 300k moves + index: %.3f s of CPU\n", dt);
	T_CHECKF("bounds: every move made", jitdump_stats(jd)->moves == N &&
		 jitdump_count(jd) == 2 * N, "moves %llu, entries %zu",
		 (unsigned long long)jitdump_stats(jd)->moves, jitdump_count(jd));
	for (u64 i = 0; i < N; i += 997) {
		snprintf(nm, sizeof(nm), "m%llu", (unsigned long long)i);
		wrong += strcmp(name_at(jd, 0x80000000 + i * 0x100 + 0x10), nm) != 0;
		wrong += strcmp(name_when(jd, 0x10000000 + i * 0x100, 1000 + i), nm) != 0;
	}
	T_CHECKF("bounds: names at the new and (before the move) old places",
		 wrong == 0, "%zu wrong", wrong);
	free(b);
	jitdump_free(jd);
}

/* One entry spanning the whole address space (and one nest of 10^5
 * entries around one address) used to make every lookup walk every
 * entry. Counted in index probes, not seconds. */
static void test_spanning_entry(void)
{
	enum { N = 100000, LOOKUPS = 1000000 };
	struct jitdump *jd = fresh();
	struct buf *b = calloc(1, sizeof(*b));
	u64 seed = 7, probes, bound = probe_bound(N + 1);
	size_t wrong = 0;
	double t0, dt;
	char nm[32];

	header(b, 1, 40, 0);
	load(b, 10, 0, UINT64_MAX, 0, "everything", 0, 0);
	for (u64 i = 0; i < N; i++) {
		flush_if(jd, b, 128);
		snprintf(nm, sizeof(nm), "m%llu", (unsigned long long)i);
		load(b, 100 + i, 0x40000000 + i * 0x1000, 0x800, i + 1, nm, 0, 0);
	}
	flush_if(jd, b, sizeof(b->b));
	jitdump_lookup(jd, 0);
	probes = jitdump_probes(jd);
	t0 = cpu_seconds();
	for (int k = 0; k < LOOKUPS; k++) {
		u64 i, a;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (seed >> 33) % N;
		a = 0x40000000 + i * 0x1000 + ((seed >> 20) & 0xfff);
		if (k % 2)
			wrong += jitdump_lookup_at(jd, a, 100 + N) !=
				 jitdump_entry_at(jd, a & 0x800 ? 0 : i + 1);
		else
			wrong += jitdump_lookup(jd, a) !=
				 jitdump_entry_at(jd, a & 0x800 ? 0 : i + 1);
	}
	dt = cpu_seconds() - t0;
	probes = jitdump_probes(jd) - probes;
	T_CHECKF("bounds: a spanning entry: lookups right", wrong == 0,
		 "%zu wrong", wrong);
	T_CHECKF("bounds: a spanning entry: lookups stay logarithmic",
		 probes <= (u64)LOOKUPS * bound,
		 "%llu probes per lookup, bound %llu",
		 (unsigned long long)(probes / LOOKUPS), (unsigned long long)bound);
	printf("# 1M lookups with a spanning entry: %.3f s of CPU, %.1f probes each"
	       " (bound %llu)\n", dt, (double)probes / LOOKUPS,
	       (unsigned long long)bound);
	jitdump_free(jd);

	/* N entries nested around 0x7000000000; the latest 8 hold names */
	jd = fresh();
	memset(b, 0, sizeof(*b));
	header(b, 1, 40, 0);
	for (u64 i = 0; i < N; i++) {
		flush_if(jd, b, 128);
		snprintf(nm, sizeof(nm), "n%llu", (unsigned long long)i);
		load(b, 100 + i, 0x7000000000 - (N - i) * 16, (N - i) * 32, i, nm, 0, 0);
	}
	flush_if(jd, b, sizeof(b->b));
	jitdump_lookup(jd, 0);
	probes = jitdump_probes(jd);
	wrong = 0;
	for (int k = 0; k < LOOKUPS / 10; k++) {
		u64 t = 100 + N - 1 - (u64)(k % 4);

		snprintf(nm, sizeof(nm), "n%llu", (unsigned long long)(t - 100));
		wrong += strcmp(name_when(jd, 0x7000000000, t), nm) != 0;
	}
	probes = jitdump_probes(jd) - probes;
	T_CHECKF("bounds: 10^5 nested entries: the latest ones by time", wrong == 0,
		 "%zu wrong", wrong);
	T_CHECKF("bounds: 10^5 nested entries: lookups stay logarithmic",
		 probes <= (u64)(LOOKUPS / 10) * probe_bound(N),
		 "%llu probes per lookup", (unsigned long long)(probes / (LOOKUPS / 10)));
	T_CHECK("bounds: 10^5 nested entries: depth cap reported", jitdump_deep(jd));
	free(b);
	jitdump_free(jd);
}

/* Past a cap the reading stops; the entries before stay, the reason is
 * told (the recorder turns it into a note). */
static void test_caps(void)
{
	struct buf *b = calloc(1, sizeof(*b));
	struct jitdump *jd = fresh();
	static char big[4001];
	const struct jitdump_entry *e;
	u64 i;
	char nm[32];

	header(b, 1, 40, 0);
	for (i = 0; i < JITDUMP_ENTRIES_MAX + 10ull; i++) {
		flush_if(jd, b, 128);
		snprintf(nm, sizeof(nm), "e%llu", (unsigned long long)i);
		load(b, 100 + i, 0x100000000 + i * 0x40, 0x40, i, nm, 0, 0);
	}
	flush_if(jd, b, sizeof(b->b));
	T_CHECKF("caps: entries: stops at JITDUMP_ENTRIES_MAX",
		 jitdump_count(jd) == JITDUMP_ENTRIES_MAX &&
		 jitdump_capped(jd) == JITDUMP_CAP_ENTRIES,
		 "count %zu capped %u", jitdump_count(jd), jitdump_capped(jd));
	T_STR("caps: entries: the first entry kept", name_at(jd, 0x100000010), "e0");
	snprintf(nm, sizeof(nm), "e%u", JITDUMP_ENTRIES_MAX - 1);
	T_STR("caps: entries: the last one under the cap kept",
	      name_at(jd, 0x100000000 + (JITDUMP_ENTRIES_MAX - 1ull) * 0x40), nm);
	T_STR("caps: entries: none past it",
	      name_at(jd, 0x100000000 + (JITDUMP_ENTRIES_MAX + 1ull) * 0x40), "(none)");
	jitdump_free(jd);

	/* names: 4000-byte names until 64 MiB */
	jd = fresh();
	memset(big, 'x', sizeof(big) - 1);
	b->n = 0;
	header(b, 1, 40, 0);
	for (i = 0; i < JITDUMP_NAMES_MAX / 4000 + 100; i++) {
		flush_if(jd, b, 4100);
		big[0] = (char)('a' + i % 26);
		load(b, 100 + i, 0x100000000 + i * 0x40, 0x40, i, big, 0, 0);
	}
	flush_if(jd, b, sizeof(b->b));
	T_CHECKF("caps: names: stops at JITDUMP_NAMES_MAX bytes",
		 jitdump_count(jd) == JITDUMP_NAMES_MAX / 4001 &&
		 jitdump_capped(jd) == JITDUMP_CAP_NAMES,
		 "count %zu capped %u", jitdump_count(jd), jitdump_capped(jd));
	e = jitdump_lookup(jd, 0x100000000);
	T_CHECK("caps: names: the first kept whole",
		e && strlen(e->name) == 4000 && e->name[0] == 'a');
	jitdump_free(jd);

	/* records: 2^24 empty records of an unknown type */
	jd = fresh();
	b->n = 0;
	header(b, 1, 40, 0);
	load(b, 100, 0x1000, 0x40, 1, "before", 0, 0);
	jitdump_feed(jd, b->b, b->n);
	b->n = 0;
	while (b->n + 16 <= sizeof(b->b))
		other(b, 77, 0);
	for (i = 0; i <= JITDUMP_RECORDS_MAX / (sizeof(b->b) / 16); i++)
		jitdump_feed(jd, b->b, b->n);
	T_CHECKF("caps: records: stops at JITDUMP_RECORDS_MAX",
		 jitdump_stats(jd)->records == JITDUMP_RECORDS_MAX &&
		 jitdump_capped(jd) == JITDUMP_CAP_RECORDS,
		 "records %llu capped %u",
		 (unsigned long long)jitdump_stats(jd)->records, jitdump_capped(jd));
	T_STR("caps: records: the entry before kept", name_at(jd, 0x1010), "before");
	jitdump_free(jd);
	free(b);
}

/* A signal's flag stops jitdump_read_fd() between chunks. */
static void test_cancel(void)
{
	char path[] = "/tmp/mapleak-test-jitdump.XXXXXX";
	static volatile sig_atomic_t flag;
	struct jitdump *jd = fresh();
	struct buf b;
	int fd = mkstemp(path);

	sample(&b);
	if (fd < 0 || write(fd, b.b, b.n) != (ssize_t)b.n) {
		T_CHECK("cancel: temporary file", 0);
		return;
	}
	jitdump_set_cancel(jd, &flag);
	flag = 1;
	T_CHECK("cancel: flag set: -EINTR, nothing read",
		jitdump_read_fd(jd, fd, 0) == -EINTR && jitdump_count(jd) == 0);
	flag = 0;
	T_CHECK("cancel: flag clear: read", jitdump_read_fd(jd, fd, 0) == 0 &&
		jitdump_count(jd) == 2);
	close(fd);
	unlink(path);
	jitdump_free(jd);
}

int main(void)
{
	test_valid();
	test_truncated_everywhere();
	test_byte_swapped();
	test_bad_headers();
	test_unknown_and_zero();
	test_stubs_and_oversize();
	test_time_lookup();
	test_move();
	test_read_fd();
	test_index_merge();
	test_many_moves();
	test_spanning_entry();
	test_caps();
	test_cancel();
	T_END();
}
