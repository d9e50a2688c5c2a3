/* SPDX-License-Identifier: MIT */
/* Private to src/report/: the formats and helpers they share. */
#ifndef MAPLEAK_REPORT_FORMATS_H
#define MAPLEAK_REPORT_FORMATS_H

#include "report/report.h"

int report_text_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o);
int report_json_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o);

/* "rw-", "---": PROT_* as in /proc/PID/maps. buf holds at least 4. */
const char *report_prot_str(u32 prot, char buf[4]);
/* "exit", "signal", "duration"; NULL for an unknown value. */
const char *report_stopped_by_name(u32 stopped_by);
/* The last path component ("/a/b.so" -> "b.so"); path itself if none. */
const char *report_basename(const char *path);
/* Sites shown under opts: min(top, nsites), all when top is 0. */
size_t report_nshown(const struct ml_result *r, const struct report_opts *o);
/* After output: flushes and turns a stream error into -errno. */
int report_finish(FILE *out);

#endif
