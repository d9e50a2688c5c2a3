/* SPDX-License-Identifier: MIT */
/*
 * jit-PID.dump reader (perf's jitdump format, as written by .NET with
 * DOTNET_PerfMapEnabled=1 or 2, V8 --perf-prof and others).
 *
 * Streaming and bounded: bytes are fed as the file grows, in any pieces;
 * only a record's fixed part and name are ever buffered (code bytes are
 * skipped), so memory does not depend on what the file claims. Tolerant:
 * a file cut anywhere (the writer is still running, or gave up as .NET 10
 * does, dotnet/runtime#120419) keeps every entry before the cut; unknown
 * record types are skipped by their size; a record of size 0 or smaller
 * than its prefix ends the reading for good (the framing is lost).
 *
 * Every CODE_LOAD (and every CODE_MOVE) becomes an entry with its load
 * time, so an address re-used by another method (tiering, unloading) can
 * be named as it was at a given time.
 */
#ifndef MAPLEAK_JITDUMP_H
#define MAPLEAK_JITDUMP_H

#include <signal.h>

#include "mapleak.h"

#define JITDUMP_MAGIC		0x4A695444u	/* "JiTD" in the writer's order */
#define JITDUMP_HEADER_SIZE	40u		/* version 1 */
#define JITDUMP_NAME_MAX	4096u		/* longer names are cut */
/*
 * Caps on what a file (written by the target: untrusted) may cost; past
 * one, reading stops and the entries made so far stay (jitdump_capped()).
 * Real runtimes stay far below: a large .NET service logs ~10^5 methods.
 */
#define JITDUMP_ENTRIES_MAX	(1u << 20)	/* loads and moves */
#define JITDUMP_NAMES_MAX	(64u << 20)	/* bytes of names kept */
#define JITDUMP_RECORDS_MAX	(1u << 24)	/* records of any type */
#define JITDUMP_READ_MAX	(1ull << 30)	/* bytes read (code bytes are skipped unread) */
/* Entries holding one address kept per index level (util/ivindex.h). */
#define JITDUMP_DEPTH		8u

enum jitdump_record {
	JITDUMP_CODE_LOAD = 0,
	JITDUMP_CODE_MOVE = 1,
	JITDUMP_CODE_DEBUG_INFO = 2,
	JITDUMP_CODE_CLOSE = 3,
	JITDUMP_CODE_UNWINDING_INFO = 4,
};

struct jitdump_entry {
	u64 start;
	u64 size;		/* code_size: the range, even without code bytes */
	u64 time;		/* load (or move) time, CLOCK_MONOTONIC ns */
	u64 code_index;		/* the writer's; not unique across moves */
	u64 serial;		/* ours: >= 1, unique for the reader's life */
	u64 moved_at;		/* a CODE_MOVE took it away then; 0: never */
	char *name;
};

enum jitdump_state {
	JITDUMP_HEADER,		/* waiting for the 40-byte header */
	JITDUMP_READING,	/* header accepted; records are read as fed */
	JITDUMP_BAD_HEADER,	/* not a jitdump (magic, version, size) */
	JITDUMP_ENDED,		/* a record of size 0 or < 16: no more reading */
};

/* jitdump_capped() bits: which cap stopped the reading */
enum jitdump_cap {
	JITDUMP_CAP_ENTRIES = 1,
	JITDUMP_CAP_NAMES = 2,
	JITDUMP_CAP_RECORDS = 4,
	JITDUMP_CAP_READ = 8,
};

struct jitdump_stats {
	u64 records;		/* record prefixes read */
	u64 loads;		/* CODE_LOAD entries made */
	u64 moves;		/* CODE_MOVE entries made */
	u64 unknown;		/* records skipped: other types */
	u64 bad;		/* records skipped: too short, size 0 code, no NUL */
};

struct jitdump;

int jitdump_new(struct jitdump **out);
void jitdump_free(struct jitdump *jd);	/* NULL is a no-op */

/* jitdump_read_fd() returns -EINTR between chunks once *flag is nonzero
 * (a signal handler's flag: Ctrl-C must not wait for a huge file). */
void jitdump_set_cancel(struct jitdump *jd, const volatile sig_atomic_t *flag);

/* Forgets the entries and the parse state (the file was truncated and is
 * being rewritten); serial numbers keep counting. */
void jitdump_reset(struct jitdump *jd);

/* Feeds the next len bytes of the file. Returns 0 or -ENOMEM; bad data is
 * not an error (see jitdump_state() and jitdump_stats()). */
int jitdump_feed(struct jitdump *jd, const void *buf, size_t len);

/*
 * Reads what fd gained since the last call (pread from jitdump_offset()),
 * at most max_bytes per call (0: no limit). A file shorter than what was
 * read was truncated: the reader resets and starts over. Returns 0,
 * -ENOMEM, -EINTR (cancelled) or -errno of a read.
 */
int jitdump_read_fd(struct jitdump *jd, int fd, u64 max_bytes);

/* Bytes consumed so far (the offset of the next byte to feed). */
u64 jitdump_offset(const struct jitdump *jd);
enum jitdump_state jitdump_state(const struct jitdump *jd);
const struct jitdump_stats *jitdump_stats(const struct jitdump *jd);
/* JITDUMP_CAP_* bits of the caps that stopped the reading; 0: none. */
unsigned jitdump_capped(const struct jitdump *jd);
/* Some address is held by more than JITDUMP_DEPTH entries: lookups there
 * may miss the oldest of them. */
bool jitdump_deep(const struct jitdump *jd);
/* Index work done by lookups so far (see ivindex_probes()). */
u64 jitdump_probes(const struct jitdump *jd);
/* The header says the timestamps are CLOCK_MONOTONIC ns (flags bit 0,
 * "arch timestamp", clear); false before the header was read. */
bool jitdump_timed(const struct jitdump *jd);
/* The header's pid (the writer's namespace pid), 0 before the header. */
u32 jitdump_pid(const struct jitdump *jd);

size_t jitdump_count(const struct jitdump *jd);
/* Entry i (< jitdump_count()) in order of appearance. Borrowed. */
const struct jitdump_entry *jitdump_entry_at(const struct jitdump *jd, size_t i);

/* The entry holding addr: the latest (by order of appearance) whose
 * [start, start + size) contains it, or NULL. Borrowed until the next
 * feed or reset. */
const struct jitdump_entry *jitdump_lookup(struct jitdump *jd, u64 addr);

/*
 * The entry that held addr at time: among the entries containing addr,
 * the latest loaded at or before time (not moved away by then); if none,
 * the earliest loaded after it. Without timestamps (jitdump_timed() false)
 * or with time UINT64_MAX, as jitdump_lookup(). Borrowed.
 *
 * Both cost O(log^2 n) whatever the ranges; where more than JITDUMP_DEPTH
 * entries of one index level hold addr, only the latest of them count
 * (jitdump_deep()).
 */
const struct jitdump_entry *jitdump_lookup_at(struct jitdump *jd, u64 addr,
					      u64 time);

#endif
