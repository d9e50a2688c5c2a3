# Helpers for the end-to-end tests; every tests/e2e/tNNNN-*.sh sources it.
#
# Output: one line per check, "ok - WHAT" or "not ok - WHAT: expected ...,
# got ...", or a single "skip - TEST: REASON" when the test cannot run here
# (tests/run-all.sh counts them; with MAPLEAK_REQUIRE_E2E=1 a skip fails).
# A test exits 1 when any check failed, 0 otherwise.
#
# Paths: MAPLEAK_BUILD (default ROOT/build, exported by tests/e2e/e2e.mk),
# MAPLEAK (default $MAPLEAK_BUILD/mapleak), fixtures in $FIX.
#
# Processes: everything a test starts in the background goes through
# start_bg (or track_pid_file for targets that mapleak launches); the EXIT
# trap ends them all, so a failing or interrupted test leaves nothing
# running. A watchdog ends a test that runs past E2E_TIMEOUT seconds.
#
# JSON is only ever checked by parsing it (python3, see report_checks.py).

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${MAPLEAK_BUILD:-$ROOT/build}
MAPLEAK=${MAPLEAK:-$BUILD/mapleak}
FIX=$BUILD/fixtures
TEST_NAME=$(basename "$0" .sh)
E2E_TIMEOUT=${E2E_TIMEOUT:-60}

FAILED=0
_PIDS=()		# background children to end at exit
_PID_FILES=()		# files naming grandchildren (targets mapleak launched)
_WATCHDOG=
_FDS=()

T=$(mktemp -d "${TMPDIR:-/tmp}/mapleak-$TEST_NAME.XXXXXX") || exit 1

# ---- reporting ----

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
note() { echo "# $*"; }

# skip_all REASON: the whole test cannot run here.
skip_all() {
	echo "skip - $TEST_NAME: $*"
	exit 0
}

# bail REASON: a precondition that must hold failed; stop the test.
bail() {
	not_ok "$*"
	exit 1
}

# check_rc WHAT EXPECTED GOT [FILE...]: compares exit statuses; on a
# mismatch shows the first lines of FILEs (the command's output).
check_rc() {
	local what=$1 want=$2 got=$3 f
	shift 3
	if [ "$got" = "$want" ]; then
		ok "$what (exit $got)"
		return 0
	fi
	not_ok "$what: expected exit $want, got $got"
	for f in "$@"; do
		[ -s "$f" ] && sed -n '1,15s/^/#   /p' "$f"
	done
	return 1
}

# show FILE [LINES]: prints a file's head as comments (for diagnostics).
show() {
	[ -f "$1" ] || { note "($1 does not exist)"; return 0; }
	note "--- $(basename "$1"):"
	sed -n "1,${2:-20}s/^/#   /p" "$1"
}

# ---- prerequisites ----

require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (BPF and /proc/PID/mem of other processes)"
}

require_bpf() {
	[ -r /sys/kernel/btf/vmlinux ] ||
		skip_all "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	if command -v bpftool >/dev/null 2>&1; then
		bpftool prog show >/dev/null 2>&1 ||
			skip_all "BPF is not permitted here (bpftool prog show failed)"
	fi
}

require_mapleak() {
	[ -x "$MAPLEAK" ] ||
		bail "mapleak binary '$MAPLEAK' is missing: build it with 'make'"
}

# require_fixture NAME...: files under $FIX.
require_fixture() {
	local f
	for f in "$@"; do
		[ -e "$FIX/$f" ] ||
			bail "fixture '$FIX/$f' is missing: build it with 'make fixtures'"
	done
}

require_dotnet() {
	command -v dotnet >/dev/null 2>&1 ||
		skip_all "the dotnet SDK is not installed"
	[ -e "$FIX/dotnet/MyConsoleApp/MyConsoleApp.dll" ] ||
		bail "fixture '$FIX/dotnet/MyConsoleApp' is missing although dotnet is installed: build it with 'make fixtures'"
}

require_python() {
	command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
}

# ---- processes ----

