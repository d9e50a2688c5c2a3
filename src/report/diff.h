/* SPDX-License-Identifier: MIT */
/*
 * Two recordings compared site by site. Sites are matched by the names of
 * their frames (symbol, else module+offset), never by addresses, so two
 * runs of a program, or two hosts, compare; sites of one recording with
 * the same names are summed.
 */
#ifndef MAPLEAK_DIFF_H
#define MAPLEAK_DIFF_H

#include "report/analysis.h"

enum diff_status { DIFF_BOTH, DIFF_NEW, DIFF_GONE };

struct diff_site {
	char *key;			/* frame names, innermost first, ";" between */
	const struct ml_site *site;	/* NEW's site, else OLD's (borrowed) */
	u64 bytes_old, bytes_new;	/* committed live bytes */
	s64 delta_bytes;		/* bytes_new - bytes_old */
	enum diff_status status;
};

struct diff_result {
	size_t n;
	struct diff_site *v;		/* by delta_bytes, largest first */
	s64 delta_bytes;		/* over all sites */
};

/* Compares the sites of old and new (which must outlive the result).
 * 0 or -ENOMEM. */
int diff_sites(const struct ml_result *old, const struct ml_result *new,
	       struct diff_result *out);
void diff_release(struct diff_result *d);

/* The key of one site (malloc'd), or NULL when out of memory. */
char *diff_site_key(const struct ml_site *s);

#endif
