/* SPDX-License-Identifier: MIT */
/*
 * The recording file (docs/recording-format.md): a header, then records
 * {u32 type, u32 size, u64 time} + payload, 8-byte aligned, little endian.
 * Readers bound every size and skip unknown records.
 */
#ifndef MAPLEAK_RECORD_H
#define MAPLEAK_RECORD_H

#include "mapleak.h"
#include "track/procmaps.h"

#define ML_REC_MAGIC "MAPLEAK\0"	/* 8 bytes */
#define ML_REC_VERSION 1
#define ML_REC_MAX_SIZE (64u << 20)	/* no record is larger */

enum ml_rec_type {
	ML_REC_TARGET = 1,	/* who was recorded */
	ML_REC_MAPS = 2,	/* a /proc/PID/maps snapshot (baseline, reconcile, final) */
	ML_REC_OP = 3,		/* one struct ml_op */
	ML_REC_STACK = 4,	/* one interned stack */
	ML_REC_FRAME = 5,	/* the name of one pc */
	ML_REC_LOST = 6,	/* events lost so far (running total) */
	ML_REC_RESIDENT = 7,	/* resident bytes of live regions at the end */
	ML_REC_CHECK = 8,	/* the /proc/PID/maps agreement at the end */
	ML_REC_END = 9,		/* the recording finished cleanly */
	ML_REC_BRK = 10,	/* start_brk and brk of the address space */
	ML_REC_NOTE = 11,	/* a line to show the user (warnings) */
	ML_REC_JITSYMS = 12,	/* JIT code names seen (perf map entries) */
	ML_REC_MODSYMS = 13,	/* function symbols of a native module in the stacks */
	ML_REC_FOLD = 14,	/* ops folded away: per-site counts and byte changes */
	ML_REC_PATCH = 15,	/* the live set of an address range after folded ops */
};

struct ml_rec_target {
	u32 pid;
	u32 nspid;
	u32 launched;		/* 1: launch mode (-- COMMAND) */
	u32 stack_size;
	u64 start_time;		/* CLOCK_MONOTONIC ns when tracing began */
	u64 start_realtime;	/* CLOCK_REALTIME ns, same instant */
	char *command;		/* command line, spaces between args */
	char *comm;
};

/* ML_REC_MAPS purpose */
#define ML_MAPS_BASELINE	1	/* at attach, or after exec in launch mode */
#define ML_MAPS_RECONCILE	2	/* after lost events: the live set follows it */
#define ML_MAPS_FINAL		3	/* at the end, for the check */
#define ML_MAPS_EXEC		4	/* baseline of a new image after exec */

struct ml_rec_maps {
	u32 purpose;
	size_t n;
	struct maps_entry *e;
};

struct ml_rec_stack {
	u32 id;
	u32 flags;		/* ML_SF_* */
	u32 n;
	u64 *pcs;
};

struct ml_rec_frame {
	struct ml_frame f;	/* f.pc: the pc as in stacks (not pc - 1) */
	u32 return_address;	/* named as a return address */
	u32 stack_id;		/* 0: any stack; else only in that stack (JIT
				 * code re-used: named as of the stack's time) */
	u32 frame;		/* with stack_id: 0 every frame at pc, else only
				 * frame index frame - 1 (interpreted Java: one
				 * interpreter pc, a method per frame) */
};

struct ml_rec_resident_entry {
	u64 start, end;		/* a live or baseline region */
	u64 resident;		/* bytes present in RAM */
	u64 swapped;		/* bytes in swap */
};
struct ml_rec_resident {
	size_t n;
	struct ml_rec_resident_entry *e;
};

struct ml_rec_check {
	u64 kernel_pages, model_pages, missing_pages, extra_pages;
	u64 prot_mismatch_pages, first_missing, first_extra;
	u32 reconciled;		/* reconciliations done during the recording */
};

/* ML_REC_END stopped_by */
#define ML_STOP_EXIT		1
#define ML_STOP_SIGNAL		2
#define ML_STOP_DURATION	3

