/* SPDX-License-Identifier: MIT */
/*
 * mapleak top: a recorder session (record/recorder.h) shown live. Every
 * interval the live set is grouped by stack (recorder_sites), each site's
 * live bytes go into a growth table (report/growth.h: least-squares slope
 * over the last refreshes), and the sites are shown by growth or size with
 * the report's one-line headline. Full screen (ncurses) on a terminal,
 * plain text blocks on a pipe.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"
#include "record/record.h"
#include "record/recorder.h"
#include "report/growth.h"
#include "report/report.h"

const char top_usage[] =
	"usage: mapleak top -p PID [--interval SECONDS] [--iterations N]\n"
	"                   [--sort growth|bytes] [--top N] [-o FILE]\n"
	"                   [--no-runtime-symbols]\n"
	"\n"
	"Records a running process as 'record' does and shows, every interval,\n"
	"its call sites ranked by how fast their live mappings grow: full screen\n"
	"on a terminal (q quits, s switches the sort), plain text blocks on a\n"
	"pipe. Ends on q, Ctrl-C, after N refreshes, or when the process exits.\n"
	"Growth is the least-squares slope of a site's live bytes over the last\n"
	"5 refreshes; the first refresh is the starting level. Needs root (BPF).\n"
	"\n"
	"  -p, --pid PID          the process to watch (no restart)\n"
	"  -i, --interval SECS    seconds between refreshes (default 2, decimals\n"
	"                         allowed, at least 0.1)\n"
	"  -n, --iterations N     end after N refreshes (default: never)\n"
	"      --sort KEY         growth (default: fastest growing first) or\n"
	"                         bytes (largest first)\n"
	"  -t, --top N            sites per refresh (default: what fits the\n"
	"                         screen; 20 on a pipe; 0 = all)\n"
	"  -o, --output FILE      also keep the recording, as 'record -o' (then\n"
	"                         mapleak report -i FILE); default: keep none\n"
	"      --no-runtime-symbols\n"
	"                         leave runtimes as they are (see record)\n"
	"  -h, --help             show this help\n";

#define GROWTH_WINDOW	5	/* refreshes a rate is fitted over */
#define PIPE_TOP	20
#define RENAME_NS	(10ull * 1000 * 1000 * 1000)
#define MAX_MSGS	32

enum sort_key { SORT_GROWTH, SORT_BYTES };

struct row;

/* What every display shows: counters, totals, rows in order. */
struct frame_data {
	u64 now, elapsed;	/* ns */
	u64 events, lost;
	u64 live, reserved;
	size_t nrows;
	struct row *rows;
	struct recorder_site *sites;
};

/* A stack's headline (escaped), kept between refreshes. */
struct name {
	char *text;
	bool complete;		/* every frame had a name */
	u64 when;		/* CLOCK_MONOTONIC ns it was made */
};

struct row {
	const struct recorder_site *s;
	u64 live;		/* bytes - reserved_bytes */
	double rate;		/* bytes/s */
	bool have_rate;
};

