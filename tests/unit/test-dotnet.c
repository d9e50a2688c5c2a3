/* SPDX-License-Identifier: MIT */
/*
 * The .NET diagnostics IPC client (src/symbols/dotnet.c): the exact bytes
 * of EnablePerfMap/DisablePerfMap, reply decoding (good, error, cut,
 * damaged), the /proc parsers, and whole round trips against an in-process
 * fake runtime: answers, errors, silence (the timeout must hold), a stale
 * socket, a peer that hangs up, and a folder path too long for sun_path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/dotnet.h"

static const u8 enable3[24] = {
	'D', 'O', 'T', 'N', 'E', 'T', '_', 'I', 'P', 'C', '_', 'V', '1', 0,
	0x18, 0x00, 0x04, 0x05, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
};

static void reply(u8 *b, u8 id, u32 hr)
{
	memcpy(b, enable3, 14);
	b[14] = 24;
	b[15] = 0;
	b[16] = 0xFF;
	b[17] = id;
	b[18] = b[19] = 0;
	b[20] = (u8)hr;
	b[21] = (u8)(hr >> 8);
	b[22] = (u8)(hr >> 16);
	b[23] = (u8)(hr >> 24);
}

static void test_encode(void)
{
	const u8 type[4] = { 3, 0, 0, 0 };
	u8 buf[64];
	int n;

	n = dotnet_ipc_encode(buf, sizeof(buf), DOTNET_IPC_SET_PROCESS,
			      DOTNET_IPC_ENABLE_PERFMAP, type, sizeof(type));
	T_CHECKF("EnablePerfMap(3) is the documented 24 bytes",
		 n == 24 && !memcmp(buf, enable3, 24), "n=%d", n);
	n = dotnet_ipc_encode(buf, sizeof(buf), DOTNET_IPC_SET_PROCESS,
			      DOTNET_IPC_DISABLE_PERFMAP, NULL, 0);
	T_CHECKF("DisablePerfMap is magic + 14 00 04 06 00 00",
		 n == 20 && !memcmp(buf, enable3, 14) && buf[14] == 0x14 &&
		 buf[15] == 0 && buf[16] == 4 && buf[17] == 6 && !buf[18] && !buf[19],
		 "n=%d", n);
	T_CHECK("encode into a short buffer: -ENOSPC",
		dotnet_ipc_encode(buf, 23, 4, 5, type, 4) == -ENOSPC);
	T_CHECK("encode a payload over 65515 bytes: -EINVAL",
		dotnet_ipc_encode(buf, sizeof(buf), 4, 5, type, 65516) == -EINVAL);
}

static void test_reply(void)
{
	u8 b[32];
	u32 hr = 1;

	reply(b, 0x00, 0);
	T_CHECK("OK reply, HRESULT 0", dotnet_ipc_parse_reply(b, 24, &hr) == 0 && hr == 0);
	reply(b, 0xFF, DOTNET_HR_UNKNOWN_COMMAND);
	T_CHECK("error reply 0x80131385 (older than .NET 8)",
		dotnet_ipc_parse_reply(b, 24, &hr) == 0 && hr == DOTNET_HR_UNKNOWN_COMMAND);
	T_CHECK("the error reply as captured from a live runtime",
		!memcmp(b + 16, "\xff\xff\x00\x00\x85\x13\x13\x80", 8));
	T_CHECK("reply size from the header", dotnet_ipc_reply_size(b, 20) == 24);
	T_CHECK("cut reply (23 of 24 bytes): -EBADMSG",
		dotnet_ipc_parse_reply(b, 23, &hr) == -EBADMSG);
	T_CHECK("header only: -EBADMSG", dotnet_ipc_parse_reply(b, 20, &hr) == -EBADMSG);
	T_CHECK("less than a header: -EBADMSG", dotnet_ipc_reply_size(b, 19) == -EBADMSG);
	reply(b, 0x00, 0);
	b[3] = 'X';
	T_CHECK("bad magic: -EBADMSG", dotnet_ipc_parse_reply(b, 24, &hr) == -EBADMSG);
	reply(b, 0x00, 0);
	b[14] = 19;
	T_CHECK("announced size below the header: -EBADMSG",
		dotnet_ipc_reply_size(b, 20) == -EBADMSG);
	reply(b, 0x00, 0);
	b[14] = 28;
	T_CHECK("announced size != bytes read: -EBADMSG",
		dotnet_ipc_parse_reply(b, 24, &hr) == -EBADMSG);
	reply(b, 0x00, 0);
	b[16] = 0x04;
	T_CHECK("reply from another command set: -EBADMSG",
		dotnet_ipc_parse_reply(b, 24, &hr) == -EBADMSG);
	reply(b, 0x07, 0);
	T_CHECK("unknown response id: -EBADMSG", dotnet_ipc_parse_reply(b, 24, &hr) == -EBADMSG);
	reply(b, 0xFF, 0);
	T_CHECK("error reply carrying a success code: -EBADMSG",
		dotnet_ipc_parse_reply(b, 24, &hr) == -EBADMSG);
	reply(b, 0x00, 0);
	b[14] = 20;
	T_CHECK("OK reply without its HRESULT: -EBADMSG",
		dotnet_ipc_parse_reply(b, 20, &hr) == -EBADMSG);
}

#define ENV(s) s, sizeof(s) - 1

static void test_env(void)
{
	struct dotnet_env e;

	dotnet_env_parse(ENV("PATH=/bin\0HOME=/root\0"), &e);
	T_CHECK("no settings: perf map unset, diagnostics on, no TMPDIR",
		e.perfmap == -1 && !e.diag_off[0] && !e.tmpdir[0] && !e.perfmap_dir[0]);
	dotnet_env_parse(ENV("DOTNET_PerfMapEnabled=3\0"), &e);
	T_CHECK("DOTNET_PerfMapEnabled=3", e.perfmap == 3);
	dotnet_env_parse(ENV("COMPlus_PerfMapEnabled=1\0"), &e);
	T_CHECK("COMPlus_PerfMapEnabled=1", e.perfmap == 1);
	dotnet_env_parse(ENV("DOTNET_PerfMapEnabled=0\0COMPlus_PerfMapEnabled=1\0"), &e);
	T_CHECK("DOTNET_ wins over COMPlus_ (in either order)", e.perfmap == 0);
	dotnet_env_parse(ENV("COMPlus_PerfMapEnabled=1\0DOTNET_PerfMapEnabled=0\0"), &e);
	T_CHECK("DOTNET_ wins over COMPlus_ (DOTNET_ last)", e.perfmap == 0);
	dotnet_env_parse(ENV("DOTNET_PerfMapEnabled=0x1A\0"), &e);
	T_CHECK("values are hex, as CLRConfig reads them", e.perfmap == 0x1A);
	dotnet_env_parse(ENV("DOTNET_PerfMapEnabled=yes\0"), &e);
	T_CHECK("an unparsable value is the default (unset)", e.perfmap == -1);
	dotnet_env_parse(ENV("DOTNET_PerfMapEnabledX=1\0XDOTNET_PerfMapEnabled=1\0"), &e);
	T_CHECK("similar names are not the setting", e.perfmap == -1);
	dotnet_env_parse(ENV("DOTNET_EnableDiagnostics=0\0"), &e);
	T_CHECK("DOTNET_EnableDiagnostics=0 turns IPC off, named as set",
		!strcmp(e.diag_off, "DOTNET_EnableDiagnostics=0"));
	dotnet_env_parse(ENV("COMPlus_EnableDiagnostics_IPC=00\0"), &e);
	T_CHECK("COMPlus_EnableDiagnostics_IPC=00 turns IPC off",
		!strcmp(e.diag_off, "COMPlus_EnableDiagnostics_IPC=00"));
	dotnet_env_parse(ENV("DOTNET_EnableDiagnostics=1\0COMPlus_EnableDiagnostics=0\0"), &e);
	T_CHECK("DOTNET_EnableDiagnostics=1 overrides COMPlus_...=0", !e.diag_off[0]);
	dotnet_env_parse(ENV("DOTNET_EnableDiagnostics=false\0"), &e);
	T_CHECK("EnableDiagnostics=false is not hex: default (on)", !e.diag_off[0]);
	dotnet_env_parse(ENV("TMPDIR=/var/tmp/x\0DOTNET_PerfMapJitDumpPath=/data\0"), &e);
	T_CHECK("TMPDIR and PerfMapJitDumpPath",
		!strcmp(e.tmpdir, "/var/tmp/x") && !strcmp(e.perfmap_dir, "/data"));
	dotnet_env_parse(ENV("A=1\0DOTNET_PerfMapEnabled=2"), &e);
	T_CHECK("a last entry without NUL still counts", e.perfmap == 2);
	dotnet_env_parse(ENV("\0\0=\0DOTNET_PerfMapEnabled=\0TMPDIR=\0"), &e);
	T_CHECK("empty entries and values are harmless", e.perfmap == -1 && !e.tmpdir[0]);
	{
		size_t n = 7 + DOTNET_PATH_MAX + 10;
		char *big = malloc(n);

		memcpy(big, "TMPDIR=", 7);
		memset(big + 7, 'a', n - 7);
		dotnet_env_parse(big, n, &e);
		T_CHECK("an over-long TMPDIR is ignored, not cut", !e.tmpdir[0]);
		free(big);
	}
}

static void test_stat(void)
{
	const char *s = "4242 (My App) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
			"5 3 0 0 20 0 8 0 209866 123456 789 18446744073709551615\n";
	u64 v = 0;

	T_CHECK("starttime (field 22) after a comm with spaces and ')'",
		dotnet_stat_starttime(s, strlen(s), &v) == 0 && v == 209866);
	T_CHECK("stat cut before field 22: -EINVAL",
		dotnet_stat_starttime(s, 60, &v) == -EINVAL);
	T_CHECK("no ')': -EINVAL", dotnet_stat_starttime("1 (x S 1", 8, &v) == -EINVAL);
	T_CHECK("empty: -EINVAL", dotnet_stat_starttime("", 0, &v) == -EINVAL);
}

/* ---- a fake runtime on a Unix socket ---- */

