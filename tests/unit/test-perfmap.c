/* SPDX-License-Identifier: MIT */
/* perf-PID.map parser: line forms, bad lines, partial lines, lookups. */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "symbols/perfmap.h"

static struct perfmap *fresh(void)
{
	struct perfmap *pm;

	if (perfmap_new(&pm) < 0) {
		printf("not ok - perfmap_new\n");
		exit(1);
	}
	return pm;
}

static int feed_str(struct perfmap *pm, const char *s)
{
	return perfmap_feed(pm, s, strlen(s));
}

/* Name of the entry holding addr, or "(none)". */
static const char *at(struct perfmap *pm, u64 addr)
{
	const struct perfmap_entry *e = perfmap_lookup(pm, addr);

	return e ? e->name : "(none)";
}

#define T_NAME(title, pm, addr, want) do {				\
	const char *got_ = at((pm), (addr));				\
	T_CHECKF(title, strcmp(got_, (want)) == 0,			\
		 "at 0x%llx: Expected: '%s' Got: '%s'",			\
		 (unsigned long long)(addr), (want), got_);		\
} while (0)

static void test_dotnet_lines(void)
{
	struct perfmap *pm = fresh();
	const struct perfmap_entry *e;

	feed_str(pm, "00007F1484588090 53 void [System.Private.CoreLib] "
		 "System.Runtime.CompilerServices.CastHelpers::StelemRef("
		 "class System.Array,int32,object)[OptimizedTier1]\n"
		 "00007F14845880F0 1a0 void [MyConsoleApp] "
		 "MyConsoleApp.Program::Main(string[])[QuickJitted]\n");
	T_CHECK("dotnet: two entries", perfmap_count(pm) == 2);
	T_CHECK("dotnet: no bad line", perfmap_bad(pm) == 0);
	e = perfmap_lookup(pm, 0x7F1484588090ULL);
	T_CHECK("dotnet: lookup at start", e && e->start == 0x7F1484588090ULL &&
		e->size == 0x53);
	T_CHECK("dotnet: name with spaces kept whole",
		e && strcmp(e->name, "void [System.Private.CoreLib] "
			    "System.Runtime.CompilerServices.CastHelpers::"
			    "StelemRef(class System.Array,int32,object)"
			    "[OptimizedTier1]") == 0);
	T_NAME("dotnet: inside second", pm, 0x7F14845880F0ULL + 0x10,
	       "void [MyConsoleApp] MyConsoleApp.Program::Main(string[])"
	       "[QuickJitted]");
	perfmap_free(pm);
}

static void test_prefixes_and_case(void)
{
	struct perfmap *pm = fresh();

	feed_str(pm, "0x1000 0x10 lower\n"
		 "0X2000 0X10 upper\n"
		 "3000 0x10 mixed1\n"
		 "0x4000 10 mixed2\n"
		 "aBcD0 1F hexcase\n");
	T_CHECK("0x: five entries", perfmap_count(pm) == 5);
	T_NAME("0x: both prefixed", pm, 0x1008, "lower");
	T_NAME("0x: upper X", pm, 0x200f, "upper");
	T_NAME("0x: size only", pm, 0x3000, "mixed1");
	T_NAME("0x: start only", pm, 0x4000, "mixed2");
	T_NAME("0x: mixed-case digits", pm, 0xabcd0 + 0x1e, "hexcase");
	perfmap_free(pm);
}

