#!/bin/bash
# A mapleak SIGKILLed while it had a .NET app's perf map on (enabled over
# the diagnostics socket) leaves the runtime writing /tmp/perf-PID.map.
# The next `mapleak record` (of any process) notices it, turns the map
# off, removes the file the killed run caused and says so; the app keeps
# running. The marker lives in a root-only folder ($MAPLEAK_STATE_DIR
# here, so that parallel tests do not act on this test's marker); a
# marker there whose mapleak is still running is left alone.
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
mkdir -m 700 "$T/state"
export MAPLEAK_STATE_DIR=$T/state

make_fifo app
start_bg app "$T/app.fifo" setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
	--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin HOME="$T/home" \
	TMPDIR=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 ${DOTNET_ROOT:+"DOTNET_ROOT=$DOTNET_ROOT"} \
	"$APP" "$FIX/libExample.so"
PID=$BG_PID
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"
wait_for 60 grep -q '^MyConsoleApp: pid .* ready' "$T/app.out" ||
	bail "MyConsoleApp starts as $SEC_USER within 60 s"

map_open() { ls -l "/proc/$PID/fd" 2>/dev/null | grep -q "perf-$PID\.map"; }

# ---- 1. mapleak enables the map and is killed ----
start_bg rec1 /dev/null "$MAPLEAK" record -o "$T/1.data" -p "$PID"
REC1=$BG_PID
wait_recording "$REC1" "$T/rec1.err" || finish
grep -q "$ENABLED_RE" "$T/rec1.err" ||
	bail "setup: mapleak enabled the perf map ($(head -3 "$T/rec1.err"))"
# A second recorder now sees a marker whose mapleak still runs: not its own.
start_bg busy /dev/null sleep 300
"$MAPLEAK" record -o "$T/busy.data" -p "$BG_PID" -d 0.5 >"$T/rec-busy.out" 2>&1
if map_open && ! grep -q 'mapleak that was killed' "$T/rec-busy.out"; then
	ok "a recording while the enabling mapleak still runs leaves its perf map alone"
else
	not_ok "a recording while the enabling mapleak still runs leaves its perf map alone"
	show "$T/rec-busy.out"
fi
kill9 "$REC1"
sleep 0.5
if map_open && [ -f "/tmp/perf-$PID.map" ]; then
	ok "setup: after SIGKILL the runtime still writes /tmp/perf-$PID.map"
else
	bail "setup: after SIGKILL the runtime still writes /tmp/perf-$PID.map"
fi

# ---- 2. the next record, of another process, undoes it ----
"$MAPLEAK" record -o "$T/2.data" -p "$BG_PID" -d 0.5 >"$T/rec2.out" 2>&1
check_rc "the next mapleak record (of another process)" 0 $? "$T/rec2.out"
NOTE_RE="^mapleak: note: a mapleak that was killed left the perf map of \.NET process $PID on: turned it off, removed the map file it caused"
if grep -q "$NOTE_RE" "$T/rec2.out"; then
	ok "it says it turned off the perf map of $PID that the killed mapleak left on"
else
	not_ok "it says so: a line matching '$NOTE_RE'"
	show "$T/rec2.out"
fi
if wait_for 5 eval '! map_open'; then
	ok "the runtime's perf map is off (no perf-$PID.map open)"
else
	not_ok "the runtime's perf map is off (it still holds perf-$PID.map open)"
fi
if [ -e "/tmp/perf-$PID.map" ]; then
	not_ok "/tmp/perf-$PID.map, which the killed mapleak caused, is removed"
else
	ok "/tmp/perf-$PID.map, which the killed mapleak caused, is removed"
fi
if [ -z "$(ls -A "$T/state")" ]; then
	ok "no marker is left"
else
	not_ok "no marker is left: $(ls -A "$T/state")"
fi
if alive "$PID"; then
	ok "the app still runs"
else
	not_ok "the app still runs"
	show "$T/app.err"
fi

# ---- 3. a run after that has nothing to say ----
"$MAPLEAK" record -o "$T/3.data" -p "$BG_PID" -d 0.5 >"$T/rec3.out" 2>&1
if ! grep -q 'mapleak that was killed' "$T/rec3.out"; then
	ok "the run after that finds nothing left to undo"
else
	not_ok "the run after that finds nothing left to undo"
	show "$T/rec3.out"
fi

finish