enum fake_mode { FAKE_OK, FAKE_UNKNOWN, FAKE_SILENT, FAKE_HANGUP, FAKE_GARBAGE };

struct fake {
	int lfd;
	enum fake_mode mode;
	u8 req[64];
	ssize_t req_len;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	u8 b[32];
	int c = accept(f->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	f->req_len = read(c, f->req, sizeof(f->req));
	switch (f->mode) {
	case FAKE_OK:
		reply(b, 0x00, 0);
		break;
	case FAKE_UNKNOWN:
		reply(b, 0xFF, DOTNET_HR_UNKNOWN_COMMAND);
		break;
	case FAKE_SILENT:
		sleep(2);	/* longer than the client's timeout */
		close(c);
		return NULL;
	case FAKE_HANGUP:
		close(c);
		return NULL;
	case FAKE_GARBAGE:
		memset(b, 'G', sizeof(b));
		break;
	}
	if (write(c, b, 24) != 24)
		f->req_len = -1;
	close(c);
	return NULL;
}

static int fake_listen(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, dfd = open(dir, O_PATH | O_DIRECTORY);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		close(fd);
		fd = -1;
	}
	close(dfd);
	return fd;
}

static u64 ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static u64 call_ms;	/* how long the last call() took */

static int call(int dfd, const char *name, struct fake *f, u32 *hr, bool *sent)
{
	const u8 type[4] = { 3, 0, 0, 0 };
	pthread_t th;
	u64 t0;
	int err;

	pthread_create(&th, NULL, fake_run, f);
	t0 = ms_now();
	err = dotnet_ipc_call(dfd, name, DOTNET_IPC_SET_PROCESS,
			      DOTNET_IPC_ENABLE_PERFMAP, type, 4, 500, hr, sent);
	call_ms = ms_now() - t0;
	pthread_join(th, NULL);
	return err;
}

