/* SPDX-License-Identifier: MIT */
/* Stacks stored once: interning of program-counter lists. */
#ifndef MAPLEAK_STACKS_H
#define MAPLEAK_STACKS_H

#include "mapleak.h"

#define ML_STACK_MAX_FRAMES 256

/* stack flags */
/* the walk ended early: the stack copy ended, or a return address was
 * outside executable code (a frame-pointer walk reading data) */
#define ML_SF_TRUNCATED	0x1
#define ML_SF_UNWIND_ERR 0x2	/* the unwinder stopped on an error */

struct stackdb;

int stackdb_new(struct stackdb **out);
void stackdb_free(struct stackdb *db);

/* Returns the id (>= 1) of the stack pcs[0..n), innermost first, adding it
 * if new; *is_new tells which (may be NULL). n may be 0. */
int stackdb_intern(struct stackdb *db, const u64 *pcs, u32 n, u32 flags,
		   u32 *id, bool *is_new);

/* Borrowed view of stack id, or NULL. */
const u64 *stackdb_get(const struct stackdb *db, u32 id, u32 *n, u32 *flags);

/* Highest id handed out (ids are 1..count). */
u32 stackdb_count(const struct stackdb *db);

/* Inserts a stack with a given id (when loading a recording). Returns 0
 * (also when id already holds this very stack), -EEXIST if id holds another
 * stack, -ERANGE if id is more than 2^20 past the highest id, -EINVAL. */
int stackdb_put(struct stackdb *db, u32 id, const u64 *pcs, u32 n, u32 flags);

#endif
