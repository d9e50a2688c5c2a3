#!/bin/bash
# Security: mapleak talks only to the JVM's own attach socket. A process
# of an unprivileged user looks like a JVM (maps .../libjvm.so, catches
# SIGQUIT); /tmp/.java_pid<PID> is
#   1. a listening socket of another user (root here), and
#   2. a symlink planted by the process's user to another user's socket;
# a process of root looks like a JVM and /tmp/.java_pid<PID> is
#   3. a socket of an unprivileged user (planted before the JVM's own)
# and in each case `mapleak record -p PID` as root must refuse it: no
# connection reaches the listener, the process is not signalled, the
# recording ends cleanly and says why the Java frames stay unnamed.
E2E_TIMEOUT=${E2E_TIMEOUT:-90}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so
sec_user

HOME_U=$T/home
mkdir -p "$HOME_U/lib/server"
cp "$FIX/libExample.so" "$HOME_U/lib/server/libjvm.so"
cp "$E2E_DIR/fake_jvm.py" "$HOME_U/fake_jvm.py"
chown -R "$SEC_USER:$SEC_USER" "$HOME_U"

# as_user, as an argument list for start_bg (which cannot run a function)
AS_USER=(setpriv --reuid="$SEC_UID" --regid="$SEC_GID" --clear-groups
	 --no-new-privs env -i PATH=/usr/local/bin:/usr/bin:/bin
	 HOME="$HOME_U" TMPDIR=/tmp)

# A root listener at PATH that logs every connection to $T/NAME.out.
LISTENER='
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o600)
s.listen(4)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    print("connected", flush=True)
    c.close()
'

# one_case NAME WHAT [RUNNER...]: starts a fake JVM (as $SEC_USER, or
# with RUNNER, e.g. env for root), calls setup_NAME SOCKET to plant
# /tmp/.java_pid<NSPID>, records for 1 s and checks the refusal.
one_case() {
	local name=$1 what=$2 pid nspid sock rc
	shift 2
	[ $# -gt 0 ] || set -- "${AS_USER[@]}"
	start_bg "jvm-$name" /dev/null "$@" python3 "$HOME_U/fake_jvm.py" \
		"$HOME_U/lib/server/libjvm.so" 60
	pid=$BG_PID
	if ! wait_for 20 grep -q '^fake-jvm: pid .* ready' "$T/jvm-$name.out"; then
		show "$T/jvm-$name.err"
		bail "the fake JVM ($name) starts within 20 s"
	fi
	nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")
	sock=/tmp/.java_pid$nspid
	"setup_$name" "$sock" || bail "cannot plant $sock ($what)"
	CLEAN+=("$sock")

	timeout 60 "$MAPLEAK" record -o "$T/$name.data" -p "$pid" --duration 1 \
		>"$T/rec-$name.out" 2>"$T/rec-$name.err"
	rc=$?
	check_rc "$what: mapleak record -p ends cleanly" 0 "$rc" "$T/rec-$name.err"
	sleep 0.3	# a connection, if any, is logged
	if grep -q connected "$T/lis-$name.out"; then
		not_ok "$what: mapleak did not connect to it"
	else
		ok "$what: mapleak did not connect to it"
	fi
	if grep -q '^quit' "$T/jvm-$name.out"; then
		not_ok "$what: the process was not signalled"
	else
		ok "$what: the process was not signalled"
	fi
	if grep -q "^mapleak: \(note: \)\?cannot get the perf map of JVM $pid .*refused" \
		"$T/rec-$name.err"; then
		ok "$what: mapleak says why it got no perf map"
	else
		not_ok "$what: mapleak says why it got no perf map"
		show "$T/rec-$name.err"
	fi
	[ -e "/tmp/.attach_pid$nspid" ] &&
		not_ok "$what: no attach file left" && rm -f "/tmp/.attach_pid$nspid"
	stop_pid "$pid"
}

CLEAN=()
cleanup_socks() { local f; for f in "${CLEAN[@]}"; do rm -f "$f"; done; }
trap 'cleanup_socks; _cleanup' EXIT

# 1. root's own socket at the JVM's name
setup_rootsock() {
	start_bg lis-rootsock /dev/null python3 -c "$LISTENER" "$1"
	wait_for 10 grep -q listening "$T/lis-rootsock.out"
}
one_case rootsock "a root-owned socket at /tmp/.java_pid<PID>"

# 2. the user's symlink to root's socket elsewhere
setup_symlink() {
	local real=$T/root-sock
	start_bg lis-symlink /dev/null python3 -c "$LISTENER" "$real" || return 1
	wait_for 10 grep -q listening "$T/lis-symlink.out" || return 1
	"${AS_USER[@]}" ln -s "$real" "$1"
}
one_case symlink "the user's symlink to a root socket"

# 3. a root JVM, the user's socket at its name (root's jcmd skips the
# owner check; mapleak must not)
setup_usersock() {
	start_bg lis-usersock /dev/null "${AS_USER[@]}" python3 -c "$LISTENER" "$1"
	wait_for 10 grep -q listening "$T/lis-usersock.out"
}
one_case usersock "a root JVM with the user's socket at /tmp/.java_pid<PID>" env
finish
