/* SPDX-License-Identifier: MIT */
/*
 * The HotSpot attach protocol client (symbols/jvmattach.c) against a fake
 * listener in this very process: the request bytes, the reply's status
 * line, the attach-file handshake (SIGQUIT), and every refusal (socket of
 * another user, a symlink, a peer that is not the target, no SIGQUIT
 * handler), the deadline and a stop signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "symbols/jvmattach.h"

static const char want_req[] = "1\0jcmd\0Compiler.perfmap\0\0";	/* + NUL */

static void encode_cases(void)
{
	char buf[64], big[JVM_ATTACH_ARG_MAX + 2];
	int n;

	n = jvm_attach_encode(buf, sizeof(buf), "jcmd", "Compiler.perfmap");
	T_CHECKF("request: 1 NUL jcmd NUL Compiler.perfmap NUL NUL NUL",
		 n == (int)sizeof(want_req) && !memcmp(buf, want_req, sizeof(want_req)),
		 "expected %zu bytes, got %d", sizeof(want_req), n);
	n = jvm_attach_encode(buf, sizeof(buf), "properties", NULL);
	T_CHECK("request without argument: four NULs after the name",
		n == 2 + 11 + 3 && !memcmp(buf, "1\0properties\0\0\0", 16));
	T_CHECK("request into a short buffer: -ENOSPC",
		jvm_attach_encode(buf, 10, "jcmd", "Compiler.perfmap") == -ENOSPC);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_CHECK("argument over HotSpot's 1024 bytes: -EINVAL",
		jvm_attach_encode(buf, sizeof(buf), "jcmd", big) == -EINVAL);
	T_CHECK("command name over 16 bytes: -EINVAL",
		jvm_attach_encode(buf, sizeof(buf), "seventeen-chars-x", "") == -EINVAL);
}

static void parse_cases(void)
{
	int st = 7;

	T_CHECK("reply '0\\nout': status 0, output at 2",
		jvm_attach_parse_reply("0\nout", 5, &st) == 2 && st == 0);
	T_CHECK("reply '-1\\n': status -1",
		jvm_attach_parse_reply("-1\njava.lang.Exc", 16, &st) == 3 && st == -1);
	T_CHECK("reply '101\\n' (bad version): status 101",
		jvm_attach_parse_reply("101\n", 4, &st) == 4 && st == 101);
	T_CHECK("reply without newline: -EBADMSG",
		jvm_attach_parse_reply("0", 1, &st) == -EBADMSG);
	T_CHECK("reply not a number: -EBADMSG",
		jvm_attach_parse_reply("x\n", 2, &st) == -EBADMSG);
	T_CHECK("empty reply: -EBADMSG", jvm_attach_parse_reply("", 0, &st) == -EBADMSG);
	T_CHECK("reply '-\\n': -EBADMSG", jvm_attach_parse_reply("-\n", 2, &st) == -EBADMSG);
	T_CHECK("status of 10 digits: -EBADMSG",
		jvm_attach_parse_reply("1234567890\n", 11, &st) == -EBADMSG);
}

/* ---- a fake JVM: this process ---- */

static char sock_path[64], trigger_path[64];
static volatile sig_atomic_t quits;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char got_req[256];
static size_t got_len;
static bool trigger_seen;

static void on_quit(int sig)
{
	(void)sig;
	quits++;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 4)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	chmod(path, 0600);
	return s;
}

/* Serves one request: reads the five strings, answers "0\nflags...". */
static void serve_one(int ls)
{
	char buf[256];
	size_t n = 0;
	int nul = 0, c = accept(ls, NULL, NULL);

	if (c < 0)
		return;
	while (nul < 5 && n < sizeof(buf)) {
		ssize_t r = read(c, buf + n, sizeof(buf) - n);

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			nul += buf[n + (size_t)i] == '\0';
		n += (size_t)r;
	}
	pthread_mutex_lock(&mu);
	memcpy(got_req, buf, n);
	got_len = n;
	pthread_mutex_unlock(&mu);
	(void)!write(c, "0\n-XX:+PreserveFramePointer\n", 28);
	close(c);
}

/* Mode 1: HotSpot's lazy start: waits for SIGQUIT, looks for the attach
 * file (owned by our euid), then listens. */
static void *lazy_jvm(void *arg)
{
	struct stat sb;
	int ls;

	(void)arg;
	for (int i = 0; i < 300 && !quits; i++)
		usleep(10000);
	if (!quits)
		return NULL;
	pthread_mutex_lock(&mu);
	trigger_seen = stat(trigger_path, &sb) == 0 && sb.st_uid == geteuid();
	pthread_mutex_unlock(&mu);
	if (!trigger_seen)
		return NULL;
	ls = listen_at(sock_path);
	if (ls < 0)
		return NULL;
	serve_one(ls);
	close(ls);
	return NULL;
}

static struct jvm_target self_target(void)
{
	struct jvm_target t = { .pid = getpid(), .nspid = getpid(),
				.euid = geteuid(), .egid = getegid() };
	return t;
}

