// SPDX-License-Identifier: MIT
/* Two recordings' sites, matched by frame names and sorted by change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff.h"
#include "report/formats.h"

char *diff_site_key(const struct ml_site *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (u32 i = 0; i < s->nframes; i++) {
		const struct ml_frame *fr = &s->frames[i];

		if (i)
			fputc(';', f);
		/* names only: an address differs between runs (ASLR) */
		if (fr->symbol)
			fputs(fr->symbol, f);
		else if (fr->module)
			fprintf(f, "%s+0x%llx", report_basename(fr->module),
				(unsigned long long)fr->offset);
		else
			fputs("[unknown]", f);
	}
	if (!s->nframes)
		fputs("[no stack]", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int cmp_key(const void *a, const void *b)
{
	const struct diff_site *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	/* old before new for the same key: merged in that order */
	return c ? c : (int)x->status - (int)y->status;
}

static int cmp_delta(const void *a, const void *b)
{
	const struct diff_site *x = a, *y = b;

	if (x->delta_bytes != y->delta_bytes)
		return x->delta_bytes > y->delta_bytes ? -1 : 1;
	return strcmp(x->key, y->key);
}

void diff_release(struct diff_result *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].key);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int diff_sites(const struct ml_result *old, const struct ml_result *new,
	       struct diff_result *out)
{
	size_t n = old->nsites + new->nsites, k = 0, m = 0;
	struct diff_site *v;

	memset(out, 0, sizeof(*out));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* one entry per site, tagged by side (GONE: old, NEW: new) */
	for (size_t i = 0; i < n; i++) {
		bool is_old = i < old->nsites;
		const struct ml_site *s = is_old ? &old->sites[i] :
					  &new->sites[i - old->nsites];

		v[i].key = diff_site_key(s);
		if (!v[i].key) {
			out->v = v;
			out->n = i;
			diff_release(out);
			return -ENOMEM;
		}
		v[i].site = s;
		v[i].status = is_old ? DIFF_GONE : DIFF_NEW;
		if (is_old)
			v[i].bytes_old = report_site_committed(s);
		else
			v[i].bytes_new = report_site_committed(s);
	}
	qsort(v, n, sizeof(*v), cmp_key);
	/* merge runs of one key */
	for (size_t i = 0; i < n; i = k) {
		struct diff_site d = v[i];
		bool in_old = false, in_new = false;

		d.bytes_old = d.bytes_new = 0;
		for (k = i; k < n && !strcmp(v[k].key, v[i].key); k++) {
			d.bytes_old += v[k].bytes_old;
			d.bytes_new += v[k].bytes_new;
			if (v[k].status == DIFF_GONE)
				in_old = true;
			else {
				in_new = true;
				d.site = v[k].site;
			}
			if (k > i)
				free(v[k].key);
		}
		d.status = in_old && in_new ? DIFF_BOTH : in_new ? DIFF_NEW : DIFF_GONE;
		d.delta_bytes = (s64)d.bytes_new - (s64)d.bytes_old;
		out->delta_bytes += d.delta_bytes;
		v[m++] = d;
	}
	qsort(v, m, sizeof(*v), cmp_delta);
	out->v = v;
	out->n = m;
	return 0;
}
