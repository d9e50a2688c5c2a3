/* SPDX-License-Identifier: MIT */
/*
 * Private to src/report/: string interning for the profile formats, which
 * refer to names, frames and functions by index (pprof's string table,
 * speedscope's shared frames). Indexes are dense, in insertion order.
 */
#ifndef MAPLEAK_REPORT_INTERN_H
#define MAPLEAK_REPORT_INTERN_H

#include <stddef.h>

#include "mapleak.h"

struct intern {
	char **keys;		/* n keys, owned, index order */
	size_t n, keys_cap;
	u32 *slots;		/* open addressing: index + 1, 0 = empty */
	size_t nslots;		/* power of two */
};

/* The index of key, adding a copy when new (*added says so; may be
 * NULL). 0 or -ENOMEM. */
int intern_put(struct intern *t, const char *key, u32 *idx, bool *added);
/* Frees what t holds; t may be reused. */
void intern_clear(struct intern *t);

#endif
