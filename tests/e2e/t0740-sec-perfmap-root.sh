#!/bin/bash
# Security: mapleak (root) reads a target's perf map only as the target
# itself could have written it: /tmp/perf-PID.map resolved inside the
# target's root, a regular file (not a symlink, FIFO or device) owned by
# the target's user (root only when the target runs as root).
#
# The target is an unprivileged user's process; `mapleak resolve -p PID
# 0x10010` names the address from the perf map when it accepts the file.
# A planted map names it SECRET_...; that name must never appear.
#  0. control: the user's own regular map is read (the probe works);
#  1. a root-owned map (another uid than the target's) is ignored;
#  2. a map owned by a third user is ignored;
#  3. the map is the user's symlink to a root-only file: not followed;
#  4. the user, in its own user+mount namespace, bind-mounts a root-only
#     folder (with a root-owned perf-PID.map) over its /tmp;
#  5. the user chroots (user namespace) into a root of its own whose /tmp
#     is a symlink to an absolute path: it must resolve inside that root,
#     not in mapleak's (there a folder the user cannot enter holds a
#     perf-PID.map owned by the user);
#  6. the map is a FIFO: mapleak does not hang on it.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_mapleak
sec_user
CHROOT=$(command -v chroot) || skip_all "chroot is not installed"

ADDR=0x10010
# The root-only file a planted link or mount points at.
mkdir -m 700 "$T/rootonly"
printf '10000 1000 SECRET_ROOTONLY\n' >"$T/rootonly/secret"
chmod 600 "$T/rootonly/secret"

# start_target NAME COMMAND...: runs COMMAND as the test user; sets TPID
# once the process has exec'd its final program (sleep).
start_target() {
	local name=$1
	shift
	# as_user's command line (start_bg runs a program, not a function).
	start_bg "$name" /dev/null setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
		--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin \
		HOME="$T/home" TMPDIR=/tmp "$@"
	TPID=$BG_PID
	if ! wait_for 10 grep -q '^sleep' "/proc/$TPID/comm"; then
		not_ok "target $name starts (as $SEC_USER)"
		show "$T/$name.err"
		return 1
	fi
	return 0
}

# resolve NAME: mapleak resolve of $ADDR in $TPID into $T/NAME.res
# (stdout and stderr); RES_RC its exit status.
resolve() {
	timeout 20 "$MAPLEAK" resolve -p "$TPID" "$ADDR" >"$T/$1.res" 2>&1
	RES_RC=$?
}

# no_secret NAME WHAT: the resolve of scenario NAME did not name SECRET_*.
no_secret() {
	if [ "$RES_RC" != 0 ]; then
		not_ok "$2: mapleak resolve exits 0 (got $RES_RC)"
		show "$T/$1.res"
	elif grep -q SECRET_ "$T/$1.res"; then
		not_ok "$2: the planted map's name must not appear"
		show "$T/$1.res"
	else
		ok "$2"
	fi
}

# ---- 0. control ----
start_target own sleep 300 || finish
printf '10000 1000 GOOD_OWNMAP\n' >"/tmp/perf-$TPID.map"
chown "$SEC_UID:$SEC_GID" "/tmp/perf-$TPID.map"
resolve own
if grep -q 'GOOD_OWNMAP' "$T/own.res"; then
	ok "control: the target user's own /tmp/perf-PID.map names $ADDR"
else
	not_ok "control: the target user's own /tmp/perf-PID.map names $ADDR (GOOD_OWNMAP)"
	show "$T/own.res"
fi
rm -f "/tmp/perf-$TPID.map"

# ---- 1. root-owned ----
printf '10000 1000 SECRET_ROOTOWNED\n' >"/tmp/perf-$TPID.map"
resolve rootowned
no_secret rootowned "a root-owned /tmp/perf-PID.map of a non-root target is ignored"
rm -f "/tmp/perf-$TPID.map"

# ---- 2. a third user's ----
printf '10000 1000 SECRET_NOBODY\n' >"/tmp/perf-$TPID.map"
chown 65534 "/tmp/perf-$TPID.map"
resolve nobody
no_secret nobody "a /tmp/perf-PID.map owned by another user is ignored"
rm -f "/tmp/perf-$TPID.map"

# ---- 3. symlink ----
as_user ln -s "$T/rootonly/secret" "/tmp/perf-$TPID.map"
resolve symlink
no_secret symlink "/tmp/perf-PID.map as the user's symlink to a root-only file is not followed"
rm -f "/tmp/perf-$TPID.map"
stop_pid "$TPID"

# ---- 4. a root-only folder mounted over the target's /tmp ----
mkdir -m 700 "$T/rootdir"
if start_target bind unshare -Urm sh -c \
	"mount --bind '$T/rootdir' /tmp && exec sleep 300"; then
	printf '10000 1000 SECRET_BINDMOUNT\n' >"$T/rootdir/perf-$TPID.map"
	chmod 600 "$T/rootdir/perf-$TPID.map"
	if [ -e "/proc/$TPID/root/tmp/perf-$TPID.map" ]; then
		resolve bind
		no_secret bind "a root-only folder the target bind-mounted over its /tmp: the root-owned map in it is ignored"
	else
		not_ok "setup: the target's /tmp is the root-only folder (user namespaces allowed?)"
		show "$T/bind.err"
	fi
	stop_pid "$TPID"
fi

# ---- 5. its own root, /tmp a symlink to an absolute path ----
mkdir -m 711 "$T/victim"
mkdir -p "$T/home/r"
chown "$SEC_UID:$SEC_GID" "$T/home/r"
if start_target chroot unshare -Urm sh -c "
	R='$T/home/r'
	mkdir -p \"\$R/usr\" && mount --rbind /usr \"\$R/usr\" &&
	ln -sf usr/bin \"\$R/bin\" && ln -sf usr/lib \"\$R/lib\" &&
	ln -sf usr/lib64 \"\$R/lib64\" && ln -sf '$T/victim' \"\$R/tmp\" &&
	exec '$CHROOT' \"\$R\" /bin/sleep 300"; then
	# Mode 700 after the user's setup: it cannot read this, mapleak can.
	chmod 700 "$T/victim"
	printf '10000 1000 SECRET_OUTSIDE_ROOT\n' >"$T/victim/perf-$TPID.map"
	chown "$SEC_UID:$SEC_GID" "$T/victim/perf-$TPID.map"
	chmod 600 "$T/victim/perf-$TPID.map"
	if [ "$(readlink "/proc/$TPID/root")" = "$T/home/r" ]; then
		resolve chroot
		no_secret chroot "the target's /tmp, a symlink to an absolute path, resolves inside its root, not mapleak's"
	else
		not_ok "setup: the target runs chrooted in $T/home/r (user namespaces allowed?)"
		show "$T/chroot.err"
	fi
	stop_pid "$TPID"
fi

# ---- 6. FIFO ----
start_target fifo sleep 300 || finish
as_user mkfifo "/tmp/perf-$TPID.map"
t0=$(date +%s)
resolve fifo
t1=$(date +%s)
if [ "$RES_RC" = 0 ] && [ $((t1 - t0)) -lt 10 ]; then
	ok "a FIFO as /tmp/perf-PID.map does not hang mapleak ($((t1 - t0)) s)"
else
	not_ok "a FIFO as /tmp/perf-PID.map does not hang mapleak: exit $RES_RC after $((t1 - t0)) s"
	show "$T/fifo.res"
fi
rm -f "/tmp/perf-$TPID.map"

finish
