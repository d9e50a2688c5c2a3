/* SPDX-License-Identifier: MIT */
/* mapleak report: who holds the mappings in a recording. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "cmd.h"
#include "report/analysis.h"
#include "report/report.h"
#include "util.h"

#define HS 32

/* Exit status when a site is over --fail-over. */
#define EXIT_OVER_LIMIT 3

const char report_usage[] =
	"usage: mapleak report [-i FILE] [--format FMT] [-o FILE] [--top N] [--regions]\n"
	"                      [--group-by KEY[,thread]] [--include-runtime]\n"
	"                      [--fail-over SIZE]\n"
	"                      [--sort bytes|growth|age] [--older-than SECONDS]\n"
	"                      [--min-bytes SIZE] [--from SECONDS] [--to SECONDS]\n"
	"\n"
	"Shows the call stacks that hold memory mapped while recording and not\n"
	"given back, largest first, with every frame named where possible.\n"
	"\n"
	"  -i, --input FILE     recording to read (default: mapleak.data)\n"
	"  -f, --format FMT     text (default), json, or a profile for other tools:\n"
	"                         folded      collapsed stacks (flamegraph.pl, inferno)\n"
	"                         pprof       gzipped profile.proto (go tool pprof,\n"
	"                                     Pyroscope, Parca); needs -o or a pipe\n"
	"                         speedscope  https://www.speedscope.app JSON\n"
	"                         html        one page with a flame graph, no network\n"
	"  -o, --output FILE    write the report to FILE instead of stdout\n"
	"  -n, --top N          show the N largest sites (0 = all; default 10 for\n"
	"                       text and json, all for the profile formats)\n"
	"  -r, --regions        list each site's regions and the baseline's\n"
	"  -g, --group-by KEY   what makes one site:\n"
	"                         site      (default) stacks that differ only in JIT\n"
	"                                   tier, code version or unnamed outer\n"
	"                                   frames are one site; its stacks are\n"
	"                                   listed as variants\n"
	"                         stack     one site per recorded stack\n"
	"                         function  the innermost frame of the program's\n"
	"                                   own code (not libc, not the runtime)\n"
	"                         module    that frame's module\n"
	"                         thread    one site per thread too, with\n"
	"                                   per-thread totals (thread,function...)\n"
	"      --include-runtime\n"
	"                       rank the runtime's own memory (.NET GC heap,\n"
	"                       stacks only in the runtime) with the program's;\n"
	"                       by default it is apart, on the 'runtime:' line\n"
	"  -s, --sort KEY       bytes (default): largest first; growth: fastest\n"
	"                       growing first (least-squares bytes/s over the\n"
	"                       recording); age: oldest live mapping first\n"
	"      --older-than SECONDS  only mappings alive at least that long at\n"
	"                       the end (long-lived ones: leaks, not churn)\n"
	"      --min-bytes SIZE only sites holding at least SIZE\n"
	"      --from SECONDS   only mappings made at or after SECONDS since the\n"
	"      --to SECONDS     start, or at or before; each site's timeline and\n"
	"                       growth rate still cover the whole recording\n"
	"      --fail-over SIZE exit with status 3 when a site holds more than SIZE\n"
	"                       live bytes (e.g. 64M, 1G), for CI; 0 otherwise\n"
	"  -h, --help           show this help\n"
	"\n"
	"example (CI): mapleak record -o run.data -- ./tests.sh &&\n"
	"              mapleak report -i run.data --fail-over 100M\n";

static int parse_u32(const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

/* "12", "1.5": seconds as nanoseconds. */
static int parse_seconds(const char *s, u64 *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		return -EINVAL;
	*ns = (u64)(v * 1e9 + 0.5);
	return 0;
}

/* "function", "thread,stack": one grouping key and maybe thread; a later
 * --group-by replaces the key and keeps thread. */
static int parse_group_by(const char *arg, unsigned *flags)
{
	const unsigned keys = ANALYSIS_GROUP_STACK | ANALYSIS_GROUP_FUNCTION |
			      ANALYSIS_GROUP_MODULE;
	unsigned f = *flags, key = 0;
	bool have_key = false;
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned k = !strcmp(tok, "stack") ? ANALYSIS_GROUP_STACK :
			     !strcmp(tok, "function") ? ANALYSIS_GROUP_FUNCTION :
			     !strcmp(tok, "module") ? ANALYSIS_GROUP_MODULE : 0;

		if (!strcmp(tok, "thread"))
			f |= ANALYSIS_BY_THREAD;
		else if (have_key || (!k && strcmp(tok, "site")))
			err = -EINVAL;	/* two keys, or no such key */
		else {
			key = k;
			have_key = true;
		}
	}
	free(copy);
	if (err || (!have_key && !(f & ANALYSIS_BY_THREAD)) || !arg[0])
		return -EINVAL;
	if (have_key)
		f = (f & ~keys) | key;
	*flags = f;
	return 0;
}

/* Ranked sites holding more than limit committed bytes (whatever the
 * order --sort put them in; the runtime's own memory, when apart, last). */
static size_t count_over(const struct ml_result *r, u64 limit)
{
	size_t ranked = r->nsites - (r->runtime_apart ? r->nruntime : 0), n = 0;

	for (size_t i = 0; i < ranked; i++)
		n += r->sites[i].bytes - r->sites[i].reserved_bytes > limit;
	return n;
}

