/* SPDX-License-Identifier: MIT */
/* A bounded, tolerant parser of /proc/PID/maps. */
#ifndef MAPLEAK_PROCMAPS_H
#define MAPLEAK_PROCMAPS_H

#include "mapleak.h"

struct maps_entry {
	u64 start, end, offset;
	u64 inode;
	u32 prot;		/* PROT_READ|PROT_WRITE|PROT_EXEC */
	u32 shared;		/* 's' in the perms field */
	u32 dev_major, dev_minor;
	char *path;		/* NULL when anonymous; "[heap]", "/memfd:x (deleted)"... */
};

/*
 * Parses maps text. Malformed lines are skipped and counted in *bad (may be
 * NULL). Returns 0 or -errno (-ENOMEM). *out is an array of *n entries,
 * freed with procmaps_free().
 */
int procmaps_parse(const char *buf, size_t len, struct maps_entry **out,
		   size_t *n, size_t *bad);
/* Reads /proc/PID/maps whole and parses it. -ENOENT/-ESRCH if gone. */
int procmaps_read(pid_t pid, struct maps_entry **out, size_t *n);
/* The same through an open /proc/PID directory (immune to pid reuse). */
int procmaps_read_at(int procfd, struct maps_entry **out, size_t *n);
void procmaps_free(struct maps_entry *e, size_t n);

#endif
