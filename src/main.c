/* SPDX-License-Identifier: MIT */
/* mapleak: find the call stacks that hold memory mappings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "mapleak.h"
#include "util.h"
#include "target/proc.h"

static const char main_usage[] =
	"usage: mapleak [--version] [--help] <command> [<args>]\n"
	"\n"
	"Finds which call stacks hold memory mappings (mmap, brk, shmat...)\n"
	"that were never given back: bytes, resident bytes, mappings, since when.\n"
	"\n"
	"commands:\n"
	"  record   trace a running process (-p PID) or a command (-- CMD)\n"
	"  report   show who holds the mappings in a recording\n"
	"  resolve  name code addresses of a process or a recording\n"
	"  diff     compare two recordings site by site\n"
	"  top      live view of a process: which sites grow, while recording\n"
	"  help     show help for a command\n"
	"\n"
	"example:\n"
	"  mapleak record -p 4242        (Ctrl-C to stop)\n"
	"  mapleak report\n"
	"\n"
	"See 'mapleak help <command>' for a command's options.\n";

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct cmd_struct commands[] = {
	{ "record", cmd_record, record_usage },
	{ "report", cmd_report, report_usage },
	{ "resolve", cmd_resolve, resolve_usage },
	{ "diff", cmd_diff, diff_usage },
	{ "top", cmd_top, top_usage },
};

static const struct cmd_struct *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * Every message goes through the escaping of ml_fputs_esc(): messages
 * quote paths, comms and runtime replies that the target controls.
 */
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL;

	fputs(prefix, stderr);
	if (vasprintf(&msg, fmt, ap) < 0)
		fputs("(out of memory)", stderr);
	else
		ml_fputs_esc(msg, stderr);
	free(msg);
	fputc('\n', stderr);
}

int error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage("mapleak: ", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage("mapleak: warning: ", fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage("mapleak: ", fmt, ap);
	va_end(ap);
}

int usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("mapleak: ", fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	return 2;
}

int check_target(pid_t pid)
{
	enum ml_task_kind kind;
	pid_t tgid = 0;
	int err = ml_task_kind(pid, &kind, &tgid);

	if (err == -ENOENT) {
		error("no such process: %d", (int)pid);
		return 1;
	}
	if (err) {
		error("cannot read /proc/%d: %s", (int)pid, strerror(-err));
		return 1;
	}
	switch (kind) {
	case ML_TASK_THREAD:
		error("%d is a thread of process %d, not a process: give -p %d",
		      (int)pid, (int)tgid, (int)tgid);
		return 2;
	case ML_TASK_KERNEL:
		error("%d is a kernel thread: it has no user-space mappings", (int)pid);
		return 2;
	case ML_TASK_ZOMBIE:
		error("process %d is exiting (zombie): nothing to look at", (int)pid);
		return 1;
	default:
		return 0;
	}
}

/* Like git: a report cut short by a full disk or a closed pipe must fail. */
static int finish_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		error("cannot write output: %s", strerror(errno ? errno : EIO));
		return status ? status : 1;
	}
	return status;
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd_struct *c;

	if (argc < 2) {
		fputs(main_usage, stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return usage_error(main_usage, "no such command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd_struct *c;

	if (argc < 2)
		return usage_error(main_usage, "no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return finish_stdout(cmd_help(1, argv));
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("mapleak %s\n", MAPLEAK_VERSION);
		return finish_stdout(0);
	}
	if (!strcmp(argv[1], "help"))
		return finish_stdout(cmd_help(argc - 1, argv + 1));
	c = find_cmd(argv[1]);
	if (!c)
		return usage_error(main_usage, "no such command '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return finish_stdout(0);
		}
	}
	return finish_stdout(c->fn(argc - 1, argv + 1));
}
