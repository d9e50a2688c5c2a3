/* SPDX-License-Identifier: MIT */
/*
 * Saves in a recording what naming an arbitrary address needs once the
 * target is gone (mapleak resolve -i): the JIT names seen (ML_REC_JITSYMS)
 * and the function symbols of every native module that holds a pc of a
 * recorded stack (ML_REC_MODSYMS). Modules no stack touches are left out:
 * their tables would cost megabytes and name nothing the report shows.
 */
#ifndef MAPLEAK_RECORD_SYMDUMP_H
#define MAPLEAK_RECORD_SYMDUMP_H

#include "record/record.h"
#include "symbols/symtab.h"
#include "track/stacks.h"

/* Upper bounds on what is saved (docs/recording-format.md). */
#define SYMDUMP_CHUNK		65536u		/* symbols per record */
#define SYMDUMP_MAX_BYTES	(64ull << 20)	/* all tables of a recording */

struct symdump_stats {
	u64 jit;		/* JIT entries saved */
	u64 modules;		/* modules whose symbols were saved */
	u64 syms;		/* module symbols saved */
	u64 bytes;		/* payload bytes of both */
	bool cut;		/* SYMDUMP_MAX_BYTES was reached: tables incomplete */
};

/* Writes the tables at the end of a recording. 0 or -errno (the first
 * write error, or -ENOMEM). */
int symdump_write(struct rec_writer *w, u64 time, struct symtab *st,
		  const struct stackdb *stacks, struct symdump_stats *stats);

#endif
