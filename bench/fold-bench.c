/* SPDX-License-Identifier: MIT */
/*
 * The bounded-recording figures (docs/performance.md): feeds the recorder
 * (no BPF, as tests/unit/test-recorder.c does) PAIRS mmap + munmap pairs
 * of 64 KiB from one site, as a churning service makes them, one pair
 * every 100 us of (synthetic) time, and prints the recording's size and
 * the recorder's peak RSS after 1M events and at the end:
 *
 *   fold-bench [--no-fold] [--live N] [PAIRS]   (default 5,000,000 pairs)
 *
 * --live N keeps N mappings alive at any time, at N addresses in turn (a
 * pair's munmap comes N pairs after its mmap), rather than unmapping each
 * at once: more ranges and live regions per window, changes across ticks.
 *
 * Exits 1 when the end figures miss the goals: a file of at most 64 MiB
 * and a peak RSS within 10% of the one after 1M events.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "record/record.h"
#include "record/recorder.h"

#define SIZE (64ull << 10)
#define STEP_NS 100000ull

static __attribute__((noinline)) void churn_site(void) { __asm__ volatile(""); }

static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long long)st.st_size;
}

static void feed(struct recorder *r, pid_t pid, u32 kind, u64 t, u64 a0, u64 a1,
		 s64 ret, u64 pc)
{
	struct ml_event_hdr ev = { 0 };

	ev.kind = kind;
	ev.tgid = ev.tid = (u32)pid;
	ev.t_enter = ev.t_exit = t;
	ev.args[0] = a0;
	ev.args[1] = a1;
	ev.args[2] = PROT_READ | PROT_WRITE;
	ev.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	ev.args[4] = (u64)-1;
	ev.ret = ret;
	ev.regs[ML_REG_IP] = pc;
	recorder_feed(r, &ev, NULL, 0);
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/mapleak-fold-bench.XXXXXX";
	struct recorder_opts o = { .no_collector = true };
	struct recorder_summary s;
	struct recorder *r = NULL;
	long long pairs = 5000000, i, size_1m = -1, size_end, live = 0;
	long rss_1m = -1, rss_end;
	u64 base, addr = 0x7f0000000000ull;
	pid_t child;
	int fd, ok;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--no-fold"))
			o.no_fold = true;
		else if (!strcmp(argv[k], "--live") && k + 1 < argc)
			live = atoll(argv[++k]);
		else
			pairs = atoll(argv[k]);
	}
	if (pairs <= 0) {
		fprintf(stderr, "usage: fold-bench [--no-fold] [PAIRS]\n");
		return 2;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fold-bench: mkstemp");
		return 1;
	}
	close(fd);
	o.output = path;
	/* a process to attach to: its maps are the baseline */
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	if (child < 0 || recorder_new(&r, &o) || recorder_open_output(r) ||
	    recorder_attach(r, child)) {
		fprintf(stderr, "fold-bench: cannot start the recorder\n");
		return 1;
	}
	base = ml_now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < pairs; i++) {
		u64 t = base + (u64)i * STEP_NS;
		u64 a = addr + (live ? (u64)(i % live) * 2 * SIZE : 0);

		/* with --live, the slot's previous mapping goes first */
		if (live && i >= live)
			feed(r, child, ML_OP_MUNMAP, t, a, SIZE, 0, 0);
		feed(r, child, ML_OP_MMAP, t + STEP_NS / 4, 0, SIZE, (s64)a,
		     (u64)(uintptr_t)churn_site + 1);
		if (!live)
			feed(r, child, ML_OP_MUNMAP, t + STEP_NS / 2, a, SIZE, 0, 0);
		if (i % 1024 == 1023)
			recorder_drain(r, true);
		if (2 * (i + 1) == 1000000) {
			recorder_drain(r, true);
			size_1m = file_size(path);
			rss_1m = peak_rss_kib();
		}
	}
	recorder_drain(r, true);
	recorder_finish(r, ML_STOP_SIGNAL, &s);
	recorder_free(r);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	size_end = file_size(path);
	rss_end = peak_rss_kib();
	unlink(path);
	{
		char old[sizeof(path) + 4];

		snprintf(old, sizeof(old), "%s.old", path);
		unlink(old);	/* the writer kept the scratch file there */
	}

	printf("fold-bench: %s, %lld events, %lld live at a time\n",
	       o.no_fold ? "no folding" : "folding", 2 * pairs, live);
	if (size_1m >= 0)
		printf("  after 1M events: file %.2f MiB, peak RSS %.1f MiB\n",
		       size_1m / 1048576.0, rss_1m / 1024.0);
	printf("  at the end:      file %.2f MiB, peak RSS %.1f MiB\n",
	       size_end / 1048576.0, rss_end / 1024.0);
	ok = size_end <= (64ll << 20) && (rss_1m < 0 || rss_end <= rss_1m * 11 / 10);
	printf("  goals (file <= 64 MiB, RSS within 10%% of 1M's): %s\n",
	       ok ? "met" : "MISSED");
	return ok ? 0 : 1;
}