static void test_bad_lines(void)
{
	struct perfmap *pm = fresh();
	char huge[64];

	feed_str(pm, "\n"			/* empty */
		 "junk\n"
		 "1000\n"			/* one field */
		 "1000 10\n"			/* no space before the name */
		 "1000  10 two spaces\n"	/* the regex wants one */
		 "0x 10 no digits\n"
		 "0x0x10 10 double prefix\n"
		 "-1000 10 negative\n"
		 "1000 zz not hex\n"
		 " 1000 10 leading blank\n"
		 "1000\t10 tab\n"
		 "11111111111111111 10 17 digits overflow\n"
		 "5000 10 good\n");
	T_CHECKF("bad: twelve counted", perfmap_bad(pm) == 12,
		 "Expected: 12 Got: %zu", perfmap_bad(pm));
	T_CHECK("bad: the good line survives", perfmap_count(pm) == 1);
	T_NAME("bad: good line found", pm, 0x5001, "good");

	/* 16 significant digits fit, leading zeros do not count. */
	feed_str(pm, "0000ffffffffffff0000 10 leading zeros\n");
	T_NAME("huge: leading zeros accepted", pm, 0xffffffffffff0005ULL,
	       "leading zeros");
	/* start + size past 2^64: kept, clamped at the top. */
	snprintf(huge, sizeof(huge), "fffffffffffffff0 ffffffffffffffff top\n");
	feed_str(pm, huge);
	T_NAME("huge: clamped range", pm, 0xfffffffffffffffeULL, "top");
	feed_str(pm, "6000 0 zero size\n");
	T_NAME("zero size: skipped", pm, 0x6000, "(none)");
	T_CHECK("zero size: not an entry", perfmap_count(pm) == 3);
	perfmap_free(pm);
}

static void test_names(void)
{
	struct perfmap *pm = fresh();
	static const char nul_line[] = "1000 10 before\0after\n";
	char *longline;
	size_t ll = 10000;
	const struct perfmap_entry *e;

	perfmap_feed(pm, nul_line, sizeof(nul_line) - 1);
	T_NAME("NUL: name cut at NUL", pm, 0x1000, "before");

	feed_str(pm, "2000 10 \n");
	e = perfmap_lookup(pm, 0x2000);
	T_CHECK("empty name: an entry with \"\"", e && e->name[0] == '\0');

	feed_str(pm, "3000 10 crlf\r\n");
	T_NAME("CR: kept (only \\n is stripped)", pm, 0x3000, "crlf\r");

	longline = malloc(ll + 1);
	memcpy(longline, "4000 10 ", 8);
	memset(longline + 8, 'x', ll - 9);
	longline[ll - 1] = '\n';
	perfmap_feed(pm, longline, ll);
	e = perfmap_lookup(pm, 0x4000);
	T_CHECKF("long name: truncated to 4 KiB", e && strlen(e->name) == 4096,
		 "Got: %zu", e ? strlen(e->name) : 0);

	/* The same over a partial line: same result. */
	perfmap_feed(pm, "5000 10 ", 8);
	perfmap_feed(pm, longline + 8, ll - 8);
	e = perfmap_lookup(pm, 0x5000);
	T_CHECK("long name across feeds: same truncation",
		e && strlen(e->name) == 4096);
	free(longline);
	perfmap_free(pm);
}

static void test_partial(void)
{
	struct perfmap *pm = fresh();

	feed_str(pm, "1000 10 first\n20");
	T_CHECK("partial: only complete lines parsed", perfmap_count(pm) == 1);
	feed_str(pm, "00 10 sec");
	T_CHECK("partial: still pending", perfmap_count(pm) == 1);
	feed_str(pm, "ond\n3000 10 last-without-newline");
	T_NAME("partial: line joined across feeds", pm, 0x2004, "second");
	T_NAME("partial: tail not parsed before finish", pm, 0x3000, "(none)");
	T_CHECK("finish: ok", perfmap_finish(pm) == 0);
	/* perf's reader would chop the last char here ("last-without-newlin"). */
	T_NAME("finish: last char kept", pm, 0x3000, "last-without-newline");
	T_CHECK("finish: twice is harmless",
		perfmap_finish(pm) == 0 && perfmap_count(pm) == 3);

	/* Byte-at-a-time feeding gives the same entries. */
	perfmap_reset(pm);
	T_CHECK("reset: empty", perfmap_count(pm) == 0 &&
		perfmap_lookup(pm, 0x1000) == NULL);
	{
		const char *s = "0x7000 0x20 a b c\njunk\n8000 8 z\n";

		for (const char *p = s; *p; p++)
			perfmap_feed(pm, p, 1);
	}
	T_CHECK("bytewise: entries", perfmap_count(pm) == 2);
	T_CHECK("bytewise: bad", perfmap_bad(pm) == 1);
	T_NAME("bytewise: name", pm, 0x701f, "a b c");
	perfmap_free(pm);
}

