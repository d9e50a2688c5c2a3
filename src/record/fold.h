/* SPDX-License-Identifier: MIT */
/*
 * Folding: keeps a recording of a churning process bounded. Ops are
 * applied to the live set at once but written in windows; a window whose
 * mappings are mostly gone is written as one FOLD record (per-stack call
 * counts and per-tick byte changes, track/timeline.h) and PATCH records
 * (the live set of every address range the window touched), instead of
 * one OP record per op. The live set, the timelines and the counts the
 * report computes stay exactly those of the unfolded recording.
 */
#ifndef MAPLEAK_FOLD_H
#define MAPLEAK_FOLD_H

#include "mapleak.h"
#include "record/record.h"
#include "track/aspace.h"

#define FOLD_WINDOW_OPS		65536u		/* ops per window by default */
#define FOLD_HORIZON_NS		(10ull * 1000 * 1000 * 1000)	/* oldest op kept */

struct folder;

struct fold_stats {
	u64 ops_folded;		/* ops written as FOLD/PATCH */
	u64 ops_written;	/* ops written one by one */
	u64 windows_folded;
	u64 ops_capped;		/* ops folded into the end after --max-size */
	bool capped;		/* the file reached --max-size */
	u64 capped_time;	/* the first op not written then */
};

/*
 * as: the live set ops apply to (the folder owns its change hook);
 * start_time: the recording's start (ticks count from it); window: ops
 * per window (0: FOLD_WINDOW_OPS); 1 writes every op at once, as without
 * folding. Returns 0 or -ENOMEM.
 */
int folder_new(struct folder **out, struct aspace *as, u64 start_time, u32 window);
void folder_free(struct folder *f);	/* NULL is a no-op */

/* Applies op to the live set (0 or aspace_apply's error, nothing kept
 * then) and keeps it for w; a full or old window is written out. */
int folder_apply(struct folder *f, struct rec_writer *w, const struct ml_op *op);

/* Writes the window out now: before any record whose place among the ops
 * matters (MAPS, BRK) and at the end. 0 or -errno (a write error). */
int folder_flush(struct folder *f, struct rec_writer *w);

/* --max-size: once the file holds max_size bytes, ops are no longer
 * written; they are folded into one FOLD + PATCH at the next forced flush
 * (maps record, end), so the file grows only by what the live set and the
 * timelines need then. By thread, those ops' threads are not kept. */
void folder_set_max_size(struct folder *f, u64 max_size);

/* Closes a window whose first op is older than FOLD_HORIZON_NS at now
 * (CLOCK_MONOTONIC ns): a recorder killed later loses none of it. */
int folder_tick(struct folder *f, struct rec_writer *w, u64 now);

void folder_stats(const struct folder *f, struct fold_stats *s);

#endif
