/* SPDX-License-Identifier: MIT */
/*
 * A target whose perf map is first read after it exited (a short-lived
 * .NET program in launch mode): /proc/PID/root is gone with the process,
 * the root that symtab_open() took hold of still finds the file. And the
 * removal of the map mapleak caused: only the file read, only regular
 * files, perfinfo too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/symtab.h"

#define JIT_PC 0x10010ull	/* mapped by nothing in the child */

static char map_path[64], info_path[64];

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A child that, on a byte from the pipe, writes its perf map and perfinfo
 * file as a .NET runtime does, then exits. */
static pid_t spawn(int *go)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char c, path[64];

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
		if (write_file(path, "0000000000010000 40 void [App] "
			       "App.Program::Main(string[])[QuickJitted]\n"))
			_exit(2);
		snprintf(path, sizeof(path), "/tmp/perfinfo-%d.map", (int)getpid());
		_exit(write_file(path, "ImageLoad;/x/App.dll;{0};\n") ? 3 : 0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static bool reap_after_go(pid_t pid, int go)
{
	int st;

	if (write(go, "g", 1) != 1)
		return false;
	close(go);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_read_after_exit(void)
{
	struct symtab *st = NULL;
	struct ml_frame f = { 0 };
	char root[64];
	int go, fd;
	pid_t pid = spawn(&go);

	if (pid < 0) {
		T_SKIP("read after exit", "cannot fork");
		return;
	}
	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)pid);
	snprintf(info_path, sizeof(info_path), "/tmp/perfinfo-%d.map", (int)pid);
	T_CHECK("gone: symtab_open while it runs", symtab_open(&st, pid) == 0);
	if (!st)
		return;
	T_CHECK("gone: no perf map yet",
		symtab_update_jit(st) == 0 && !symtab_has_jit_map(st));
	T_CHECK("gone: the child wrote its map and was reaped", reap_after_go(pid, go));
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	fd = open(root, O_PATH);
	T_CHECK("gone: /proc/PID/root no longer opens", fd < 0);
	if (fd >= 0)
		close(fd);

	T_CHECK("gone: the map is read after the exit",
		symtab_update_jit(st) == 0 && symtab_has_jit_map(st));
	T_CHECKF("gone: a JIT pc is named from it",
		 symtab_name(st, JIT_PC, false, &f) == 0 && f.symbol &&
		 strstr(f.symbol, "App.Program::Main"),
		 "got %s", f.symbol ? f.symbol : "(null)");
	ml_frame_release(&f);
	T_CHECK("gone: its maps are known (libc), not .NET's",
		symtab_maps_have(st, "/libc.so.6") &&
		!symtab_maps_have(st, "/libcoreclr.so"));

	T_CHECK("gone: remove: ok", symtab_remove_perfmap(st) == 0);
	T_CHECK("gone: remove: perf map and perfinfo are gone",
		access(map_path, F_OK) < 0 && errno == ENOENT &&
		access(info_path, F_OK) < 0 && errno == ENOENT);
	T_CHECK("gone: remove again: nothing to do", symtab_remove_perfmap(st) == 0);
	symtab_close(st);
}

/* Only the file that was read, and only regular files. */
static void test_remove_only_ours(void)
{
	struct symtab *st = NULL;
	struct stat sb;
	int go;
	pid_t pid = spawn(&go);

	if (pid < 0) {
		T_SKIP("remove only ours", "cannot fork");
		return;
	}
	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)pid);
	snprintf(info_path, sizeof(info_path), "/tmp/perfinfo-%d.map", (int)pid);
	T_CHECK("ours: symtab_open", symtab_open(&st, pid) == 0);
	if (!st)
		return;
	T_CHECK("ours: the child ran", reap_after_go(pid, go));
	T_CHECK("ours: map read", symtab_update_jit(st) == 0 && symtab_has_jit_map(st));

	/* Replaced after it was read: someone else's file now. */
	unlink(map_path);
	T_CHECK("ours: a new file under the name", write_file(map_path, "x\n") == 0);
	unlink(info_path);
	T_CHECK("ours: perfinfo is a symlink", symlink("/etc/hostname", info_path) == 0);
	T_CHECKF("ours: remove refuses", symtab_remove_perfmap(st) < 0, "removed");
	T_CHECK("ours: the replaced map stays", access(map_path, F_OK) == 0);
	T_CHECK("ours: the symlink stays (and its target)",
		lstat(info_path, &sb) == 0 && S_ISLNK(sb.st_mode) &&
		access("/etc/hostname", F_OK) == 0);
	unlink(map_path);
	unlink(info_path);
	symtab_close(st);
}

int main(void)
{
	test_read_after_exit();
	test_remove_only_ours();
	unlink(map_path);
	unlink(info_path);
	T_END();
}
