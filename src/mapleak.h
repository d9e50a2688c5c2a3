/* SPDX-License-Identifier: MIT */
/* Types shared by every module of mapleak. */
#ifndef MAPLEAK_H
#define MAPLEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "collect/events.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define MAPLEAK_VERSION "0.1.0"

/*
 * The page size of the machine mapleak runs on (4 KiB on x86-64; 4, 16
 * or 64 KiB on arm64), asked once. A recording is replayed with the
 * reporting machine's page size: both are the same until recordings
 * carry theirs.
 */
static inline u64 ml_page_size(void)
{
	static u64 cached;
	u64 v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (!v) {
		long ps = sysconf(_SC_PAGESIZE);

		v = ps > 0 && !(ps & (ps - 1)) ? (u64)ps : 4096;
		__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	}
	return v;
}
#define ML_PAGE_SIZE ml_page_size()
#define ML_PAGE_DOWN(x) ((u64)(x) & ~(ML_PAGE_SIZE - 1))
#define ML_PAGE_UP(x) (((u64)(x) + ML_PAGE_SIZE - 1) & ~(ML_PAGE_SIZE - 1))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A decoded, normalized address-space change, as the tracker applies it
 * and as the recording stores it. Failed calls never become ops.
 */
struct ml_op {
	u32 kind;		/* enum ml_op_kind */
	u32 stack_id;		/* stackdb id of the calling stack; 0 = none */
	u64 time;		/* order time (ns, CLOCK_MONOTONIC) */
	u32 tid;
	u32 flags;		/* ML_EVF_* of the event */
	u64 args[6];		/* as in struct ml_event_hdr */
	s64 ret;
	u64 aux;
};

/* The origin of memory mapped before tracing began. */
#define ML_STACK_BASELINE 0u

/* ml_region.flags */
#define ML_RF_SHARED	0x01	/* MAP_SHARED */
#define ML_RF_ANON	0x02	/* no file behind it */
#define ML_RF_HEAP	0x04	/* brk heap */
#define ML_RF_SHM	0x08	/* SysV shared memory (shmat) */
#define ML_RF_BASELINE	0x10	/* present before tracing began, origin unknown */
#define ML_RF_RECONCILED 0x20	/* added by reconciliation with /proc/PID/maps */

/* One live region: [start, end), page aligned, never overlapping another. */
struct ml_region {
	u64 start;
	u64 end;
	u32 prot;		/* PROT_* */
	u32 flags;		/* ML_RF_* */
	u32 stack_id;		/* who is accountable for it; ML_STACK_BASELINE */
	u32 reserve_stack_id;	/* who mapped it first (differs after a commit) */
	u64 time;		/* when it got its current origin */
};

/* Frame kinds (JSON "kind" strings in report/). */
enum ml_frame_kind {
	ML_FK_UNKNOWN = 0,
	ML_FK_NATIVE = 1,
	ML_FK_JIT = 2,
	ML_FK_R2R = 3,
	ML_FK_STUB = 4,
	ML_FK_KERNEL = 5,
	ML_FK_GAP = 6,		/* frames the walk skipped (ML_PC_GAP) */
};

/*
 * A marker in a stack where the frame-pointer walk left code that keeps
 * no frame pointer (a JVM without -XX:+PreserveFramePointer) and so
 * skipped frames. Non-canonical on x86-64 and arm64: never a pc.
 */
#define ML_PC_GAP 0x8000000000000001ull
#define ML_GAP_TEXT "[... frames skipped: JIT code without frame pointers ...]"

/* A named frame. Strings may be NULL when unknown. */
struct ml_frame {
	u64 pc;
	u32 kind;		/* enum ml_frame_kind */
	u32 line;		/* 0 = unknown */
	u64 offset;		/* pc - symbol start, when symbol != NULL */
	char *symbol;
	char *module;
	char *file;
	char *tier;		/* JIT tier ("QuickJitted", "OptimizedTier1"...) */
};

void ml_frame_release(struct ml_frame *f);

#endif