# make_fifo NAME: creates $T/NAME.fifo and holds it open read-write on a
# new descriptor whose number is stored in FIFO_FD (so neither side blocks
# on open, and the reader sees end of input only when the test exits).
make_fifo() {
	local fd
	mkfifo "$T/$1.fifo" || bail "cannot create fifo $T/$1.fifo"
	exec {fd}<>"$T/$1.fifo"
	FIFO_FD=$fd
	_FDS+=("$fd")
}

# start_bg NAME STDIN COMMAND [ARG...]: runs COMMAND in the background
# with stdin from STDIN, stdout to $T/NAME.out and stderr to $T/NAME.err.
# SIGINT and SIGQUIT keep their default action (bash would have the child
# ignore them). Sets BG_PID.
start_bg() {
	local name=$1 in=$2
	shift 2
	env --default-signal=INT,QUIT "$@" <"$in" >"$T/$name.out" 2>"$T/$name.err" &
	BG_PID=$!
	_PIDS+=("$BG_PID")
}

# track_pid_file FILE: the process named in FILE is ended at exit (only
# if it still runs a program from the build folder).
track_pid_file() {
	_PID_FILES+=("$1")
}

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_exit PID SECONDS: waits for the background child PID to end and
# sets EXIT_STATUS (128+N when killed by signal N). Returns 1 (and leaves
# it running) on timeout.
wait_exit() {
	local pid=$1 n=$(($2 * 10)) i=0
	while alive "$pid"; do
		i=$((i + 1))
		[ "$i" -gt "$n" ] && { EXIT_STATUS=timeout; return 1; }
		sleep 0.1
	done
	{ wait "$pid"; } 2>/dev/null
	EXIT_STATUS=$?
	return 0
}

# wait_for SECONDS COMMAND [ARG...]: polls COMMAND every 0.1 s until it
# succeeds; returns 1 on timeout.
wait_for() {
	local n=$(($1 * 10)) i=0
	shift
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt "$n" ] && return 1
		sleep 0.1
	done
}

# recording FILE: the recorder's stderr shows it is recording.
recording() {
	grep -q '^mapleak: recording' "$1"
}

# wait_recording REC_PID ERR_FILE: waits up to 30 s for the
# "mapleak: recording" line; fails the test if mapleak died or was silent.
wait_recording() {
	if wait_for 30 recording "$2"; then
		return 0
	fi
	if alive "$1"; then
		not_ok "mapleak printed no 'mapleak: recording' line within 30 s"
	else
		wait "$1" 2>/dev/null
		not_ok "mapleak exited (status $?) before printing 'mapleak: recording'"
	fi
	show "$2"
	return 1
}

# ours PID: PID runs a program from the build folder (or dotnet), so a
# pid read from a file is not some unrelated process that reused it.
ours() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	case $exe in
	"$BUILD"/* | */dotnet) return 0 ;;
	esac
	return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 3 s.
stop_pid() {
	local pid=$1 i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 30); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	for i in $(seq 30); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

# kill9 PID: SIGKILL a background child and reap it at once (so bash
# prints no "Killed" job notice); EXIT_STATUS is its wait status.
kill9() {
	kill -KILL "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
	EXIT_STATUS=$?
}

pid_from_file() {
	local p
	[ -s "$1" ] || return 1
	p=$(head -n1 "$1" | tr -dc 0-9)
	[ -n "$p" ] && echo "$p"
}

_cleanup() {
	local pid f
	trap - EXIT TERM INT
	[ -n "$_WATCHDOG" ] && kill "$_WATCHDOG" 2>/dev/null
	for f in "${_PID_FILES[@]}"; do
		pid=$(pid_from_file "$f") || continue
		ours "$pid" && stop_pid "$pid"
		rm -f "/tmp/perf-$pid.map" "/tmp/jit-$pid.dump" "/tmp/perfinfo-$pid.map"
	done
	for pid in "${_PIDS[@]}"; do
		stop_pid "$pid"
	done
	wait 2>/dev/null
	[ "${#_SEC_USERS[@]}" -gt 0 ] && _sec_cleanup
	for f in "${_FDS[@]}"; do
		eval "exec $f>&-"
	done
	if [ "${E2E_KEEP:-0}" = 1 ] || { [ "$FAILED" -gt 0 ] && [ "${E2E_KEEP_FAILED:-0}" = 1 ]; }; then
		note "scratch files kept in $T"
	else
		rm -rf "$T"
	fi
}