static void test_lookup(void)
{
	struct perfmap *pm = fresh();
	const struct perfmap_entry *e;

	feed_str(pm, "1000 100 A\n");
	T_NAME("lookup: at start", pm, 0x1000, "A");
	T_NAME("lookup: inside (a return address)", pm, 0x1080, "A");
	T_NAME("lookup: last byte", pm, 0x10ff, "A");
	T_NAME("lookup: at end is outside", pm, 0x1100, "(none)");
	T_NAME("lookup: before start", pm, 0xfff, "(none)");

	/* Overlaps: the later entry wins where they overlap. */
	feed_str(pm, "1080 10 B\n");
	T_NAME("overlap: later inner wins", pm, 0x1088, "B");
	T_NAME("overlap: older left part", pm, 0x107f, "A");
	T_NAME("overlap: older right part", pm, 0x1090, "A");
	feed_str(pm, "1000 200 C\n");
	T_NAME("overlap: later outer hides all", pm, 0x1088, "C");
	T_NAME("overlap: later outer beyond", pm, 0x11ff, "C");
	feed_str(pm, "1100 10 D\n1100 10 E\n");
	T_NAME("overlap: same range, latest in one batch", pm, 0x1105, "E");
	e = perfmap_lookup(pm, 0x1105);
	T_CHECK("overlap: seq order", e && e->seq == 4);
	feed_str(pm, "1050 20 F\n1040 40 G\n1060 4 H\n");
	T_NAME("batch: G over F", pm, 0x1058, "G");
	T_NAME("batch: H inside G", pm, 0x1062, "H");
	T_NAME("batch: F pieces gone", pm, 0x106f, "G");
	T_NAME("batch: outside G back to C", pm, 0x1080, "C");
	T_NAME("batch: D/E untouched", pm, 0x1100, "E");

	/* An older long entry stays visible beyond a newer one. */
	perfmap_reset(pm);
	feed_str(pm, "1000 1000 long\n1800 10 short\n2000 10 after\n");
	T_NAME("older beyond newer: before", pm, 0x17ff, "long");
	T_NAME("older beyond newer: newer", pm, 0x1808, "short");
	T_NAME("older beyond newer: after", pm, 0x1810, "long");
	T_NAME("adjacent: next entry", pm, 0x2000, "after");
	perfmap_free(pm);
}

/* 200k entries, many re-used addresses: exact and reasonably quick. */
static void test_many(void)
{
	struct perfmap *pm = fresh();
	char line[64];
	size_t n = 200000, wrong = 0;
	const struct perfmap_entry *e;

	for (size_t i = 0; i < n; i++) {
		/* Addresses wrap every 150000 entries: later ones win. */
		size_t slot = i % 150000;
		int len = snprintf(line, sizeof(line), "%016zX 40 m%zu\n",
				   0x10000 + slot * 0x40, i);

		perfmap_feed(pm, line, (size_t)len);
		if (i == n / 2)
			(void)perfmap_lookup(pm, 0);	/* index twice */
	}
	for (size_t slot = 0; slot < 150000; slot += 7) {
		size_t want = slot < n - 150000 ? slot + 150000 : slot;
		char wname[32];

		snprintf(wname, sizeof(wname), "m%zu", want);
		e = perfmap_lookup(pm, 0x10000 + slot * 0x40 + 0x3f);
		if (!e || strcmp(e->name, wname) != 0)
			wrong++;
	}
	T_CHECKF("many: latest wins for 200k entries", wrong == 0,
		 "%zu wrong", wrong);
	perfmap_free(pm);
}

/* ---- bounds on hostile files (issue 7: security) ---- */

