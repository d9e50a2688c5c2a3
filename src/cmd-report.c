/* SPDX-License-Identifier: MIT */
/* mapleak report: who holds the mappings in a recording. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "report/analysis.h"
#include "report/report.h"

const char report_usage[] =
	"usage: mapleak report [-i FILE] [--format text|json] [--top N] [--regions]\n"
	"\n"
	"Shows the call stacks that hold memory mapped while recording and not\n"
	"given back, largest first, with every frame named where possible.\n"
	"\n"
	"  -i, --input FILE     recording to read (default: mapleak.data)\n"
	"  -f, --format FMT     text (default) or json\n"
	"  -n, --top N          show the N largest sites (default 10, 0 = all)\n"
	"  -r, --regions        list each site's regions and the baseline's\n"
	"  -h, --help           show this help\n";

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

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "regions", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *input = "mapleak.data", *format = "text";
	struct report_opts opts = { .top = 10 };
	const struct report_ops *ops;
	struct ml_result *res = NULL;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:i:f:n:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'n':
			if (parse_u32(optarg, &opts.top))
				return usage_error(report_usage,
						   "--top takes a whole number, not '%s'", optarg);
			break;
		case 'r':
			opts.regions = true;
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
		return usage_error(report_usage, "unknown format '%s' (text or json)", format);

	err = analysis_load(input, &res);
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
	err = ops->emit(stdout, res, &opts);
	analysis_free(res);
	if (err) {
		error("cannot write the report: %s", strerror(-err));
		return 1;
	}
	return 0;
}
