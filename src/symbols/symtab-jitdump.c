/* SPDX-License-Identifier: MIT */
/*
 * The target's jit-<nspid>.dump, read incrementally through
 * /proc/PID/root/tmp (as the perf map is), and the time-correct naming it
 * allows: a re-used JIT address (tiering, unloaded code) is named as it
 * was when an event happened, not as it is at the end.
 *
 * The runtime writes a method's CODE_LOAD before the method first runs,
 * so reading the file to its end after an event has happened makes every
 * method that event's stack can hold known.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symbols/symtab-int.h"

/* How often to look for a jitdump that does not exist (yet). */
#define JD_OPEN_RETRY_NS (100ull * 1000 * 1000)

static u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

int st_jitdump_init(struct symtab *st)
{
	st->jdfd = -1;
	return jitdump_new(&st->jd);
}

void st_jitdump_drop(struct symtab *st)
{
	if (st->jdfd >= 0)
		close(st->jdfd);
	st->jdfd = -1;
	st->jd_upto = 0;
	st->jd_next_open = 0;
	if (st->jd)
		jitdump_reset(st->jd);
}

void st_jitdump_free(struct symtab *st)
{
	st_jitdump_drop(st);
	jitdump_free(st->jd);
	st->jd = NULL;
}

/* As perf accepts it: a regular file, not a symlink, owned by the
 * target's user (same rules and helper as the perf map). */
static int open_jitdump(struct symtab *st)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/jit-%d.dump", (int)st->tg.status.nspid);
	fd = st_open_target_file(st, path);
	if (fd < 0)
		return fd;
	st->jdfd = fd;
	return 0;
}

int st_jitdump_update(struct symtab *st)
{
	u64 now = mono_ns();
	int ret;

	if (!st->jd)
		return 0;
	if (st->jdfd < 0) {
		st->jd_next_open = now + JD_OPEN_RETRY_NS;
		ret = open_jitdump(st);
		if (ret == -ENOENT || ret == -ESRCH)
			return 0;
		if (ret < 0)
			return ret;
	}
	ret = jitdump_read_fd(st->jd, st->jdfd, 0);
	if (ret == 0)
		st->jd_upto = now;
	return ret;
}

const struct jitdump_entry *st_jitdump_lookup(struct symtab *st, u64 addr,
					      u64 time)
{
	if (!st->jd || !jitdump_count(st->jd))
		return NULL;
	return jitdump_lookup_at(st->jd, addr, time);
}

u64 symtab_jit_epoch(struct symtab *st, u64 pc, bool return_address, u64 time)
{
	u64 addr = return_address && pc > 0 ? pc - 1 : pc;
	const struct jitdump_entry *e = st_jitdump_lookup(st, addr, time);
	u64 h = 0xcbf29ce484222325ull;

	if (!e)
		return 0;
	/*
	 * What the frame will be named by, not which record said it: a
	 * runtime may log the same code twice (stub blocks, replays), and
	 * two records of one method at one place must not split a site.
	 */
	h = (h ^ e->start) * 0x100000001b3ull;
	h = (h ^ e->size) * 0x100000001b3ull;
	for (const char *c = e->name; c && *c; c++)
		h = (h ^ (u8)*c) * 0x100000001b3ull;
	return h ? h : 1;
}

u32 symtab_jit_epochs(struct symtab *st, const u64 *pcs, u32 n, u64 time,
		      u64 *epochs)
{
	u32 known = 0;

	/* Catch up with the file unless it was read after time; look for a
	 * missing file a few times a second at most. */
	if (st->jd && time > st->jd_upto &&
	    (st->jdfd >= 0 || time >= st->jd_next_open))
		st_jitdump_update(st);
	for (u32 i = 0; i < n; i++) {
		epochs[i] = symtab_jit_epoch(st, pcs[i], i > 0, time);
		known += epochs[i] != 0;
	}
	return known;
}
