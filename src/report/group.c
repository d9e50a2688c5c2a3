// SPDX-License-Identifier: MIT
/*
 * The grouping pass after the sites are built: one leak, one site.
 *
 * analysis.c makes one site per recorded stack. A managed program's one
 * leak comes as many stacks: the same method jitted at several tiers or
 * code versions (and ReadyToRun code before), and walks that end in junk
 * (a frame-pointer walk through code without frame pointers reads data).
 * Here sites whose stacks have the same key are merged; the stacks stay
 * as the site's variants. The key, innermost frame first, up to the last
 * trustworthy frame (key_stack(): the outer frames known by address only,
 * or unnamed after a walk that stopped early, are the junk tail), and at
 * most up to the first async state machine step (async_step()):
 *   managed frame (JIT, R2R, stub) with a name -> its name, no tier, no module
 *   native frame with a name                -> module file name + symbol
 *   unnamed frame                           -> module file name + offset,
 *                                              else its address
 * --group-by function keys on the innermost frame of the program's own
 * code (report_own_frame(), the headline's rule), module on its module;
 * a site with none keeps the default key. Then the runtime's own memory
 * is marked and, unless asked, put after the ranked sites.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "report/analysis.h"
#include "report/formats.h"
#include "report/labels.h"
#include "track/stacks.h"

/* A growing string: the site keys. */
struct sbuf {
	char *s;
	size_t n, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3)))
