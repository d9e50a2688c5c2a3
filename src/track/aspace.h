/* SPDX-License-Identifier: MIT */
/*
 * The live set of one address space: an ordered map of non-overlapping,
 * page-aligned regions, each with its origin stack and protection, with the
 * exact semantics of mmap/munmap/mremap/mprotect/brk/shmat/shmdt/MAP_FIXED
 * and exec. See docs/design.md.
 */
#ifndef MAPLEAK_ASPACE_H
#define MAPLEAK_ASPACE_H

#include "mapleak.h"
#include "track/procmaps.h"

struct aspace;

int aspace_new(struct aspace **out);
void aspace_free(struct aspace *as);	/* NULL is a no-op */

/*
 * Applies one successful change. Ops are applied in order of op->time
 * (see reorder.h). Unmapping ops remove only regions whose time is older
 * than op->time. ML_OP_EXEC empties the space. Returns 0 or -errno
 * (-EINVAL for an op it cannot interpret, -ENOMEM; nothing is changed then).
 *
 * Details: mappings (mmap, mremap's target, brk growth, shmat) replace
 * whatever was there regardless of time; mprotect is not time-filtered and
 * gives a part going from PROT_NONE to accessible the op's stack and time;
 * mremap's new region belongs to the op's stack and keeps the old region's
 * prot and SHARED/ANON/SHM flags; shmdt without a size removes the
 * contiguous run of ML_RF_SHM regions from its address.
 */
int aspace_apply(struct aspace *as, const struct ml_op *op);

/* Adds the regions of a /proc/PID/maps snapshot as baseline (ML_RF_BASELINE,
 * ML_STACK_BASELINE). Pseudo regions ([stack], [vdso], ...) are skipped.
 * Replaces whatever the space held at those addresses. -ENOMEM may leave
 * the entries before the failing one added. */
int aspace_add_baseline(struct aspace *as, const struct maps_entry *e, size_t n);

/* The brk heap: start_brk (field 47 of /proc/PID/stat) and current brk. */
void aspace_set_brk(struct aspace *as, u64 start_brk, u64 brk);

/*
 * Makes the live set agree with a /proc/PID/maps snapshot (after lost
 * events or an exec seen late): drops pages the kernel no longer maps
 * (and any under pseudo regions), adds unexplained pages as
 * ML_RF_RECONCILED baseline, takes the kernel's prot (origins are kept).
 * Returns the number of pages that changed in *changed_pages.
 */
int aspace_reconcile(struct aspace *as, const struct maps_entry *e, size_t n,
		     u64 *changed_pages);

/* The brk values the space holds (see aspace_set_brk). */
void aspace_get_brk(const struct aspace *as, u64 *start_brk, u64 *brk);

/*
 * Calls on_bytes (NULL: none) for every change of a stack's committed
 * (not PROT_NONE) bytes, as ops, baselines and reconciliations apply:
 * the per-site timelines of the report and the recorder's folding.
 */
void aspace_set_hook(struct aspace *as,
		     void (*on_bytes)(void *ctx, u32 stack_id, s64 delta), void *ctx);

/*
 * Replaces whatever [start, end) holds by the n regions r (each within
 * the range, none overlapping): the state a folded recording wrote for
 * the range (see docs/recording-format.md, PATCH). Regions outside the
 * range are skipped. -ENOMEM changes nothing.
 */
int aspace_patch(struct aspace *as, u64 start, u64 end,
		 const struct ml_region *r, size_t n);

/* Visits the regions that overlap [start, end), in address order. */
int aspace_foreach_in(const struct aspace *as, u64 start, u64 end,
		      int (*cb)(void *ctx, const struct ml_region *r), void *ctx);

/* Visits regions in address order; a non-zero return from cb stops and is
 * returned. */
int aspace_foreach(const struct aspace *as,
		   int (*cb)(void *ctx, const struct ml_region *r), void *ctx);

size_t aspace_count(const struct aspace *as);

/* What /proc/PID/maps says against what mapleak holds, page-exact. */
struct aspace_check {
	u64 kernel_pages;	/* pages in maps, pseudo regions excluded */
	u64 model_pages;	/* pages in the live set + baseline */
	u64 missing_pages;	/* in maps, not in the model */
	u64 extra_pages;	/* in the model, not in maps */
	u64 prot_mismatch_pages;/* in both, different protection */
	u64 first_missing;	/* address of the first missing page, or 0 */
	u64 first_extra;	/* address of the first extra page, or 0 */
};
int aspace_check(const struct aspace *as, const struct maps_entry *e, size_t n,
		 struct aspace_check *out);

/* True for maps entries the kernel makes without a syscall that mapleak
 * cannot see: [stack], [vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes]. */
bool maps_entry_is_pseudo(const struct maps_entry *e);

#endif
