/* SPDX-License-Identifier: MIT */
/*
 * Internals of struct symtab shared by the symbols/symtab*.c files
 * (modules, maps, JIT sources, naming). Not an interface: include
 * symbols/symtab.h elsewhere.
 */
#ifndef MAPLEAK_SYMTAB_INT_H
#define MAPLEAK_SYMTAB_INT_H

#include <elfutils/libdwfl.h>
#include <signal.h>
#include <string.h>

#include "target/proc.h"
#include "symbols/jitdump.h"
#include "symbols/perfmap.h"
#include "symbols/symtab.h"
#include "track/procmaps.h"
#include "track/stacks.h"
#include "unwind/unwind.h"

#define ST_NOTES_MAX 10
#define ST_DELETED " (deleted)"
/* Bytes of the target's files copied for one image (stable.h), whether
 * kept or not: a target mapping many large files of its own can make
 * mapleak neither hold nor copy them all. */
#define ST_STABLE_TOTAL_MAX (2ull << 30)
/* .dll files whose PE headers are read (a large .NET app maps ~500): a
 * target could map and make mapleak read any number. */
#define ST_PES_MAX 4096u

/* One module reported to the Dwfl (mirrors it, for overlap checks). */
struct st_module {
	char *name;		/* as given to libdwfl: the path in maps */
	u64 lo, hi;		/* the module's range as libdwfl computed it */
	u64 bias;
};

/* An executable mapping already examined (ELF or not). */
struct st_seen {
	u64 start, end, offset, inode;
};

struct st_elfsrc;		/* symtab.c */
struct st_pe;			/* symtab-r2r.c */

struct symtab {
	pid_t pid;
	/* The process (target/proc.h): tg.procfd names it whatever reuses
	 * the pid; tg.rootfd is held for st_open_in_root(); its NSpid names
	 * the perf map; its uids own the runtime's files. */
	struct target tg;
	bool root_is_host;	/* /proc/PID/root is "/" */
	bool own_userns;	/* in a user namespace not ours: see st_stable() */

	Dwfl *dwfl;
	void *arch_img;		/* an ELF header naming the machine ... */
	Elf *arch_elf;		/* ... for dwfl_attach_state */
	struct unwind_modules umods;	/* what the unwinder asks of us */

	struct maps_entry *maps;	/* the latest snapshot, by address */
	size_t nmaps;
	struct st_seen *seen;	/* sorted by start */
	size_t nseen;
	struct st_module *mods;
	size_t nmods, capmods;
	struct st_elfsrc **srcs;	/* fds for libdwfl's find_elf */
	size_t nsrcs, capsrcs;
	bool maps_dirty;

	struct perfmap *pm;
	const volatile sig_atomic_t *cancel;	/* set: long reads stop */
	unsigned noted;		/* ST_NOTE_* bits of notes already made */
	char notes[ST_NOTES_MAX][200];
	const char *note_list[ST_NOTES_MAX];	/* symtab_new_notes() */
	size_t nnotes, notes_reported;
	int pmfd;
	u64 pmoff;		/* bytes of the perf map consumed */
	bool pm_read;
	bool pm_partial;	/* the last byte consumed was not '\n' */
	bool pm_capped;		/* ST_PERFMAP_READ_MAX bytes read: no more */

	/* jit-<nspid>.dump: symbols/symtab-jitdump.c */
	struct jitdump *jd;
	int jdfd;
	u64 jd_upto;		/* read to its end at this CLOCK_MONOTONIC time */
	u64 jd_next_open;	/* no file yet: when to look again */

	/* PE section tables of .dll code mappings: symbols/symtab-r2r.c */
	struct st_pe *pes;
	size_t npes, cappes;
	u32 *peslots;		/* hash of pes by file: index + 1, 0 empty */
	size_t npeslots;	/* a power of two */
	bool pes_capped;	/* ST_PES_MAX files: the rest get no names */

	/* Copies of files the target may modify: symbols/stable.h */
	u64 stable_bytes;	/* copied, at most ST_STABLE_TOTAL_MAX */
	bool stable_capped;	/* a file was not read: over a cap */