static void test_roundtrip(void)
{
	char base[] = "/tmp/mapleak-test-dotnet.XXXXXX";
	char deep[512];
	struct fake f = { 0 };
	const char *name = "dotnet-diagnostic-1-2-socket";
	bool sent = false;
	u32 hr = 7;
	int dfd, err;

	if (!mkdtemp(base)) {
		T_SKIP("IPC round trips", "cannot create a temporary folder");
		return;
	}
	/* Deeper than sun_path (108 bytes) can name. */
	snprintf(deep, sizeof(deep), "%s/%s", base,
		 "a-folder-name-long-enough-that-the-socket-path-is-over-108-bytes-"
		 "once-the-socket-name-is-added-too");
	mkdir(deep, 0700);
	dfd = open(deep, O_RDONLY | O_DIRECTORY);
	T_CHECKF("the test folder path is over sun_path's size",
		 strlen(deep) + 1 + strlen(name) >= sizeof(((struct sockaddr_un *)0)->sun_path),
		 "%zu", strlen(deep));

	f.lfd = fake_listen(deep, name);
	T_CHECK("fake runtime listens", f.lfd >= 0);
	f.mode = FAKE_OK;
	err = call(dfd, name, &f, &hr, &sent);
	T_CHECKF("EnablePerfMap round trip through a long path: 0, HRESULT 0",
		 err == 0 && hr == 0 && sent, "err=%d hr=%x", err, hr);
	T_CHECK("the runtime received exactly EnablePerfMap(3)",
		f.req_len == 24 && !memcmp(f.req, enable3, 24));

	f.mode = FAKE_UNKNOWN;
	err = call(dfd, name, &f, &hr, &sent);
	T_CHECKF("an old runtime's answer comes back as its HRESULT",
		 err == 0 && hr == DOTNET_HR_UNKNOWN_COMMAND, "err=%d hr=%x", err, hr);

	f.mode = FAKE_GARBAGE;
	err = call(dfd, name, &f, &hr, &sent);
	T_CHECKF("garbage answer: -EBADMSG", err == -EBADMSG, "err=%d", err);

	f.mode = FAKE_HANGUP;
	err = call(dfd, name, &f, &hr, &sent);
	T_CHECKF("peer hangs up without answering: -ECONNRESET, request sent",
		 err == -ECONNRESET && sent, "err=%d", err);

	f.mode = FAKE_SILENT;
	err = call(dfd, name, &f, &hr, &sent);
	T_CHECKF("a silent runtime: -ETIMEDOUT after the timeout, request sent",
		 err == -ETIMEDOUT && sent, "err=%d", err);
	T_CHECKF("... within the timeout (500 ms) plus slack, not the peer's 2 s",
		 call_ms >= 450 && call_ms < 1500, "%llu ms", (unsigned long long)call_ms);
	close(f.lfd);

	/* The socket file stays after close: a stale socket (runtime gone). */
	err = dotnet_ipc_call(dfd, name, 4, 5, "\3\0\0\0", 4, 500, &hr, &sent);
	T_CHECKF("stale socket: -ECONNREFUSED, nothing sent",
		 err == -ECONNREFUSED && !sent, "err=%d", err);
	unlinkat(dfd, name, 0);
	err = dotnet_ipc_call(dfd, name, 4, 5, "\3\0\0\0", 4, 500, &hr, &sent);
	T_CHECKF("no socket: -ENOENT", err == -ENOENT, "err=%d", err);
	close(openat(dfd, name, O_CREAT | O_WRONLY, 0600));
	err = dotnet_ipc_call(dfd, name, 4, 5, "\3\0\0\0", 4, 500, &hr, &sent);
	T_CHECKF("a regular file of that name is not a socket: -ENOENT",
		 err == -ENOENT, "err=%d", err);
	unlinkat(dfd, name, 0);
	close(dfd);
	rmdir(deep);
	rmdir(base);
}

