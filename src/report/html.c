// SPDX-License-Identifier: MIT
/*
 * One self-contained HTML page: an interactive flame graph of live bytes
 * per stack (hover: bytes, mappings, resident; click: zoom; search:
 * highlight), the report's header, and each site's growth over time. The
 * page (src/report/flamegraph.html, hand-written, no library, no network)
 * is compiled in; the data goes where it says MAPLEAK_DATA, as JSON that
 * cannot end the <script> block whatever the target named its functions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/formats.h"
#include "report/intern.h"
#include "report/flamegraph-html.h"

#define MARKER "/*MAPLEAK_DATA*/null"
#define GROWTH_POINTS 120	/* per site: enough for a sparkline */

/* The text report's header, notes and one-line summary of the top sites
 * (everything before its second blank line), so the page says first what
 * the terminal says first. */
static json_t *header_lines(const struct ml_result *r)
{
	struct report_opts one = { .top = 1 };
	json_t *a = json_array();
	char *buf = NULL, *line, *end;
	size_t len = 0;
	int blanks = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m || !a) {
		if (m)
			fclose(m);
		json_decref(a);
		return NULL;
	}
	report_text_emit(m, r, &one);
	fclose(m);
	for (line = buf; line && line < buf + len; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = buf + len;
		*end = '\0';
		if (!*line && ++blanks == 2)
			break;
		if (json_array_append_new(a, report_json_str(line)))
			break;
	}
	free(buf);
	return a;
}

struct tpoint {
	u64 t, bytes;
};

