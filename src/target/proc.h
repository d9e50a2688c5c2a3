/* SPDX-License-Identifier: MIT */
/*
 * The process layer: what mapleak knows about a target process, read
 * from /proc in one place. A `struct target` is opened once (pidfd,
 * /proc/PID directory, root, status, comm, start time) and the other
 * modules ask it; the small pid-based readers below serve the callers
 * that hold no target. Every read is bounded; the target writes its comm
 * and command line, so callers escape them before printing. Modules
 * above (symbols/, record/) depend on this one, never the reverse.
 */
#ifndef MAPLEAK_PROC_H
#define MAPLEAK_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "mapleak.h"

struct maps_entry;

/* Longest /proc/PID/status read (a few KiB in practice; bounded because
 * the kernel adds lines over the years, not because the target writes). */
#define PROC_STATUS_MAX (64u * 1024)

/* What mapleak uses of /proc/PID/status; see proc_status_parse(). */
struct proc_status {
	pid_t tgid;		/* Tgid; 0 when absent */
	pid_t nspid;		/* innermost NSpid field: the pid the process sees */
	uid_t uids[4];		/* Uid: real, effective, saved, fs */
	gid_t gids[4];		/* Gid: real, effective, saved, fs */
	u64 sigcgt;		/* SigCgt: the signals it catches */
	unsigned have;		/* PROC_HAVE_*: the lines that were found */
};
#define PROC_HAVE_TGID	0x1
#define PROC_HAVE_NSPID	0x2
#define PROC_HAVE_UIDS	0x4
#define PROC_HAVE_GIDS	0x8
#define PROC_HAVE_SIGCGT 0x10

/*
 * The one parser of /proc/PID/status text (len bytes, need not end in
 * NUL). nspid falls back to pid when there is no NSpid line (kernels
 * before 4.1). Malformed lines are left out of ps->have. 0, or -EIO when
 * neither Tgid nor Uid was found (not a status file).
 */
int proc_status_parse(const char *buf, size_t len, pid_t pid,
		      struct proc_status *ps);
/* Reads and parses /proc/PID/status. 0, -ESRCH when gone, -errno. */
int proc_status(pid_t pid, struct proc_status *ps);
/* The same through an open /proc/PID directory (immune to pid reuse). */
int proc_status_at(int procfd, pid_t pid, struct proc_status *ps);

char *proc_cmdline(pid_t pid);		/* NULs as spaces; free() it */
char *proc_comm(pid_t pid);		/* free() it */
u32 proc_nspid(pid_t pid);		/* innermost NSpid, else pid */
u64 proc_start_brk(pid_t pid);
bool proc_alive(pid_t pid);		/* exists, not a zombie */
/* Field 22 of /proc/PID/stat: start time in clock ticks since boot; 0
 * when gone. */
u64 proc_start_time(pid_t pid);

/* What kind of task a pid names, for commands that take -p. */
enum ml_task_kind {
	ML_TASK_PROCESS,	/* a thread group leader of a user program */
	ML_TASK_THREAD,		/* another thread of a process: *tgid */
	ML_TASK_KERNEL,		/* a kernel thread: no user memory */
	ML_TASK_ZOMBIE,		/* exited, not yet reaped */
};
/* Reads /proc/PID/stat and status. 0, or -ENOENT when there is no such
 * task, -errno on other errors. *tgid gets the thread group id. */
int ml_task_kind(pid_t pid, enum ml_task_kind *kind, pid_t *tgid);

/* ---- a process opened once ---- */

struct target {
	pid_t pid;		/* host pid */
	int pidfd;		/* pidfd_open(); -1 where the kernel has none */
	int procfd;		/* /proc/PID, O_PATH: names this process only */
	int rootfd;		/* O_PATH of its root, held: still usable after
				 * the process exits (its files outlive it) */
	u64 start_time;		/* clock ticks since boot (stat field 22) */
	char comm[16];		/* TASK_COMM_LEN; the target chose it */
	struct proc_status status;
};

/*
 * Opens pid: -ESRCH when there is no such process, -errno otherwise. The
 * fields are read at open; target_refresh() reads status, comm and root
 * again (after an exec, or a setuid).
 */
int target_open(struct target *t, pid_t pid);
int target_refresh(struct target *t);
void target_release(struct target *t);	/* closes; a zeroed or released t is fine */

static inline pid_t target_pid(const struct target *t) { return t->pid; }
static inline pid_t target_nspid(const struct target *t) { return t->status.nspid; }
static inline const uid_t *target_uids(const struct target *t) { return t->status.uids; }
static inline const char *target_comm(const struct target *t) { return t->comm; }
static inline u64 target_start_time(const struct target *t) { return t->start_time; }
static inline int target_procfd(const struct target *t) { return t->procfd; }
static inline int target_rootfd(const struct target *t) { return t->rootfd; }

/* Still running (not exited, not a zombie), and the same process. */
bool target_alive(const struct target *t);
/* A snapshot of its mappings (track/procmaps.h parser): 0, -ESRCH, -errno. */
int target_maps(const struct target *t, struct maps_entry **out, size_t *n);

#endif