_on_signal() {
	not_ok "$TEST_NAME was stopped (timeout of $E2E_TIMEOUT s or signal)"
	exit 1
}

trap _cleanup EXIT
trap _on_signal TERM INT
(
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "$E2E_TIMEOUT" &
	s=$!
	wait $s && kill -TERM $$ 2>/dev/null
) >/dev/null 2>&1 &
_WATCHDOG=$!

# finish: the last line of a test.
finish() {
	[ "$FAILED" -eq 0 ]
	exit $?
}

# ---- mapleak ----

# mmap_line: the line of the mmap() call in tests/fixtures/Example.c.
mmap_line() {
	grep -n 'MAPLEAK-MMAP-LINE \*/' "$ROOT/tests/fixtures/Example.c" | cut -d: -f1
}

# report_json DATA OUT [ARG...]: runs mapleak report --format json; fails
# the test (and returns 1) when it does not exit 0.
report_json() {
	local data=$1 out=$2 rc
	shift 2
	timeout 60 "$MAPLEAK" report -i "$data" --format json "$@" >"$out" 2>"$out.err"
	rc=$?
	if [ "$rc" != 0 ]; then
		not_ok "mapleak report -i $(basename "$data") --format json $*: expected exit 0, got $rc"
		show "$out.err"
		return 1
	fi
	return 0
}

# pycheck SCRIPT_ARGS...: runs python3 with report_checks importable; the
# script comes on stdin. Its "not ok" lines count for the test.
pycheck() {
	local out rc
	out=$(PYTHONPATH="$E2E_DIR${PYTHONPATH:+:$PYTHONPATH}" python3 - "$@")
	rc=$?
	[ -n "$out" ] && echo "$out"
	FAILED=$((FAILED + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	if [ "$rc" != 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok - '; then
		not_ok "python check exited with status $rc"
	fi
}

# ---- security suite (tests/e2e/t07NN-sec-*.sh) ----

# sec_user: creates an unprivileged user for this test (no home, no
# shell, unique name from the test number and pid) and removes it and its
# processes at exit. Sets SEC_USER, SEC_UID, SEC_GID. The user owns a
# scratch folder $T/home. Needs root (require_root first).
sec_user() {
	command -v useradd >/dev/null 2>&1 || skip_all "useradd is not installed"
	SEC_USER="mlsec$(printf '%s' "$TEST_NAME" | tr -dc 0-9 | cut -c1-4)$$"
	SEC_USER=${SEC_USER:0:31}
	useradd --no-create-home --shell /usr/sbin/nologin --user-group \
		"$SEC_USER" 2>"$T/useradd.err" ||
		bail "cannot create test user $SEC_USER: $(head -1 "$T/useradd.err")"
	_SEC_USERS+=("$SEC_USER")
	SEC_UID=$(id -u "$SEC_USER")
	SEC_GID=$(id -g "$SEC_USER")
	chmod 755 "$T"
	mkdir -p "$T/home" && chown "$SEC_USER:$SEC_USER" "$T/home"
}

# as_user COMMAND [ARG...]: runs COMMAND as $SEC_USER (setpriv: no
# supplementary groups, no new privileges), with a clean environment.
as_user() {
	setpriv --reuid="$SEC_UID" --regid="$SEC_GID" --clear-groups \
		--no-new-privs env -i PATH=/usr/local/bin:/usr/bin:/bin \
		HOME="$T/home" TMPDIR=/tmp "$@"
}

_SEC_USERS=()
_sec_cleanup() {
	local u
	for u in "${_SEC_USERS[@]}"; do
		pkill -KILL -u "$u" 2>/dev/null
		sleep 0.1
		userdel "$u" 2>/dev/null
	done
}
