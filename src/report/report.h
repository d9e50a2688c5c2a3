/* SPDX-License-Identifier: MIT */
/* Output formats behind one small ops table. */
#ifndef MAPLEAK_REPORT_H
#define MAPLEAK_REPORT_H

#include <stdio.h>

#include "report/analysis.h"

struct report_opts {
	u32 top;		/* sites to show; 0 = all */
	bool regions;		/* list regions per site and the baseline's */
};

struct report_ops {
	const char *name;
	int (*emit)(FILE *out, const struct ml_result *r,
		    const struct report_opts *o);
	bool binary;		/* not for a terminal (pprof is gzip) */
	bool all_sites;		/* a profile: every site unless --top is given */
};

/* The format names, "text, json, ..." (for usage and errors). */
const char *report_format_names(void);

/* NULL when no format has that name. */
const struct report_ops *report_find(const char *name);

/* "1.0 GiB", "512 KiB", "12 B": human sizes, into buf. */
const char *report_human_size(u64 bytes, char *buf, size_t len);

/* "f (prog, a.c:12) <- main (prog, a.c:30)": who holds a site, in one
 * line (libc innards and thread entry points left out), as the report's
 * summary and mapleak top show it. Frames innermost first. */
void report_site_headline(FILE *out, const struct ml_frame *frames, u32 nframes);

/* --group-by thread: what each thread holds, largest first. */
struct report_thread {
	u32 tid;
	u64 bytes, reserved_bytes, mappings;
	size_t sites;
};
/* *out gets one entry per thread of r's sites (r->by_thread), or NULL;
 * returns the count, or -ENOMEM. Free *out with free(). */
ssize_t report_thread_totals(const struct ml_result *r, struct report_thread **out);

/* "mmap_allocation", "[unknown]" and kind names shared by formats. */
const char *report_frame_kind_name(u32 kind);

#endif
