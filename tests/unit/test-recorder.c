/* SPDX-License-Identifier: MIT */
/*
 * The recorder engine without BPF: a child process maps and unmaps on
 * command; the test feeds the recorder the events BPF would have sent
 * (recorder_feed) and checks the recording against the kernel, which is
 * the oracle: live set + baseline == /proc/CHILD/maps, page for page.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"
#include "record/recorder.h"
#include "report/analysis.h"

struct child {
	pid_t pid;
	int cmd, reply;		/* pipes: to the child, from it */
};

/* The child: "m LEN" maps LEN bytes read-write and answers the address;
 * "u ADDR LEN" unmaps; "p ADDR LEN PROT" mprotects; EOF ends it. */
static __attribute__((noinline)) void child_loop(int in, int out)
{
	char line[128];
	FILE *f = fdopen(in, "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a = 0, len = 0, prot = 0;
		void *p = NULL;
		char ans[32];

		if (sscanf(line, "m %lu", &len) == 1)
			p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		else if (sscanf(line, "u %lx %lu", &a, &len) == 2)
			munmap((void *)a, len);
		else if (sscanf(line, "p %lx %lu %lu", &a, &len, &prot) == 3)
			mprotect((void *)a, len, (int)prot);
		snprintf(ans, sizeof(ans), "%lx\n", (unsigned long)p);
		if (write(out, ans, strlen(ans)) < 0)
			break;
	}
	_exit(0);
}