struct ml_rec_end {
	u32 stopped_by;
	u32 target_alive;	/* the target was alive at the end */
	u64 end_time;		/* CLOCK_MONOTONIC ns */
	u64 events;		/* events received */
	u64 lost;		/* events lost */
	int32_t exit_status;	/* launch mode: wait status of the target, else -1 */
};

struct ml_rec_brk {
	u64 start_brk, brk;
};

/* One symbol: JIT code (JITSYMS: start is an address in the target) or
 * a function of a module (MODSYMS: start is the ELF address, before bias). */
struct ml_rec_sym {
	u64 start;
	u64 size;		/* 0: unknown (an ELF symbol without size) */
	char *name;
};

/* Entries in the order they appeared: for a re-used address the later
 * entry wins. Long tables span several records, in order. */
struct ml_rec_jitsyms {
	size_t n;
	struct ml_rec_sym *e;
};

/* The function symbols of one module mapped at [lo, hi): the address of
 * symbol s in the target is s.start + bias. Demangled, versions dropped.
 * Long tables span several records with the same module, lo, hi, bias. */
struct ml_rec_modsyms {
	u64 lo, hi;
	u64 bias;
	char *module;		/* the path as in /proc/PID/maps */
	size_t n;
	struct ml_rec_sym *e;
};

/*
 * A fold: ops that were not written one by one (the recorder folds a
 * window of ops whose mappings are mostly gone). What the report needs of
 * them: how many calls each stack made, and each stack's change of
 * committed bytes per timeline tick (track/timeline.h; ticks count from
 * the target's start_time). PATCH records that follow give the live set
 * of every range the folded ops touched; brk is the brk after them.
 */
struct ml_rec_fold_count {
	u32 stack_id;
	u64 calls;
};
struct ml_rec_fold_delta {
	u32 stack_id;
	u64 tick;
	s64 delta;		/* committed bytes gained (lost when negative) */
};
struct ml_rec_fold {
	u64 first_time;		/* the first folded op's time (record time: the last's) */
	u64 ops;		/* ops folded */
	u64 start_brk, brk;
	size_t ncounts;
	struct ml_rec_fold_count *counts;
	size_t ndeltas;
	struct ml_rec_fold_delta *deltas;
};

/* The live set of [start, end) after the preceding FOLD: replaces what
 * the range held. tid: the thread that made a region born in the folded
 * ops, else 0. */
struct ml_rec_patch_region {
	struct ml_region r;
	u32 tid;
};
struct ml_rec_patch {
	u64 start, end;
	size_t n;
	struct ml_rec_patch_region *e;
};

/* ---- writing ---- */
struct rec_writer;

/*
 * Creates the recording at path, safely in a folder others can write
 * (/tmp): a new file (O_EXCL, O_NOFOLLOW, mode 0600) next to path gets
 * the header and is renamed to path, so no link is followed and no
 * existing file is opened; an existing file or link at path becomes
 * path.old. Refused: -EINVAL when path is a FIFO, a device or a socket;
 * -EISDIR for a folder; -EPERM when path or path.old is another user's
 * in a sticky folder. Records are written through a buffer; a recorder
 * that is killed leaves a file that reads up to its last
 * rec_writer_flush().
 */
int rec_writer_open(struct rec_writer **out, const char *path);
/* A writer that keeps nothing (mapleak top without -o): every record is
 * encoded and dropped. 0 or -ENOMEM. */
int rec_writer_open_discard(struct rec_writer **out);
/* Flushes and closes. Frees w. Returns 0 or -errno (a write error seen
 * at any point, e.g. ENOSPC, is returned here). */
int rec_writer_close(struct rec_writer *w);
/*
 * The first write error (-errno), or 0. After one, every put fails at
 * once and the file has been cut back to its last whole record, so it
 * reads as a recording that did not finish.
 */
int rec_writer_error(const struct rec_writer *w);
/* Frees w and removes the file (restoring path.old, if any). */
void rec_writer_abort(struct rec_writer *w);
/* Writes out the buffer (called periodically by the recorder). */
int rec_writer_flush(struct rec_writer *w);

