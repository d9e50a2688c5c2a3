/* SPDX-License-Identifier: MIT */
/*
 * mapleak record: options, then a recorder session (record/recorder.h),
 * then the summary. The recording engine itself is in src/record/.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"
#include "collect/collect.h"
#include "record/record.h"
#include "record/recorder.h"
#include "target/proc.h"
#include "report/report.h"

const char record_usage[] =
	"usage: mapleak record [-o FILE] [--duration SECONDS] [--stack-size BYTES]\n"
	"                      [--buffer-size SIZE] [--no-runtime-symbols]\n"
	"                      [--keep-child] [--max-size SIZE] [--no-fold]\n"
	"                      (-p PID | -- COMMAND [ARG...])\n"
	"\n"
	"Traces mmap, munmap, mremap, mprotect, brk, shmat and shmdt of every\n"
	"thread of a process, with full call stacks, until Ctrl-C, --duration or\n"
	"the end of the process. Needs root (BPF).\n"
	"\n"
	"  -p, --pid PID          attach to a running process (no restart)\n"
	"  -- COMMAND [ARG...]    run COMMAND and trace it from its exec on;\n"
	"                         stopping the recording ends it (SIGTERM),\n"
	"                         and it dies with mapleak (SIGKILL)\n"
	"      --keep-child       leave COMMAND running when the recording\n"
	"                         stops or mapleak dies\n"
	"  -o, --output FILE      where to write (default: mapleak.data; an\n"
	"                         existing file or link becomes FILE.old).\n"
	"                         Written as a new file (mode 0600) renamed\n"
	"                         into place, so links are never followed; a\n"
	"                         FIFO, a device, or another user's file in a\n"
	"                         sticky folder like /tmp is refused\n"
	"  -d, --duration SECS    stop after SECS seconds (decimals allowed)\n"
	"  -s, --stack-size BYTES user stack bytes copied per event (default\n"
	"                         16384, at most 65536); deeper stacks are cut\n"
	"  -b, --buffer-size SIZE kernel ring buffer (default 64M, power of two);\n"
	"                         if events are lost, mapleak says so and\n"
	"                         reconciles with /proc/PID/maps\n"
	"      --no-runtime-symbols\n"
	"                         leave runtimes as they are: no .NET perf map\n"
	"                         enabled over the diagnostics socket, no JVM\n"
	"                         attach (-p); no DOTNET_PerfMapEnabled=3,\n"
	"                         JAVA_TOOL_OPTIONS or NODE_OPTIONS (launch)\n"
	"      --max-size SIZE    stop the file growing at about SIZE (e.g. 1G):\n"
	"                         later changes are folded into the live set,\n"
	"                         counts and timelines written at the end\n"
	"      --no-fold          write every change; by default changes whose\n"
	"                         mappings are gone are folded into per-site\n"
	"                         counts and timelines (same report, a bounded\n"
	"                         file for a churning process)\n"
	"  -h, --help             show this help\n"
	"\n"
	"Then: mapleak report [-i FILE]\n";

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_stack_size(const char *s, u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	}
	if (*end || v < 256 || v > ML_STACK_MAX)
		return -ERANGE;
	*out = (u32)v;
	return 0;
}

/* The BPF ring buffer's size: the rule of collect.h. */
static int parse_buffer_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (*end || !ml_ringbuf_size_ok(v))
		return -ERANGE;
	*out = (size_t)v;
	return 0;
}

const char *record_collector_error(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "cannot load BPF programs: permission denied (record needs "
		       "root, or CAP_BPF + CAP_PERFMON + CAP_SYS_PTRACE)";
	case -ENOSYS:
	case -EOPNOTSUPP:
	case -ENOENT:
		return "BPF tracing is unavailable on this kernel (needs BPF, BTF "
		       "at /sys/kernel/btf/vmlinux and tp_btf, Linux "
		       ML_MIN_KERNEL "+)";
	default:
		return NULL;
	}
}

static volatile sig_atomic_t stop_signal;
/* Cuts reads of the target's JIT files short; cleared for the final
 * reads (bounded by the caps; a second signal cuts them short). */
static volatile sig_atomic_t cancel_reads;
static volatile sig_atomic_t stop_count;	/* a new one ends a wait on a JVM */

static void on_signal(int sig)
{
	stop_signal = sig;
	stop_count++;
	cancel_reads = 1;
}

/* What the recorder has to say, on stderr. */
static void say(void *ctx, enum rec_say level, const char *text)
{
	switch (level) {
	case REC_SAY_NOTE:
		info("note: %s", text);
		break;
	case REC_SAY_INFO:
		info("%s", text);
		break;
	case REC_SAY_WARN:
		warning("%s", text);
		break;
	}
}

void record_attach_error(int err, pid_t pid)
{
	if (err == -ESRCH || err == -ENOENT)
		error("process %d exited before tracing began", pid);
	else if (err == -EACCES || err == -EPERM)
		error("cannot read /proc/%d: permission denied (run as root or "
		      "as the process's user with CAP_SYS_PTRACE)", pid);
	else
		error("cannot attach to process %d: %s", pid, strerror(-err));
}

