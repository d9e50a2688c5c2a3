// SPDX-License-Identifier: MIT
/*
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json,
 * checked in tests/data/): shared frames, then one "sampled" profile per
 * value, committed live bytes first, each sample a site's stack root
 * first weighted by its value. Built with jansson like the JSON format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/formats.h"
#include "report/intern.h"

enum { V_SPACE, V_MAPPINGS, V_RESIDENT, V_RESERVED, NVALUES };

static u64 value_of(const struct ml_site *s, int v)
{
	switch (v) {
	case V_SPACE:		return report_site_committed(s);
	case V_MAPPINGS:	return s->mappings;
	case V_RESIDENT:	return s->resident_known ? s->resident_bytes : 0;
	default:		return s->reserved_bytes;
	}
}

/* The frame's index in shared.frames, added when new. */
static int frame_index(struct intern *t, json_t *frames, const char *name,
		       const char *file, u32 line, u32 *idx)
{
	json_t *o;
	char *key;
	bool added;
	int err;

	if (asprintf(&key, "%s\037%s\037%u", name, file ? file : "", line) < 0)
		return -ENOMEM;
	err = intern_put(t, key, idx, &added);
	free(key);
	if (err || !added)
		return err;
	o = json_object();
	if (!o || json_object_set_new(o, "name", report_json_str(name)) ||
	    (file && json_object_set_new(o, "file", report_json_str(file))) ||
	    (file && line && json_object_set_new(o, "line", json_integer(line))) ||
	    json_array_append_new(frames, o))
		return -ENOMEM;
	return 0;
}

/* Each site's stack, root first, as frame indexes. */
static json_t *stacks(const struct ml_result *r, size_t ns, struct intern *t,
		      json_t *frames)
{
	json_t *all = json_array();
	char name[REPORT_NAME_MAX];
	u32 idx;

	for (size_t i = 0; all && i < ns; i++) {
		const struct ml_site *s = &r->sites[i];
		json_t *st = json_array();
		int err = st ? 0 : -ENOMEM;

		if (!err && r->by_thread &&
		    !(err = frame_index(t, frames, report_thread_name(s->tid, name, sizeof(name)),
					NULL, 0, &idx)))
			err = json_array_append_new(st, json_integer(idx));
		for (u32 k = s->nframes; !err && k-- > 0;) {
			const struct ml_frame *f = &s->frames[k];

			err = frame_index(t, frames, report_frame_name(f, name, sizeof(name)),
					  f->file ? f->file : f->module, f->line, &idx);
			if (!err)
				err = json_array_append_new(st, json_integer(idx));
		}
		if (!err && !s->nframes &&
		    !(err = frame_index(t, frames, "[no stack]", NULL, 0, &idx)))
			err = json_array_append_new(st, json_integer(idx));
		if (err || json_array_append_new(all, st)) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

int report_speedscope_emit(FILE *out, const struct ml_result *r,
			   const struct report_opts *o)
{
	static const char *const names[NVALUES] = { "live bytes", "mappings",
						    "resident bytes", "reserved bytes" };
	static const char *const units[NVALUES] = { "bytes", "none", "bytes", "bytes" };
	size_t i, ns = report_nshown(r, o);
	json_t *doc = json_object(), *frames = json_array(), *profiles = json_array();
	json_t *all = NULL, *shared = json_object();
	struct intern t = { 0 };
	char *title = NULL;
	int err = -ENOMEM;

	if (!doc || !frames || !profiles || !shared)
		goto out;
	all = stacks(r, ns, &t, frames);
	if (!all || asprintf(&title, "mapleak: pid %u %s", r->target.pid,
			     r->target.command ? r->target.command : "") < 0)
		goto out;
	for (int v = 0; v < NVALUES; v++) {
		json_t *p = json_object(), *samples = json_array(), *weights = json_array();
		char *pname = NULL;
		u64 total = 0;
		int bad = !p || !samples || !weights;

		for (i = 0; !bad && i < ns; i++) {
			u64 w = value_of(&r->sites[i], v);

			if (!w)
				continue;
			total += w;
			bad |= json_array_append(samples, json_array_get(all, i));
			bad |= json_array_append_new(weights, json_integer((json_int_t)w));
		}
		if (!bad && asprintf(&pname, "%s: %s", title, names[v]) < 0)
			bad = 1;
		bad = bad || json_object_set_new(p, "type", json_string("sampled")) ||
		      json_object_set_new(p, "name", report_json_str(pname)) ||
		      json_object_set_new(p, "unit", json_string(units[v])) ||
		      json_object_set_new(p, "startValue", json_integer(0)) ||
		      json_object_set_new(p, "endValue", json_integer((json_int_t)total));
		free(pname);
		if (bad || json_object_set(p, "samples", samples) ||
		    json_object_set(p, "weights", weights) ||
		    json_array_append(profiles, p)) {
			json_decref(p);
			json_decref(samples);
			json_decref(weights);
			goto out;
		}
		json_decref(p);
		json_decref(samples);
		json_decref(weights);
	}
	if (json_object_set_new(doc, "$schema",
				json_string("https://www.speedscope.app/file-format-schema.json")) ||
	    json_object_set(shared, "frames", frames) ||
	    json_object_set(doc, "shared", shared) ||
	    json_object_set(doc, "profiles", profiles) ||
	    json_object_set_new(doc, "name", report_json_str(title)) ||
	    json_object_set_new(doc, "activeProfileIndex", json_integer(0)) ||
	    json_object_set_new(doc, "exporter", json_string("mapleak " MAPLEAK_VERSION)))
		goto out;
	errno = 0;
	if (json_dumpf(doc, out, JSON_COMPACT | JSON_PRESERVE_ORDER)) {
		err = -(errno ? errno : EIO);
		goto out;
	}
	fputc('\n', out);
	err = report_finish(out);
out:
	free(title);
	intern_clear(&t);
	json_decref(all);
	json_decref(shared);
	json_decref(frames);
	json_decref(profiles);
	json_decref(doc);
	return err;
}