/* Lines past a cap are not kept; those before are, and the cap is told. */
static void test_caps(void)
{
	struct perfmap *pm = fresh();
	static char big[PERFMAP_NAMES_MAX / 1024 + 64];
	char line[64];
	size_t n;
	u32 i;

	for (i = 0; i < PERFMAP_ENTRIES_MAX + 10u; i++) {
		int len = snprintf(line, sizeof(line), "%x 40 e%u\n",
				   0x100000 + i * 0x40, i);

		perfmap_feed(pm, line, (size_t)len);
	}
	T_CHECKF("caps: entries: stops at PERFMAP_ENTRIES_MAX",
		 perfmap_count(pm) == PERFMAP_ENTRIES_MAX &&
		 perfmap_capped(pm) == PERFMAP_CAP_ENTRIES,
		 "count %zu capped %u", perfmap_count(pm), perfmap_capped(pm));
	T_NAME("caps: entries: the first kept", pm, 0x100010, "e0");
	snprintf(line, sizeof(line), "e%u", PERFMAP_ENTRIES_MAX - 1);
	T_NAME("caps: entries: the last under the cap kept", pm,
	       0x100000 + (PERFMAP_ENTRIES_MAX - 1ull) * 0x40, line);
	T_NAME("caps: entries: none past it", pm,
	       0x100000 + (PERFMAP_ENTRIES_MAX + 1ull) * 0x40, "(none)");
	perfmap_reset(pm);
	T_CHECK("caps: reset forgets the cap", perfmap_capped(pm) == 0);

	/* 4096-byte names (the longest kept) until 64 MiB */
	memset(big, 'x', sizeof(big) - 1);
	for (i = 0; i < PERFMAP_NAMES_MAX / 4096 + 100; i++) {
		int len = snprintf(line, sizeof(line), "%x 40 ", 0x100000 + i * 0x40);

		big[0] = (char)('a' + i % 26);
		perfmap_feed(pm, line, (size_t)len);
		perfmap_feed(pm, big, 5000);	/* cut to 4096 */
		perfmap_feed(pm, "\n", 1);
	}
	n = perfmap_count(pm);
	T_CHECKF("caps: names: stops at PERFMAP_NAMES_MAX bytes",
		 n == PERFMAP_NAMES_MAX / 4097 && perfmap_capped(pm) == PERFMAP_CAP_NAMES,
		 "count %zu capped %u", n, perfmap_capped(pm));
	T_CHECK("caps: names: the first kept, cut at 4096",
		perfmap_lookup(pm, 0x100000) &&
		strlen(perfmap_lookup(pm, 0x100000)->name) == 4096 &&
		perfmap_lookup(pm, 0x100000)->name[0] == 'a');
	perfmap_free(pm);
}

/* An entry over the whole address space, first or last: later wins, and
 * a million lookups stay quick (they were O(log n) already here; the
 * index is now util/ivindex, as the jitdump's). */
static void test_spanning(void)
{
	struct perfmap *pm = fresh();
	char line[64];
	size_t n = 100000, wrong = 0;
	u64 seed = 3;

	feed_str(pm, "0 ffffffffffffffff everything\n");
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "%zx 800 m%zu\n",
				   0x40000000 + i * 0x1000, i);

		perfmap_feed(pm, line, (size_t)len);
	}
	for (int k = 0; k < 1000000; k++) {
		const struct perfmap_entry *e;
		u64 i, a;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (seed >> 33) % n;
		a = 0x40000000 + i * 0x1000 + ((seed >> 20) & 0xfff);
		e = perfmap_lookup(pm, a);
		wrong += !e || e != perfmap_entry_at(pm, a & 0x800 ? 0 : i + 1);
	}
	T_CHECKF("spanning first: inner entries win, the rest is it", wrong == 0,
		 "%zu wrong", wrong);
	T_NAME("spanning first: the top of the address space", pm,
	       0xfffffffffffffffeull, "everything");
	feed_str(pm, "0 ffffffffffffffff last\n");
	T_NAME("spanning last: wins everywhere", pm, 0x40000010, "last");
	perfmap_free(pm);
}

int main(void)
{
	test_dotnet_lines();
	test_prefixes_and_case();
	test_bad_lines();
	test_names();
	test_partial();
	test_lookup();
	test_many();
	test_caps();
	test_spanning();
	T_END();
}