static void print_summary(const struct recorder_opts *o, pid_t pid,
			  const struct recorder_summary *s)
{
	char sz[32];

	info("%" PRIu64 " events (%" PRIu64 " lost) in %.1f s; "
		"%s live from %u stacks; %s '%s'",
		s->events, s->lost, s->seconds,
		report_human_size(s->live_bytes, sz, sizeof(sz)), s->live_sites,
		s->write_err ? "could not write" : "wrote", o->output);
	if (s->checked && (s->chk.missing_pages || s->chk.extra_pages))
		warning("live set differs from /proc/%d/maps: %" PRIu64 " pages missing, %"
			PRIu64 " extra (see the report)", pid, s->chk.missing_pages,
			s->chk.extra_pages);
	if (s->lost)
		warning("%" PRIu64 " events were lost; the live set was reconciled with "
			"/proc/%d/maps", s->lost, pid);
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stack-size", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "no-runtime-symbols", no_argument, NULL, 'R' },
		{ "keep-child", no_argument, NULL, 'K' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "no-fold", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct recorder_opts o = {
		.output = "mapleak.data",
		.stack_size = ML_STACK_DEFAULT,
		.say = say,
		.stops = &stop_count,
		.cancel_reads = &cancel_reads,
	};
	struct recorder_summary sum;
	struct recorder *r = NULL;
	struct sigaction sa = { 0 };
	char **command = NULL;
	double duration = 0;
	bool have_pid = false;
	pid_t pid = 0;
	u64 deadline = 0;
	int c, err, stopped_by, status = 1;
	const char *msg;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:o:d:s:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ml_parse_pid(optarg, &pid))
				return usage_error(record_usage, "-p takes a process id, not '%s'",
						   optarg);
			have_pid = true;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &duration))
				return usage_error(record_usage,
						   "--duration takes seconds > 0, not '%s'", optarg);
			break;
		case 'b':
			if (parse_buffer_size(optarg, &o.ringbuf_size))
				return usage_error(record_usage,
						   "--buffer-size takes a power of two from %luK "
						   "to %luG, not '%s'", ML_RINGBUF_MIN >> 10,
						   ML_RINGBUF_MAX >> 30, optarg);
			break;
		case 's':
			if (parse_stack_size(optarg, &o.stack_size))
				return usage_error(record_usage,
						   "--stack-size takes 256 to %d bytes, not '%s'",
						   ML_STACK_MAX, optarg);
			break;
		case 'R':
			o.no_runtime_symbols = true;
			break;
		case 'K':
			o.keep_child = true;
			break;
		case 'M':
			if (ml_parse_size(optarg, &o.max_size) || o.max_size < (1u << 20))
				return usage_error(record_usage,
						   "--max-size takes a size of 1M or more, such "
						   "as 512M or 2G, not '%s'", optarg);
			break;
		case 'F':
			o.no_fold = true;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return 0;
		case ':':
			return usage_error(record_usage, "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(record_usage, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc && !strcmp(argv[optind - 1], "--"))
		command = argv + optind;
	else if (optind < argc)
		return usage_error(record_usage, "unexpected argument '%s' (a command "
				   "to launch goes after '--')", argv[optind]);
	if (have_pid && command)
		return usage_error(record_usage, "give either -p PID or -- COMMAND, not both");
	if (o.no_fold && o.max_size)
		return usage_error(record_usage, "--max-size folds what comes after it: "
				   "it cannot go with --no-fold");
	if (!have_pid && !command)
		return usage_error(record_usage, "nothing to record: give -p PID or -- COMMAND");

	if (have_pid && (status = check_target(pid)))
		return status;
	status = 1;
	/* Before loading BPF (seconds): a Ctrl-C then still ends cleanly. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit (ulimit -f) is a write error like a full disk */
	signal(SIGXFSZ, SIG_IGN);
	err = recorder_new(&r, &o);
	if (err) {
		msg = record_collector_error(err);
		if (msg)
			error("%s", msg);
		else
			error("cannot start BPF tracing: %s", strerror(-err));
		return 1;
	}

	/* Before launching: a refused output file starts nothing. */
	err = recorder_open_output(r);
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
	if (command) {
		err = recorder_launch(r, command);
		if (err) {
			error("cannot run '%s': %s", command[0], strerror(-err));
			goto out;
		}
		pid = recorder_pid(r);
	}
	err = recorder_attach(r, pid);
	if (err) {
		record_attach_error(err, pid);
		goto out;
	}
	recorder_start_runtimes(r);
	info("recording pid %d (%s), Ctrl-C to stop", pid,
	     recorder_comm(r) ? recorder_comm(r) : "?");

	if (duration > 0)
		deadline = ml_now_ns(CLOCK_MONOTONIC) + (u64)(duration * 1e9);
	stopped_by = recorder_run(r, deadline, &stop_signal);
	if (stopped_by < 0) {
		error("cannot read events: %s", strerror(-stopped_by));
		stopped_by = ML_STOP_SIGNAL;
	}
	cancel_reads = 0;
	err = recorder_finish(r, (u32)stopped_by, &sum);
	if (err)
		error("cannot write '%s': %s%s", o.output, strerror(-err),
		      sum.cut ? " (recording stopped; the file holds what was "
		      "written)" : "");
	else
		status = 0;
	print_summary(&o, pid, &sum);
out:
	recorder_free(r);
	return status;
}