int rec_put_target(struct rec_writer *w, u64 time, const struct ml_rec_target *t);
int rec_put_maps(struct rec_writer *w, u64 time, const struct ml_rec_maps *m);
int rec_put_op(struct rec_writer *w, const struct ml_op *op);
int rec_put_stack(struct rec_writer *w, u64 time, const struct ml_rec_stack *s);
int rec_put_frame(struct rec_writer *w, u64 time, const struct ml_rec_frame *f);
int rec_put_lost(struct rec_writer *w, u64 time, u64 lost_total);
int rec_put_resident(struct rec_writer *w, u64 time, const struct ml_rec_resident *r);
int rec_put_check(struct rec_writer *w, u64 time, const struct ml_rec_check *c);
int rec_put_end(struct rec_writer *w, u64 time, const struct ml_rec_end *e);
int rec_put_brk(struct rec_writer *w, u64 time, const struct ml_rec_brk *b);
int rec_put_note(struct rec_writer *w, u64 time, const char *text);
int rec_put_jitsyms(struct rec_writer *w, u64 time, const struct ml_rec_jitsyms *j);
int rec_put_modsyms(struct rec_writer *w, u64 time, const struct ml_rec_modsyms *m);
int rec_put_fold(struct rec_writer *w, u64 time, const struct ml_rec_fold *f);
int rec_put_patch(struct rec_writer *w, u64 time, const struct ml_rec_patch *p);
/* Bytes written so far, header included (buffered ones too). */
u64 rec_writer_size(const struct rec_writer *w);
/* Most regions one PATCH record holds. */
#define ML_PATCH_MAX	(1u << 20)

/* ---- reading: streaming, one callback per record type ---- */
struct rec_visitor {
	/* Each may be NULL. Borrowed pointers are valid only during the call.
	 * A non-zero return stops reading and is returned by rec_read(). */
	int (*target)(void *ctx, u64 time, const struct ml_rec_target *t);
	int (*maps)(void *ctx, u64 time, const struct ml_rec_maps *m);
	int (*op)(void *ctx, const struct ml_op *op);
	int (*stack)(void *ctx, u64 time, const struct ml_rec_stack *s);
	int (*frame)(void *ctx, u64 time, const struct ml_rec_frame *f);
	int (*lost)(void *ctx, u64 time, u64 lost_total);
	int (*resident)(void *ctx, u64 time, const struct ml_rec_resident *r);
	int (*check)(void *ctx, u64 time, const struct ml_rec_check *c);
	int (*end)(void *ctx, u64 time, const struct ml_rec_end *e);
	int (*brk)(void *ctx, u64 time, const struct ml_rec_brk *b);
	int (*note)(void *ctx, u64 time, const char *text);
	int (*jitsyms)(void *ctx, u64 time, const struct ml_rec_jitsyms *j);
	int (*modsyms)(void *ctx, u64 time, const struct ml_rec_modsyms *m);
	int (*fold)(void *ctx, u64 time, const struct ml_rec_fold *f);
	int (*patch)(void *ctx, u64 time, const struct ml_rec_patch *p);
};

/* What went wrong while reading, for a warning in the report. */
struct rec_read_status {
	u64 records;		/* records read and accepted */
	u64 skipped_unknown;	/* records of unknown type skipped */
	u64 bad_records;	/* records whose payload did not decode (skipped) */
	int truncated;		/* the file ended inside a record */
	u64 good_bytes;		/* offset up to which the file was sound */
};

/*
 * Reads path. Returns 0 when the whole file was read (see st for skipped
 * records), -EBADMSG when the file is not a mapleak recording or its
 * header is damaged, -ENODATA when it was cut short or damaged after a
 * sound prefix (records up to st->good_bytes were delivered), -errno on
 * I/O errors, or the visitor's non-zero return.
 */
int rec_read(const char *path, const struct rec_visitor *v, void *ctx,
	     struct rec_read_status *st);
/* The same over a memory buffer (fuzzing, tests). */
int rec_read_mem(const void *buf, size_t len, const struct rec_visitor *v,
		 void *ctx, struct rec_read_status *st);

#endif
