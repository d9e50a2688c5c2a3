// SPDX-License-Identifier: MIT
/*
 * The BPF collector against a child doing known mapping calls. Needs root
 * (skips otherwise). `test-collect --bench [pairs [stack_size]]` instead times mmap +
 * munmap pairs of 64 KiB with tracing off and on.
 */
#include <errno.h>
#include <fcntl.h>
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"
#include "harness.h"

#define PG 4096UL
#define MAGIC 0x6d61706c65616b00ULL	/* "mapleak\0" */
#define MAXEV 4096

/* What the child did, sent back to the parent before it exits. */
struct child_res {
	u64 a, b, dest, grown, moved, brk0, brk1, shm, tmap;
	u32 tid_thread;
	u64 mark_addr[4];	/* markers on the stack of calls 0..2, outer */
	u64 hole;		/* lowest byte of 3 never-touched stack pages */
	u64 stack_end;		/* end of the main thread's [stack] VMA */
	int err;
};

struct ev {
	struct ml_event_hdr h;
	u8 *stack;
};

struct sink {
	struct ev ev[MAXEV];
	int n;
	int overflow;
};

static int collect_cb(void *ctx, const struct ml_event_hdr *h,
		      const void *stack, size_t size)
{
	struct sink *s = ctx;
	struct ev *e;

	if (s->n == MAXEV) {
		s->overflow = 1;
		return 0;
	}
	e = &s->ev[s->n++];
	e->h = *h;
	e->stack = NULL;
	if (size) {
		e->stack = malloc(size);
		if (e->stack)
			memcpy(e->stack, stack, size);
	}
	return 0;
}

static void sink_release(struct sink *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->ev[i].stack);
	s->n = 0;
}

/* A marker on this frame's stack lets the parent check the copied bytes. */
static __attribute__((noinline)) void *marked_mmap(size_t len, int prot,
						   int idx, u64 *where)
{
	volatile u64 mark = MAGIC + (u64)idx;
	void *p;

	*where = (u64)&mark;
	p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)mark;
	return p;
}

static struct child_res res;

/* Runs on a fresh stack with a hole of untouched pages between this
 * frame and the mmap call. */
static void *thread_main(void *arg)
{
	volatile u64 outer = MAGIC + 3;
	volatile char *hole = alloca(3 * PG);

	(void)arg;
	res.tid_thread = (u32)gettid();
	res.mark_addr[3] = (u64)&outer;
	res.hole = (u64)hole;
	hole[0] = 1;
	res.tmap = (u64)marked_mmap(11 * PG, PROT_READ, 2, &res.mark_addr[2]);
	(void)outer;
	return NULL;
}

/* Reads a small /proc file into buf, without stdio or malloc (which would
 * add mapping calls of their own). */
