/* SPDX-License-Identifier: MIT */
/*
 * perf-PID.map parser: "START SIZE name" lines, hex with or without 0x.
 * Tolerant: junk lines are counted and skipped, a partial last line is
 * kept for the next read, later entries win for re-used addresses.
 */
#ifndef MAPLEAK_PERFMAP_H
#define MAPLEAK_PERFMAP_H

#include "mapleak.h"

/*
 * Caps on what a file (written by the target: untrusted) may cost; past
 * one, lines are no longer kept and perfmap_capped() says which. A large
 * .NET service writes ~10^5 lines of ~150 bytes.
 */
#define PERFMAP_ENTRIES_MAX	(1u << 20)
#define PERFMAP_NAMES_MAX	(64u << 20)	/* bytes of names kept */

enum perfmap_cap {
	PERFMAP_CAP_ENTRIES = 1,
	PERFMAP_CAP_NAMES = 2,
};

struct perfmap_entry {
	u64 start;
	u64 size;
	u64 seq;		/* order of appearance: higher wins */
	char *name;
};

struct perfmap;

int perfmap_new(struct perfmap **out);
void perfmap_free(struct perfmap *pm);

/*
 * Feeds bytes read from the file. Complete lines are parsed; an incomplete
 * last line is buffered until more data or perfmap_finish(). Lines that do
 * not parse are counted in perfmap_bad(). Returns 0 or -ENOMEM.
 */
int perfmap_feed(struct perfmap *pm, const char *buf, size_t len);
/* Parses a buffered partial last line (the writer is done). */
int perfmap_finish(struct perfmap *pm);
/* Forgets everything (the file was truncated and rewritten). */
void perfmap_reset(struct perfmap *pm);

/* The entry whose [start, start+size) holds addr; the latest such entry
 * wins; NULL if none. Borrowed. */
const struct perfmap_entry *perfmap_lookup(struct perfmap *pm, u64 addr);

size_t perfmap_count(const struct perfmap *pm);
size_t perfmap_bad(const struct perfmap *pm);
/* PERFMAP_CAP_* bits of the caps hit; 0: none. Entries before stay. */
unsigned perfmap_capped(const struct perfmap *pm);
/* Entry i (< perfmap_count()) in order of appearance, for saving the
 * table (mapleak resolve -i). Borrowed. */
const struct perfmap_entry *perfmap_entry_at(const struct perfmap *pm, size_t i);

#endif
