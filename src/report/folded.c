// SPDX-License-Identifier: MIT
/*
 * Brendan Gregg's collapsed ("folded") stacks: one line per site, frames
 * root first joined by ';', a space, the site's live bytes. The input of
 * flamegraph.pl, inferno and speedscope. Reserved (PROT_NONE) bytes are
 * not drawn: a site holding only reservations has no line.
 */
#include <stdio.h>

#include "report/formats.h"

/* A ';' would split the frame in two; the format has no escape. */
static void put_name(FILE *out, const char *name)
{
	for (; *name; name++)
		fputc(*name == ';' ? ':' : *name, out);
}

int report_folded_emit(FILE *out, const struct ml_result *r,
		       const struct report_opts *o)
{
	size_t i, shown = report_nshown(r, o);
	char buf[REPORT_NAME_MAX];

	for (i = 0; i < shown; i++) {
		const struct ml_site *s = &r->sites[i];
		bool first = true;
		u32 k;

		if (!report_site_committed(s))
			continue;
		if (r->by_thread) {
			put_name(out, report_thread_name(s->tid, buf, sizeof(buf)));
			first = false;
		}
		for (k = s->nframes; k-- > 0; first = false) {
			if (!first)
				fputc(';', out);
			put_name(out, report_frame_name(&s->frames[k], buf, sizeof(buf)));
		}
		if (!s->nframes)
			fputs(first ? "[no stack]" : ";[no stack]", out);
		fprintf(out, " %llu\n", (unsigned long long)report_site_committed(s));
	}
	return report_finish(out);
}