struct top {
	struct recorder *r;
	pid_t pid;
	char *comm;		/* escaped */
	bool curses;
	enum sort_key sort;
	u32 ntop;		/* 0: all (or the screen) */
	bool ntop_set;
	struct growth_table *gt;
	struct name *names;	/* by stack id */
	u32 nnames;
	u32 refreshes;
	char *msgs[MAX_MSGS];	/* said while the screen was ours */
	u32 nmsgs;
	u32 dropped_msgs;
	struct frame_data last;	/* the last refresh, for a redraw */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Notes and warnings: on stderr, or kept while the screen is ours (the
 * last one shown in the status line) and printed after it. */
static void say(void *ctx, enum rec_say level, const char *text)
{
	struct top *t = ctx;
	const char *pre = level == REC_SAY_NOTE ? "note: " :
			  level == REC_SAY_WARN ? "warning: " : "";

	if (!t->curses) {
		if (level == REC_SAY_WARN)
			warning("%s", text);
		else
			info("%s%s", pre, text);
		return;
	}
	if (t->nmsgs < MAX_MSGS && asprintf(&t->msgs[t->nmsgs], "%s%s", pre, text) >= 0)
		t->nmsgs++;
	else
		t->dropped_msgs++;
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.1) || v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_count(const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

/* "+10.0 MiB/s", "-256.0 KiB/s", "0 B/s"; "-" without a rate yet. */
static const char *rate_str(const struct row *w, char *buf, size_t len)
{
	char hs[32];
	double a = fabs(w->rate);

	if (!w->have_rate)
		snprintf(buf, len, "-");
	else if (a < 1)
		snprintf(buf, len, "0 B/s");
	else
		snprintf(buf, len, "%c%s/s", w->rate < 0 ? '-' : '+',
			 report_human_size((u64)(a + 0.5), hs, sizeof(hs)));
	return buf;
}

/* "42s", "12m", "3h", "2d": how long a site has held its oldest region. */
static const char *age_str(u64 ns, char *buf, size_t len)
{
	double s = (double)ns / 1e9;

	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%.0fm", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%.1fh", s / 3600);
	else
		snprintf(buf, len, "%.1fd", s / 86400);
	return buf;
}

/* The headline of stack id, named once (again later while some frame
 * has no name yet: a JIT map may name it by then). */
static const char *headline(struct top *t, u32 id, u64 now)
{
	struct ml_frame *f = NULL;
	struct name *nm;
	char *text = NULL;
	size_t len = 0;
	u32 n = 0;
	bool complete = true;
	FILE *m;

	if (id >= t->nnames) {
		u32 cap = t->nnames ? t->nnames : 256;
		struct name *p;

		while (cap <= id && cap < UINT32_MAX / 2)
			cap *= 2;
		p = cap > id ? reallocarray(t->names, cap, sizeof(*p)) : NULL;
		if (!p)
			return "(out of memory)";
		memset(p + t->nnames, 0, (size_t)(cap - t->nnames) * sizeof(*p));
		t->names = p;
		t->nnames = cap;
	}
	nm = &t->names[id];
	if (nm->text && (nm->complete || now - nm->when < RENAME_NS))
		return nm->text;
	if (recorder_name_stack(t->r, id, &f, &n))
		return nm->text ? nm->text : "(no stack)";
	m = open_memstream(&text, &len);
	if (m) {
		report_site_headline(m, f, n);
		fclose(m);
	}
	for (u32 i = 0; i < n; i++) {
		complete &= f[i].symbol != NULL;
		ml_frame_release(&f[i]);
	}
	free(f);
	if (!text)
		return nm->text ? nm->text : "(out of memory)";
	free(nm->text);
	nm->text = text;	/* escaped by report_site_headline() */
	nm->complete = complete;
	nm->when = now;
	return nm->text ? nm->text : "(out of memory)";
}

static enum sort_key sort_by;

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (sort_by == SORT_GROWTH) {
		double rx = x->have_rate ? x->rate : 0, ry = y->have_rate ? y->rate : 0;

		if (rx != ry)
			return rx > ry ? -1 : 1;
	}
	if (x->live != y->live)
		return x->live > y->live ? -1 : 1;
	return x->s->stack_id < y->s->stack_id ? -1 : x->s->stack_id > y->s->stack_id;
}

static int collect(struct top *t, struct frame_data *d)
{
	size_t n = 0;
	int err;

	memset(d, 0, sizeof(*d));
	d->now = ml_now_ns(CLOCK_MONOTONIC);
	d->elapsed = d->now - recorder_start_time(t->r);
	recorder_counts(t->r, &d->events, &d->lost);
	err = recorder_sites(t->r, &d->sites, &n);
	if (err)
		return err;
	d->rows = calloc(n ? n : 1, sizeof(*d->rows));
	if (!d->rows)
		return -ENOMEM;
	d->nrows = n;
	err = growth_table_begin(t->gt, (double)d->elapsed / 1e9);
	if (err) {
		d->nrows = 0;
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		struct row *w = &d->rows[i];

		w->s = &d->sites[i];
		w->live = w->s->bytes - w->s->reserved_bytes;
		d->live += w->live;
		d->reserved += w->s->reserved_bytes;
		if (!err)
			err = growth_table_set(t->gt, w->s->stack_id, (double)w->live);
	}
	growth_table_end(t->gt);
	for (size_t i = 0; i < n; i++)
		d->rows[i].have_rate = growth_table_rate(t->gt, d->rows[i].s->stack_id,
							 &d->rows[i].rate) == 0;
	sort_by = t->sort;
	qsort(d->rows, n, sizeof(*d->rows), cmp_row);
	t->refreshes++;
	return err;
}

