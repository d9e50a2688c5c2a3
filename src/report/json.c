// SPDX-License-Identifier: MIT
/*
 * The JSON format: one document, a contract checked by outside tools.
 * Keys may be added, never renamed or dropped. Built with jansson so the
 * output is always valid JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/formats.h"
#include "report/frame-fmt.h"
#include "track/stacks.h"

/* Each adder returns 0 or -1 and frees the value either way, so a whole
 * object can be built with `bad |= ...` and checked once. */
static int set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(o, key, v);
}

static int append(json_t *a, json_t *v)
{
	if (!a || !v) {
		json_decref(v);
		return -1;
	}
	return json_array_append_new(a, v);
}

static json_t *j_u64(u64 v)
{
	/* JSON readers hold 64-bit signed at best; no size comes near this */
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *j_hex(u64 v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

static json_t *j_str(const char *s)
{
	return report_json_str(s);
}

static json_t *j_seconds(u64 rel_ns)
{
	return json_real((double)rel_ns / 1e9);
}

static json_t *regions_json(const struct ml_region *v,
			    const struct ml_region_info *ri, size_t n)
{
	json_t *a = json_array();
	char prot[4];
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		bad |= set(o, "start", j_hex(v[i].start));
		bad |= set(o, "size", j_u64(v[i].end - v[i].start));
		bad |= set(o, "prot", json_string(report_prot_str(v[i].prot, prot)));
		bad |= set(o, "label", j_str(ri ? ri[i].label : NULL));
		bad |= set(o, "path", j_str(ri ? ri[i].path : NULL));
		bad |= append(a, o);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* [[seconds_since_start, live_bytes], ...]; null by thread */
static json_t *timeline_json(const struct ml_site *s)
{
	json_t *a;
	int bad = 0;

	if (!s->ntimeline)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < s->ntimeline; i++) {
		json_t *p = json_array();

		bad |= append(p, json_real(s->timeline[i].seconds));
		bad |= append(p, json_integer(s->timeline[i].bytes));
		bad |= append(a, p);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* The stacks merged into a site, largest first (one when none merged). */
static json_t *variants_json(const struct ml_site *s)
{
	json_t *a = json_array();
	int bad = 0;

	for (size_t i = 0; i < s->nvariants; i++) {
		const struct ml_site_variant *v = &s->variants[i];
		json_t *o = json_object();

		bad |= set(o, "stack_id", json_integer(v->stack_id));
		bad |= set(o, "bytes", j_u64(v->bytes));
		bad |= set(o, "reserved_bytes", j_u64(v->reserved_bytes));
		bad |= set(o, "mappings", j_u64(v->mappings));
		bad |= set(o, "tiers", j_str(v->tiers && *v->tiers ? v->tiers : NULL));
		bad |= set(o, "differs", j_str(v->differs && *v->differs ? v->differs : NULL));
		bad |= set(o, "truncated", json_boolean(v->stack_flags & ML_SF_TRUNCATED));
		bad |= append(a, o);
	}
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *site_json(const struct ml_site *s, bool regions)
{
	json_t *o = json_object(), *frames = json_array();
	int bad = 0;
	u32 k;

	bad |= set(o, "stack_id", json_integer(s->stack_id));
	bad |= set(o, "bytes", j_u64(s->bytes));
	bad |= set(o, "reserved_bytes", j_u64(s->reserved_bytes));
	bad |= set(o, "resident_bytes",
		   s->resident_known ? j_u64(s->resident_bytes) : json_null());
	bad |= set(o, "mappings", j_u64(s->mappings));
	bad |= set(o, "label", j_str(s->label));
	bad |= set(o, "first_seen_s", j_seconds(s->first_time));
	bad |= set(o, "last_seen_s", j_seconds(s->last_time));
	bad |= set(o, "calls", j_u64(s->calls));
	bad |= set(o, "growth_bytes_per_s", s->ntimeline ?
		   json_real(s->growth_bytes_per_s) : json_null());
	bad |= set(o, "timeline", timeline_json(s));
	bad |= set(o, "truncated", json_boolean(s->stack_flags & ML_SF_TRUNCATED));
	bad |= set(o, "unwind_error", json_boolean(s->stack_flags & ML_SF_UNWIND_ERR));
	bad |= set(o, "runtime", json_boolean(s->runtime));
	bad |= set(o, "variants", variants_json(s));
	for (k = 0; k < s->nframes; k++)
		bad |= append(frames, frame_fmt_json(&s->frames[k]));
	bad |= set(o, "frames", frames);
	if (regions)
		bad |= set(o, "regions", regions_json(s->regions, s->rinfo, s->nregions));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *check_json(const struct ml_result *r)
{
	const struct ml_rec_check *c = &r->check;
	json_t *o;
	int bad = 0;

	if (!r->have_check)
		return json_null();
	o = json_object();
	bad |= set(o, "agree", json_boolean(!c->missing_pages && !c->extra_pages &&
					    !c->prot_mismatch_pages));
	bad |= set(o, "kernel_pages", j_u64(c->kernel_pages));
	bad |= set(o, "model_pages", j_u64(c->model_pages));
	bad |= set(o, "missing_pages", j_u64(c->missing_pages));
	bad |= set(o, "extra_pages", j_u64(c->extra_pages));
	bad |= set(o, "prot_mismatch_pages", j_u64(c->prot_mismatch_pages));
	bad |= set(o, "first_missing",
		   c->missing_pages ? j_hex(c->first_missing) : json_null());
	bad |= set(o, "first_extra",
		   c->extra_pages ? j_hex(c->first_extra) : json_null());
	bad |= set(o, "reconciled", json_integer(c->reconciled));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --group-by thread: [{tid, bytes, reserved_bytes, mappings, sites}] */
static json_t *threads_json(const struct ml_result *r)
{
	struct report_thread *t;
	ssize_t n = report_thread_totals(r, &t);
	json_t *a = n >= 0 ? json_array() : NULL;
	int bad = 0;

	for (ssize_t i = 0; a && i < n; i++) {
		json_t *o = json_object();

		bad |= set(o, "tid", json_integer(t[i].tid));
		bad |= set(o, "bytes", j_u64(t[i].bytes));
		bad |= set(o, "reserved_bytes", j_u64(t[i].reserved_bytes));
		bad |= set(o, "mappings", j_u64(t[i].mappings));
		bad |= set(o, "sites", j_u64(t[i].sites));
		bad |= append(a, o);
	}
	free(t);
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *document(const struct ml_result *r, const struct report_opts *opt)
{
	json_t *root = json_object(), *o, *a;
	const char *stop = r->have_end ? report_stopped_by_name(r->end.stopped_by) : NULL;
	bool regions = opt && opt->regions;
	size_t i, shown = report_nshown(r, opt);
	int bad = 0;

	o = json_object();
	bad |= set(o, "pid", json_integer(r->target.pid));
	/* keep the type a string for tools, even without a target record */
	bad |= set(o, "command", j_str(r->target.command ? r->target.command : ""));
	bad |= set(o, "comm", j_str(r->target.comm));
	bad |= set(o, "nspid", json_integer(r->target.nspid));
	bad |= set(root, "target", o);

	bad |= set(root, "duration_s", json_real(r->duration_s));
	bad |= set(root, "stopped_by", stop ? json_string(stop) : json_null());
	bad |= set(root, "target_alive", r->have_end ?
		   json_boolean(r->end.target_alive) : json_null());

	o = json_object();
	bad |= set(o, "total", j_u64(r->events));
	bad |= set(o, "lost", j_u64(r->lost));
	bad |= set(root, "events", o);

	o = json_object();
	bad |= set(o, "bytes", j_u64(r->baseline_bytes));
	bad |= set(o, "mappings", j_u64(r->baseline_mappings));
	bad |= set(root, "baseline", o);

	o = json_object();
	bad |= set(o, "bytes", j_u64(r->live_bytes));
	bad |= set(o, "mappings", j_u64(r->live_mappings));
	bad |= set(o, "reserved_bytes", j_u64(r->live_reserved_bytes));
	bad |= set(root, "live", o);

	/* the runtime's own memory: apart from "sites" unless "ranked" */
	o = json_object();
	bad |= set(o, "bytes", j_u64(r->runtime_bytes));
	bad |= set(o, "reserved_bytes", j_u64(r->runtime_reserved_bytes));
	bad |= set(o, "mappings", j_u64(r->runtime_mappings));
	bad |= set(o, "sites_total", j_u64(r->nruntime));
	bad |= set(o, "ranked", json_boolean(!r->runtime_apart));
	a = json_array();
	for (i = r->nsites - r->nruntime; r->runtime_apart && i < r->nsites; i++)
		bad |= append(a, site_json(&r->sites[i], regions));
	bad |= set(o, "sites", a);
	bad |= set(root, "runtime", o);

	bad |= set(root, "check", check_json(r));

	a = json_array();
	for (i = 0; i < r->nnotes; i++)
		bad |= append(a, j_str(r->notes[i]));
	bad |= set(root, "notes", a);

	if (r->by_thread)
		bad |= set(root, "threads", threads_json(r));
	bad |= set(root, "sites_total", j_u64(r->nsites));
	bad |= set(root, "sites_filtered", j_u64(r->filtered_sites));
	bad |= set(root, "folded_ops", j_u64(r->folded_ops));
	a = json_array();
	for (i = 0; i < shown; i++) {
		json_t *so = site_json(&r->sites[i], regions);

		if (r->by_thread)
			bad |= set(so, "tid", json_integer(r->sites[i].tid));
		bad |= append(a, so);
	}
	bad |= set(root, "sites", a);
	if (regions)
		bad |= set(root, "baseline_regions",
			   regions_json(r->baseline, r->baseline_rinfo, r->nbaseline));
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int report_json_emit(FILE *out, const struct ml_result *r,
		     const struct report_opts *o)
{
	json_t *doc = document(r, o);
	int err;

	if (!doc)
		return -ENOMEM;
	errno = 0;
	err = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			 JSON_REAL_PRECISION(15));
	json_decref(doc);
	if (err)
		return -(errno ? errno : EIO);
	fputc('\n', out);
	return report_finish(out);
}
