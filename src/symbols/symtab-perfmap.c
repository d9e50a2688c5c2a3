/* SPDX-License-Identifier: MIT */
/*
 * JIT sources of a symtab: the perf map perf-<nspid>.map (read as it
 * grows, re-read when rewritten, removed when we caused it), the jitdump
 * read along (symtab-jitdump.c), and the notes on their caps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols/stable.h"
#include "symbols/symtab-int.h"
#include "target/proc.h"

#define ST_PERFMAP_CHUNK (64 * 1024)
/* Bytes of a perf map read: the target writes it, and 1M lines (the
 * perfmap entry cap) of plausible names fit well below. */
#define ST_PERFMAP_READ_MAX (256ull << 20)

static bool target_gone(const struct symtab *st)
{
	int fd = openat(st->tg.procfd, "stat", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == ESRCH || errno == ENOENT;
}

/* Opens perf-NSPID.map as perf would accept it: a regular file, not a
 * symlink, owned by the target's user (root only when the target is root),
 * found inside the target's root (rootfs.h). */
static int open_perfmap(struct symtab *st)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)target_nspid(&st->tg));
	fd = st_open_target_file(st, path);
	if (fd < 0)
		return fd;
	st->pmfd = fd;
	return 0;
}

static int update_perfmap(struct symtab *st)
{
	struct stat sb;
	char *buf;
	int ret = 0;

	if (st->pmfd < 0) {
		ret = open_perfmap(st);
		if (ret == -ENOENT || ret == -ESRCH)
			return 0;
		if (ret < 0)
			return ret;
	}
	if (fstat(st->pmfd, &sb) < 0)
		return -errno;
	if ((u64)sb.st_size < st->pmoff) {
		/* Truncated and rewritten (perf map disabled, re-enabled). */
		perfmap_reset(st->pm);
		st->pmoff = 0;
		st->pm_partial = false;
	}
	if ((u64)sb.st_size == st->pmoff) {
		/* A last line without newline counts once the writer is gone. */
		if (st->pm_partial && target_gone(st)) {
			ret = perfmap_finish(st->pm);
			st->pm_partial = false;
		}
		st->pm_read = true;
		return ret;
	}
	buf = malloc(ST_PERFMAP_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (st->pmoff < (u64)sb.st_size) {
		u64 want = (u64)sb.st_size - st->pmoff;
		ssize_t r;

		if (st->cancel && *st->cancel) {
			ret = -EINTR;
			break;
		}
		if (st->pmoff >= ST_PERFMAP_READ_MAX) {
			st->pm_capped = true;
			break;
		}

		if (want > ST_PERFMAP_CHUNK)
			want = ST_PERFMAP_CHUNK;
		r = pread(st->pmfd, buf, (size_t)want, (off_t)st->pmoff);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		ret = perfmap_feed(st->pm, buf, (size_t)r);
		if (ret < 0)
			break;
		st->pmoff += (u64)r;
		st->pm_partial = buf[r - 1] != '\n';
	}
	free(buf);
	st->pm_read = true;
	return ret;
}

int symtab_update_jit(struct symtab *st)
{
	int ret = update_perfmap(st);
	int jret = st_jitdump_update(st);

	return ret < 0 ? ret : jret;
}

int symtab_reread_jit(struct symtab *st)
{
	/* Rewritten in place (jcmd Compiler.perfmap): read it all again;
	 * entries already known stay, and "later wins" keeps them right. */
	if (st->pmfd >= 0)
		close(st->pmfd);
	st->pmfd = -1;
	st->pmoff = 0;
	st->pm_partial = false;
	perfmap_finish(st->pm);
	return symtab_update_jit(st);
}

void symtab_set_cancel(struct symtab *st, const volatile sig_atomic_t *flag)
{
	st->cancel = flag;
	if (st->jd)
		jitdump_set_cancel(st->jd, flag);
}

enum {
	ST_NOTE_PM_READ = 1,
	ST_NOTE_PM_ENTRIES = 2,
	ST_NOTE_PM_NAMES = 4,
	ST_NOTE_JD_ENTRIES = 8,
	ST_NOTE_JD_NAMES = 16,
	ST_NOTE_JD_RECORDS = 32,
	ST_NOTE_JD_READ = 64,
	ST_NOTE_JD_DEEP = 128,
	ST_NOTE_PES = 256,
	ST_NOTE_STABLE = 512,
};

static void st_note(struct symtab *st, unsigned bit, bool hit, const char *what,
		    unsigned long long limit, const char *unit)
{
	if (!hit || (st->noted & bit) || st->nnotes == ST_NOTES_MAX)
		return;
	st->noted |= bit;
	snprintf(st->notes[st->nnotes++], sizeof(st->notes[0]),
		 "%s of pid %d: over %llu %s, the rest is ignored: JIT frames "
		 "past it stay unnamed", what, (int)st->pid, limit, unit);
}

const char *const *symtab_new_notes(struct symtab *st, size_t *n)
{
	unsigned pc = perfmap_capped(st->pm);
	unsigned jc = st->jd ? jitdump_capped(st->jd) : 0;
	size_t from = st->notes_reported;

	st_note(st, ST_NOTE_PM_READ, st->pm_capped, "perf map", ST_PERFMAP_READ_MAX >> 20,
		"MiB read");
	st_note(st, ST_NOTE_PM_ENTRIES, pc & PERFMAP_CAP_ENTRIES, "perf map",
		PERFMAP_ENTRIES_MAX, "entries");
	st_note(st, ST_NOTE_PM_NAMES, pc & PERFMAP_CAP_NAMES, "perf map",
		PERFMAP_NAMES_MAX >> 20, "MiB of names");
	st_note(st, ST_NOTE_JD_ENTRIES, jc & JITDUMP_CAP_ENTRIES, "jitdump",
		JITDUMP_ENTRIES_MAX, "entries");
	st_note(st, ST_NOTE_JD_NAMES, jc & JITDUMP_CAP_NAMES, "jitdump",
		JITDUMP_NAMES_MAX >> 20, "MiB of names");
	st_note(st, ST_NOTE_JD_RECORDS, jc & JITDUMP_CAP_RECORDS, "jitdump",
		JITDUMP_RECORDS_MAX, "records");
	st_note(st, ST_NOTE_JD_READ, jc & JITDUMP_CAP_READ, "jitdump",
		JITDUMP_READ_MAX >> 20, "MiB read");
	if (st->jd && jitdump_deep(st->jd) && !(st->noted & ST_NOTE_JD_DEEP) &&
	    st->nnotes < ST_NOTES_MAX) {
		st->noted |= ST_NOTE_JD_DEEP;
		snprintf(st->notes[st->nnotes++], sizeof(st->notes[0]),
			 "jitdump of pid %d: over %u entries hold one address: "
			 "the oldest of them are not used for names there",
			 (int)st->pid, JITDUMP_DEPTH);
	}
	if (st->pes_capped && !(st->noted & ST_NOTE_PES) &&
	    st->nnotes < ST_NOTES_MAX) {
		st->noted |= ST_NOTE_PES;
		snprintf(st->notes[st->nnotes++], sizeof(st->notes[0]),
			 "pid %d maps over %u .dll files: ReadyToRun code of "
			 "the others stays unnamed", (int)st->pid, ST_PES_MAX);
	}
	if (st->stable_capped && !(st->noted & ST_NOTE_STABLE) &&
	    st->nnotes < ST_NOTES_MAX) {
		st->noted |= ST_NOTE_STABLE;
		snprintf(st->notes[st->nnotes++], sizeof(st->notes[0]),
			 "pid %d maps a file it may modify over %llu MiB (or "
			 "over %llu MiB of such files): code in it stays unnamed",
			 (int)st->pid, STABLE_COPY_MAX >> 20,
			 ST_STABLE_TOTAL_MAX >> 20);
	}
	for (size_t i = from; i < st->nnotes; i++)
		st->note_list[i - from] = st->notes[i];
	st->notes_reported = st->nnotes;
	*n = st->nnotes - from;
	return st->note_list;
}

bool symtab_has_jit_map(const struct symtab *st)
{
	return st->pm_read;
}

/* One of the target's uids (real, effective, saved, fs): root only when
 * the target runs as root, as for reading (rootfs_open_reg). */
static bool owner_ok(const struct symtab *st, uid_t uid)
{
	for (size_t i = 0; i < ARRAY_SIZE(st->tg.status.uids); i++)
		if (st->tg.status.uids[i] == uid)
			return true;
	return false;
}

/* Removes tmp/NAME under the target's root when it is a regular file of
 * the target's user and, if same_as >= 0, the file open there. */
static int remove_target_file(struct symtab *st, const char *name, int same_as)
{
	struct stat sb, held;
	int dir = st_open_in_root(st, "tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW);
	int ret = 0;

	if (dir < 0)
		return dir;
	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		ret = -errno;
	else if (!S_ISREG(sb.st_mode) || !owner_ok(st, sb.st_uid))
		ret = -EPERM;
	else if (same_as >= 0 && (fstat(same_as, &held) < 0 ||
				  held.st_dev != sb.st_dev || held.st_ino != sb.st_ino))
		ret = -ESTALE;	/* replaced since: not the file read */
	else if (unlinkat(dir, name, 0) < 0)
		ret = -errno;
	close(dir);
	return ret;
}

bool symtab_perfmap_is_dotnet(struct symtab *st)
{
	char buf[256], *line, *type;
	ssize_t n;

	symtab_update_jit(st);
	if (st->pmfd < 0)
		return false;
	n = pread(st->pmfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	line = buf;
	buf[strcspn(buf, "\n")] = '\0';
	/* "ADDR SIZE stub<1> AllocateTemporaryEntryPoints<...>": the
	 * runtime's stubs come first, from its start (V8 and HotSpot maps
	 * name code kinds otherwise). */
	if (!(type = strchr(line, ' ')) || !(type = strchr(type + 1, ' ')))
		return false;
	return !strncmp(type + 1, "stub ", 5) || !strncmp(type + 1, "stub<", 5);
}

int symtab_remove_perfmap(struct symtab *st)
{
	char name[64];
	int ret, iret;

	/* Read to the end first: what it names is kept. */
	symtab_update_jit(st);
	snprintf(name, sizeof(name), "perf-%d.map", (int)target_nspid(&st->tg));
	ret = remove_target_file(st, name, st->pmfd);
	snprintf(name, sizeof(name), "perfinfo-%d.map", (int)target_nspid(&st->tg));
	iret = remove_target_file(st, name, -1);
	if (ret == -ENOENT)
		ret = 0;
	if (iret == -ENOENT)
		iret = 0;
	return ret < 0 ? ret : iret;
}
