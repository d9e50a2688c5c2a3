/* SPDX-License-Identifier: MIT */
/*
 * .NET (CoreCLR) perf map on demand: find a running runtime's diagnostics
 * socket, send EnablePerfMap (perf map only) so that already-compiled
 * methods are replayed into perf-<nspid>.map, and undo it at the end:
 * DisablePerfMap and remove the file mapleak caused, never one the user
 * enabled (docs: dotnet-runtime-symbols.md §3, design.md).
 *
 * Modules return 0 or -errno and never print; the command words the notes.
 */
#ifndef MAPLEAK_DOTNET_H
#define MAPLEAK_DOTNET_H

#include "mapleak.h"

/* ---- the diagnostics IPC wire format (little-endian) ---- */

#define DOTNET_IPC_MAGIC	"DOTNET_IPC_V1"	/* 14 bytes with its NUL */
#define DOTNET_IPC_HDR_SIZE	20u
#define DOTNET_IPC_SET_PROCESS	0x04
#define DOTNET_IPC_SET_SERVER	0xFF
#define DOTNET_IPC_ENABLE_PERFMAP	0x05
#define DOTNET_IPC_DISABLE_PERFMAP	0x06
#define DOTNET_IPC_RESP_OK	0x00
#define DOTNET_IPC_RESP_ERROR	0xFF

#define DOTNET_PERFMAP_ALL	1u	/* perf map + jitdump */
#define DOTNET_PERFMAP_JITDUMP	2u
#define DOTNET_PERFMAP_ONLY	3u	/* perf map only: what mapleak asks for */

#define DOTNET_HR_UNKNOWN_COMMAND 0x80131385u	/* runtime older than .NET 8 */
#define DOTNET_HR_NOT_SUPPORTED	0x80131515u	/* e.g. NativeAOT */

/* Writes a request (header + payload) into buf. Returns its length or
 * -ENOSPC (buf too small) / -EINVAL (payload over 65515 bytes). */
int dotnet_ipc_encode(u8 *buf, size_t cap, u8 set, u8 id,
		      const void *payload, size_t len);

/* The total size announced by a 20-byte reply header, or -EBADMSG (bad
 * magic, size below 20). */
int dotnet_ipc_reply_size(const u8 *hdr, size_t len);

/* Decodes a whole reply to a command whose answer is an HRESULT (both
 * perf map commands): OK replies carry it as u32 payload, error replies
 * too. Returns 0 with *hresult set, or -EBADMSG. */
int dotnet_ipc_parse_reply(const u8 *buf, size_t len, u32 *hresult);

/*
 * One command on one connection to a Unix socket (dirfd + name, so long
 * paths through /proc/PID/root never hit sun_path's 108 bytes). Every
 * step is bounded by timeout_ms in total. Returns 0 with *hresult, or
 * -ENOENT, -ECONNREFUSED (stale socket), -EACCES, -ETIMEDOUT (no answer:
 * *sent says whether the request went out), -EBADMSG, -ECONNRESET...
 */
int dotnet_ipc_call(int dirfd, const char *name, u8 set, u8 id,
		    const void *payload, size_t len, int timeout_ms,
		    u32 *hresult, bool *sent);

/* dotnet_ipc_call() that talks only to a socket whose listener is process
 * peer (SO_PEERCRED, checked before anything is sent): -EPERM otherwise.
 * The socket is opened O_PATH without following a symlink, checked to be
 * a socket and connected through that descriptor, so what is checked is
 * what is connected to. */
int dotnet_ipc_call_peer(pid_t peer, int dirfd, const char *name, u8 set,
			 u8 id, const void *payload, size_t len, int timeout_ms,
			 u32 *hresult, bool *sent);

/* ---- what /proc says about a process ---- */

#define DOTNET_PATH_MAX 1024