/* What is checked is what is connected to: no symlink followed, and only
 * the expected process's listener is sent anything. */
static void test_socket_checks(void)
{
	char base[] = "/tmp/mapleak-test-dotnet.XXXXXX";
	const char *link = "dotnet-diagnostic-1-2-socket";
	const u8 type[4] = { 3, 0, 0, 0 };
	struct fake f = { 0 };
	bool sent = true;
	u32 hr = 7;
	u8 buf[8];
	int dfd, err, c;
	pthread_t th;

	if (!mkdtemp(base)) {
		T_SKIP("socket checks", "cannot create a temporary folder");
		return;
	}
	dfd = open(base, O_RDONLY | O_DIRECTORY);
	f.lfd = fake_listen(base, "real-socket");
	T_CHECK("fake runtime listens", f.lfd >= 0 && dfd >= 0);
	fcntl(f.lfd, F_SETFL, O_NONBLOCK);
	T_CHECK("symlink made", symlinkat("real-socket", dfd, link) == 0);

	err = dotnet_ipc_call(dfd, link, DOTNET_IPC_SET_PROCESS,
			      DOTNET_IPC_ENABLE_PERFMAP, type, 4, 500, &hr, &sent);
	c = accept(f.lfd, NULL, NULL);
	T_CHECKF("a symlink named like the socket is not followed: -ENOENT, "
		 "no connection", err == -ENOENT && !sent && c < 0,
		 "err=%d sent=%d accepted=%d", err, sent, c);
	if (c >= 0)
		close(c);

	err = dotnet_ipc_call_peer(getppid(), dfd, "real-socket",
				   DOTNET_IPC_SET_PROCESS, DOTNET_IPC_ENABLE_PERFMAP,
				   type, 4, 500, &hr, &sent);
	c = accept(f.lfd, NULL, NULL);
	T_CHECKF("another process's listener: -EPERM, nothing sent",
		 err == -EPERM && !sent && c >= 0 && read(c, buf, sizeof(buf)) == 0,
		 "err=%d sent=%d accepted=%d", err, sent, c);
	if (c >= 0)
		close(c);

	fcntl(f.lfd, F_SETFL, 0);
	f.mode = FAKE_OK;
	pthread_create(&th, NULL, fake_run, &f);
	err = dotnet_ipc_call_peer(getpid(), dfd, "real-socket",
				   DOTNET_IPC_SET_PROCESS, DOTNET_IPC_ENABLE_PERFMAP,
				   type, 4, 500, &hr, &sent);
	pthread_join(th, NULL);
	T_CHECKF("the expected process's listener gets the command",
		 err == 0 && sent && hr == 0 && f.req_len == 24,
		 "err=%d hr=%x len=%zd", err, hr, f.req_len);

	close(f.lfd);
	unlinkat(dfd, link, 0);
	unlinkat(dfd, "real-socket", 0);
	close(dfd);
	rmdir(base);
}

static void test_probe_self(void)
{
	struct dotnet_probe p;
	int err = dotnet_probe(getpid(), &p);

	T_CHECK("probe of this (non-.NET) process works", err == 0);
	T_CHECK("... and finds no CoreCLR", !p.coreclr && !p.jit_loaded);
	T_CHECK("... its start time", p.start_key > 0);
	T_CHECK("... and no perf map open", !p.map_open && !dotnet_perfmap_preset(&p));
	T_CHECK("probe of a pid that does not exist fails",
		dotnet_probe(0x3fffffff, &p) < 0);
	T_CHECK("undo of nothing is a no-op", dotnet_perfmap_undo(NULL, 10, NULL, NULL) == 0);
}

int main(void)
{
	test_encode();
	test_reply();
	test_env();
	test_stat();
	test_roundtrip();
	test_socket_checks();
	test_probe_self();
	T_END();
}