static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0,
			      fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 256;

		while (ncap <= b->n + (size_t)n)
			ncap *= 2;
		char *ns = realloc(b->s, ncap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

/* Strings are length-prefixed: a name holding the separator cannot make
 * two different stacks one key. */
static void key_str(struct sbuf *b, char tag, const char *s)
{
	sb_addf(b, "%c%zu:%s", tag, s ? strlen(s) : 0, s ? s : "");
}

static bool is_managed(const struct ml_frame *f)
{
	return f->kind == ML_FK_JIT || f->kind == ML_FK_R2R || f->kind == ML_FK_STUB;
}

static void key_frame(struct sbuf *b, const struct ml_frame *f)
{
	const char *mod = report_basename(f->module);

	if (f->symbol && is_managed(f)) {
		key_str(b, 'M', f->symbol);
	} else if (f->symbol) {
		key_str(b, 'N', mod);
		key_str(b, 's', f->symbol);
	} else if (mod && f->offset) {
		key_str(b, 'O', mod);
		sb_addf(b, "+%" PRIx64, f->offset);
	} else {
		sb_addf(b, "P%" PRIx64, f->pc);
	}
	sb_addf(b, ";");
}

/*
 * An async state machine's step, "Ns.Type+<Method>d__12::MoveNext()" (C#
 * and F# compilers name them so): past it the stack says how the
 * continuation was scheduled (started inline by its caller, or resumed
 * on a pool thread), not who awaited it; one awaited call comes either
 * way, so the key ends there.
 */
static bool async_step(const struct ml_frame *f)
{
	const char *m = f->symbol && is_managed(f) ? strstr(f->symbol, "::MoveNext(") : NULL;
	const char *d;

	if (!m)
		return false;
	for (d = f->symbol; (d = strstr(d, ">d")) && d < m; d++)
		if (d[2] == '_' || d[2] == ':' || d[2] == '`')
			return true;
	return false;
}

/* A frame named by nothing but its address: no symbol, no module offset. */
static bool anonymous(const struct ml_frame *f)
{
	return !f->symbol && !(f->module && f->offset);
}

/* The default key: the frames up to the last trustworthy one. Unnamed
 * frames at the outer end are junk: any of them known by address only,
 * and after a walk that stopped early (truncated, unwind error) those
 * known by module offset too, past a named frame other than the first.
 * A stack with nothing left keeps them all. */
static u32 key_frames(const struct ml_site *s)
{
	bool cut_short = s->stack_flags & (ML_SF_TRUNCATED | ML_SF_UNWIND_ERR);
	u32 n = s->nframes, named = s->nframes;

	while (named > 0 && !s->frames[named - 1].symbol)
		named--;
	/* a walk cut short: its unnamed tail, unless that leaves only the
	 * syscall wrapper (a runtime's stripped frames are all it says) */
	if (cut_short && named >= 2)
		n = named;
	while (n > 0 && anonymous(&s->frames[n - 1]))
		n--;
	if (!n)
		n = s->nframes;
	for (u32 k = 0; k < n; k++)
		if (async_step(&s->frames[k]))
			return k + 1;
	return n;
}

static void key_stack(struct sbuf *b, const struct ml_site *s)
{
	u32 n = key_frames(s);

	for (u32 k = 0; k < n; k++)
		key_frame(b, &s->frames[k]);
}

static bool runtime_label(const char *l)
{
	return l && (!strcmp(l, LABEL_GC_RESERVE) || !strcmp(l, LABEL_GC_HEAP) ||
		     !strcmp(l, LABEL_GC_COMMIT));
}

static char *site_key(const struct ml_site *s, bool by_thread, unsigned flags)
{
	struct sbuf b = { 0 };
	int own;

	if (by_thread)
		sb_addf(&b, "T%u|", s->tid);
	/* the GC's memory never folds into the program's code that
	 * happened to allocate when the GC committed */
	if (runtime_label(s->label))
		sb_addf(&b, "G|");
	if (!s->nframes || (flags & ANALYSIS_GROUP_STACK)) {
		/* nothing to compare, or asked not to: the stack itself */
		sb_addf(&b, "S%u", s->stack_id);
		return b.oom ? (free(b.s), NULL) : b.s;
	}
	own = (flags & (ANALYSIS_GROUP_FUNCTION | ANALYSIS_GROUP_MODULE)) ?
	      report_own_frame(s) : -1;
	if (own >= 0 && (flags & ANALYSIS_GROUP_MODULE)) {
		const struct ml_frame *f = &s->frames[own];
		const char *m = report_basename(f->module);
		size_t len = m ? strlen(m) : 0;

		/* JIT code names its assembly "App", ReadyToRun code its file
		 * "App.dll": one module */
		if (is_managed(f) && len > 4 && (!strcmp(m + len - 4, ".dll") ||
						 !strcmp(m + len - 4, ".exe")))
			len -= 4;
		sb_addf(&b, "m%zu:%.*s", len, (int)len, m ? m : "");
	} else if (own >= 0) {
		sb_addf(&b, "F");
		key_frame(&b, &s->frames[own]);
	} else {
		sb_addf(&b, "K");
		key_stack(&b, s);
	}
	return b.oom ? (free(b.s), NULL) : b.s;
}

/* "QuickJitted+R2R": the tiers of the managed frames of s's key, in
 * frame order, each once. */
static char *site_tiers(const struct ml_site *s)
{
	struct sbuf b = { 0 };

	u32 n = key_frames(s);

	sb_addf(&b, "%s", "");
	for (u32 k = 0; k < n; k++) {
		const struct ml_frame *f = &s->frames[k];
		const char *t = f->kind == ML_FK_R2R ? "R2R" :
				f->kind == ML_FK_JIT ? f->tier : NULL;
		const char *p;
		size_t tl;

		if (!t || !*t)
			continue;
		tl = strlen(t);
		for (p = b.s; p && (p = strstr(p, t)); p += tl)
			if ((p == b.s || p[-1] == '+') && (p[tl] == '\0' || p[tl] == '+'))
				break;
		if (p)
			continue;
		sb_addf(&b, "%s%s", b.n ? "+" : "", t);
	}
	return b.oom ? (free(b.s), NULL) : b.s;
}

void analysis_site_release(struct ml_site *s)
{
	for (u32 k = 0; k < s->nframes; k++) {
		free(s->frames[k].symbol);
		free(s->frames[k].module);
		free(s->frames[k].file);
		free(s->frames[k].tier);
	}
	free(s->frames);
	free(s->regions);
	label_info_free(s->rinfo, s->nregions);
	free(s->label);
	free(s->timeline);
	for (size_t i = 0; i < s->nvariants; i++) {
		free(s->variants[i].tiers);
		free(s->variants[i].differs);
	}
	free(s->variants);
	memset(s, 0, sizeof(*s));
}

static const char *tier_of(const struct ml_frame *f)
{
	return f->kind == ML_FK_R2R ? "R2R" : f->tier && *f->tier ? f->tier :
	       report_frame_kind_name(f->kind);
}

/*
 * What tells variant v from the largest one, rep (same default key: their
 * key frames are the same methods, position by position): rep gets the
 * tier of its innermost managed frame; v the tier of the first frame
 * whose tier differs, "Tier1 at #2"; "outer frames" when only frames
 * past the key differ. Other groupings compare no frames: "".
 */
static char *describe(const struct ml_site *v, const struct ml_site *rep,
		      unsigned flags)
{
	struct sbuf b = { 0 };
	u32 n = key_frames(v), k;

	sb_addf(&b, "%s", "");
	if (flags & (ANALYSIS_GROUP_FUNCTION | ANALYSIS_GROUP_MODULE))
		goto out;
	if (v == rep) {
		for (k = 0; k < n; k++)
			if (is_managed(&v->frames[k]) && v->frames[k].kind != ML_FK_STUB) {
				sb_addf(&b, "%s", tier_of(&v->frames[k]));
				break;
			}
		goto out;
	}
	for (k = 0; k < n && k < rep->nframes; k++) {
		const struct ml_frame *f = &v->frames[k], *g = &rep->frames[k];

		if (!is_managed(f) || f->kind == ML_FK_STUB)
			continue;
		if (f->kind != g->kind || strcmp(f->tier ?: "", g->tier ?: "")) {
			sb_addf(&b, "%s at #%u", tier_of(f), k);
			goto out;
		}
	}
	sb_addf(&b, "outer frames");
out:
	return b.oom ? (free(b.s), NULL) : b.s;
}

static u64 committed(const struct ml_site *s)
{
	return s->bytes - s->reserved_bytes;
}

/* Largest first: committed bytes, then all bytes, then stack id. */
static int cmp_size(const struct ml_site *x, const struct ml_site *y)
{
	if (committed(x) != committed(y))
		return committed(x) > committed(y) ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

struct keyed {
	char *key;
	struct ml_site *s;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : cmp_size(x->s, y->s);
}

struct reg_ref {
	struct ml_region g;
	struct ml_region_info ri;
};

static int cmp_reg_ref(const void *a, const void *b)
{
	const struct reg_ref *x = a, *y = b;

	return x->g.start < y->g.start ? -1 : x->g.start > y->g.start;
}

/* Merges v[0..n) (largest first) into one site in *out; the parts are
 * moved from, and released by the caller. */
static int merge(struct keyed *v, size_t n, struct ml_site *out, unsigned flags)
{
	struct ml_site *rep = v[0].s;
	size_t nreg = 0, k = 0;
	struct reg_ref *refs;
	const char **rl = NULL;
	const char *l;

	*out = *rep;		/* frames, label, stack id: the largest's */
	out->regions = NULL;
	out->rinfo = NULL;
	out->label = NULL;
	out->timeline = NULL;
	out->ntimeline = 0;
	out->calls = 0;
	out->growth_bytes_per_s = 0;
	out->variants = calloc(n, sizeof(*out->variants));
	out->nvariants = n;
	out->bytes = out->reserved_bytes = out->resident_bytes = out->mappings = 0;
	out->resident_known = false;
	out->first_time = UINT64_MAX;
	out->last_time = 0;
	rep->frames = NULL;
	rep->nframes = 0;
	if (!out->variants)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ml_site *s = v[i].s;
		struct ml_site_variant *var = &out->variants[i];

		var->stack_id = s->stack_id;
		var->stack_flags = s->stack_flags;
		var->bytes = s->bytes;
		var->reserved_bytes = s->reserved_bytes;
		var->mappings = s->mappings;
		var->tiers = site_tiers(i ? s : out);
		var->differs = describe(i ? s : out, out, flags);
		if (!var->tiers || !var->differs)
			return -ENOMEM;
		out->bytes += s->bytes;
		out->reserved_bytes += s->reserved_bytes;
		out->resident_bytes += s->resident_bytes;
		out->resident_known |= s->resident_known;
		out->mappings += s->mappings;
		out->calls += s->calls;
		/* Every stack's timeline has the same points (evenly spread
		 * over one span), so the site's is their sum. Its growth is
		 * the sum of the slopes: each fitted from its stack's first
		 * mapping, which is what a leak split by tier looks like. */
		out->growth_bytes_per_s += s->growth_bytes_per_s;
		if (s->ntimeline && !out->timeline) {
			out->timeline = calloc(s->ntimeline, sizeof(*out->timeline));
			if (!out->timeline)
				return -ENOMEM;
			memcpy(out->timeline, s->timeline,
			       s->ntimeline * sizeof(*out->timeline));
			out->ntimeline = s->ntimeline;
		} else if (s->ntimeline) {
			for (size_t p = 0; p < out->ntimeline && p < s->ntimeline; p++)
				out->timeline[p].bytes += s->timeline[p].bytes;
		}
		if (s->first_time < out->first_time)
			out->first_time = s->first_time;
		if (s->last_time > out->last_time)
			out->last_time = s->last_time;
		nreg += s->nregions;
	}
	/* the regions of all variants, in address order with their labels */
	refs = calloc(nreg ? nreg : 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ml_site *s = v[i].s;

		for (size_t j = 0; j < s->nregions; j++, k++) {
			refs[k].g = s->regions[j];
			if (s->rinfo) {
				refs[k].ri = s->rinfo[j];
				memset(&s->rinfo[j], 0, sizeof(s->rinfo[j]));
			}
		}
	}
	qsort(refs, nreg, sizeof(*refs), cmp_reg_ref);
	out->regions = calloc(nreg ? nreg : 1, sizeof(*out->regions));
	out->rinfo = calloc(nreg ? nreg : 1, sizeof(*out->rinfo));
	rl = calloc(nreg ? nreg : 1, sizeof(*rl));
	if (!out->regions || !out->rinfo || !rl) {
		for (k = 0; k < nreg; k++) {
			free(refs[k].ri.label);
			free(refs[k].ri.path);
		}
		free(refs);
		free(rl);
		return -ENOMEM;
	}
	for (k = 0; k < nreg; k++) {
		out->regions[k] = refs[k].g;
		out->rinfo[k] = refs[k].ri;
		rl[k] = refs[k].ri.label;
	}
	out->nregions = nreg;
	free(refs);
	/* the same rule as one stack's site, over all the regions */
	l = label_site(out->frames, out->nframes, rl, nreg, out->reserved_bytes);
	free(rl);
	if (l && !(out->label = strdup(l)))
		return -ENOMEM;
	return 0;
}

/* The report's order (--sort), then size; with the runtime apart, its
 * own memory after the ranked sites. */
static int cmp_sites(const void *a, const void *b, void *arg)
{
	const struct ml_site *x = a, *y = b;
	const struct ml_result *r = arg;

	if (r->runtime_apart && x->runtime != y->runtime)
		return x->runtime ? 1 : -1;
	switch (r->sort) {
	case ANALYSIS_SORT_GROWTH:
		if (x->growth_bytes_per_s != y->growth_bytes_per_s)
			return x->growth_bytes_per_s > y->growth_bytes_per_s ? -1 : 1;
		break;
	case ANALYSIS_SORT_AGE:
		if (x->first_time != y->first_time)
			return x->first_time < y->first_time ? -1 : 1;
		break;
	default:
		break;
	}
	return cmp_size(x, y);
}

/* --min-bytes: after grouping, so a leak split over variants counts whole. */
static void drop_small(struct ml_result *r, u64 min_bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nsites; i++) {
		struct ml_site *s = &r->sites[i];

		if (committed(s) < min_bytes) {
			r->live_bytes -= s->bytes;
			r->live_reserved_bytes -= s->reserved_bytes;
			r->live_mappings -= s->mappings;
			r->filtered_sites++;
			analysis_site_release(s);
			continue;
		}
		if (n != i) {
			r->sites[n] = *s;
			memset(s, 0, sizeof(*s));
		}
		n++;
	}
	r->nsites = n;
}

