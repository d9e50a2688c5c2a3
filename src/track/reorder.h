/* SPDX-License-Identifier: MIT */
/*
 * Puts ops into the order in which they took effect. The ring buffer
 * delivers events in order of syscall EXIT; a change takes effect earlier
 * (op->time, see docs/design.md §ordering). Holds ops for a window and
 * releases them sorted by (time, sequence).
 */
#ifndef MAPLEAK_REORDER_H
#define MAPLEAK_REORDER_H

#include "mapleak.h"

struct reorder;

/* window_ns: how far behind the newest exit time an op may take effect. */
int reorder_new(struct reorder **out, u64 window_ns);
void reorder_free(struct reorder *r);

/* Queues a copy of op; exit_time is the event's syscall exit time
 * (never earlier than op->time). */
int reorder_push(struct reorder *r, const struct ml_op *op, u64 exit_time);

/* Pops the next op that is safe to apply (op->time older than the newest
 * exit time minus the window), or any op when flush is true. Returns 1 with
 * *op filled, 0 when none is ready. */
int reorder_pop(struct reorder *r, struct ml_op *op, bool flush);

/* The clock moved to now (the events' clock, CLOCK_MONOTONIC) with the
 * ring drained: nothing still to come exited before now, so ops a window
 * older than now are safe even when no newer event arrived (a target
 * that went quiet; a live view must show its last changes). */
void reorder_advance(struct reorder *r, u64 now);

size_t reorder_pending(const struct reorder *r);

#endif
