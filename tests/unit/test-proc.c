/* SPDX-License-Identifier: MIT */
/*
 * The process layer (src/target/proc.c): the one /proc/PID/status parser
 * on crafted text, then struct target on this process, a child (its own
 * pid namespace, uids and comm when root), a zombie, a reaped process, a
 * thread and a kernel thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "mapleak.h"
#include "target/proc.h"
#include "track/procmaps.h"

static void test_parse(void)
{
	static const char good[] =
		"Name:\tdotnet\nUmask:\t0022\nState:\tS (sleeping)\n"
		"Tgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t1\n"
		"Uid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\n"
		"NSpid:\t4242\t77\t7\nSigCgt:\t0000000180004a04\n";
	/* no NSpid (kernel < 4.1), a Uid line cut short, no final newline */
	static const char odd[] =
		"Tgid:\t10\nUid:\t1 2\nGid:\tx\nSigCgt:\tzz";
	struct proc_status ps;
	int rc;

	rc = proc_status_parse(good, sizeof(good) - 1, 4242, &ps);
	T_CHECKF("status: Tgid", rc == 0 && ps.tgid == 4242 &&
		 (ps.have & PROC_HAVE_TGID), "rc %d tgid %d", rc, (int)ps.tgid);
	T_CHECKF("status: innermost NSpid of three namespaces",
		 ps.nspid == 7 && (ps.have & PROC_HAVE_NSPID), "nspid %d", (int)ps.nspid);
	T_CHECKF("status: uids real, effective, saved, fs",
		 ps.uids[0] == 1000 && ps.uids[1] == 1001 && ps.uids[2] == 1002 &&
		 ps.uids[3] == 1003, "%u %u %u %u", ps.uids[0], ps.uids[1],
		 ps.uids[2], ps.uids[3]);
	T_CHECKF("status: gids", ps.gids[1] == 51 && ps.gids[3] == 53,
		 "%u %u", ps.gids[1], ps.gids[3]);
	T_CHECKF("status: SigCgt is hex (SIGQUIT caught)",
		 ps.sigcgt == 0x180004a04ULL && ((ps.sigcgt >> (SIGQUIT - 1)) & 1),
		 "%llx", (unsigned long long)ps.sigcgt);

	/* the parser reads len bytes, not to a NUL */
	rc = proc_status_parse(good, 30, 4242, &ps);
	T_CHECKF("status: cut before Tgid is not a status", rc == -EIO, "rc %d", rc);

	rc = proc_status_parse(odd, sizeof(odd) - 1, 10, &ps);
	T_CHECKF("status: without NSpid the pid is its own", rc == 0 &&
		 ps.nspid == 10 && !(ps.have & PROC_HAVE_NSPID), "rc %d nspid %d",
		 rc, (int)ps.nspid);
	T_CHECKF("status: malformed Uid, Gid, SigCgt are left out",
		 !(ps.have & (PROC_HAVE_UIDS | PROC_HAVE_GIDS | PROC_HAVE_SIGCGT)),
		 "have %#x", ps.have);
	rc = proc_status_parse("NSpid:\t99999999999999999999\n", 28, 5, &ps);
	T_CHECKF("status: an overflowing NSpid is ignored", rc == -EIO &&
		 ps.nspid == 5, "rc %d nspid %d", rc, (int)ps.nspid);
}

static void test_self(void)
{
	struct target t;
	struct maps_entry *m = NULL;
	size_t n = 0;
	bool found = false;
	int rc;

	rc = target_open(&t, getpid());
	T_CHECKF("self: opens", rc == 0, "rc %d", rc);
	if (rc)
		return;
	T_CHECK("self: pidfd, /proc dir and root held",
		t.pidfd >= 0 && t.procfd >= 0 && t.rootfd >= 0);
	T_CHECKF("self: uids are getresuid()'s", target_uids(&t)[0] == getuid() &&
		 target_uids(&t)[1] == geteuid(), "%u %u", target_uids(&t)[0],
		 target_uids(&t)[1]);
	T_CHECKF("self: comm", !strcmp(target_comm(&t), "test-proc"),
		 "'%s'", target_comm(&t));
	T_CHECKF("self: start time as proc_start_time()",
		 target_start_time(&t) && target_start_time(&t) ==
		 proc_start_time(getpid()), "%llu",
		 (unsigned long long)target_start_time(&t));
	T_CHECK("self: alive", target_alive(&t) && proc_alive(getpid()));
	rc = target_maps(&t, &m, &n);
	for (size_t i = 0; i < n; i++)
		if (m[i].start <= (u64)(uintptr_t)test_self &&
		    (u64)(uintptr_t)test_self < m[i].end && (m[i].prot & 1 << 2))
			found = true;
	T_CHECKF("self: maps snapshot holds this code", rc == 0 && found,
		 "rc %d n %zu", rc, n);
	procmaps_free(m, n);
	target_release(&t);
	T_CHECK("self: released", t.pidfd == -1 && t.procfd == -1 && t.rootfd == -1);
	target_release(&t);	/* twice is fine */
}

/* A child in its own pid namespace (as root) with uids and a comm of its
 * own, reported ready through a pipe and kept until its pipe closes. */
static pid_t spawn(int *ready_r, int *hold_w, bool *newns)
{
	int ready[2], hold[2];
	pid_t pid;
	char c;

	*newns = false;
	if (pipe(ready) || pipe(hold))
		return -1;
	/* children of this process after unshare are in a new namespace */
	if (geteuid() == 0 && unshare(CLONE_NEWPID) == 0)
		*newns = true;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		prctl(PR_SET_NAME, "ml-proc-child");
		if (geteuid() == 0 &&
		    (setresgid(65530, 65531, 65532) || setresuid(65534, 65533, 65532)))
			_exit(3);
		c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(4);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	*ready_r = ready[0];
	*hold_w = hold[1];
	if (pid > 0 && (read(ready[0], &c, 1) != 1 || c != 'r'))
		return -1;
	return pid;
}

