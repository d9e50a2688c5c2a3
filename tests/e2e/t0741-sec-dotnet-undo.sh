#!/bin/bash
# Security: the .NET undo removes only the /tmp/perf-PID.map (in the
# target's root) that mapleak caused, never a file in a folder the target
# chose with DOTNET_PerfMapJitDumpPath.
#
# An unprivileged user's .NET app sets DOTNET_PerfMapJitDumpPath to a
# root-owned folder it cannot write (so enabling makes no file there).
# While mapleak records it, root creates its own file perf-PID.map in
# that folder (the name the runtime would use). When mapleak ends, that
# file must still be there. mapleak says why it did not enable the map.
# Control: the same app without the setting gets its map enabled and
# /tmp/perf-PID.map removed at the end (the undo still works).
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_dotnet
require_mapleak
require_fixture libExample.so
sec_user

APP=$FIX/dotnet/MyConsoleApp/MyConsoleApp
ENABLED_RE='^mapleak: \.NET runtime: perf map enabled over the diagnostics socket'

# start_app NAME [ENV=VALUE...]: MyConsoleApp as the test user, waiting
# on the fifo $T/NAME.fifo; sets APP_PID once it is ready.
start_app() {
	local name=$1
	shift
	make_fifo "$name"
	start_bg "$name" "$T/$name.fifo" setpriv --reuid="$SEC_UID" \
		--regid="$SEC_GID" --clear-groups --no-new-privs env -i \
		PATH=/usr/bin:/bin HOME="$T/home" TMPDIR=/tmp \
		DOTNET_CLI_TELEMETRY_OPTOUT=1 ${DOTNET_ROOT:+"DOTNET_ROOT=$DOTNET_ROOT"} "$@" \
		"$APP" "$FIX/libExample.so"
	APP_PID=$BG_PID
	echo "$APP_PID" >"$T/$name.pid"
	track_pid_file "$T/$name.pid"
	if ! wait_for 60 grep -q '^MyConsoleApp: pid .* ready' "$T/$name.out"; then
		not_ok "$name starts as $SEC_USER and says it is ready within 60 s"
		show "$T/$name.out"
		show "$T/$name.err"
		finish
	fi
}

# record NAME PID: mapleak record -p PID in the background, until recording.
record() {
	start_bg "rec-$1" /dev/null "$MAPLEAK" record -o "$T/$1.data" -p "$2"
	REC=$BG_PID
	wait_recording "$REC" "$T/rec-$1.err" || finish
}

stop_rec() {
	kill -INT "$REC"
	if ! wait_exit "$REC" 60; then
		not_ok "mapleak ($1) ends within 60 s of SIGINT"
		finish
	fi
	check_rc "mapleak record -p ($1)" 0 "$EXIT_STATUS" "$T/rec-$1.err"
}

# ---- control: no setting, the map is enabled and removed ----
start_app plain
record plain "$APP_PID"
if grep -q "$ENABLED_RE" "$T/rec-plain.err" && [ -f "/tmp/perf-$APP_PID.map" ]; then
	ok "control: mapleak enables the perf map of $SEC_USER's app (/tmp/perf-$APP_PID.map exists)"
else
	not_ok "control: mapleak enables the perf map of $SEC_USER's app"
	show "$T/rec-plain.err"
fi
stop_rec plain
if [ -e "/tmp/perf-$APP_PID.map" ]; then
	not_ok "control: /tmp/perf-$APP_PID.map, which mapleak caused, is removed at the end"
else
	ok "control: /tmp/perf-$APP_PID.map, which mapleak caused, is removed at the end"
fi
stop_pid "$APP_PID"

# ---- PerfMapJitDumpPath: a root folder the app cannot write ----
mkdir -m 755 "$T/victimdir"
start_app elsewhere DOTNET_PerfMapJitDumpPath="$T/victimdir"
PID=$APP_PID
record elsewhere "$PID"
sleep 1
echo "root's file, not mapleak's" >"$T/victimdir/perf-$PID.map"
echo "root's file, not mapleak's" >"$T/victimdir/perfinfo-$PID.map"
sleep 1
stop_rec elsewhere
if [ -f "$T/victimdir/perf-$PID.map" ] && [ -f "$T/victimdir/perfinfo-$PID.map" ]; then
	ok "files named perf-PID.map and perfinfo-PID.map in the folder the app chose (DOTNET_PerfMapJitDumpPath) are left alone"
else
	not_ok "files in the folder the app chose (DOTNET_PerfMapJitDumpPath) are left alone: $(ls "$T/victimdir" | tr '\n' ' ')"
	show "$T/rec-elsewhere.err"
fi
NOTE_RE='^mapleak: note: cannot enable the \.NET perf map (.*PerfMapJitDumpPath='
if grep -q "$NOTE_RE" "$T/rec-elsewhere.err" && ! grep -q "$ENABLED_RE" "$T/rec-elsewhere.err"; then
	ok "mapleak does not enable a map that would go to the app's folder, and says why"
else
	not_ok "mapleak does not enable a map that would go to the app's folder, and says why (a line matching '$NOTE_RE')"
	show "$T/rec-elsewhere.err"
fi
if alive "$PID"; then
	ok "the app still runs"
else
	not_ok "the app still runs"
fi

finish