static int cmp_tpoint(const void *a, const void *b)
{
	const struct tpoint *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/*
 * [[seconds, bytes], ...]: how the site's committed bytes that are still
 * live grew, from the time each region got its origin. Memory mapped and
 * unmapped again meanwhile is not in it (the replay keeps only what
 * lives at the end; a full timeline is the timeline issue's work).
 */
static json_t *growth(const struct ml_result *r, const struct ml_site *s)
{
	struct tpoint *p = calloc(s->nregions ? s->nregions : 1, sizeof(*p));
	json_t *a = json_array();
	size_t n = 0, i, step;
	u64 sum = 0;

	if (!p || !a)
		goto fail;
	for (i = 0; i < s->nregions; i++) {
		const struct ml_region *g = &s->regions[i];

		if (!g->prot)
			continue;
		p[n].t = g->time > r->target.start_time ? g->time - r->target.start_time : 0;
		p[n++].bytes = g->end - g->start;
	}
	qsort(p, n, sizeof(*p), cmp_tpoint);
	step = n / GROWTH_POINTS + 1;
	for (i = 0; i < n; i++) {
		sum += p[i].bytes;
		if ((i + 1) % step && i + 1 != n)
			continue;
		json_t *pt = json_pack("[f, I]", (double)p[i].t / 1e9, (json_int_t)sum);

		if (json_array_append_new(a, pt))
			goto fail;
	}
	free(p);
	return a;
fail:
	free(p);
	json_decref(a);
	return NULL;
}

static int frame_index(struct intern *t, json_t *frames, const struct ml_frame *f,
		       const char *name, u32 *idx)
{
	const char *mod = f ? report_basename(f->module) : NULL;
	char *key, where[REPORT_NAME_MAX] = "";
	bool added;
	int err;

	if (f && f->file && f->line)
		snprintf(where, sizeof(where), "%s:%u", f->file, f->line);
	else if (f && f->file)
		snprintf(where, sizeof(where), "%s", f->file);
	if (asprintf(&key, "%s\037%s\037%s", name, mod ? mod : "", where) < 0)
		return -ENOMEM;
	err = intern_put(t, key, idx, &added);
	free(key);
	if (err || !added)
		return err;
	if (json_array_append_new(frames, json_pack("{s:o, s:o, s:o, s:s}",
			"n", report_json_str(name), "m", report_json_str(mod),
			"f", report_json_str(where[0] ? where : NULL),
			"k", report_frame_kind_name(f ? f->kind : ML_FK_UNKNOWN))))
		return -ENOMEM;
	return 0;
}

static json_t *site_json(const struct ml_result *r, const struct ml_site *s,
			 struct intern *t, json_t *frames)
{
	json_t *st = json_array(), *o;
	char name[REPORT_NAME_MAX];
	u32 idx;
	int err = st ? 0 : -ENOMEM;

	if (!err && r->by_thread &&
	    !(err = frame_index(t, frames, NULL,
				report_thread_name(s->tid, name, sizeof(name)), &idx)))
		err = json_array_append_new(st, json_integer(idx));
	for (u32 k = s->nframes; !err && k-- > 0;)
		if (!(err = frame_index(t, frames, &s->frames[k],
					report_frame_name(&s->frames[k], name, sizeof(name)),
					&idx)))
			err = json_array_append_new(st, json_integer(idx));
	if (!err && !s->nframes &&
	    !(err = frame_index(t, frames, NULL, "[no stack]", &idx)))
		err = json_array_append_new(st, json_integer(idx));
	if (err) {
		json_decref(st);
		return NULL;
	}
	o = json_pack("{s:o, s:I, s:I, s:o, s:I, s:o, s:f, s:o}",
		      "s", st, "b", (json_int_t)report_site_committed(s),
		      "r", (json_int_t)s->reserved_bytes,
		      "res", s->resident_known ? json_integer((json_int_t)s->resident_bytes) :
						 json_null(),
		      "m", (json_int_t)s->mappings, "l", report_json_str(s->label),
		      "t0", (double)s->first_time / 1e9, "g", growth(r, s));
	if (o && r->by_thread)
		json_object_set_new(o, "tid", json_integer(s->tid));
	/* the site's live bytes over the whole recording, what was unmapped
	 * meanwhile included (track/timeline.h), and its growth rate */
	if (o && s->ntimeline) {
		json_t *tl = json_array();

		for (size_t i = 0; tl && i < s->ntimeline; i++)
			if (json_array_append_new(tl, json_pack("[f, I]", s->timeline[i].seconds,
								(json_int_t)s->timeline[i].bytes))) {
				json_decref(tl);
				tl = NULL;
			}
		if (!tl || json_object_set_new(o, "tl", tl) ||
		    json_object_set_new(o, "gr", json_real(s->growth_bytes_per_s))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *document(const struct ml_result *r, const struct report_opts *o)
{
	size_t i, ns = report_nshown(r, o);
	json_t *frames = json_array(), *sites = json_array(), *doc;
	struct intern t = { 0 };
	char *title = NULL;

	for (i = 0; frames && sites && i < ns; i++)
		if (json_array_append_new(sites, site_json(r, &r->sites[i], &t, frames)))
			break;
	intern_clear(&t);
	if (!frames || !sites || i < ns ||
	    asprintf(&title, "mapleak: pid %u %s", r->target.pid,
		     r->target.command ? r->target.command :
		     r->target.comm ? r->target.comm : "") < 0) {
		json_decref(frames);
		json_decref(sites);
		return NULL;
	}
	doc = json_pack("{s:o, s:o, s:f, s:b, s:I, s:I, s:I, s:o, s:o}",
			"title", report_json_str(title), "header", header_lines(r),
			"duration_s", r->duration_s, "by_thread", r->by_thread,
			"live_bytes", (json_int_t)(r->live_bytes - r->live_reserved_bytes),
			"reserved_bytes", (json_int_t)r->live_reserved_bytes,
			"sites_total", (json_int_t)r->nsites,
			"frames", frames, "sites", sites);
	free(title);
	return doc;
}

/* JSON text made safe inside <script>: "</script>", "<!--" and "]]>"
 * need '<' or '>', which become \u003c and \u003e ('&' too, for old
 * parsers); U+2028/2029 were escaped by JSON_ENSURE_ASCII. Every such
 * byte is inside a JSON string, where the escape means the same. */
static void put_script_json(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<' || *s == '>' || *s == '&')
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
}

int report_html_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o)
{
	const char *page = (const char *)flamegraph_html, *at;
	size_t len = flamegraph_html_len, mlen = strlen(MARKER);
	json_t *doc;
	char *text;

	at = memmem(page, len, MARKER, mlen);
	if (!at)
		return -EINVAL;	/* the build embedded a page without its marker */
	doc = document(r, o);
	if (!doc)
		return -ENOMEM;
	text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
			  JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	fwrite(page, 1, (size_t)(at - page), out);
	put_script_json(out, text);
	fwrite(at + mlen, 1, len - (size_t)(at - page) - mlen, out);
	free(text);
	return report_finish(out);
}
