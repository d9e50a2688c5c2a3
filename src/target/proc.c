/* SPDX-License-Identifier: MIT */
/* Small facts about a process from /proc (see proc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "target/proc.h"

/* The command line with NULs turned into spaces. */
char *proc_cmdline(pid_t pid)
{
	char path[64];
	size_t len = 0;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	s = ml_read_file(path, 4096, &len);
	if (!s)
		return NULL;
	while (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	return s;
}

char *proc_comm(pid_t pid)
{
	char path[64];
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	s = ml_read_file(path, 64, NULL);
	if (s)
		s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The last NSpid field of /proc/PID/status: the pid inside its namespace. */
u32 proc_nspid(pid_t pid)
{
	char path[64];
	char *s, *line;
	u32 nspid = (u32)pid;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = ml_read_file(path, 8192, NULL);
	if (!s)
		return nspid;
	line = strstr(s, "\nNSpid:");
	if (line) {
		char *end = strchr(line + 1, '\n');
		char *p = line + 7;

		if (end)
			*end = '\0';
		while (*p) {
			char *q;
			unsigned long v = strtoul(p, &q, 10);

			if (q == p)
				break;
			nspid = (u32)v;
			p = q;
		}
	}
	free(s);
	return nspid;
}

/* start_brk is field 47 of /proc/PID/stat (after the parenthesized comm). */
u64 proc_start_brk(pid_t pid)
{
	char path[64];
	char *s, *p;
	u64 v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ml_read_file(path, 4096, NULL);
	if (!s)
		return 0;
	p = strrchr(s, ')');
	if (p) {
		int field = 2;

		for (p++; *p && field < 47; p++)
			if (*p == ' ')
				field++;
		if (field == 47)
			v = strtoull(p, NULL, 10);
	}
	free(s);
	return v;
}

bool proc_alive(pid_t pid)
{
	char path[64];
	char *s, *p;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ml_read_file(path, 4096, NULL);
	if (!s)
		return false;
	p = strrchr(s, ')');
	alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(s);
	return alive;
}