static char *read_proc(const char *path, char *buf, size_t size)
{
	ssize_t n = 0, r;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	while (n < (ssize_t)size - 1 && (r = read(fd, buf + n, size - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* Where the collector should stop copying the main thread's stack: the
 * [stack] VMA end, or 256 bytes above the initial sp (startstack, field
 * 28 of /proc/self/stat) where the frames end. */
static u64 main_stack_end(void)
{
	static char buf[1 << 16];
	u64 end, start_stack = 0;
	char *line, *st;
	int field;

	if (!read_proc("/proc/self/maps", buf, sizeof(buf)))
		return 0;
	st = strstr(buf, "[stack]");
	if (!st)
		return 0;
	for (line = st; line > buf && line[-1] != '\n'; line--)
		;
	line = strchr(line, '-');
	if (!line)
		return 0;
	end = strtoull(line + 1, NULL, 16);

	if (!read_proc("/proc/self/stat", buf, sizeof(buf)) || !(st = strrchr(buf, ')')))
		return 0;
	for (field = 2; st && field < 28; field++)
		st = strchr(st + 1, ' ');
	if (st)
		start_stack = strtoull(st + 1, NULL, 10);
	return start_stack && start_stack + 256 < end ? start_stack + 256 : end;
}

static void child_ops(void)
{
	pthread_attr_t attr;
	pthread_t th;
	void *p, *tstack;
	int id;

	res.stack_end = main_stack_end();
	res.a = (u64)marked_mmap(3 * PG, PROT_READ | PROT_WRITE, 0, &res.mark_addr[0]);
	res.b = (u64)marked_mmap(5 * PG, PROT_READ, 1, &res.mark_addr[1]);
	if (munmap((void *)(res.a + PG), PG))
		res.err = errno;
	/* whole VMA: mremap refuses a range spanning several */
	if (mprotect((void *)res.b, 5 * PG, PROT_NONE))
		res.err = errno;
	p = mremap((void *)res.b, 5 * PG, 7 * PG, MREMAP_MAYMOVE);
	res.grown = (u64)p;
	res.dest = (u64)mmap(NULL, 7 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = mremap(p, 7 * PG, 7 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)res.dest);
	res.moved = (u64)p;
	if (res.grown == (u64)MAP_FAILED || res.moved == (u64)MAP_FAILED)
		res.err = errno;
	res.brk0 = (u64)syscall(SYS_brk, 0);
	res.brk1 = (u64)syscall(SYS_brk, res.brk0 + 16 * PG);
	id = shmget(IPC_PRIVATE, 3 * PG, IPC_CREAT | 0600);
	if (id >= 0) {
		p = shmat(id, NULL, 0);
		res.shm = (u64)p;
		shmdt(p);
		shmctl(id, IPC_RMID, NULL);
	}
	if (munmap((void *)1, PG) == 0)	/* must fail: EINVAL */
		res.err = -1;
	tstack = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_attr_init(&attr);
	if (tstack == MAP_FAILED || pthread_attr_setstack(&attr, tstack, 64 * PG) ||
	    pthread_create(&th, &attr, thread_main, NULL))
		res.err = -2;
	else
		pthread_join(th, NULL);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* Forks a child that waits for a byte on go[0], then runs fn and sends its
 * result on out[1]. */
static pid_t spawn(void (*fn)(int out), int go[2], int out[2])
{
	pid_t pid;
	char b;

	if (pipe(go) || pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(out[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		fn(out[1]);
		_exit(0);
	}
	close(go[0]);
	close(out[1]);
	return pid;
}

static void run_ops(int out)
{
	child_ops();
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(3);
}

static void run_exec(int out)
{
	(void)out;
	execl("/bin/true", "true", (char *)NULL);
	_exit(4);
}

/* Polls until the EXIT of tgid arrives or timeout_ms passes. */
static int wait_exit(struct collector *c, struct sink *s, pid_t tgid, int timeout_ms)
{
	u64 end = now_ns() + (u64)timeout_ms * 1000000ULL;

	while (now_ns() < end) {
		if (collector_poll(c, 50, collect_cb, s) < 0)
			return -1;
		for (int i = 0; i < s->n; i++)
			if (s->ev[i].h.kind == ML_OP_EXIT && s->ev[i].h.tgid == (u32)tgid)
				return 0;
	}
	return -1;
}

/* The first event at or after *from matching kind, tid and args[0] (if
 * addr != 0); advances *from so expectations are checked in order. */
static const struct ev *find(const struct sink *s, int *from, u32 kind,
			     u32 tid, u64 addr)
{
	for (int i = *from; i < s->n; i++) {
		const struct ml_event_hdr *h = &s->ev[i].h;

		if (h->kind == kind && h->tid == tid && (!addr || h->args[0] == addr)) {
			*from = i + 1;
			return &s->ev[i];
		}
	}
	return NULL;
}

/* A mapping call's stack: regs plausible, marker found where it was. */
static int stack_ok(const struct ev *e, u64 mark_addr, u64 mark)
{
	u64 sp = e->h.regs[ML_REG_SP], ip = e->h.regs[ML_REG_IP], off, v;

	if (!e->stack || e->h.stack_len < 64)
		return 0;
	if (ip - (u64)&mmap >= 128)	/* stopped inside glibc's mmap */
		return 0;
	if (mark_addr < sp || mark_addr - sp + 8 > e->h.stack_len)
		return 0;
	off = mark_addr - sp;
	memcpy(&v, e->stack + off, 8);
	return v == mark;
}

static int times_ok(const struct ev *e)
{
	return e->h.t_enter && e->h.t_enter <= e->h.t_order &&
	       e->h.t_order <= e->h.t_exit;
}

static void test_ops(struct collector *c, struct sink *s)
{
	int go[2], out[2], from = 0, st, i, has_lock = 0;
	const struct ev *e;
	struct child_res r;
	pid_t pid;
	u32 t;

	pid = spawn(run_ops, go, out);
	T_CHECK("fork traced child", pid > 0);
	if (pid <= 0)
		return;
	T_CHECK("add tgid", collector_add_tgid(c, pid) == 0);
	T_CHECK("release child", write(go[1], "x", 1) == 1);
	T_CHECK("EXIT arrives", wait_exit(c, s, pid, 10000) == 0);
	T_CHECK("child result", read(out[0], &r, sizeof(r)) == sizeof(r));
	waitpid(pid, &st, 0);
	close(go[1]);
	close(out[0]);
	T_CHECKF("child ran cleanly", r.err == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "err %d status %#x", r.err, st);
	t = (u32)pid;
	if (getenv("DUMP"))
		for (i = 0; i < s->n; i++)
			printf("# k%u tid %u a %llx %llx %llx %llx %llx ret %llx aux %llx fl %x sl %u sp %llx ip %llx\n",
			       s->ev[i].h.kind, s->ev[i].h.tid, (unsigned long long)s->ev[i].h.args[0],
			       (unsigned long long)s->ev[i].h.args[1], (unsigned long long)s->ev[i].h.args[2],
			       (unsigned long long)s->ev[i].h.args[3], (unsigned long long)s->ev[i].h.args[4],
			       (unsigned long long)s->ev[i].h.ret, (unsigned long long)s->ev[i].h.aux,
			       s->ev[i].h.flags, s->ev[i].h.stack_len,
			       (unsigned long long)s->ev[i].h.regs[ML_REG_SP], (unsigned long long)s->ev[i].h.regs[ML_REG_IP]);
	if (getenv("DUMP"))
		printf("# marks %llx %llx %llx hole %llx mmap %p\n", (unsigned long long)r.mark_addr[0], (unsigned long long)r.mark_addr[1], (unsigned long long)r.mark_addr[2], (unsigned long long)r.hole, (void *)&mmap);

	e = find(s, &from, ML_OP_MMAP, t, 0);
	while (e && e->h.args[1] != 3 * PG)
		e = find(s, &from, ML_OP_MMAP, t, 0);
	T_CHECKF("mmap 3 pages", e && (u64)e->h.ret == r.a && e->h.tgid == t &&
		 e->h.args[2] == (PROT_READ | PROT_WRITE) &&
		 e->h.args[3] == (MAP_PRIVATE | MAP_ANONYMOUS) &&
		 (int)e->h.args[4] == -1 && e->h.nr == SYS_mmap,
		 "Expected ret %#llx, got %#llx", (unsigned long long)r.a,
		 e ? (unsigned long long)e->h.ret : 0ULL);
	T_CHECK("mmap stack copied with marker", e && stack_ok(e, r.mark_addr[0], MAGIC));
	T_CHECK("mmap times ordered", e && times_ok(e));
	T_CHECK("mmap mm set", e && e->h.mm != 0);
	has_lock = e && (e->h.flags & ML_EVF_ORDER_LOCK);
	if (has_lock)
		T_CHECK("mmap ordered by mmap_lock", 1);
	else
		T_SKIP("mmap ordered by mmap_lock", "mmap_lock hook not attached");

	e = find(s, &from, ML_OP_MMAP, t, 0);
	T_CHECK("mmap 5 pages", e && (u64)e->h.ret == r.b && e->h.args[1] == 5 * PG &&
		e->h.args[2] == PROT_READ);
	T_CHECK("second stack marker", e && stack_ok(e, r.mark_addr[1], MAGIC + 1));

	e = find(s, &from, ML_OP_MUNMAP, t, r.a + PG);
	T_CHECK("partial munmap", e && e->h.args[1] == PG && e->h.ret == 0 &&
		e->h.stack_len == 0 && times_ok(e));
	T_CHECK("munmap ordered at lock or enter",
		e && (e->h.flags & ML_EVF_ORDER_LOCK ?
		      /* the lock time also stands for entry and exit */
		      e->h.t_order >= e->h.t_enter && e->h.t_order <= e->h.t_exit
		      : e->h.t_order == e->h.t_enter));

	e = find(s, &from, ML_OP_MPROTECT, t, r.b);
	T_CHECK("mprotect", e && e->h.args[1] == 5 * PG && e->h.args[2] == PROT_NONE &&
		e->h.ret == 0 && e->h.stack_len > 0);

	e = find(s, &from, ML_OP_MREMAP, t, r.b);
	T_CHECK("mremap grow", e && e->h.args[1] == 5 * PG && e->h.args[2] == 7 * PG &&
		e->h.args[3] == MREMAP_MAYMOVE && (u64)e->h.ret == r.grown);
	e = find(s, &from, ML_OP_MMAP, t, 0);
	T_CHECK("mmap destination", e && (u64)e->h.ret == r.dest);
	e = find(s, &from, ML_OP_MREMAP, t, r.grown);
	T_CHECK("mremap move", e && e->h.args[3] == (MREMAP_MAYMOVE | MREMAP_FIXED) &&
		e->h.args[4] == r.dest && (u64)e->h.ret == r.dest && r.moved == r.dest &&
		e->h.stack_len > 0);

	do
		e = find(s, &from, ML_OP_BRK, t, 0);
	while (e && e->h.args[0] != 0);
	T_CHECK("brk query: no stack", e && (u64)e->h.ret == r.brk0 &&
		e->h.aux == r.brk0 && e->h.stack_len == 0);
	e = find(s, &from, ML_OP_BRK, t, r.brk0 + 16 * PG);
	T_CHECKF("brk grow", e && e->h.aux == r.brk0 && (u64)e->h.ret == r.brk1 &&
		 r.brk1 == r.brk0 + 16 * PG && e->h.stack_len > 0,
		 "brk0 %#llx brk1 %#llx", (unsigned long long)r.brk0,
		 (unsigned long long)r.brk1);

	if (r.shm) {
		e = find(s, &from, ML_OP_SHMAT, t, 0);
		T_CHECK("shmat", e && (u64)e->h.ret == r.shm && e->h.aux == 3 * PG &&
			e->h.stack_len > 0);
		e = find(s, &from, ML_OP_SHMDT, t, r.shm);
		T_CHECK("shmdt", e && e->h.ret == 0 && e->h.aux == 3 * PG);
	} else {
		T_SKIP("shmat/shmdt", "shmget failed");
	}

	for (i = 0; i < s->n; i++)
		if (s->ev[i].h.kind == ML_OP_MUNMAP && s->ev[i].h.args[0] == 1)
			break;
	T_CHECK("failed munmap gives no event", i == s->n);

	from = 0;
	e = find(s, &from, ML_OP_MMAP, r.tid_thread, 0);
	while (e && e->h.args[1] != 11 * PG)
		e = find(s, &from, ML_OP_MMAP, r.tid_thread, 0);
	T_CHECK("mmap from second thread", r.tid_thread != t && e &&
		(u64)e->h.ret == r.tmap && e->h.tgid == t);
	T_CHECK("thread stack marker", e && stack_ok(e, r.mark_addr[2], MAGIC + 2));
	T_CHECK("stack hole: fault flagged, copy goes on past it",
		e && (e->h.flags & ML_EVF_STACK_FAULT) &&
		stack_ok(e, r.mark_addr[3], MAGIC + 3));
	if (e && e->stack) {
		u64 pg = ML_PAGE_UP(r.hole + 1), off = pg - e->h.regs[ML_REG_SP];
		u64 nz = 0;

		for (u64 k = 0; off + PG <= e->h.stack_len && k < PG; k++)
			nz += e->stack[off + k] != 0;
		T_CHECK("stack hole reads as zeros", off + PG <= e->h.stack_len && nz == 0);
	}
	/* Main thread: the copy runs to where the frames end, or to the limit. */
	for (i = 0; i < s->n; i++) {
		const struct ml_event_hdr *h = &s->ev[i].h;
		u64 avail = r.stack_end - h->regs[ML_REG_SP];
		u64 want = avail < ML_STACK_DEFAULT ? avail : ML_STACK_DEFAULT;

		if (h->tid != t || !h->stack_len)
			continue;
		if (h->stack_len != want ||
		    !(h->flags & ML_EVF_STACK_TRUNCATED) != (avail <= ML_STACK_DEFAULT))
			break;
	}
	T_CHECKF("main-thread stack copies end above startstack or at the limit",
		 r.stack_end && i == s->n, "event %d: len %u flags %#x", i,
		 i < s->n ? s->ev[i].h.stack_len : 0, i < s->n ? s->ev[i].h.flags : 0);

	for (i = 0; i < s->n; i++)
		if (s->ev[i].h.tgid != t)
			break;
	T_CHECK("only the traced tgid", i == s->n);
	T_CHECK("EXIT is last", s->n && s->ev[s->n - 1].h.kind == ML_OP_EXIT);
	for (i = 1; i < s->n; i++)
		if (s->ev[i].h.t_exit < s->ev[i - 1].h.t_exit && s->ev[i].h.tid == s->ev[i - 1].h.tid)
			break;
	T_CHECK("per-thread ring order", i == s->n);
	T_CHECK("no sink overflow", !s->overflow);
}

static void run_untraced(int out)
{
	void *p = mmap(NULL, 13 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, 13 * PG);
	(void)out;
}

static void test_untraced(struct collector *c, struct sink *s)
{
	int go[2], out[2], st;
	pid_t pid;
	char b;

	pid = spawn(run_untraced, go, out);
	T_CHECK("fork untraced child", pid > 0);
	if (pid <= 0)
		return;
	T_CHECK("release untraced", write(go[1], "x", 1) == 1);
	T_CHECK("untraced child done", read(out[0], &b, 1) == 0);	/* EOF at exit */
	waitpid(pid, &st, 0);
	close(go[1]);
	close(out[0]);
	collector_poll(c, 100, collect_cb, s);
	T_CHECKF("untraced process gives no events", s->n == 0, "got %d", s->n);
}

static void test_exec(struct collector *c, struct sink *s)
{
	int go[2], out[2], st, i, saw = 0;
	pid_t pid;

	pid = spawn(run_exec, go, out);
	T_CHECK("fork exec child", pid > 0);
	if (pid <= 0)
		return;
	T_CHECK("add exec tgid", collector_add_tgid(c, pid) == 0);
	T_CHECK("release exec child", write(go[1], "x", 1) == 1);
	T_CHECK("exec child EXIT", wait_exit(c, s, pid, 10000) == 0);
	waitpid(pid, &st, 0);
	close(go[1]);
	close(out[0]);
	for (i = 0; i < s->n; i++) {
		if (s->ev[i].h.kind == ML_OP_EXEC && s->ev[i].h.tgid == (u32)pid)
			saw = s->ev[i].h.aux != 0 && s->ev[i].h.mm != 0;
		/* the new image's loader maps after exec */
		if (saw == 1 && s->ev[i].h.kind == ML_OP_MMAP)
			saw = 2;
	}
	T_CHECK("EXEC with start_brk, then the loader's mmaps", saw == 2);
}

/* Benchmark: a child doing `pairs` mmap+munmap of 64 KiB; ns per pair. */
static long bench_pairs = 100000;

static u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* Reports CPU time, not wall time: other load on the VM inflates the
 * latter, while the tracing cost is paid on the child's CPU time. */
static void run_bench(int out)
{
	u64 t0 = cpu_ns(), dt;

	for (long i = 0; i < bench_pairs; i++) {
		void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, 65536);
	}
	dt = cpu_ns() - t0;
	if (write(out, &dt, sizeof(dt)) != sizeof(dt))
		_exit(3);
}

struct count {
	u64 n, bytes;
};

static int count_cb(void *ctx, const struct ml_event_hdr *h, const void *stack,
		    size_t size)
{
	struct count *k = ctx;

	(void)h;
	(void)stack;
	k->n++;
	k->bytes += size;
	return 0;
}

static double bench_once(struct collector *c, struct count *k)
{
	int go[2], out[2], st;
	u64 dt = 0;
	pid_t pid;

	pid = spawn(run_bench, go, out);
	if (pid <= 0)
		return -1;
	if (c)
		collector_add_tgid(c, pid);
	if (write(go[1], "x", 1) != 1)
		return -1;
	if (c) {
		/* Drain while the child runs, as mapleak record would. */
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		while (read(out[0], &dt, sizeof(dt)) != sizeof(dt))
			collector_poll(c, 20, count_cb, k);
		collector_poll(c, 100, count_cb, k);
	} else if (read(out[0], &dt, sizeof(dt)) != sizeof(dt)) {
		return -1;
	}
	waitpid(pid, &st, 0);
	close(go[1]);
	close(out[0]);
	return (double)dt / (double)bench_pairs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Alternates runs without any collector and traced runs (the VM is
 * noisy); prints medians and minima. */
static int bench(u32 stack_size)
{
	struct collect_opts o = { .stack_size = stack_size };
	struct collector *c;
	struct count k = {0};
	double off[7], on[7];
	u64 lost = 0;
	int err, i, n = 7;

	for (i = 0; i < n; i++) {
		off[i] = bench_once(NULL, &k);
		err = collector_open(&c, &o);
		if (err) {
			printf("collector_open: %s (%s)\n", strerror(-err),
			       collector_last_error());
			return 1;
		}
		on[i] = bench_once(c, &k);
		lost += collector_lost(c);
		collector_close(c);
		printf("# run %d: off %.2f us/pair, traced %.2f us/pair (child CPU time)\n",
		       i, off[i] / 1000, on[i] / 1000);
	}
	qsort(off, (size_t)n, sizeof(off[0]), cmp_double);
	qsort(on, (size_t)n, sizeof(on[0]), cmp_double);
	printf("pairs %ld, stack_size %u: median off %.2f us/pair, traced %.2f (x%.2f, "
	       "+%.2f); min off %.2f, traced %.2f (x%.2f, +%.2f); events %llu, "
	       "stack bytes/event %.0f, lost %llu\n",
	       bench_pairs, stack_size, off[n / 2] / 1000, on[n / 2] / 1000,
	       on[n / 2] / off[n / 2], (on[n / 2] - off[n / 2]) / 1000,
	       off[0] / 1000, on[0] / 1000, on[0] / off[0], (on[0] - off[0]) / 1000,
	       (unsigned long long)k.n, k.n ? (double)k.bytes / (double)k.n : 0.0,
	       (unsigned long long)lost);
	return 0;
}

int main(int argc, char **argv)
{
	static struct sink s;
	struct collect_opts o = { .stack_size = ML_STACK_DEFAULT };
	struct collector *c = NULL;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		if (argc > 2)
			bench_pairs = atol(argv[2]);
		return bench(argc > 3 ? (u32)atoi(argv[3]) : ML_STACK_DEFAULT);
	}
	if (geteuid() != 0) {
		T_SKIP("collector", "needs root");
		T_END();
	}
	T_CHECK("bad stack size refused", collector_open(&c, &(struct collect_opts){
		.stack_size = ML_STACK_MAX + 1 }) == -EINVAL && !c);
	err = collector_open(&c, &o);
	if (err == -EPERM || err == -ENOSYS || err == -EOPNOTSUPP) {
		T_SKIP("collector", "BPF unavailable");
		T_END();
	}
	T_CHECKF("collector_open", err == 0, "%s: %s", strerror(-err), collector_last_error());
	if (err)
		T_END();
	T_CHECK("epoll fd", collector_fd(c) >= 0);

	test_untraced(c, &s);
	sink_release(&s);
	test_ops(c, &s);
	sink_release(&s);
	test_exec(c, &s);
	sink_release(&s);
	T_CHECK("no lost events", collector_lost(c) == 0);
	collector_close(c);
	collector_close(NULL);
	T_END();
}
