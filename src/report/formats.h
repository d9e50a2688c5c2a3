/* SPDX-License-Identifier: MIT */
/* Private to src/report/: the formats and helpers they share. */
#ifndef MAPLEAK_REPORT_FORMATS_H
#define MAPLEAK_REPORT_FORMATS_H

#include <jansson.h>

#include "report/report.h"

int report_text_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o);
int report_json_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o);
int report_folded_emit(FILE *out, const struct ml_result *r,
		       const struct report_opts *o);
int report_pprof_emit(FILE *out, const struct ml_result *r,
		      const struct report_opts *o);
int report_speedscope_emit(FILE *out, const struct ml_result *r,
			   const struct report_opts *o);
int report_html_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o);

/* A site's live bytes without its PROT_NONE part: what the formats rank
 * and draw ("space"). */
static inline u64 report_site_committed(const struct ml_site *s)
{
	return s->bytes - s->reserved_bytes;
}

/*
 * One frame as a single name for profiles and flame graphs: the symbol,
 * "module+0xOFFSET" for a stripped module, "0xPC" when nothing is known.
 * Module, file and line go in the formats' own fields. Bytes that would
 * break a line-based format (control bytes) become '?'. Returns buf.
 */
const char *report_frame_name(const struct ml_frame *f, char *buf, size_t len);
#define REPORT_NAME_MAX 512	/* room for report_frame_name(), truncated */

/* Names come from binaries and may not be UTF-8, which jansson refuses:
 * the bytes that are not ASCII become '?' rather than lose the name.
 * NULL gives JSON null; NULL is returned only when out of memory. */
json_t *report_json_str(const char *s);

/* The pseudo-frame at the root of a site's stack with --group-by thread. */
const char *report_thread_name(u32 tid, char *buf, size_t len);

/* "rw-", "---": PROT_* as in /proc/PID/maps. buf holds at least 4. */
const char *report_prot_str(u32 prot, char buf[4]);
/* "exit", "signal", "duration"; NULL for an unknown value. */
const char *report_stopped_by_name(u32 stopped_by);
/* The last path component ("/a/b.so" -> "b.so"); path itself if none. */
const char *report_basename(const char *path);
/* Sites shown under opts: min(top, ranked sites), all ranked when top is
 * 0; the ranked sites are all but the runtime's when r->runtime_apart. */
size_t report_nshown(const struct ml_result *r, const struct report_opts *o);
/*
 * The headline of site s: indexes into s->frames of the program's frames
 * nearest the mapping, innermost first, at most max (report/headline.c).
 * Skipped: unnamed frames, syscall wrappers, libc and allocator innards,
 * a managed runtime's native code; the libc function the program called
 * is kept unless it is an allocator. Stops at the thread's entry; *more
 * tells that more frames would follow. With nothing of the program's (a
 * runtime's own work): that libc call and the first named frame past
 * libc; with only libc, its innermost named frame (or frame 0). Returns
 * how many (0: no frames).
 */
size_t report_headline(const struct ml_site *s, u32 *idx, size_t max,
		       bool *more);
/* The innermost frame of the program's own code (what report_headline()
 * does not skip, less the runtime's stubs), or -1: --group-by function
 * folds by it. */
int report_own_frame(const struct ml_site *s);
/* The runtime's own work: the stack (less an unnamed outer tail after a
 * walk that stopped early) is only
 * a managed runtime's native code, libc and allocators, with at least
 * one frame of the runtime. An unknown frame makes it the program's. */
bool report_runtime_stack(const struct ml_site *s);
/* After output: flushes and turns a stream error into -errno. */
int report_finish(FILE *out);

#endif