static int child_start(struct child *c)
{
	int a[2], b[2];

	if (pipe(a) || pipe(b))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(a[1]);
		close(b[0]);
		child_loop(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	c->cmd = a[1];
	c->reply = b[0];
	return 0;
}

static unsigned long child_do(struct child *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static unsigned long child_do(struct child *c, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(c->cmd, buf, strlen(buf)) < 0)
		return 0;
	n = read(c->reply, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoul(buf, NULL, 16);
}

static void child_end(struct child *c)
{
	close(c->cmd);
	close(c->reply);
	waitpid(c->pid, NULL, 0);
}

/* An event as the BPF side sends it: the syscall's arguments and result,
 * and registers whose pc is in this program (the child is a fork of it,
 * so the unwinder names it). No stack copy: the walk stops at the pc. */
static void feed(struct recorder *r, pid_t pid, u32 kind, u64 a0, u64 a1,
		 u64 a2, u64 a3, s64 ret, u64 pc)
{
	struct ml_event_hdr ev = { 0 };
	u64 t = ml_now_ns(CLOCK_MONOTONIC);

	ev.kind = kind;
	ev.tgid = ev.tid = (u32)pid;
	ev.t_enter = ev.t_exit = t;
	ev.args[0] = a0;
	ev.args[1] = a1;
	ev.args[2] = a2;
	ev.args[3] = a3;
	ev.args[4] = (u64)-1;
	ev.ret = ret;
	ev.regs[ML_REG_IP] = pc;
	recorder_feed(r, &ev, NULL, 0);
}

static char notes_seen[4096];

static void say(void *ctx, enum rec_say level, const char *text)
{
	size_t n = strlen(notes_seen);

	snprintf(notes_seen + n, sizeof(notes_seen) - n, "%d:%s\n", level, text);
}

static __attribute__((noinline)) void site_a(void) { __asm__ volatile(""); }
static __attribute__((noinline)) void site_b(void) { __asm__ volatile(""); }

static void test_session(void)
{
	const u64 MiB = 1 << 20;
	char path[] = "/tmp/mapleak-test-recorder.XXXXXX";
	struct recorder_opts o = { .no_collector = true, .say = say };
	struct recorder_summary s;
	struct recorder *r = NULL;
	struct ml_result *res = NULL;
	struct child c;
	unsigned long a1, a2, a3;
	int fd = mkstemp(path), err;

	T_CHECK("recorder: scratch file", fd >= 0);
	close(fd);
	unlink(path);	/* a name no one else takes: mkstemp made it ours */
	o.output = path;
	T_CHECK("recorder: child started", child_start(&c) == 0);
	err = recorder_new(&r, &o);
	T_CHECKF("recorder_new without BPF", err == 0, "got %d", err);
	if (err)
		return;
	T_CHECK("recorder_open_output", recorder_open_output(r) == 0);
	err = recorder_attach(r, c.pid);
	T_CHECKF("recorder_attach (baseline from /proc)", err == 0, "got %d", err);

	/* Two mappings from site a, one from site b; one of a's unmapped,
	 * half of b made PROT_NONE (stays b's, as reserved). */
	a1 = child_do(&c, "m %llu\n", (unsigned long long)(2 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 2 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)a1, (u64)(uintptr_t)site_a + 1);
	a2 = child_do(&c, "m %llu\n", (unsigned long long)(3 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 3 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)a2, (u64)(uintptr_t)site_a + 1);
	a3 = child_do(&c, "m %llu\n", (unsigned long long)(4 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 4 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)a3, (u64)(uintptr_t)site_b + 1);
	child_do(&c, "u %lx %llu\n", a1, (unsigned long long)(2 * MiB));
	feed(r, c.pid, ML_OP_MUNMAP, a1, 2 * MiB, 0, 0, 0, 0);
	child_do(&c, "p %lx %llu %d\n", a3, (unsigned long long)(2 * MiB), PROT_NONE);
	feed(r, c.pid, ML_OP_MPROTECT, a3, 2 * MiB, PROT_NONE, 0, 0,
	     (u64)(uintptr_t)site_b + 1);
	/* Malformed: a munmap of length 0 is refused by the live set. */
	feed(r, c.pid, ML_OP_MMAP, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	     (s64)a2 + 1, (u64)(uintptr_t)site_a + 1);
	recorder_drain(r, true);

	err = recorder_finish(r, ML_STOP_SIGNAL, &s);
	T_CHECKF("recorder_finish", err == 0, "got %d", err);
	T_CHECK("the child was alive at the end", s.alive_at_end && s.checked);
	T_CHECKF("live set + baseline == /proc/PID/maps",
		 s.chk.missing_pages == 0 && s.chk.extra_pages == 0,
		 "missing %llu extra %llu", (unsigned long long)s.chk.missing_pages,
		 (unsigned long long)s.chk.extra_pages);
	T_CHECKF("live bytes: 3 MiB + 4 MiB", s.live_bytes == 7 * MiB,
		 "got %llu", (unsigned long long)s.live_bytes);
	T_CHECKF("two sites", s.live_sites == 2, "got %u", s.live_sites);
	T_CHECKF("events counted", s.events == 6, "got %llu",
		 (unsigned long long)s.events);
	T_CHECKF("the refused op is counted", s.rejected == 1, "got %llu",
		 (unsigned long long)s.rejected);
	T_CHECKF("and the user is told, in a note",
		 strstr(notes_seen, "could not be applied") != NULL, "notes: %s",
		 notes_seen);
	child_end(&c);
	recorder_free(r);

	/* The file says the same. */
	err = analysis_load(path, &res);
	T_CHECKF("the recording loads", err == 0, "got %d", err);
	if (!err) {
		int found = 0;

		T_CHECK("two sites in the report", res->nsites == 2);
		for (size_t i = 0; i < res->nsites; i++)
			if (res->sites[i].bytes == 4 * MiB &&
			    res->sites[i].reserved_bytes == 2 * MiB)
				found |= 1;
			else if (res->sites[i].bytes == 3 * MiB)
				found |= 2;
		T_CHECK("site b: 4 MiB, 2 MiB of it reserved; site a: 3 MiB",
			found == 3);
		T_CHECK("the check is recorded and agrees", res->have_check &&
			!res->check.missing_pages && !res->check.extra_pages);
		found = 0;
		for (size_t i = 0; i < res->nnotes; i++)
			found |= strstr(res->notes[i], "could not be applied") != NULL;
		T_CHECK("the note is in the recording", found);
		analysis_free(res);
	}
	unlink(path);
}

static void test_exit_event(void)
{
	char path[] = "/tmp/mapleak-test-recorder.XXXXXX";
	struct recorder_opts o = { .no_collector = true };
	struct recorder_summary s;
	struct recorder *r = NULL;
	struct child c;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	o.output = path;
	if (child_start(&c) || recorder_new(&r, &o) || recorder_open_output(r) ||
	    recorder_attach(r, c.pid)) {
		T_CHECK("recorder: exit event setup", 0);
		recorder_free(r);
		return;
	}
	child_end(&c);
	feed(r, c.pid, ML_OP_EXIT, 0, 0, 0, 0, 0, 0);
	T_CHECKF("after the exit event the loop ends at once",
		 recorder_run(r, 0, NULL) == ML_STOP_EXIT, "%s", "");
	T_CHECK("finish on a target that is gone", recorder_finish(r, ML_STOP_EXIT, &s) == 0);
	T_CHECK("no check on a target that is gone", !s.alive_at_end && !s.checked);
	recorder_free(r);
	unlink(path);
}

/* Random maps, partial unmaps and protection changes, each fed as it
 * happens: at the end the live set must match the kernel exactly. */
static void test_random(unsigned seed)
{
	const u64 pg = 4096;
	char path[] = "/tmp/mapleak-test-recorder.XXXXXX";
	struct recorder_opts o = { .no_collector = true };
	struct recorder_summary s;
	struct recorder *r = NULL;
	struct child c;
	unsigned long addr[64] = { 0 }, len[64] = { 0 };
	int fd = mkstemp(path);
	char name[96];

	close(fd);
	unlink(path);
	o.output = path;
	srand(seed);
	if (child_start(&c) || recorder_new(&r, &o) || recorder_open_output(r) ||
	    recorder_attach(r, c.pid)) {
		T_CHECK("recorder: random setup", 0);
		recorder_free(r);
		return;
	}
	for (int i = 0; i < 400; i++) {
		int k = rand() % 64, what = rand() % 3;

		if (!addr[k]) {
			len[k] = (1 + (unsigned long)(rand() % 64)) * pg;
			addr[k] = child_do(&c, "m %lu\n", len[k]);
			feed(r, c.pid, ML_OP_MMAP, 0, len[k], PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, (s64)addr[k],
			     (u64)(uintptr_t)(k & 1 ? site_a : site_b) + 1);
		} else {
			u64 pages = len[k] / pg;
			u64 first = (u64)rand() % pages;
			u64 n = 1 + (u64)rand() % (pages - first);
			unsigned long a = addr[k] + first * pg;
			int prot = rand() % 2 ? PROT_NONE : PROT_READ;

			if (what == 0 || n == pages) {
				/* unmap the part; forget the whole slot
				 * (what is left of it stays mapped) */
				child_do(&c, "u %lx %llu\n", a, (unsigned long long)(n * pg));
				feed(r, c.pid, ML_OP_MUNMAP, a, n * pg, 0, 0, 0, 0);
				addr[k] = 0;
			} else {
				child_do(&c, "p %lx %llu %d\n", a,
					 (unsigned long long)(n * pg), prot);
				feed(r, c.pid, ML_OP_MPROTECT, a, n * pg, (u64)prot, 0, 0,
				     (u64)(uintptr_t)site_a + 1);
			}
		}
		if (i % 16 == 0)
			recorder_drain(r, true);
	}
	recorder_drain(r, true);
	recorder_finish(r, ML_STOP_SIGNAL, &s);
	snprintf(name, sizeof(name), "random ops (seed %u): live set + baseline "
		 "== /proc/PID/maps", seed);
	T_CHECKF(name, s.checked && !s.chk.missing_pages && !s.chk.extra_pages &&
		 !s.chk.prot_mismatch_pages,
		 "missing %llu extra %llu prot %llu",
		 (unsigned long long)s.chk.missing_pages,
		 (unsigned long long)s.chk.extra_pages,
		 (unsigned long long)s.chk.prot_mismatch_pages);
	child_end(&c);
	recorder_free(r);
	unlink(path);
}

/* The live view: sites by stack while recording (no file kept), their
 * names, and the step function ending when the target exits. */
static void test_live_sites(void)
{
	const u64 MiB = 1 << 20;
	struct recorder_opts o = { .no_collector = true };	/* no output */
	struct recorder_summary sum;
	struct recorder_site *v = NULL;
	struct recorder *r = NULL;
	struct ml_frame *f = NULL;
	struct child c;
	size_t n = 0;
	u32 nf = 0;
	unsigned long a1, a2, b1;
	int err, st = 0;
	u64 t0;

	if (child_start(&c) || recorder_new(&r, &o) || recorder_open_output(r) ||
	    recorder_attach(r, c.pid)) {
		T_CHECK("recorder: live sites setup", 0);
		recorder_free(r);
		return;
	}
	t0 = recorder_start_time(r);
	err = recorder_sites(r, &v, &n);
	T_CHECKF("no site before any event (the baseline is none)", err == 0 && n == 0,
		 "err %d, %zu sites", err, n);
	free(v);

	/* pc: site_a itself, its body is one byte (ret) */
	a1 = child_do(&c, "m %llu\n", (unsigned long long)(1 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 1 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)a1, (u64)(uintptr_t)site_a);
	a2 = child_do(&c, "m %llu\n", (unsigned long long)(2 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 2 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)a2, (u64)(uintptr_t)site_a);
	b1 = child_do(&c, "m %llu\n", (unsigned long long)(4 * MiB));
	feed(r, c.pid, ML_OP_MMAP, 0, 4 * MiB, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS, (s64)b1, (u64)(uintptr_t)site_b + 1);
	/* b's middle MiB made PROT_NONE: three regions, still one mapping */
	child_do(&c, "p %lx %llu %d\n", b1 + MiB, (unsigned long long)MiB, PROT_NONE);
	feed(r, c.pid, ML_OP_MPROTECT, b1 + MiB, MiB, PROT_NONE, 0, 0,
	     (u64)(uintptr_t)site_b + 1);
	recorder_drain(r, true);

	err = recorder_sites(r, &v, &n);
	T_CHECKF("two live sites", err == 0 && n == 2, "err %d, %zu sites", err, n);
	if (!err && n == 2) {
		const struct recorder_site *sa = v[0].bytes == 3 * MiB ? &v[0] : &v[1];
		const struct recorder_site *sb = sa == &v[0] ? &v[1] : &v[0];

		T_CHECKF("site a: 3 MiB in 2 mappings, nothing reserved",
			 sa->bytes == 3 * MiB && sa->mappings == 2 && !sa->reserved_bytes,
			 "bytes %llu mappings %llu reserved %llu",
			 (unsigned long long)sa->bytes, (unsigned long long)sa->mappings,
			 (unsigned long long)sa->reserved_bytes);
		T_CHECKF("site b: 4 MiB in 1 mapping (mprotect pieces), 1 MiB reserved",
			 sb->bytes == 4 * MiB && sb->mappings == 1 &&
			 sb->reserved_bytes == MiB,
			 "bytes %llu mappings %llu reserved %llu",
			 (unsigned long long)sb->bytes, (unsigned long long)sb->mappings,
			 (unsigned long long)sb->reserved_bytes);
		T_CHECK("ages: oldest <= newest, both after the start",
			sa->oldest >= t0 && sa->oldest <= sa->newest &&
			sb->oldest >= t0 && sa->oldest <= sb->oldest);
		err = recorder_name_stack(r, sa->stack_id, &f, &nf);
		T_CHECKF("site a's stack is named: site_a", err == 0 && nf >= 1 &&
			 f[0].symbol && strstr(f[0].symbol, "site_a"),
			 "err %d, %u frames, first '%s' in %s", err, nf,
			 nf && f[0].symbol ? f[0].symbol : "(none)",
			 nf && f[0].module ? f[0].module : "-");
		for (u32 i = 0; i < nf; i++)
			ml_frame_release(&f[i]);
		free(f);
	}
	free(v);
	T_CHECK("an unknown stack has no name",
		recorder_name_stack(r, 999, &f, &nf) == -ENOENT && !f);

	/* unmapped: the site is gone from the view */
	child_do(&c, "u %lx %llu\n", a1, (unsigned long long)(1 * MiB));
	feed(r, c.pid, ML_OP_MUNMAP, a1, 1 * MiB, 0, 0, 0, 0);
	child_do(&c, "u %lx %llu\n", a2, (unsigned long long)(2 * MiB));
	feed(r, c.pid, ML_OP_MUNMAP, a2, 2 * MiB, 0, 0, 0, 0);
	recorder_drain(r, true);
	err = recorder_sites(r, &v, &n);
	T_CHECKF("a site whose mappings are all gone is no site", err == 0 && n == 1 &&
		 v[0].bytes == 4 * MiB, "err %d, %zu sites", err, n);
	free(v);

	T_CHECK("recorder_step goes on while the target lives",
		recorder_step(r, 1) == 0);
	child_end(&c);
	for (int i = 0; i < 40 && st == 0; i++)
		st = recorder_step(r, 10);
	T_CHECKF("recorder_step says ML_STOP_EXIT once the target is gone",
		 st == ML_STOP_EXIT, "got %d", st);
	recorder_end_run(r);
	T_CHECK("finish without an output file", recorder_finish(r, (u32)st, &sum) == 0 &&
		sum.live_bytes == 4 * MiB);
	recorder_free(r);
}

int main(void)
{
	const char *seed = getenv("MAPLEAK_TEST_SEED");
	unsigned base = seed ? (unsigned)strtoul(seed, NULL, 0) : 1;

	test_session();
	for (unsigned i = 0; i < 5; i++)
		test_random(base + i);
	test_exit_event();
	test_live_sites();
	T_END();
}