	struct st_hotspot *hsp;	/* symbols/symtab-hotspot.c */
	u64 mod_gen;		/* bumped whenever modules change */
	u64 maps_gen;		/* bumped whenever maps are read */
};

/* Small string helpers of the symtab files. */
static inline bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static inline bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* symbols/symtab-jitname.c: names pc in the JIT code of perf-map entry e
 * (kind, symbol, module, tier). 0 or -ENOMEM. */
struct perfmap_entry;
int st_name_jit(const struct perfmap_entry *e, u64 pc, struct ml_frame *f);

/* symbols/symtab-hotspot.c, called by symtab.c */
void st_hotspot_free(struct symtab *st);
/* Names addr (pc, or return address - 1) outside any module when it is
 * HotSpot's interpreter or call stub: 1, 0 (not), -ENOMEM. */
int st_hotspot_name(struct symtab *st, u64 addr, struct ml_frame *out);

/* Opens REL (relative, e.g. "tmp/perf-N.map") under the target's root with
 * flags: the live root while it has one, else the root held since the
 * start, so that what a runtime wrote before it exited can still be read
 * after (the /proc/PID/root link is gone with the process). fd or -errno. */
int st_open_in_root(const struct symtab *st, const char *rel, int flags);

/* symbols/symtab-jitdump.c, called by symtab.c */
int st_jitdump_init(struct symtab *st);
void st_jitdump_drop(struct symtab *st);	/* new image: forget it */
void st_jitdump_free(struct symtab *st);
int st_jitdump_update(struct symtab *st);	/* read what it gained */
/* The entry naming addr (at time; UINT64_MAX: the latest), or NULL. */
const struct jitdump_entry *st_jitdump_lookup(struct symtab *st, u64 addr,
					      u64 time);

/* symbols/symtab-r2r.c, called by symtab.c: ReadyToRun (.dll) code */
int st_r2r_note(struct symtab *st, const struct maps_entry *m);	/* new mapping */
void st_r2r_free(struct symtab *st);
/* Names pc (found at addr) in .dll mapping m; 0 or -ENOMEM. */
int st_r2r_name(struct symtab *st, const struct maps_entry *m, u64 pc,
		u64 addr, u64 time, struct ml_frame *out);
/* The ReadyToRun reader of .dll mapping m, or *r = NULL; *bias: the
 * address of RVA 0 for the code in m. 0 or -ENOMEM. */
struct r2r;
int st_r2r_methods(struct symtab *st, const struct maps_entry *m,
		   struct r2r **r, u64 *bias);
/* symbols/symtab.c: the maps */
/* addr is in an executable mapping of the latest maps snapshot (JIT code
 * included: anonymous and /memfd: mappings). True without a snapshot. */
bool st_is_code(const struct symtab *st, u64 addr);
/* The entry of the latest maps snapshot holding addr, or NULL. */
const struct maps_entry *st_find_map(const struct symtab *st, u64 addr);
bool st_is_dll(const char *path);	/* a .dll (ReadyToRun code) */
/* Where JIT code lives: anonymous memory, memfd (.NET's W^X). */
bool st_is_jit_mapping(const struct maps_entry *m);

/* symbols/symtab-files.c: the target's files, for every symtab file */
/* The file behind mapping m (map_files, then /proc/PID/root): fd or -errno. */
int st_open_mapping(const struct symtab *st, const struct maps_entry *m);
/* Takes fd (from st_open_mapping) and returns one safe to map: a sealed
 * copy when the target may modify the file (symbols/stable.h), counted
 * against ST_STABLE_TOTAL_MAX. fd or -errno (-EFBIG: over a cap, noted). */
int st_stable(struct symtab *st, int fd);
/* A file the target's runtime wrote (PATH as the target sees it): inside
 * its root, regular, owned by its user (rootfs.h). fd or -errno. */
int st_open_target_file(const struct symtab *st, const char *path);

#endif
