/* SPDX-License-Identifier: MIT */
/* mapleak diff: what changed between two recordings, site by site. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "report/analysis.h"
#include "report/diff.h"
#include "report/formats.h"
#include "report/report.h"
#include "util.h"

#define HS 32
#define SHS (HS + 2)	/* a sign, then a human size */
#define KEY_FRAMES 5	/* frames of a site's name shown in text */

const char diff_usage[] =
	"usage: mapleak diff OLD NEW [--format text|json] [--top N]\n"
	"\n"
	"Compares two recordings site by site: what each call stack holds in\n"
	"OLD and in NEW and the change, largest growth first. Sites are matched\n"
	"by the names of their frames, not by addresses, so two runs of a\n"
	"program (or two hosts) compare; sites only in NEW are 'new', sites\n"
	"only in OLD 'gone'.\n"
	"\n"
	"  -f, --format FMT     text (default) or json\n"
	"  -n, --top N          show the N sites that changed most (0 = all;\n"
	"                       default 10 for text, all for json)\n"
	"  -h, --help           show this help\n"
	"\n"
	"example: mapleak diff monday.data tuesday.data\n";

static const char *status_name(enum diff_status s)
{
	return s == DIFF_NEW ? "new" : s == DIFF_GONE ? "gone" : "both";
}

static int load(const char *path, struct ml_result **out)
{
	int err = analysis_load(path, out);

	if (err == -ENOENT)
		error("cannot open '%s': no such file", path);
	else if (err == -EBADMSG)
		error("'%s' is not a mapleak recording, or its header is damaged", path);
	else if (err)
		error("cannot read '%s': %s", path, strerror(-err));
	return err;
}

static const char *signed_size(s64 v, char *buf, size_t len)
{
	char h[HS];

	report_human_size((u64)(v < 0 ? -v : v), h, sizeof(h));
	snprintf(buf, len, "%s%.*s", v < 0 ? "-" : v > 0 ? "+" : "", HS - 1, h);
	return buf;
}

/* The site's name as in the key, a few frames, outermost last. */
static void print_key(const char *key)
{
	const char *p = key;

	for (int i = 0; *p; i++) {
		size_t n = strcspn(p, ";");

		if (i == KEY_FRAMES) {
			fputs(" <- ...", stdout);
			break;
		}
		char *seg = strndup(p, n);

		/* frame names come from the target: escaped, as in report */
		fputs(i ? " <- " : "", stdout);
		ml_fputs_esc(seg ? seg : "?", stdout);
		free(seg);
		p += n;
		if (*p == ';')
			p++;
	}
}

static void emit_text(const char *a, const char *b, const struct ml_result *ro,
		      const struct ml_result *rn, const struct diff_result *d,
		      size_t shown)
{
	char x[HS], y[HS], z[SHS];

	printf("old: %s: %s live in %zu sites\n", a,
	       report_human_size(ro->live_bytes - ro->live_reserved_bytes, x, sizeof(x)),
	       ro->nsites);
	printf("new: %s: %s live in %zu sites\n", b,
	       report_human_size(rn->live_bytes - rn->live_reserved_bytes, y, sizeof(y)),
	       rn->nsites);
	printf("change: %s\n", signed_size(d->delta_bytes, z, sizeof(z)));
	if (!d->n)
		puts("\nno sites in either recording");
	for (size_t i = 0; i < shown; i++) {
		const struct diff_site *s = &d->v[i];

		printf("\n#%zu %10s  %s -> %s", i + 1,
		       signed_size(s->delta_bytes, z, sizeof(z)),
		       report_human_size(s->bytes_old, x, sizeof(x)),
		       report_human_size(s->bytes_new, y, sizeof(y)));
		if (s->status != DIFF_BOTH)
			printf("  [%s]", status_name(s->status));
		fputs("\n  ", stdout);
		print_key(s->key);
		putchar('\n');
	}
	if (shown < d->n)
		printf("\n%zu more sites (--top 0 shows all)\n", d->n - shown);
}

static int set(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static int emit_json(const char *a, const char *b, const struct ml_result *ro,
		     const struct ml_result *rn, const struct diff_result *d,
		     size_t shown)
{
	json_t *root = json_object(), *sites = json_array(), *o;
	int bad = 0;

	o = json_object();
	bad |= set(o, "path", json_string(a));
	bad |= set(o, "live_bytes", json_integer((json_int_t)(ro->live_bytes - ro->live_reserved_bytes)));
	bad |= set(o, "sites", json_integer((json_int_t)ro->nsites));
	bad |= set(root, "old", o);
	o = json_object();
	bad |= set(o, "path", json_string(b));
	bad |= set(o, "live_bytes", json_integer((json_int_t)(rn->live_bytes - rn->live_reserved_bytes)));
	bad |= set(o, "sites", json_integer((json_int_t)rn->nsites));
	bad |= set(root, "new", o);
	bad |= set(root, "delta_bytes", json_integer(d->delta_bytes));
	for (size_t i = 0; i < shown; i++) {
		const struct diff_site *s = &d->v[i];
		json_t *fr = json_array();
		const char *p = s->key;

		o = json_object();
		bad |= set(o, "status", json_string(status_name(s->status)));
		bad |= set(o, "bytes_old", json_integer((json_int_t)s->bytes_old));
		bad |= set(o, "bytes_new", json_integer((json_int_t)s->bytes_new));
		bad |= set(o, "delta_bytes", json_integer(s->delta_bytes));
		bad |= set(o, "label", s->site->label ? report_json_str(s->site->label) :
			   json_null());
		while (*p) {
			size_t n = strcspn(p, ";");

			char *piece = strndup(p, n);
			/* names may not be UTF-8, which jansson refuses */
			json_t *name = piece ? report_json_str(piece) : NULL;

			free(piece);
			bad |= name ? json_array_append_new(fr, name) : -1;
			p += n;
			if (*p == ';')
				p++;
		}
		bad |= set(o, "frames", fr);
		bad |= json_array_append_new(sites, o);
	}
	bad |= set(root, "sites", sites);
	if (!bad)
		bad = json_dumpf(root, stdout, JSON_INDENT(2)) || putchar('\n') == EOF;
	json_decref(root);
	return bad ? -EIO : 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "text";
	struct ml_result *ro = NULL, *rn = NULL;
	struct diff_result d;
	bool json, top_set = false;
	unsigned long top = 10;
	size_t shown;
	char *end;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'n':
			errno = 0;
			top = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return usage_error(diff_usage,
						   "--top takes a whole number, not '%s'", optarg);
			top_set = true;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return 0;
		case ':':
			return usage_error(diff_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(diff_usage, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return usage_error(diff_usage, "unknown format '%s' (text, json)", format);
	json = !strcmp(format, "json");
	if (argc - optind != 2)
		return usage_error(diff_usage, "diff takes two recordings, OLD and NEW");
	if (json && !top_set)
		top = 0;
	if (load(argv[optind], &ro) || load(argv[optind + 1], &rn)) {
		analysis_free(ro);
		return 1;
	}
	err = diff_sites(ro, rn, &d);
	if (err) {
		error("cannot compare: %s", strerror(-err));
		analysis_free(ro);
		analysis_free(rn);
		return 1;
	}
	shown = top && top < d.n ? top : d.n;
	if (json)
		err = emit_json(argv[optind], argv[optind + 1], ro, rn, &d, shown);
	else
		emit_text(argv[optind], argv[optind + 1], ro, rn, &d, shown);
	diff_release(&d);
	analysis_free(ro);
	analysis_free(rn);
	if (err) {
		error("cannot write the comparison");
		return 1;
	}
	return 0;
}