static int fold(struct ml_result *r, unsigned flags)
{
	struct keyed *v;
	struct ml_site *ns;
	size_t n = r->nsites, nn = 0, i, j;
	int err = 0;

	v = calloc(n, sizeof(*v));
	ns = calloc(n, sizeof(*ns));
	if (!v || !ns) {
		free(v);
		free(ns);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		v[i].s = &r->sites[i];
		v[i].key = site_key(&r->sites[i], r->by_thread, flags);
		if (!v[i].key)
			err = -ENOMEM;
	}
	if (err)
		goto out;
	qsort(v, n, sizeof(*v), cmp_keyed);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(v[j].key, v[i].key); j++)
			;
		if (j - i == 1) {
			ns[nn++] = *v[i].s;
			memset(v[i].s, 0, sizeof(*v[i].s));
			continue;	/* its variant is made by analysis_group() */
		}
		err = merge(v + i, j - i, &ns[nn++], flags);
		for (size_t k = i; k < j; k++)
			analysis_site_release(v[k].s);
		if (err)
			break;
	}
	/* what was not moved (after a failure) is released with the rest */
	for (i = 0; i < n; i++)
		analysis_site_release(&r->sites[i]);
	free(r->sites);
	r->sites = ns;
	r->nsites = nn;
	ns = NULL;