struct dotnet_env {
	int perfmap;		/* [DOTNET_|COMPlus_]PerfMapEnabled, hex; -1 unset */
	char diag_off[48];	/* the variable that disables IPC ("" if none),
				 * e.g. "DOTNET_EnableDiagnostics=0" */
	char tmpdir[DOTNET_PATH_MAX];	/* TMPDIR, "" if unset */
	char perfmap_dir[DOTNET_PATH_MAX]; /* PerfMapJitDumpPath, "" if unset */
};

/* Parses /proc/PID/environ bytes (NUL-separated, possibly cut short).
 * Over-long values are ignored. Never fails. DOTNET_ wins over COMPlus_. */
void dotnet_env_parse(const char *buf, size_t len, struct dotnet_env *env);

/* Field 22 (starttime, jiffies since boot) of /proc/PID/stat text:
 * the runtime's socket key. 0 or -EINVAL. */
int dotnet_stat_starttime(const char *buf, size_t len, u64 *out);

struct dotnet_probe {
	bool coreclr;		/* libcoreclr.so is mapped */
	bool jit_loaded;	/* libclrjit.so is mapped: startup is over */
	bool map_open;		/* it already has perf-/jit-<nspid> files open */
	bool env_read;		/* /proc/PID/environ could be read */
	u32 nspid;
	u64 start_key;		/* 0 if unknown */
	u64 age_ms;		/* how long the process has been running */
	struct dotnet_env env;
};

/* Looks at /proc/PID/{maps,environ,stat,status,fd}. -ESRCH if gone. */
int dotnet_probe(pid_t pid, struct dotnet_probe *p);

/* True when the process's own settings already produce a perf map or a
 * jitdump: mapleak then neither enables nor disables anything (Disable
 * would stop the user's jitdump too). */
bool dotnet_perfmap_preset(const struct dotnet_probe *p);

/* ---- enable / undo ---- */

struct dotnet_perfmap;		/* what mapleak turned on and must undo */

/*
 * Sends EnablePerfMap(perf map only). Waits (bounded) for the runtime to
 * be past startup first: older 10.0 builds crashed on an early enable.
 * Returns 0, or -ENOENT (no socket), -ECONNREFUSED, -EACCES, -ETIMEDOUT,
 * -EBADMSG, -EOPNOTSUPP (*hresult 0x80131385: older than .NET 8), -EPROTO
 * (other HRESULT in *hresult). *out is set whenever the runtime may have
 * enabled the map (0, or -ETIMEDOUT after sending): pass it to
 * dotnet_perfmap_undo() in every case.
 */
int dotnet_perfmap_enable(pid_t pid, const struct dotnet_probe *p,
			  int timeout_ms, struct dotnet_perfmap **out,
			  u32 *hresult);

/*
 * Sends DisablePerfMap and removes perf-<nspid>.map (and perfinfo-) if
 * the enable created it and it is still the same file. Frees dp (NULL is a
 * no-op). Returns 0 or the first error; *removed (may be NULL) counts
 * files removed. Works after the target exited (removal only).
 */
int dotnet_perfmap_undo(struct dotnet_perfmap *dp, int timeout_ms,
			u32 *hresult, int *removed);

/* ---- what a killed mapleak left on ---- */

struct dotnet_recovered {
	pid_t pid;
	bool gone;		/* the process exited: nothing left to undo */
	bool disabled;		/* its perf map was on and is now off */
	int removed;		/* map files removed */
	int err;		/* 0, or why it could not be undone */
};

/*
 * Enables are marked in a root-only folder (/run/mapleak, or
 * $MAPLEAK_STATE_DIR) until undone. For each marker whose mapleak is no
 * longer running: if the same process (pid and start time) still holds
 * its perf map open, sends DisablePerfMap, and removes the map file that
 * enable made (same inode, the target's user, /tmp in its root). Fills
 * out[0..*n) with the processes found alive (at most max); removes the
 * markers dealt with. 0 or -errno (the folder is unusable).
 */
int dotnet_recover(int timeout_ms, struct dotnet_recovered *out, size_t max,
		   size_t *n);

#endif
