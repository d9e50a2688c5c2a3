// SPDX-License-Identifier: MIT
/*
 * The default, human format: a short header with the totals and what may
 * make them wrong, then the sites ranked by committed bytes, each with its
 * stack innermost first (the habit of perf report and valgrind).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/formats.h"
#include "report/frame-fmt.h"
#include "track/stacks.h"
#include "util.h"

#define HS 32	/* room for report_human_size() */

/* Every string from the recording (names, paths, labels, the command
 * line, notes) is the target's: escaped, never written raw. */
static void put(FILE *out, const char *s)
{
	ml_fputs_esc(s, out);
}

/* pre, then s escaped */
static void put2(FILE *out, const char *pre, const char *s)
{
	fputs(pre, out);
	ml_fputs_esc(s, out);
}

static void print_region(FILE *out, const struct ml_result *r,
			 const struct ml_region *g, const struct ml_region_info *ri)
{
	char hs[HS], prot[4];
	u64 t = g->time > r->target.start_time ? g->time - r->target.start_time : 0;

	fprintf(out, "    0x%" PRIx64 "-0x%" PRIx64 " %s %10s",
		g->start, g->end, report_prot_str(g->prot, prot),
		report_human_size(g->end - g->start, hs, sizeof(hs)));
	if (!(g->flags & ML_RF_BASELINE))
		fprintf(out, "  +%.1fs", (double)t / 1e9);
	else if (g->flags & ML_RF_RECONCILED)
		fputs("  (found when reconciling)", out);
	/* what it is, then its file (an [anon:NAME] label is its path) */
	if (ri && ri->label)
		put2(out, "  ", ri->label);
	if (ri && ri->path && (!ri->label || strcmp(ri->label, ri->path)))
		put2(out, "  ", ri->path);
	fputc('\n', out);
}

static void print_header(FILE *out, const struct ml_result *r)
{
	char a[HS], b[HS];
	const char *stop = r->have_end ? report_stopped_by_name(r->end.stopped_by) : NULL;
	u32 pid = r->target.pid;

	if (r->have_target) {
		fprintf(out, "target:   pid %u '", pid);
		put(out, r->target.command ? r->target.command :
		    r->target.comm ? r->target.comm : "?");
		fputs("'\n", out);
	}
	else
		fputs("target:   unknown (no target record)\n", out);
	fprintf(out, "recorded: %.1fs", r->duration_s);
	if (!r->have_end)
		fputs(", did not finish", out);
	else if (stop && r->end.stopped_by == ML_STOP_EXIT)
		fputs(", until the target exited", out);
	else if (stop)
		fprintf(out, ", stopped by %s", stop);
	fprintf(out, "; %llu events, %llu lost\n", (unsigned long long)r->events,
		(unsigned long long)r->lost);

	fprintf(out, "live:     %s in %llu mappings",
		report_human_size(r->live_bytes - r->live_reserved_bytes, a, sizeof(a)),
		(unsigned long long)r->live_mappings);
	if (r->live_reserved_bytes)
		fprintf(out, " + %s reserved (PROT_NONE)",
			report_human_size(r->live_reserved_bytes, b, sizeof(b)));
	fputs(", mapped since tracing began and never unmapped\n", out);
	{
		/* Runtimes reserve address space by the tens of GiB: say how
		 * much of the baseline is only reserved, or it looks alarming. */
		u64 reserved = 0;

		for (size_t i = 0; i < r->nbaseline; i++)
			if (r->baseline[i].prot == 0)
				reserved += r->baseline[i].end - r->baseline[i].start;
		fprintf(out, "baseline: %s in %llu mappings",
			report_human_size(r->baseline_bytes - reserved, a, sizeof(a)),
			(unsigned long long)r->baseline_mappings);
		if (reserved)
			fprintf(out, " + %s reserved (PROT_NONE)",
				report_human_size(reserved, a, sizeof(a)));
		fputs(", mapped before tracing began\n", out);
	}

	if (r->nruntime) {
		/* the runtime's own memory (GC heap, its threads...), apart
		 * like the baseline: the program's leak ranks first */
		fprintf(out, "runtime:  %s in %llu mappings",
			report_human_size(r->runtime_bytes - r->runtime_reserved_bytes,
					  a, sizeof(a)),
			(unsigned long long)r->runtime_mappings);
		if (r->runtime_reserved_bytes)
			fprintf(out, " + %s reserved",
				report_human_size(r->runtime_reserved_bytes, b, sizeof(b)));
		fprintf(out, ", %zu site%s of the runtime's own (GC heap...)%s\n",
			r->nruntime, r->nruntime == 1 ? "" : "s",
			r->runtime_apart ? ", not ranked (--include-runtime)" :
			", ranked with the rest");
	}

	if (!r->have_check)
		fprintf(out, "check:    not done%s\n",
			r->have_end && !r->end.target_alive ?
			" (target exited before the end)" : "");
	else if (!r->check.missing_pages && !r->check.extra_pages &&
		 !r->check.prot_mismatch_pages)
		fprintf(out, "check:    live set + baseline match /proc/%u/maps exactly (%llu pages)\n",
			pid, (unsigned long long)r->check.kernel_pages);
	else {
		fprintf(out, "check:    MISMATCH with /proc/%u/maps (%llu kernel pages, %llu modeled):",
			pid, (unsigned long long)r->check.kernel_pages,
			(unsigned long long)r->check.model_pages);
		if (r->check.missing_pages)
			fprintf(out, " %llu pages not seen mapped (first 0x%" PRIx64 ");",
				(unsigned long long)r->check.missing_pages,
				r->check.first_missing);
		if (r->check.extra_pages)
			fprintf(out, " %llu pages not seen unmapped (first 0x%" PRIx64 ");",
				(unsigned long long)r->check.extra_pages,
				r->check.first_extra);
		if (r->check.prot_mismatch_pages)
			fprintf(out, " %llu pages with another protection;",
				(unsigned long long)r->check.prot_mismatch_pages);
		fputs(" sizes below may be off by that much\n", out);
	}

	if (r->lost) {
		fprintf(out, "WARNING:  %llu events LOST (ring buffer full): ",
			(unsigned long long)r->lost);
		if (r->reconciles)
			fprintf(out, "the live set was reconciled with /proc/%u/maps %u time%s (%llu pages corrected); memory whose mapping was missed counts as baseline, so sites may be understated\n",
				pid, r->reconciles, r->reconciles == 1 ? "" : "s",
				(unsigned long long)r->reconciled_pages);
		else
			fputs("no reconciliation was possible (the target was gone); sites may miss mappings or keep some that were unmapped\n", out);
	}
}

