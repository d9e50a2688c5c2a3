/* SPDX-License-Identifier: MIT */
/*
 * Names addresses from a recording alone (mapleak resolve -i), the target
 * long gone: the FRAME records name every pc of every recorded stack
 * (file:line included); the JITSYMS and MODSYMS tables and the maps
 * snapshots name any other address inside JIT code or inside a module
 * that appears in a stack (symbol + offset, no file:line).
 */
#ifndef MAPLEAK_RECORD_RECSYMS_H
#define MAPLEAK_RECORD_RECSYMS_H

#include "record/record.h"

struct recsyms;

/* Reads the recording at path. 0, or as rec_read(): -EBADMSG (not a
 * recording), -ENODATA (cut short: what came before is kept and *out is
 * set), -ENOENT, -errno. st (may be NULL) says what was skipped. */
int recsyms_load(const char *path, struct recsyms **out,
		 struct rec_read_status *st);
/* As recsyms_load(), from a recording in memory (for the fuzz target). */
int recsyms_load_mem(const void *buf, size_t len, struct recsyms **out,
		     struct rec_read_status *st);
void recsyms_free(struct recsyms *rs);	/* NULL is a no-op */

/* The recording carries symbol tables (a mapleak that writes them made
 * it): without them only recorded stack pcs can be named. */
bool recsyms_has_tables(const struct recsyms *rs);
/* The pid recorded, 0 if unknown. */
u32 recsyms_pid(const struct recsyms *rs);

/*
 * Names pc as symtab_name() would have while the target was alive.
 * return_address: look up pc - 1 (the call, for addresses taken from a
 * stack). Fills out (release with ml_frame_release()). 0 or -ENOMEM.
 */
int recsyms_name(struct recsyms *rs, u64 pc, bool return_address,
		 struct ml_frame *out);

#endif
