/* SPDX-License-Identifier: MIT */
/*
 * One frame written out, for every command that prints frames (report's
 * text and JSON, resolve): the same escaping of the target's strings and
 * the same JSON fields everywhere.
 */
#ifndef MAPLEAK_REPORT_FRAME_FMT_H
#define MAPLEAK_REPORT_FRAME_FMT_H

#include <stdio.h>

#include <jansson.h>

#include "mapleak.h"

/* How frame_fmt_text() lays a frame out; none ends the line. */
enum frame_fmt_style {
	/* a report stack line: "sym (module) file:line", managed code
	 * "sym [jit Tier, Assembly] file:line", "module+0xOFF (no symbol)",
	 * "0xPC [kind] (in /full/path)" */
	FRAME_FMT_STACK,
	/* the headline: "sym (module, file:line)", "sym" for managed code,
	 * "module+0xOFF", "0xPC" */
	FRAME_FMT_SHORT,
	/* resolve: "0xPC  sym+0xOFF  [managed kind tier, module]  file:line" */
	FRAME_FMT_ADDRESS,
};

/* JIT-compiled or precompiled methods (not runtime stubs). */
static inline bool frame_is_managed(const struct ml_frame *f)
{
	return f->kind == ML_FK_JIT || f->kind == ML_FK_R2R;
}

/* Writes f to out in style; names and paths escaped (ml_fputs_esc()).
 * A write error is left in out's error flag (report_finish() sees it). */
void frame_fmt_text(FILE *out, const struct ml_frame *f,
		    enum frame_fmt_style style);

/*
 * f as a JSON object: address ("0x..."), symbol, module, file, line,
 * kind, tier, offset (null when neither a symbol nor a module offset is
 * known), managed. Strings that are not UTF-8 are cleaned as
 * report_json_str() does, never refused. NULL only when out of memory.
 */
json_t *frame_fmt_json(const struct ml_frame *f);

#endif
