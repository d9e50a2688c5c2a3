/* SPDX-License-Identifier: MIT */
/*
 * mapleak resolve: name code addresses of a live process or of a
 * recording, as dotnet-dump's ip2md does for managed code, without a dump.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "report/frame-fmt.h"
#include "util.h"
#include "record/recsyms.h"
#include "runtime/runtime.h"
#include "target/proc.h"
#include "symbols/symtab.h"

const char resolve_usage[] =
	"usage: mapleak resolve (-p PID | -i FILE) [--format text|json]\n"
	"                       [--return-address] ADDRESS...\n"
	"\n"
	"Names code addresses: module, symbol + offset, kind (native, jit, r2r,\n"
	"stub, unknown), JIT tier, file:line where known, managed or native.\n"
	"What dotnet-dump's ip2md answered, without a dump.\n"
	"\n"
	"  -p, --pid PID          a running process; a .NET 8+ runtime is asked\n"
	"                         for its perf map for the lookup, then told to\n"
	"                         stop (the file it wrote is removed)\n"
	"  -i, --input FILE       a recording: every address of its stacks, and\n"
	"                         any address inside JIT code or inside a module\n"
	"                         of its stacks (file:line only for stack addresses)\n"
	"  -f, --format FMT       text (default) or json\n"
	"  -r, --return-address   the addresses are return addresses (taken from\n"
	"                         a stack): name the call just before each\n"
	"      --no-runtime-symbols  never ask a runtime for its perf map\n"
	"  -h, --help             show this help\n"
	"\n"
	"ADDRESS: hexadecimal, with or without 0x (0x7f1484588090, 7f1484588090).\n"
	"An address nothing names is printed with kind unknown (exit 0).\n";


struct resolve_opts {
	pid_t pid;
	const char *input;
	bool json;
	bool return_address;
	bool no_runtime_symbols;
};

/* "0x7f..", "7f..": 1 to 16 hex digits, nothing else. */
static int parse_address(const char *s, u64 *out)
{
	const char *p = s;
	u64 v = 0;
	size_t nd = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		if (++nd > 16)
			return -ERANGE;
		v = v << 4 | (u64)d;
	}
	if (nd == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- the two sources of names ---- */

typedef int (*name_fn)(void *src, u64 pc, bool return_address,
		       struct ml_frame *out);

static int name_live(void *src, u64 pc, bool ra, struct ml_frame *out)
{
	return symtab_name(src, pc, ra, out);
}

static int name_recorded(void *src, u64 pc, bool ra, struct ml_frame *out)
{
	return recsyms_name(src, pc, ra, out);
}

static int emit(const struct resolve_opts *o, const u64 *addrs, size_t n,
		name_fn fn, void *src, json_t *notes)
{
	json_t *doc = NULL, *arr = NULL;
	int err = 0;

	if (o->json) {
		doc = json_object();
		arr = json_array();
		if (!doc || !arr || json_object_set(doc, "addresses", arr) ||
		    json_object_set(doc, "notes", notes)) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n && !err; i++) {
		struct ml_frame f;

		err = fn(src, addrs[i], o->return_address, &f);
		if (err)
			break;
		f.pc = addrs[i];
		if (o->json) {
			json_t *j = frame_fmt_json(&f);

			if (!j || json_array_append_new(arr, j))
				err = -ENOMEM;
		} else {
			frame_fmt_text(stdout, &f, FRAME_FMT_ADDRESS);
			fputc('\n', stdout);
		}
		ml_frame_release(&f);
	}
	if (!err && o->json && json_dumpf(doc, stdout, JSON_INDENT(2)) == 0)
		fputc('\n', stdout);
out:
	json_decref(arr);
	json_decref(doc);
	return err;
}

/* A note: on stderr in text mode, in "notes" in JSON mode. */
static void add_note(const struct resolve_opts *o, json_t *notes,
		     const char *text)
{
	if (o->json)
		json_array_append_new(notes, json_string(text));
	else
		info("note: %s", text);
}

/* ---- live: the runtimes' perf maps on demand (src/runtime/) ---- */

struct say_ctx {
	const struct resolve_opts *o;
	json_t *notes;
};

/* What the runtimes say, in record's words: a note (or warning) in
 * "notes" or on stderr; progress on stderr in text mode only. */
static void runtime_say(void *ctx, enum rt_say level, const char *text)
{
	struct say_ctx *c = ctx;

	if (level != RT_SAY_INFO)
		add_note(c->o, c->notes, text);
	else if (!c->o->json)
		info("%s", text);
}

static int resolve_live(const struct resolve_opts *o, const u64 *addrs,
			size_t n)
{
	struct runtimes *rt = NULL;
	struct symtab *st = NULL;
	json_t *notes = json_array();
	struct say_ctx sc = { .o = o, .notes = notes };
	struct rt_opts ro = {
		.no_runtime_symbols = o->no_runtime_symbols,
		.say = runtime_say,
		.say_ctx = &sc,
	};
	sigset_t block, old;
	int err, status = 0;

	if (!notes || runtimes_new(&rt, &ro)) {
		json_decref(notes);
		error("out of memory");
		return 1;
	}
	status = check_target(o->pid);
	if (status) {
		runtimes_free(rt);
		json_decref(notes);
		return status;
	}
	err = symtab_open(&st, o->pid);
	if (err) {
		runtimes_free(rt);
		json_decref(notes);
		if (err == -ESRCH || err == -ENOENT)
			error("no such process: %d", (int)o->pid);
		else if (err == -EACCES || err == -EPERM)
			error("cannot read /proc/%d: permission denied (run as root or "
			      "as the process's user)", (int)o->pid);
		else
			error("cannot read process %d: %s", (int)o->pid, strerror(-err));
		return 1;
	}
	/* What is turned on in the target is turned off again: Ctrl-C waits
	 * (every runtime call is bounded: src/runtime/). */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	runtimes_start(rt, o->pid, false, st);
	err = symtab_update_jit(st);
	if (err && err != -ENOENT)
		add_note(o, notes, "cannot read the JIT perf map: JIT code is not named");
	err = emit(o, addrs, n, name_live, st, notes);
	runtimes_finish(rt, proc_alive(o->pid));
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (err) {
		error("cannot name the addresses: %s", strerror(-err));
		status = 1;
	}
	symtab_close(st);
	runtimes_free(rt);
	json_decref(notes);
	return status;
}

static int resolve_recorded(const struct resolve_opts *o, const u64 *addrs,
			    size_t n)
{
	struct recsyms *rs = NULL;
	struct rec_read_status rst;
	json_t *notes = json_array();
	int err, status = 0;

	if (!notes) {
		error("out of memory");
		return 1;
	}
	err = recsyms_load(o->input, &rs, &rst);
	switch (err) {
	case 0:
		break;
	case -ENODATA:
		add_note(o, notes, "the recording is cut short: names come from "
			 "the part before the damage");
		break;
	case -ENOENT:
		json_decref(notes);
		error("cannot open '%s': no such file", o->input);
		return 1;
	case -EBADMSG:
		json_decref(notes);
		error("'%s' is not a mapleak recording, or its header is damaged",
		      o->input);
		return 1;
	default:
		json_decref(notes);
		error("cannot read '%s': %s", o->input, strerror(-err));
		return 1;
	}
	if (!recsyms_has_tables(rs))
		add_note(o, notes, "the recording has no symbol tables (made by an "
			 "older mapleak): only addresses of its stacks are named");
	err = emit(o, addrs, n, name_recorded, rs, notes);
	if (err) {
		error("cannot name the addresses: %s", strerror(-err));
		status = 1;
	}
	recsyms_free(rs);
	json_decref(notes);
	return status;
}

int cmd_resolve(int argc, char **argv)
{
	enum { OPT_NO_RT = 256 };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "return-address", no_argument, NULL, 'r' },
		{ "no-runtime-symbols", no_argument, NULL, OPT_NO_RT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct resolve_opts o = { 0 };
	const char *format = "text";
	bool have_pid = false;
	u64 *addrs;
	size_t n;
	int c, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:i:f:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ml_parse_pid(optarg, &o.pid))
				return usage_error(resolve_usage,
						   "-p takes a process id, not '%s'", optarg);
			have_pid = true;
			break;
		case 'i':
			o.input = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'r':
			o.return_address = true;
			break;
		case OPT_NO_RT:
			o.no_runtime_symbols = true;
			break;
		case 'h':
			fputs(resolve_usage, stdout);
			return 0;
		case ':':
			return usage_error(resolve_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(resolve_usage, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return usage_error(resolve_usage, "unknown format '%s' (text or json)",
				   format);
	o.json = !strcmp(format, "json");
	if (have_pid == (o.input != NULL))
		return usage_error(resolve_usage, "give either -p PID or -i FILE%s",
				   have_pid ? ", not both" : "");
	if (optind >= argc)
		return usage_error(resolve_usage, "no address to resolve");
	n = (size_t)(argc - optind);
	addrs = calloc(n, sizeof(*addrs));
	if (!addrs) {
		error("out of memory");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_address(argv[optind + (int)i], &addrs[i])) {
			free(addrs);
			return usage_error(resolve_usage, "'%s' is not an address "
					   "(hexadecimal, at most 16 digits)",
					   argv[optind + (int)i]);
		}
	}
	status = have_pid ? resolve_live(&o, addrs, n) : resolve_recorded(&o, addrs, n);
	free(addrs);
	return status;
}