static void live_cases(void)
{
	struct jvm_target t = self_target();
	struct sigaction sa = { .sa_handler = on_quit };
	struct ipc_clock c;
	pthread_t th;
	char out[256];
	int ret, st = 5, ls;
	struct stat sb;

	snprintf(sock_path, sizeof(sock_path), "/tmp/.java_pid%d", (int)getpid());
	snprintf(trigger_path, sizeof(trigger_path), "/tmp/.attach_pid%d", (int)getpid());
	unlink(sock_path);
	unlink(trigger_path);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGQUIT, &sa, NULL);

	/* The handshake and one command. */
	pthread_create(&th, NULL, lazy_jvm, NULL);
	ipc_clock_start(&c, 5000, NULL);
	ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
	pthread_join(th, NULL);
	T_CHECKF("lazy listener: attach file seen, SIGQUIT sent, answer read",
		 ret == 0 && st == 0 && !strcmp(out, "-XX:+PreserveFramePointer\n"),
		 "expected 0, status 0, the flags; got %d (%s), status %d, '%s'",
		 ret, strerror(ret < 0 ? -ret : 0), st, out);
	T_CHECK("the JVM saw .attach_pid<pid> owned by its euid", trigger_seen);
	T_CHECK("one SIGQUIT was enough", quits == 1);
	T_CHECKF("the request on the wire is protocol 1 jcmd VM.flags",
		 got_len == 18 && !memcmp(got_req, "1\0jcmd\0VM.flags\0\0\0", 18),
		 "got %zu bytes", got_len);
	T_CHECK("the attach file is removed afterwards", access(trigger_path, F_OK) != 0);

	/* A socket of another user: refused before any byte is sent. */
	ls = listen_at(sock_path);
	if (geteuid() == 0 && ls >= 0) {
		struct stat before;

		if (chown(sock_path, 12345, 12345))
			perror("chown");
		stat(sock_path, &before);
		ipc_clock_start(&c, 2000, NULL);
		got_len = 0;
		ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
		T_CHECKF("socket owned by another uid: -EPERM", ret == -EPERM,
			 "got %d", ret);
		{
			/* Nobody connected: accept would block; check with poll. */
			struct sockaddr_un dummy;
			socklen_t dl = sizeof(dummy);
			int fl = fcntl(ls, F_GETFL), cfd;

			fcntl(ls, F_SETFL, fl | O_NONBLOCK);
			cfd = accept(ls, (struct sockaddr *)&dummy, &dl);
			T_CHECK("... and nothing connected to it", cfd < 0 && errno == EAGAIN);
			if (cfd >= 0)
				close(cfd);
			fcntl(ls, F_SETFL, fl);
		}
	} else {
		T_SKIP("socket owned by another uid", "needs root to chown");
	}
	if (ls >= 0)
		close(ls);
	unlink(sock_path);

	/* A symlink to a socket is not followed. */
	{
		char real[64];

		snprintf(real, sizeof(real), "/tmp/.mapleak-test-real%d", (int)getpid());
		ls = listen_at(real);
		if (ls >= 0 && symlink(real, sock_path) == 0) {
			ipc_clock_start(&c, 2000, NULL);
			ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
			T_CHECKF("symlink at .java_pid<pid>: -ENOTSOCK", ret == -ENOTSOCK,
				 "got %d", ret);
		} else {
			T_CHECK("set up a symlinked socket", false);
		}
		if (ls >= 0)
			close(ls);
		unlink(sock_path);
		unlink(real);
	}

	/* Right owner, but the process serving it is not the target. */
	ls = listen_at(sock_path);
	if (ls >= 0) {
		struct jvm_target other = t;

		other.pid = getppid();	/* its socket name stays ours (nspid) */
		ipc_clock_start(&c, 2000, NULL);
		ret = jvm_attach_jcmd(&other, "VM.flags", &c, out, sizeof(out), &st);
		T_CHECKF("peer is not the target process (SO_PEERCRED): -EPERM",
			 ret == -EPERM, "got %d", ret);
		close(ls);
	}
	unlink(sock_path);

	/* No listener ever: the deadline holds, the attach file is gone. */
	quits = 0;
	ipc_clock_start(&c, 400, NULL);
	ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
	T_CHECKF("no listener: -ETIMEDOUT", ret == -ETIMEDOUT, "got %d", ret);
	T_CHECK("... after SIGQUIT (and the second, halfway)", quits == 2);
	T_CHECK("... and the attach file is removed", stat(trigger_path, &sb) != 0);

	/* A stop signal (the command's counter moves) ends the wait early. */
	{
		static volatile sig_atomic_t stops;
		u64 t0 = ipc_mono_ms();

		ipc_clock_start(&c, 10000, &stops);
		stops++;
		ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
		T_CHECKF("a stop signal: -EINTR at once", ret == -EINTR &&
			 ipc_mono_ms() - t0 < 1000, "got %d after %llu ms", ret,
			 (unsigned long long)(ipc_mono_ms() - t0));
	}

	/* SIGQUIT not caught (ignored here, default in a JVM under -Xrs):
	 * never signalled. */
	signal(SIGQUIT, SIG_IGN);
	quits = 0;
	ipc_clock_start(&c, 1000, NULL);
	ret = jvm_attach_jcmd(&t, "VM.flags", &c, out, sizeof(out), &st);
	T_CHECKF("no SIGQUIT handler: -ENOTSUP", ret == -ENOTSUP, "got %d", ret);
	T_CHECK("... and no attach file left", stat(trigger_path, &sb) != 0);
	unlink(trigger_path);
}

int main(void)
{
	encode_cases();
	parse_cases();
	live_cases();
	T_END();
}
