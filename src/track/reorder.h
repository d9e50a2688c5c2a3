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

/* The ring was read empty at time now (the clock of exit times): no op
 * exiting before now is still to come, so what took effect a window
 * before now is ready even when no newer event arrives (a target quiet
 * after its exec still gets its new image applied). */
void reorder_advance(struct reorder *r, u64 now);

size_t reorder_pending(const struct reorder *r);

#endif
