/* SPDX-License-Identifier: MIT */
/*
 * Subcommands. To add one: write src/cmd-NAME.c with
 * `int cmd_NAME(int argc, char **argv)` and its usage text, declare both
 * here, and add a row to the table in main.c. A command prints, and
 * returns its exit status: 0 ok, 1 failure, 2 usage, 3 over a limit
 * (report --fail-over).
 */
#ifndef MAPLEAK_CMD_H
#define MAPLEAK_CMD_H

#include <stdio.h>

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_diff(int argc, char **argv);

extern const char record_usage[];
extern const char report_usage[];
extern const char resolve_usage[];
extern const char diff_usage[];

/* "mapleak: " + message + "\n" on stderr; returns -1. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints usage on stderr after an error line; returns 2. */
int usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
