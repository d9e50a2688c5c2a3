/* SPDX-License-Identifier: MIT */
/*
 * From a recording to an answer: replays the recorded ops through the live
 * set, groups live bytes by stack into sites, attaches names, residency and
 * the end-of-recording check.
 */
#ifndef MAPLEAK_ANALYSIS_H
#define MAPLEAK_ANALYSIS_H

#include "mapleak.h"
#include "record/record.h"
#include "track/timeline.h"

/* What a region is and the file behind it, from /proc/PID/maps (see
 * report/labels.h); either may be NULL. */
struct ml_region_info {
	char *label;		/* "thread stacks", "JIT code", "[anon:NAME]"... */
	char *path;		/* as /proc/PID/maps showed it */
};

/* One stack of a site that merged several (report/group.c). */
struct ml_site_variant {
	u32 stack_id;
	u32 stack_flags;	/* ML_SF_* */
	u64 bytes, reserved_bytes, mappings;
	char *tiers;		/* its key frames' tiers, "QuickJitted+R2R"; "" if none */
	char *differs;		/* what tells it from the first, "OptimizedTier1 at #2" */
};

struct ml_site {
	u32 stack_id;
	u32 stack_flags;	/* ML_SF_* */
	u64 bytes;		/* live bytes attributed to this stack */
	u64 reserved_bytes;	/* the PROT_NONE part of bytes */
	u64 resident_bytes;	/* valid when resident_known */
	bool resident_known;
	u64 mappings;		/* regions, adjacent pieces of one op counted once */
	u64 first_time;		/* ns since the recording began: oldest live region */
	u64 last_time;		/* newest live region */
	u32 nframes;
	struct ml_frame *frames;	/* innermost first */
	size_t nregions;
	struct ml_region *regions;	/* address order */
	struct ml_region_info *rinfo;	/* nregions entries, or NULL */
	char *label;			/* what the site is, or NULL */
	u32 tid;			/* ANALYSIS_BY_THREAD: the thread that mapped it */
	u64 calls;			/* mapping calls the stack made while recording */
	double growth_bytes_per_s;	/* least-squares slope of the timeline */
	size_t ntimeline;		/* 0 with ANALYSIS_BY_THREAD */
	struct timeline_point *timeline;	/* the stack's live committed bytes */
	/* The stacks of this site, largest first (one when nothing merged);
	 * stack_id, stack_flags and frames are the largest one's. */
	size_t nvariants;
	struct ml_site_variant *variants;
	bool runtime;			/* the runtime's own memory (GC heap...) */
};

struct ml_result {
	struct ml_rec_target target;	/* strings owned */
	bool have_target;
	bool have_end;
	struct ml_rec_end end;
	double duration_s;
	u64 events;
	u64 lost;
	u64 baseline_bytes, baseline_mappings;
	u64 live_bytes, live_mappings;
	u64 live_reserved_bytes;
	size_t nsites;
	struct ml_site *sites;		/* by bytes - reserved_bytes, descending; ties by stack id;
					 * runtime sites last unless ANALYSIS_INCLUDE_RUNTIME */
	size_t nbaseline;
	struct ml_region *baseline;	/* baseline regions still mapped */
	struct ml_region_info *baseline_rinfo;	/* nbaseline entries, or NULL */
	bool have_check;
	struct ml_rec_check check;
	u32 reconciles;			/* MAPS(RECONCILE) records replayed */
	u64 reconciled_pages;		/* pages they corrected */
	size_t nnotes;
	char **notes;			/* recorded notes, then read warnings */
	struct rec_read_status read_status;
	bool by_thread;			/* sites are (thread, stack) pairs */
	/* The runtime's own memory (site->runtime), put apart from the
	 * ranking like the baseline: the last nruntime sites. */
	bool runtime_apart;
	size_t nruntime;
	u64 runtime_bytes, runtime_reserved_bytes, runtime_mappings;
	size_t nmaps;
	struct maps_entry *maps;	/* last /proc/PID/maps snapshot (final if any) */
	u64 folded_ops;			/* ops the recorder folded (FOLD records) */
	u64 filtered_sites;		/* sites left out by the filters */
	int sort;			/* enum analysis_sort the sites are in */
};

/*
 * Loads path. Returns 0 (possibly with warnings in notes for a damaged or
 * cut-short file whose sound part was used), or -errno: -ENOENT,
 * -EACCES, -EBADMSG (not a recording / header damaged), -ENOMEM.
 */
int analysis_load(const char *path, struct ml_result **out);

/* analysis_load() with flags: ANALYSIS_BY_THREAD makes one site per
 * (thread, stack) pair, the thread being the one whose call gave the
 * region its origin (mmap, or the mprotect that committed it). */
#define ANALYSIS_BY_THREAD	0x1u
/* How stacks fold into sites (report/group.c). By default stacks that
 * differ only in JIT tier, code version or frames past the last named
 * frame are one site; STACK keeps one site per stack; FUNCTION folds by
 * the innermost frame of the program's own code, MODULE by its module. */
#define ANALYSIS_GROUP_STACK	0x2u
#define ANALYSIS_GROUP_FUNCTION	0x4u
#define ANALYSIS_GROUP_MODULE	0x8u
/* Rank the runtime's own memory with the rest instead of apart. */
#define ANALYSIS_INCLUDE_RUNTIME 0x10u
int analysis_load_by(const char *path, unsigned flags, struct ml_result **out);

enum analysis_sort {
	ANALYSIS_SORT_BYTES = 0,	/* committed bytes, largest first */
	ANALYSIS_SORT_GROWTH,		/* growth_bytes_per_s, fastest first */
	ANALYSIS_SORT_AGE,		/* oldest live region first */
};

/* Which regions and sites a report is about. Zero: all, by bytes. */
struct analysis_opts {
	unsigned flags;			/* ANALYSIS_* */
	enum analysis_sort sort;
	u64 older_than_ns;		/* regions alive at least this long at the end */
	u64 min_bytes;			/* sites holding at least this (committed) */
	bool have_from, have_to;
	u64 from_ns, to_ns;		/* regions made in [from, to] (since the start) */
	u64 span_ns;			/* timelines and growth over [0, span]; 0:
					 * the whole recording (two recordings
					 * compared over the same span) */
};
int analysis_load_opts(const char *path, const struct analysis_opts *o,
		       struct ml_result **out);
void analysis_free(struct ml_result *r);	/* NULL is a no-op */

/*
 * The grouping pass after the sites are built (report/group.c): folds
 * r->sites as o->flags say, drops sites under o->min_bytes, marks the
 * runtime's own sites and sorts as o->sort says. 0 or
 * -ENOMEM (r stays valid for analysis_free()).
 */
int analysis_group(struct ml_result *r, const struct analysis_opts *o);
void analysis_site_release(struct ml_site *s);

#endif