out:
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	free(ns);
	return err;
}

int analysis_group(struct ml_result *r, const struct analysis_opts *o)
{
	unsigned flags = o->flags;
	int err = 0;

	if (r->nsites && !(flags & ANALYSIS_GROUP_STACK))
		err = fold(r, flags);
	/* every site lists its stacks: one when nothing merged */
	for (size_t i = 0; !err && i < r->nsites; i++) {
		struct ml_site *s = &r->sites[i];

		if (s->nvariants)
			continue;
		s->variants = calloc(1, sizeof(*s->variants));
		if (!s->variants || !(s->variants[0].tiers = site_tiers(s)) ||
		    !(s->variants[0].differs = strdup(""))) {
			err = -ENOMEM;
			break;
		}
		s->nvariants = 1;
		s->variants[0].stack_id = s->stack_id;
		s->variants[0].stack_flags = s->stack_flags;
		s->variants[0].bytes = s->bytes;
		s->variants[0].reserved_bytes = s->reserved_bytes;
		s->variants[0].mappings = s->mappings;
	}
	if (!err && o->min_bytes)
		drop_small(r, o->min_bytes);
	r->nruntime = 0;
	r->runtime_bytes = r->runtime_reserved_bytes = r->runtime_mappings = 0;
	for (size_t i = 0; i < r->nsites; i++) {
		struct ml_site *s = &r->sites[i];

		s->runtime = runtime_label(s->label) || report_runtime_stack(s);
		if (!s->runtime)
			continue;
		r->nruntime++;
		r->runtime_bytes += s->bytes;
		r->runtime_reserved_bytes += s->reserved_bytes;
		r->runtime_mappings += s->mappings;
	}
	r->runtime_apart = !(flags & ANALYSIS_INCLUDE_RUNTIME);
	r->sort = o->sort;
	if (r->nsites)
		qsort_r(r->sites, r->nsites, sizeof(*r->sites), cmp_sites, r);
	return err;
}
