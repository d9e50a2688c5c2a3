/* SPDX-License-Identifier: MIT */
/*
 * Region labels: what a site or region is, in a few words ("thread
 * stacks", "JIT code", "glibc malloc arena", "[anon:NAME]"...), so the big
 * runtime entries of a report explain themselves. Pure functions of what
 * the recording holds: the region, the /proc/PID/maps entry that showed
 * it (may be NULL), the site's named frames.
 */
#ifndef MAPLEAK_LABELS_H
#define MAPLEAK_LABELS_H

#include "mapleak.h"
#include "report/analysis.h"
#include "track/procmaps.h"

#define LABEL_JIT_CODE		"JIT code"
#define LABEL_JITDUMP_MARKER	"jitdump marker"
#define LABEL_BRK_HEAP		"malloc heap (brk)"
#define LABEL_THREAD_STACKS	"thread stacks"
#define LABEL_LIBRARY		"shared library (ld.so)"
#define LABEL_MALLOC_ARENA	"glibc malloc arena"
#define LABEL_LARGE_MALLOC	"large malloc (mmap)"
#define LABEL_GC_RESERVE	".NET GC reservation"
#define LABEL_GC_HEAP		".NET GC heap"
/* Made accessible (mprotect) inside a GC reservation: the GC's commit. */
#define LABEL_GC_COMMIT		".NET GC heap (committed)"

/* A PROT_NONE reservation this large from the .NET runtime is the GC's
 * (it reserves its whole address range up front; other reservations of
 * the runtime are a few MiB). */
#define LABEL_GC_RESERVE_MIN	(256ull << 20)

/* jit-<digits>.dump (maybe " (deleted)"): the runtime's jitdump file. */
bool label_is_jitdump_path(const char *path);

/*
 * The label of region g, which /proc/PID/maps showed as e (NULL: not
 * seen). Returns a constant string, e->path itself for "[anon:NAME]"
 * names, or NULL when the region is nothing in particular (its file, if
 * any, is e->path).
 */
const char *label_region(const struct ml_region *g, const struct maps_entry *e);

/*
 * The label of a site: its regions' label when they all have the same,
 * else what its frames (innermost first) say it is, else NULL.
 * rlabels[i] is region i's label. reserved_bytes: its PROT_NONE part.
 */
const char *label_site(const struct ml_frame *frames, u32 nframes,
		       const char *const *rlabels, size_t nregions,
		       u64 reserved_bytes);

/*
 * The /proc/PID/maps snapshots regions are looked up in: the final one
 * (taken at the end while the target lived) describes every region still
 * mapped; without it, the latest other snapshot describes the regions
 * that existed when it was taken (the baseline's, for instance).
 */
struct label_snap {
	struct maps_entry *e;	/* sorted by address, as /proc shows them */
	size_t n;
	u64 time;
	bool have;
};

struct label_snaps {
	struct label_snap final, last;
};

/* Keeps a copy of a snapshot (final or not). 0 or -ENOMEM. */
int label_snaps_keep(struct label_snaps *s, u64 time, bool final,
		     const struct maps_entry *e, size_t n);
void label_snaps_clear(struct label_snaps *s);
/* The entry that showed region g, or NULL. */
const struct maps_entry *label_snaps_find(const struct label_snaps *s,
					  const struct ml_region *g);

/* Labels and paths of n regions: *out gets n entries (NULL when n is 0),
 * freed with label_info_free(). 0 or -ENOMEM. */
int label_regions(const struct label_snaps *s, const struct ml_region *v,
		  size_t n, struct ml_region_info **out);
void label_info_free(struct ml_region_info *ri, size_t n);

#endif