static void frame_data_release(struct frame_data *d)
{
	free(d->rows);
	free(d->sites);
	memset(d, 0, sizeof(*d));
}

static void header_line(const struct top *t, const struct frame_data *d,
			char *buf, size_t len)
{
	char a[32], b[32];
	int k;

	k = snprintf(buf, len, "pid %d (%s), %.0fs, %" PRIu64 " events, %" PRIu64
		     " lost, live %s in %zu site%s", t->pid, t->comm ? t->comm : "?",
		     (double)d->elapsed / 1e9, d->events, d->lost,
		     report_human_size(d->live, a, sizeof(a)), d->nrows,
		     d->nrows == 1 ? "" : "s");
	if (d->reserved && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, " + %s reserved",
			 report_human_size(d->reserved, b, sizeof(b)));
}

static void row_text(struct top *t, const struct frame_data *d,
		     const struct row *w, char *buf, size_t len)
{
	char a[32], rs[40], age[16];

	snprintf(buf, len, "%10s %13s %6" PRIu64 " %7s  %s",
		 report_human_size(w->live, a, sizeof(a)), rate_str(w, rs, sizeof(rs)),
		 w->s->mappings, age_str(d->now - w->s->oldest, age, sizeof(age)),
		 headline(t, w->s->stack_id, d->now));
}

#define COLUMNS	"      LIVE        GROWTH   MAPS     AGE  SITE"