#define SUMMARY_SITES	5
#define SUMMARY_FRAMES	6

/* "  growth: ▁▂▃▅▇ +1.0 MiB/s (42 calls)": the live bytes over the recording
 * in 20 cells, and the least-squares rate. */
static void print_growth(FILE *out, const struct ml_site *s)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					    "\u2585", "\u2586", "\u2587", "\u2588" };
	enum { CELLS = 20 };
	double rate = s->growth_bytes_per_s;
	s64 max = 0;
	char buf[HS];

	if (!s->ntimeline)
		return;
	for (size_t i = 0; i < s->ntimeline; i++)
		if (s->timeline[i].bytes > max)
			max = s->timeline[i].bytes;
	fputs("  growth: ", out);
	for (size_t c = 0; c < CELLS; c++) {
		/* the point at the end of the cell's span */
		size_t i = (c + 1) * (s->ntimeline - 1) / CELLS;
		s64 v = s->timeline[i].bytes;

		fputs(v <= 0 || max <= 0 ? " " : bars[(size_t)((v * 7 + max - 1) / max)], out);
	}
	/* under a byte a second is flat: no sign (not "-0 B/s") */
	fprintf(out, " %s%s/s, %llu call%s\n",
		rate <= -1 ? "-" : rate >= 1 ? "+" : "",
		report_human_size((u64)(rate < 0 ? -rate : rate), buf, sizeof(buf)),
		(unsigned long long)s->calls, s->calls == 1 ? "" : "s");
}

/*
 * The answer first: one line per top site, "SIZE in N mappings, held by
 * caller <- its caller <- ...", the program's own frames nearest the
 * mapping (report_headline()), so the leak reads at a glance; the full
 * stacks follow.
 */
