/* SPDX-License-Identifier: MIT */
/*
 * Subcommands. To add one: write src/cmd-NAME.c with
 * `int cmd_NAME(int argc, char **argv)` and its usage text, declare both
 * here, and add a row to the table in main.c. A command prints, and
 * returns its exit status: 0 ok, 1 failure, 2 usage, 3 over a limit
 * (report --fail-over).
 * Text from outside (the target, a recording) is printed escaped:
 * ml_fputs_esc() in util.h, or through error(), warning(), info().
 */
#ifndef MAPLEAK_CMD_H
#define MAPLEAK_CMD_H

#include <stdio.h>
#include <sys/types.h>

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_top(int argc, char **argv);

extern const char record_usage[];
extern const char report_usage[];
extern const char resolve_usage[];
extern const char diff_usage[];
extern const char top_usage[];

/* Shared by record and top (cmd-record.c): why BPF tracing cannot start
 * (NULL when errno says it), and why attaching to pid failed, printed. */
const char *record_collector_error(int err);
void record_attach_error(int err, pid_t pid);

/*
 * "mapleak: " + message + "\n" on stderr; returns -1. The message is
 * escaped (ml_fputs_esc()): quote any string freely, and print every
 * line on stderr through these, never with fprintf(stderr).
 */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An informational line: "mapleak: " + message, escaped. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints usage on stderr after an error line; returns 2. */
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For -p PID: 0 when PID is a live user process; else says why not and
 * returns the exit status: 1 no such process or a zombie, 2 a thread id
 * (not the process's) or a kernel thread.
 */
int check_target(pid_t pid);

#endif