/* On a pipe: one block per refresh, a blank line between. */
static void show_plain(struct top *t, const struct frame_data *d)
{
	char line[4096], clock[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t shown = t->ntop_set ? t->ntop : PIPE_TOP;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (t->refreshes > 1)
		putchar('\n');
	printf("--- %s +%.0fs\n", clock, (double)d->elapsed / 1e9);
	header_line(t, d, line, sizeof(line));
	printf("%s\n%s\n", line, COLUMNS);
	if (!shown || shown > d->nrows)
		shown = d->nrows;
	for (size_t i = 0; i < shown; i++) {
		row_text(t, d, &d->rows[i], line, sizeof(line));
		printf("%s\n", line);
	}
	if (shown < d->nrows)
		printf("... and %zu more sites\n", d->nrows - shown);
	fflush(stdout);
}

/* On a terminal: the whole screen, redrawn. */
static void show_curses(struct top *t, const struct frame_data *d)
{
	char line[4096];
	int rows = LINES, cols = COLS, y = 0;
	size_t shown;

	erase();
	snprintf(line, sizeof(line), "mapleak top - sort: %s - q quits, s sorts",
		 t->sort == SORT_GROWTH ? "growth" : "bytes");
	mvaddnstr(y++, 0, line, cols);
	header_line(t, d, line, sizeof(line));
	mvaddnstr(y++, 0, line, cols);
	if (t->nmsgs) {
		char *e = ml_esc(t->msgs[t->nmsgs - 1]);

		if (e)
			mvaddnstr(y, 0, e, cols);
		free(e);
	}
	y++;
	attron(A_REVERSE);
	mvaddnstr(y, 0, COLUMNS, cols);
	for (int x = (int)strlen(COLUMNS); x < cols; x++)
		mvaddch(y, x, ' ');
	attroff(A_REVERSE);
	y++;
	shown = rows > y ? (size_t)(rows - y) : 0;
	if (t->ntop_set && t->ntop && t->ntop < shown)
		shown = t->ntop;
	if (shown > d->nrows)
		shown = d->nrows;
	for (size_t i = 0; i < shown; i++) {
		row_text(t, d, &d->rows[i], line, sizeof(line));
		mvaddnstr(y++, 0, line, cols);
	}
	refresh();
}

/* A refresh: a new sample of every site, shown. -EPIPE when stdout is
 * gone (`| head`). */
static int show(struct top *t)
{
	int err;

	frame_data_release(&t->last);
	err = collect(t, &t->last);
	if (err)
		return err;
	if (t->curses)
		show_curses(t, &t->last);
	else
		show_plain(t, &t->last);
	return !t->curses && ferror(stdout) ? -EPIPE : 0;
}

/* The last refresh again, in another order or size: no new sample. */
static void redraw(struct top *t)
{
	sort_by = t->sort;
	qsort(t->last.rows, t->last.nrows, sizeof(*t->last.rows), cmp_row);
	show_curses(t, &t->last);
}

static bool start_curses(void)
{
	/* newterm, not initscr: a terminal that cannot be set up is an
	 * error to report, not an exit from inside the library */
	if (!newterm(NULL, stdout, stdin))
		return false;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	return true;
}

/* q quits, s switches the sort (and redraws at once). */
static int handle_keys(struct top *t, bool *redraw)
{
	int c;

	while ((c = getch()) != ERR) {
		if (c == 'q' || c == 'Q')
			return 1;
		if (c == 's' || c == 'S') {
			t->sort = t->sort == SORT_GROWTH ? SORT_BYTES : SORT_GROWTH;
			*redraw = true;
		}
		if (c == KEY_RESIZE)
			*redraw = true;
	}
	return 0;
}

static void top_release(struct top *t)
{
	for (u32 i = 0; i < t->nnames; i++)
		free(t->names[i].text);
	free(t->names);
	for (u32 i = 0; i < t->nmsgs; i++)
		free(t->msgs[i]);
	growth_table_free(t->gt);
	frame_data_release(&t->last);
	free(t->comm);
}

/* The loop: events in, a refresh every interval, keys on a terminal. */
static int watch(struct top *t, double interval, u32 iterations)
{
	u64 step = (u64)(interval * 1e9);
	u64 next = ml_now_ns(CLOCK_MONOTONIC) + step;

	for (;;) {
		u64 now = ml_now_ns(CLOCK_MONOTONIC);
		int ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		int st = recorder_step(t->r, ms < 50 ? ms : 50), err;
		bool again = false;

		if (st < 0) {
			say(t, REC_SAY_WARN, "cannot read events");
			return ML_STOP_SIGNAL;
		}
		if (stop_signal)
			return ML_STOP_SIGNAL;
		if (st)
			return st;	/* the target exited */
		if (recorder_write_error(t->r))
			return 0;	/* a full disk: the file keeps what it has */
		if (t->curses && handle_keys(t, &again))
			return ML_STOP_SIGNAL;
		now = ml_now_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			err = show(t);
			if (err == -EPIPE)
				return ML_STOP_SIGNAL;
			if (err)
				say(t, REC_SAY_WARN, "out of memory");
			/* a slow refresh skips ticks rather than bunching them */
			while (next <= now)
				next += step;
			if (iterations && t->refreshes >= iterations)
				return ML_STOP_DURATION;
		} else if (again && t->refreshes) {
			redraw(t);
		}
	}
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 'S' },
		{ "top", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-runtime-symbols", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top t = { .sort = SORT_GROWTH };
	struct recorder_opts o = {
		.stack_size = ML_STACK_DEFAULT,
		.say = say,
		.say_ctx = &t,
	};
	struct recorder_summary sum;
	struct sigaction sa = { 0 };
	double interval = 2;
	u32 iterations = 0;
	bool have_pid = false;
	int c, err, stopped_by, status = 1;
	const char *msg;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:i:n:t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ml_parse_pid(optarg, &t.pid))
				return usage_error(top_usage, "-p takes a process id, not '%s'",
						   optarg);
			have_pid = true;
			break;
		case 'i':
			if (parse_interval(optarg, &interval))
				return usage_error(top_usage, "--interval takes seconds "
						   "from 0.1, not '%s'", optarg);
			break;
		case 'n':
			if (parse_count(optarg, &iterations) || !iterations)
				return usage_error(top_usage, "--iterations takes a count "
						   "> 0, not '%s'", optarg);
			break;
		case 'S':
			if (!strcmp(optarg, "growth"))
				t.sort = SORT_GROWTH;
			else if (!strcmp(optarg, "bytes"))
				t.sort = SORT_BYTES;
			else
				return usage_error(top_usage, "--sort takes growth or bytes, "
						   "not '%s'", optarg);
			break;
		case 't':
			if (parse_count(optarg, &t.ntop))
				return usage_error(top_usage, "--top takes a count, not '%s'",
						   optarg);
			t.ntop_set = true;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'R':
			o.no_runtime_symbols = true;
			break;
		case 'h':
			fputs(top_usage, stdout);
			return 0;
		case ':':
			return usage_error(top_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(top_usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(top_usage, "unexpected argument '%s'", argv[optind]);
	if (!have_pid)
		return usage_error(top_usage, "nothing to watch: give -p PID");
	status = check_target(t.pid);
	if (status)
		return status;
	status = 1;
	if (growth_table_new(&t.gt, GROWTH_WINDOW))
		return error("out of memory"), 1;
	/* Before loading BPF (seconds): a Ctrl-C then still ends cleanly. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* ulimit -f: a write error, as in record */
	err = recorder_new(&t.r, &o);
	if (err) {
		msg = record_collector_error(err);
		if (msg)
			error("%s", msg);
		else
			error("cannot start BPF tracing: %s", strerror(-err));
		goto out;
	}

	err = recorder_open_output(t.r);
	if (err) {
		if (err == -EINVAL)
			error("refusing to write '%s': it is a FIFO, a device or a "
			      "socket, not a file (give another -o)", o.output);
		else if (err == -EPERM)
			error("refusing to replace '%s' or '%s.old': another user's "
			      "file or link in a sticky folder such as /tmp (give "
			      "another -o)", o.output, o.output);
		else
			error("cannot create '%s': %s", o.output, strerror(-err));
		goto out;
	}
	err = recorder_attach(t.r, t.pid);
	if (err) {
		record_attach_error(err, t.pid);
		goto out;
	}
	recorder_start_runtimes(t.r);
	t.comm = ml_esc(recorder_comm(t.r) ? recorder_comm(t.r) : "?");
	info("watching pid %d (%s), %s to stop", t.pid,
	     recorder_comm(t.r) ? recorder_comm(t.r) : "?",
	     isatty(STDOUT_FILENO) ? "q" : "Ctrl-C");

	setlocale(LC_CTYPE, "");
	if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		t.curses = start_curses();

	stopped_by = watch(&t, interval, iterations);
	recorder_end_run(t.r);
	if (t.curses)
		endwin();
	t.curses = false;
	for (u32 i = 0; i < t.nmsgs; i++)
		info("%s", t.msgs[i]);
	if (t.dropped_msgs)
		info("%u more messages not shown", t.dropped_msgs);
	if (stopped_by == ML_STOP_EXIT)
		info("pid %d exited", t.pid);

	err = recorder_finish(t.r, (u32)stopped_by, &sum);
	if (err && o.output)
		error("cannot write '%s': %s%s", o.output, strerror(-err),
		      sum.cut ? " (recording stopped; the file holds what was "
		      "written)" : "");
	else
		status = 0;
	if (o.output && !err)
		info("%" PRIu64 " events (%" PRIu64 " lost) in %.1f s; wrote '%s'",
		     sum.events, sum.lost, sum.seconds, o.output);
out:
	recorder_free(t.r);
	top_release(&t);
	return status;
}