int cmd_report(int argc, char **argv)
{
	enum { OPT_FAIL_OVER = 256, OPT_OLDER, OPT_MIN_BYTES, OPT_FROM, OPT_TO,
	       OPT_INCLUDE_RUNTIME };
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 'n' },
		{ "regions", no_argument, NULL, 'r' },
		{ "group-by", required_argument, NULL, 'g' },
		{ "fail-over", required_argument, NULL, OPT_FAIL_OVER },
		{ "sort", required_argument, NULL, 's' },
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "min-bytes", required_argument, NULL, OPT_MIN_BYTES },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "include-runtime", no_argument, NULL, OPT_INCLUDE_RUNTIME },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *input = "mapleak.data", *format = "text", *output = NULL;
	struct report_opts opts = { .top = 10 };
	const struct report_ops *ops;
	struct ml_result *res = NULL;
	bool top_set = false, fail_over = false;
	struct analysis_opts ao = { 0 };
	u64 limit = 0;
	size_t over = 0;
	FILE *out = stdout;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:i:f:o:n:rg:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'n':
			if (parse_u32(optarg, &opts.top))
				return usage_error(report_usage,
						   "--top takes a whole number, not '%s'", optarg);
			top_set = true;
			break;
		case 'r':
			opts.regions = true;
			break;
		case 'g':
			if (parse_group_by(optarg, &ao.flags))
				return usage_error(report_usage,
						   "--group-by takes site, stack, function or module, "
						   "and or with thread (function,thread), not '%s'",
						   optarg);
			break;
		case OPT_INCLUDE_RUNTIME:
			ao.flags |= ANALYSIS_INCLUDE_RUNTIME;
			break;
		case OPT_FAIL_OVER:
			if (ml_parse_size(optarg, &limit))
				return usage_error(report_usage,
						   "--fail-over takes a size such as 100M or 1G, not '%s'",
						   optarg);
			fail_over = true;
			break;
		case 's':
			if (!strcmp(optarg, "bytes"))
				ao.sort = ANALYSIS_SORT_BYTES;
			else if (!strcmp(optarg, "growth"))
				ao.sort = ANALYSIS_SORT_GROWTH;
			else if (!strcmp(optarg, "age"))
				ao.sort = ANALYSIS_SORT_AGE;
			else
				return usage_error(report_usage,
						   "--sort takes 'bytes', 'growth' or 'age', not '%s'",
						   optarg);
			break;
		case OPT_OLDER:
		case OPT_FROM:
		case OPT_TO: {
			u64 *dst = c == OPT_OLDER ? &ao.older_than_ns :
				   c == OPT_FROM ? &ao.from_ns : &ao.to_ns;

			if (parse_seconds(optarg, dst))
				return usage_error(report_usage,
						   "%s takes seconds such as 10 or 2.5, not '%s'",
						   argv[optind - 1], optarg);
			if (c == OPT_FROM)
				ao.have_from = true;
			else if (c == OPT_TO)
				ao.have_to = true;
			break;
		}
		case OPT_MIN_BYTES:
			if (ml_parse_size(optarg, &ao.min_bytes))
				return usage_error(report_usage,
						   "--min-bytes takes a size such as 1M, not '%s'",
						   optarg);
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		case ':':
			return usage_error(report_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(report_usage, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(report_usage, "unexpected argument '%s'", argv[optind]);
	ops = report_find(format);
	if (!ops)
		return usage_error(report_usage, "unknown format '%s' (%s)", format,
				   report_format_names());
	if (ops->binary && !output && isatty(STDOUT_FILENO))
		return usage_error(report_usage,
				   "the %s format is binary: write it with -o FILE or into a pipe",
				   ops->name);
	if (ops->all_sites && !top_set)
		opts.top = 0;

	if (ao.have_from && ao.have_to && ao.from_ns > ao.to_ns)
		return usage_error(report_usage, "--from is after --to");
	err = analysis_load_opts(input, &ao, &res);
	switch (err) {
	case 0:
		break;
	case -ENOENT:
		error("cannot open '%s': no such file (record one with 'mapleak record')",
		      input);
		return 1;
	case -EBADMSG:
		error("'%s' is not a mapleak recording, or its header is damaged", input);
		return 1;
	default:
		error("cannot read '%s': %s", input, strerror(-err));
		return 1;
	}
	if (output) {
		/* O_NOFOLLOW: run as root, a symlink planted in a shared folder
		 * must not turn -o into a write elsewhere. 0644: a browser run
		 * by the user opens the page. */
		int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			      0644);

		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			err = errno;
			if (fd >= 0)
				close(fd);
			analysis_free(res);
			if (err == ELOOP)
				error("cannot write '%s': it is a symbolic link (not followed)",
				      output);
			else
				error("cannot write '%s': %s", output, strerror(err));
			return 1;
		}
	}
	err = ops->emit(out, res, &opts);
	if (out != stdout && fclose(out) && !err)
		err = -(errno ? errno : EIO);
	if (fail_over)
		over = count_over(res, limit);
	if (!err && over) {
		const struct ml_site *s = &res->sites[0];
		char a[HS], b[HS];

		error("%zu site%s over the limit of %s (--fail-over); the largest holds %s",
		      over, over == 1 ? " is" : "s are",
		      report_human_size(limit, b, sizeof(b)),
		      report_human_size(s->bytes - s->reserved_bytes, a, sizeof(a)));
	}
	analysis_free(res);
	if (err) {
		error("cannot write the report%s%s: %s", output ? " to " : "",
		      output ? output : "", strerror(-err));
		return 1;
	}
	return over ? EXIT_OVER_LIMIT : 0;
}
