// SPDX-License-Identifier: MIT
/* The table of output formats and what they share. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "report/formats.h"

static const struct report_ops formats[] = {
	{ "text", report_text_emit, false, false },
	{ "json", report_json_emit, false, false },
	{ "folded", report_folded_emit, false, true },
	{ "pprof", report_pprof_emit, true, true },
	{ "speedscope", report_speedscope_emit, false, true },
	{ "html", report_html_emit, false, true },
};

const char *report_format_names(void)
{
	return "text, json, folded, pprof, speedscope, html";
}

const struct report_ops *report_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

const char *report_human_size(u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	unsigned __int128 unit = 1024, tenths;
	size_t u;

	if (!buf || !len)
		return buf;
	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	/* the smallest unit whose rounded value stays below 1024.0, so
	 * 1048575 bytes reads "1.0 MiB", not "1024.0 KiB" */
	for (u = 0;; u++, unit *= 1024) {
		tenths = ((unsigned __int128)bytes * 10 + unit / 2) / unit;
		if (tenths < 10240 || u == ARRAY_SIZE(units) - 1)
			break;
	}
	snprintf(buf, len, "%llu.%u %s", (unsigned long long)(tenths / 10),
		 (unsigned)(tenths % 10), units[u]);
	return buf;
}

const char *report_frame_name(const struct ml_frame *f, char *buf, size_t len)
{
	const char *mod = report_basename(f->module);
	char *p;

	if (f->symbol)
		snprintf(buf, len, "%s", f->symbol);
	else if (mod && f->offset)
		snprintf(buf, len, "%s+0x%" PRIx64, mod, f->offset);
	else
		snprintf(buf, len, "0x%" PRIx64, f->pc);
	/* names come from the target: no line breaks, no terminal escapes */
	for (p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

json_t *report_json_str(const char *s)
{
	json_t *v;
	char *copy, *p;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

const char *report_thread_name(u32 tid, char *buf, size_t len)
{
	if (tid)
		snprintf(buf, len, "thread %u", tid);
	else
		snprintf(buf, len, "thread ?");
	return buf;
}

static int cmp_thread_bytes(const void *a, const void *b)
{
	const struct report_thread *x = a, *y = b;
	u64 cx = x->bytes - x->reserved_bytes, cy = y->bytes - y->reserved_bytes;

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

ssize_t report_thread_totals(const struct ml_result *r, struct report_thread **out)
{
	struct report_thread *t;
	size_t n = 0, i, k;

	*out = NULL;
	if (!r->nsites)
		return 0;
	t = calloc(r->nsites, sizeof(*t));	/* at most one thread per site */
	if (!t)
		return -ENOMEM;
	for (i = 0; i < r->nsites; i++) {
		const struct ml_site *s = &r->sites[i];

		for (k = 0; k < n && t[k].tid != s->tid; k++)
			;
		if (k == n)
			t[n++].tid = s->tid;
		t[k].bytes += s->bytes;
		t[k].reserved_bytes += s->reserved_bytes;
		t[k].mappings += s->mappings;
		t[k].sites++;
	}
	qsort(t, n, sizeof(*t), cmp_thread_bytes);
	*out = t;
	return (ssize_t)n;
}

const char *report_frame_kind_name(u32 kind)
{
	switch (kind) {
	case ML_FK_NATIVE:	return "native";
	case ML_FK_JIT:		return "jit";
	case ML_FK_R2R:		return "r2r";
	case ML_FK_STUB:	return "stub";
	case ML_FK_KERNEL:	return "kernel";
	case ML_FK_GAP:		return "gap";
	default:		return "unknown";
	}
}

const char *report_prot_str(u32 prot, char buf[4])
{
	buf[0] = (prot & PROT_READ) ? 'r' : '-';
	buf[1] = (prot & PROT_WRITE) ? 'w' : '-';
	buf[2] = (prot & PROT_EXEC) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

const char *report_stopped_by_name(u32 stopped_by)
{
	switch (stopped_by) {
	case ML_STOP_EXIT:	return "exit";
	case ML_STOP_SIGNAL:	return "signal";
	case ML_STOP_DURATION:	return "duration";
	default:		return NULL;
	}
}

const char *report_basename(const char *path)
{
	const char *s;

	if (!path)
		return NULL;
	s = strrchr(path, '/');
	/* "/memfd:x" keeps its name; a trailing slash keeps the whole path */
	return (s && s[1]) ? s + 1 : path;
}

size_t report_nshown(const struct ml_result *r, const struct report_opts *o)
{
	/* the runtime's own sites, when apart, are last and not ranked */
	size_t ranked = r->nsites - (r->runtime_apart ? r->nruntime : 0);

	if (!o || !o->top || o->top >= ranked)
		return ranked;
	return o->top;
}

int report_finish(FILE *out)
{
	errno = 0;
	if (fflush(out) || ferror(out))
		return -(errno ? errno : EIO);
	return 0;
}