static void print_summary(FILE *out, const struct ml_result *r, size_t shown)
{
	char a[HS];

	if (!shown)
		return;
	fputc('\n', out);
	for (size_t i = 0; i < shown && i < SUMMARY_SITES; i++) {
		const struct ml_site *s = &r->sites[i];
		u32 idx[SUMMARY_FRAMES];
		bool more;
		size_t n = report_headline(s, idx, SUMMARY_FRAMES, &more);

		fprintf(out, "#%zu %s in %llu mapping%s, held by ", i + 1,
			report_human_size(s->bytes - s->reserved_bytes, a, sizeof(a)),
			(unsigned long long)s->mappings, s->mappings == 1 ? "" : "s");
		if (s->nframes == 0)
			fputs("(no stack)", out);
		for (size_t k = 0; k < n; k++) {
			if (k)
				fputs(" <- ", out);
			frame_fmt_text(out, &s->frames[idx[k]], FRAME_FMT_SHORT);
		}
		if (more)
			fputs(" <- ...", out);
		if (s->label) {
			put2(out, "  [", s->label);
			fputc(']', out);
		}
		fputc('\n', out);
	}
}

#define VARIANTS_SHOWN	6

/* "3 variants: QuickJitted: 20.0 MiB (stack 4), OptimizedTier1 at #2:
 * ...": the stacks merged into s (report/group.c), largest first. */
static void print_variants(FILE *out, const struct ml_site *s)
{
	char a[HS];
	size_t i;

	if (s->nvariants < 2)
		return;
	fprintf(out, "  %zu variants:", s->nvariants);
	for (i = 0; i < s->nvariants && i < VARIANTS_SHOWN; i++) {
		const struct ml_site_variant *v = &s->variants[i];

		fputs(i ? ", " : " ", out);
		if (v->differs && *v->differs)
			put2(out, "", v->differs), fputs(": ", out);
		fprintf(out, "%s (stack %u%s)",
			report_human_size(v->bytes - v->reserved_bytes, a, sizeof(a)),
			v->stack_id, v->stack_flags & (ML_SF_TRUNCATED | ML_SF_UNWIND_ERR) ?
			", cut short" : "");
	}
	if (i < s->nvariants)
		fprintf(out, ", and %zu more", s->nvariants - i);
	fputc('\n', out);
}

#define RUNTIME_SHOWN	5

/* The runtime's own sites, apart: one line each, as in the summary. */
static void print_runtime(FILE *out, const struct ml_result *r, size_t ranked)
{
	char a[HS], b[HS];
	size_t i;

	fputs("\nthe runtime's own memory, not ranked (--include-runtime ranks it):\n", out);
	for (i = ranked; i < r->nsites && i < ranked + RUNTIME_SHOWN; i++) {
		const struct ml_site *s = &r->sites[i];
		u32 idx[SUMMARY_FRAMES];
		bool more;
		size_t n = report_headline(s, idx, SUMMARY_FRAMES, &more);

		fprintf(out, "  %s in %llu mapping%s",
			report_human_size(s->bytes - s->reserved_bytes, a, sizeof(a)),
			(unsigned long long)s->mappings, s->mappings == 1 ? "" : "s");
		if (s->reserved_bytes)
			fprintf(out, " + %s reserved",
				report_human_size(s->reserved_bytes, b, sizeof(b)));
		if (s->label)
			put2(out, " \u2014 ", s->label);
		fputs(", held by ", out);
		if (!n)
			fputs("(no stack)", out);
		for (size_t k = 0; k < n; k++) {
			if (k)
				fputs(" <- ", out);
			frame_fmt_text(out, &s->frames[idx[k]], FRAME_FMT_SHORT);
		}
		if (more)
			fputs(" <- ...", out);
		fputc('\n', out);
	}
	if (i < r->nsites)
		fprintf(out, "  ... and %zu more\n", r->nsites - i);
}

/* --group-by thread: what each thread holds, before the sites. */
static void print_threads(FILE *out, const struct ml_result *r)
{
	struct report_thread *t;
	ssize_t n = report_thread_totals(r, &t);
	char a[HS], b[HS];

	if (n <= 0)
		return;
	fputs("\nthreads:\n", out);
	for (ssize_t i = 0; i < n; i++) {
		fprintf(out, "  thread %-8u %10s", t[i].tid,
			report_human_size(t[i].bytes - t[i].reserved_bytes, a, sizeof(a)));
		if (t[i].reserved_bytes)
			fprintf(out, " + %s reserved",
				report_human_size(t[i].reserved_bytes, b, sizeof(b)));
		fprintf(out, " in %llu mapping%s, %zu site%s\n",
			(unsigned long long)t[i].mappings, t[i].mappings == 1 ? "" : "s",
			t[i].sites, t[i].sites == 1 ? "" : "s");
	}
	free(t);
}