static void test_child(void)
{
	struct target t;
	struct stat sb;
	enum ml_task_kind kind;
	pid_t tgid, pid;
	int ready, hold, rc;
	bool newns;

	pid = spawn(&ready, &hold, &newns);
	T_CHECK("child: started", pid > 0);
	if (pid <= 0)
		return;
	rc = target_open(&t, pid);
	T_CHECKF("child: opens", rc == 0, "rc %d", rc);
	if (rc) {
		close(hold);
		waitpid(pid, NULL, 0);
		return;
	}
	if (newns)
		T_CHECKF("child: NSpid is 1 in its pid namespace",
			 target_nspid(&t) == 1 && proc_nspid(pid) == 1,
			 "nspid %d/%u", (int)target_nspid(&t), proc_nspid(pid));
	else
		/* then NSpid is the pid itself: still one field to check */
		T_CHECKF("child: NSpid without a pid namespace is the pid (no "
			 "CLONE_NEWPID here)", target_nspid(&t) == pid,
			 "nspid %d", (int)target_nspid(&t));
	T_CHECKF("child: comm", !strcmp(target_comm(&t), "ml-proc-child"),
		 "'%s'", target_comm(&t));
	if (geteuid() == 0) {
		const uid_t *u = target_uids(&t);

		T_CHECKF("child: uids real, effective, saved, fs (= effective)",
			 u[0] == 65534 && u[1] == 65533 && u[2] == 65532 &&
			 u[3] == 65533, "%u %u %u %u", u[0], u[1], u[2], u[3]);
		T_CHECKF("child: gids", t.status.gids[0] == 65530 &&
			 t.status.gids[1] == 65531, "%u %u", t.status.gids[0],
			 t.status.gids[1]);
	} else {
		printf("# not root: the child's own uids not checked\n");
	}
	T_CHECK("child: alive", target_alive(&t) && proc_alive(pid));

	/* let it exit: a zombie until reaped */
	close(hold);
	close(ready);
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
		T_CHECKF("child: exited", rc == 0 && si.si_status == 0,
			 "rc %d status %d", rc, si.si_status);
	}
	T_CHECK("zombie: not alive", !target_alive(&t) && !proc_alive(pid));
	rc = ml_task_kind(pid, &kind, &tgid);
	T_CHECKF("zombie: task kind", rc == 0 && kind == ML_TASK_ZOMBIE,
		 "rc %d kind %d", rc, kind);
	waitpid(pid, NULL, 0);

	/* reaped: gone by pid, but what was held still works */
	{
		struct target t2;

		rc = target_open(&t2, pid);
		T_CHECKF("reaped: open says -ESRCH", rc == -ESRCH, "rc %d", rc);
	}
	T_CHECK("reaped: not alive", !target_alive(&t));
	T_CHECK("reaped: the held root is still a folder",
		fstat(target_rootfd(&t), &sb) == 0 && S_ISDIR(sb.st_mode));
	T_CHECKF("reaped: status through the held /proc dir says gone",
		 proc_status_at(target_procfd(&t), pid, &t.status) == -ESRCH,
		 "have %#x", t.status.have);
	target_release(&t);
}

static void *sleeper(void *arg)
{
	__atomic_store_n((pid_t *)arg, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	pause();
	return NULL;
}

static void test_thread(void)
{
	pthread_t th;
	pid_t tid = 0;
	struct target t;
	int rc;

	if (pthread_create(&th, NULL, sleeper, &tid) != 0) {
		T_CHECK("thread: pthread_create", false);
		return;
	}
	while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = target_open(&t, tid);
	T_CHECKF("thread: opens, Tgid is the process", rc == 0 &&
		 t.status.tgid == getpid() && target_pid(&t) == tid,
		 "rc %d tgid %d", rc, (int)t.status.tgid);
	if (rc == 0) {
		T_CHECK("thread: alive", target_alive(&t));
		target_release(&t);
	}
	pthread_cancel(th);
	pthread_join(th, NULL);
}

static void test_kthread(void)
{
	struct target t;
	enum ml_task_kind kind;
	pid_t tgid;
	int rc;

	/* a host's pid 2 is kthreadd; in a pid namespace it may be anything */
	if (access("/proc/2/exe", F_OK) == 0 || access("/proc/2", F_OK) != 0 ||
	    ml_task_kind(2, &kind, &tgid) || kind != ML_TASK_KERNEL) {
		printf("# pid 2 is not a kernel thread here (a pid namespace): "
		       "kthreadd not checked\n");
		return;
	}
	rc = target_open(&t, 2);
	T_CHECKF("kthread: opens", rc == 0, "rc %d", rc);
	if (rc)
		return;
	T_CHECKF("kthread: comm kthreadd, uid 0, own Tgid",
		 !strcmp(target_comm(&t), "kthreadd") && target_uids(&t)[0] == 0 &&
		 t.status.tgid == 2, "'%s' uid %u tgid %d", target_comm(&t),
		 target_uids(&t)[0], (int)t.status.tgid);
	T_CHECK("kthread: alive", target_alive(&t));
	target_release(&t);
}

int main(void)
{
	struct target t;

	test_parse();
	test_self();
	test_thread();
	test_kthread();
	T_CHECKF("no such pid: -ESRCH", target_open(&t, 0x3ffffff0) == -ESRCH,
		 "rc %d", target_open(&t, 0x3ffffff0));
	/* last: unshare(CLONE_NEWPID) makes later children a namespace's */
	test_child();
	T_END();
}