void report_site_headline(FILE *out, const struct ml_frame *frames, u32 nframes)
{
	struct ml_site s = { .frames = (struct ml_frame *)frames, .nframes = nframes };
	u32 idx[SUMMARY_FRAMES];
	bool more;
	size_t n = report_headline(&s, idx, SUMMARY_FRAMES, &more);

	if (nframes == 0)
		fputs("(no stack)", out);
	for (size_t k = 0; k < n; k++) {
		if (k)
			fputs(" <- ", out);
		frame_fmt_text(out, &frames[idx[k]], FRAME_FMT_SHORT);
	}
	if (more)
		fputs(" <- ...", out);
}

int report_text_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o)
{
	size_t i, shown = report_nshown(r, o);
	size_t ranked = r->nsites - (r->runtime_apart ? r->nruntime : 0);
	bool regions = o && o->regions;
	bool exited = r->have_end && !r->end.target_alive;
	char a[HS], b[HS];
	u32 k;

	print_header(out, r);
	for (i = 0; i < r->nnotes; i++)
		put2(out, "note:     ", r->notes[i]), fputc('\n', out);
	print_summary(out, r, shown);
	if (r->by_thread)
		print_threads(out, r);

	if (!r->nsites)
		fputs("\nno live mappings: everything mapped since tracing began was unmapped\n", out);
	else if (!ranked)
		fputs("\nno live mappings of the program's own: only the runtime's, below\n", out);
	for (i = 0; i < shown; i++) {
		const struct ml_site *s = &r->sites[i];

		fprintf(out, "\n#%zu  %s in %llu mapping%s", i + 1,
			report_human_size(s->bytes - s->reserved_bytes, a, sizeof(a)),
			(unsigned long long)s->mappings, s->mappings == 1 ? "" : "s");
		if (s->reserved_bytes)
			fprintf(out, " + %s reserved",
				report_human_size(s->reserved_bytes, b, sizeof(b)));
		if (s->resident_known)
			fprintf(out, ", resident %s",
				report_human_size(s->resident_bytes, b, sizeof(b)));
		else
			fprintf(out, ", resident n/a%s", exited ? " (target exited)" : "");
		if (s->first_time == s->last_time)
			fprintf(out, ", at +%.1fs", (double)s->first_time / 1e9);
		else
			fprintf(out, ", +%.1fs..+%.1fs", (double)s->first_time / 1e9,
				(double)s->last_time / 1e9);
		if (s->label)
			put2(out, " \u2014 ", s->label);
		if (r->by_thread)
			fprintf(out, ", thread %u", s->tid);
		if (s->runtime)
			fputs(", runtime", out);
		fputc('\n', out);
		print_growth(out, s);
		print_variants(out, s);
		if (!s->nframes)
			fprintf(out, "  (no stack recorded, stack id %u)\n", s->stack_id);
		for (k = 0; k < s->nframes; k++) {
			fprintf(out, "  #%u ", k);
			frame_fmt_text(out, &s->frames[k], FRAME_FMT_STACK);
			fputc('\n', out);
		}
		if (s->stack_flags & (ML_SF_TRUNCATED | ML_SF_UNWIND_ERR))
			fprintf(out, "  ... (stack %s)\n", s->stack_flags & ML_SF_TRUNCATED ?
				"truncated" : "unwinding stopped on an error");
		if (regions) {
			fputs("  regions:\n", out);
			for (k = 0; k < s->nregions; k++)
				print_region(out, r, &s->regions[k],
					     s->rinfo ? &s->rinfo[k] : NULL);
		}
	}

	if (shown < ranked) {
		u64 rest = 0, rest_res = 0;

		for (i = shown; i < ranked; i++) {
			rest += r->sites[i].bytes - r->sites[i].reserved_bytes;
			rest_res += r->sites[i].reserved_bytes;
		}
		fprintf(out, "\n... and %zu more site%s holding %s", ranked - shown,
			ranked - shown == 1 ? "" : "s",
			report_human_size(rest, a, sizeof(a)));
		if (rest_res)
			fprintf(out, " + %s reserved",
				report_human_size(rest_res, b, sizeof(b)));
		fputs("; use --top 0\n", out);
	}

	if (r->runtime_apart && r->nruntime)
		print_runtime(out, r, ranked);

	if (regions && r->nbaseline) {
		fputs("\nbaseline regions:\n", out);
		for (i = 0; i < r->nbaseline; i++)
			print_region(out, r, &r->baseline[i],
				     r->baseline_rinfo ? &r->baseline_rinfo[i] : NULL);
	}
	return report_finish(out);
}
