#!/bin/bash
# The .NET perf map on demand (README: ".NET without a restart"):
#  1. the seed app started WITHOUT any perf map setting, attached with -p,
#     the leak triggered after attaching: mapleak enables the perf map over
#     the diagnostics socket, names mmap_allocation <- ... MyTest <- ...
#     Main, then disables it and removes /tmp/perf-PID.map; the app keeps
#     running and answering;
#  2. DOTNET_EnableDiagnostics=0: one note naming the fallback, on stderr
#     and in the report's "notes"; native frames still named;
#  3. DOTNET_PerfMapEnabled=1 set by the user: mapleak leaves the runtime
#     alone and does not remove the user's map file;
#  4. an app that compiles a method per iteration: it keeps running at
#     >= 25% of its rate before attaching while the map is on (>= 50% of its
#     rate traced without the map), and at
#     >= 50% again after mapleak detached (its own rate swings by 30%).
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_dotnet
require_mapleak
require_fixture libExample.so dotnet/JitChurn/JitChurn.dll

APP=$FIX/dotnet/MyConsoleApp/MyConsoleApp
CHURN=$FIX/dotnet/JitChurn/JitChurn
LINE=$(mmap_line)
ENABLED_RE='^mapleak: \.NET runtime: perf map enabled over the diagnostics socket'
# Whatever the caller's environment says, the apps start with no perf map
# and with diagnostics on, unless a scenario sets them.
CLEAN_ENV=(env -u DOTNET_PerfMapEnabled -u COMPlus_PerfMapEnabled
	-u DOTNET_EnableDiagnostics -u COMPlus_EnableDiagnostics
	-u DOTNET_EnableDiagnostics_IPC -u DOTNET_PerfMapJitDumpPath
	DOTNET_CLI_TELEMETRY_OPTOUT=1)

# start_app NAME READY_RE [ENV=VALUE...] -- COMMAND...: starts a .NET app
# reading from the fifo $T/NAME.fifo; sets APP_PID once READY_RE is seen.
start_app() {
	local name=$1 ready=$2 pid
	shift 2
	make_fifo "$name"
	start_bg "$name" "$T/$name.fifo" "${CLEAN_ENV[@]}" "$@"
	pid=$BG_PID
	echo "$pid" >"$T/$name.pid"
	track_pid_file "$T/$name.pid"	# removes its /tmp/perf-PID.map at exit
	if ! wait_for 60 grep -q "$ready" "$T/$name.out"; then
		not_ok "$name starts and says it is ready within 60 s"
		show "$T/$name.out"
		show "$T/$name.err"
		finish
	fi
	APP_PID=$pid
	APP_FD=$FIFO_FD
}

# stop_rec PID NAME: SIGINT mapleak and wait for it; checks exit 0.
stop_rec() {
	kill -INT "$1"
	if ! wait_exit "$1" 60; then
		not_ok "mapleak ($2) ends within 60 s of SIGINT"
		finish
	fi
	check_rc "mapleak record -p ($2)" 0 "$EXIT_STATUS" "$T/$2.err"
}

lines() { wc -l <"$1"; }
# more_lines FILE N: FILE has more than N lines (for wait_for: evaluated
# on each try).
more_lines() { [ "$(lines "$1")" -gt "$2" ]; }
# rate_lines FILE N: FILE has at least N "JitChurn: rate" lines.
rate_lines() { [ "$(grep -c '^JitChurn: rate' "$1")" -ge "$2" ]; }

# ---- 1. started without a perf map, attached, leak after attaching ----

start_app app '^MyConsoleApp: pid .* ready' "$APP" "$FIX/libExample.so"
PID=$APP_PID
if [ -e "/tmp/perf-$PID.map" ]; then
	not_ok "no /tmp/perf-$PID.map before attaching (the app was started without DOTNET_PerfMapEnabled)"
else
	ok "no /tmp/perf-$PID.map before attaching (the app was started without DOTNET_PerfMapEnabled)"
fi

DATA=$T/ondemand.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
if grep -q "$ENABLED_RE" "$T/rec.err"; then
	ok "mapleak says it enabled the .NET perf map over the diagnostics socket"
else
	not_ok "mapleak says it enabled the .NET perf map: expected a line matching '$ENABLED_RE'"
	show "$T/rec.err"
fi
if grep -q 'MyConsoleApp.Program::Main' "/tmp/perf-$PID.map" 2>/dev/null; then
	ok "while recording, /tmp/perf-$PID.map exists and already names Main (compiled before the enable: replayed)"
else
	not_ok "while recording, /tmp/perf-$PID.map exists and names MyConsoleApp.Program::Main"
fi
echo >&"$APP_FD"	# press Enter: the leak happens after attaching
if ! wait_for 60 grep -q '^MyConsoleApp: leaked' "$T/app.out"; then
	not_ok "MyConsoleApp leaks within 60 s of Enter"
	show "$T/app.out"
	show "$T/app.err"
	finish
fi
sleep 1
stop_rec "$REC" rec
if [ -e "/tmp/perf-$PID.map" ]; then
	not_ok "/tmp/perf-$PID.map, which mapleak caused, is removed at the end"
else
	ok "/tmp/perf-$PID.map, which mapleak caused, is removed at the end"
fi
if ls -l "/proc/$PID/fd" 2>/dev/null | grep -q "perf-$PID\.map"; then
	not_ok "the runtime's perf map is disabled at the end (it still holds perf-$PID.map open)"
else
	ok "the runtime's perf map is disabled at the end (no perf-$PID.map open)"
fi
n=$(lines "$T/app.out")
if alive "$PID" && wait_for 5 more_lines "$T/app.out" "$n"; then
	ok "MyConsoleApp still runs and prints its per-second line after mapleak detached"
else
	not_ok "MyConsoleApp still runs and prints its per-second line after mapleak detached"
	show "$T/app.out"
	show "$T/app.err"
fi

report_json "$DATA" "$T/ondemand.json" || finish
pycheck "$T/ondemand.json" "$LINE" "$PID" <<'PY'
import sys
from report_checks import *

path, line, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command="MyConsoleApp")
top = check_seed_site(r, line)
if top is not None:
    frames = top.get("frames") or []
    chain = ["mmap_allocation", "MyConsoleApp.Program::MyTest",
             "MyConsoleApp.Program::Main"]
    preds = [sym_is("mmap_allocation")] + [sym_has(c) for c in chain[1:]]
    i = find_in_order(frames, preds)
    check(i is not None, "frames contain, in order, " + " <- ".join(chain)
          + " (no perf map setting at start)", " <- ".join(chain),
          stack_str(frames, 24))
    if i is not None:
        between = frames[i[0]:i[-1] + 1]
        bad = [k + i[0] for k, fr in enumerate(between) if unnamed(fr)]
        check(not bad, "every frame from mmap_allocation to Main is named",
              "no unnamed frame", "unnamed frame(s) at %s in %s"
              % (bad, stack_str(frames, 24)))
notes = r.get("notes") or []
bad = [n for n in notes if ".NET perf map" in n]
check(not bad, "the report has no .NET perf map note (the enable worked)",
      "none", bad)
PY

# ---- 2. DOTNET_EnableDiagnostics=0: the note, native frames named ----

start_app nodiag '^MyConsoleApp: pid .* ready' DOTNET_EnableDiagnostics=0 \
	"$APP" "$FIX/libExample.so"
PID2=$APP_PID
DATA2=$T/nodiag.data
start_bg rec2 /dev/null "$MAPLEAK" record -o "$DATA2" -p "$PID2"
REC2=$BG_PID
wait_recording "$REC2" "$T/rec2.err" || finish
echo >&"$APP_FD"
if ! wait_for 60 grep -q '^MyConsoleApp: leaked' "$T/nodiag.out"; then
	not_ok "MyConsoleApp (DOTNET_EnableDiagnostics=0) leaks within 60 s of Enter"
	show "$T/nodiag.out"
	finish
fi
sleep 1
stop_rec "$REC2" rec2
NOTE_RE='^mapleak: note: cannot enable the \.NET perf map (DOTNET_EnableDiagnostics=0):.*DOTNET_PerfMapEnabled=3'
if [ "$(grep -c "$NOTE_RE" "$T/rec2.err")" = 1 ] &&
	[ "$(grep -c '\.NET' "$T/rec2.err")" = 1 ]; then
	ok "one stderr line says the perf map cannot be enabled (DOTNET_EnableDiagnostics=0) and names the fallback"
else
	not_ok "one stderr line matching '$NOTE_RE' (and no other .NET line)"
	show "$T/rec2.err"
fi
if ! grep -q "$ENABLED_RE" "$T/rec2.err"; then
	ok "mapleak does not claim to have enabled the perf map"
else
	not_ok "mapleak does not claim to have enabled the perf map"
fi
report_json "$DATA2" "$T/nodiag.json" || finish
pycheck "$T/nodiag.json" "$LINE" "$PID2" <<'PY'
import sys
from report_checks import *

path, line, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command="MyConsoleApp")
notes = r.get("notes") or []
hit = [n for n in notes if "DOTNET_EnableDiagnostics=0" in n
       and "DOTNET_PerfMapEnabled=3" in n]
check(len(hit) == 1, "the report's notes say why (DOTNET_EnableDiagnostics=0) "
      "and name the fallback (DOTNET_PerfMapEnabled=3)", "one such note", notes)
check_seed_site(r, line)    # mmap_allocation named, libExample.so, Example.c:LINE
PY
# resolve -p runs the same runtimes session (src/runtime/): the same note,
# word for word, in its JSON "notes".
timeout 60 "$MAPLEAK" resolve --format json -p "$PID2" 0x10 >"$T/resolve2.json" 2>"$T/resolve2.err"
check_rc "mapleak resolve -p (DOTNET_EnableDiagnostics=0)" 0 $? "$T/resolve2.err"
grep -m1 "$NOTE_RE" "$T/rec2.err" | sed 's/^mapleak: note: //' >"$T/rec2.note"
pycheck "$T/resolve2.json" "$T/rec2.note" <<'PY'
import json, sys
from report_checks import *

notes = json.load(open(sys.argv[1])).get("notes") or []
want = open(sys.argv[2]).read().strip()
check(want and notes == [want], "resolve -p says what record says about the "
      ".NET perf map (one note, the same words)", [want], notes)
PY

# ---- 3. the user's own perf map: left alone, file kept ----

start_app own '^MyConsoleApp: pid .* ready' DOTNET_PerfMapEnabled=1 \
	"$APP" "$FIX/libExample.so"
PID3=$APP_PID
if ! wait_for 10 test -s "/tmp/perf-$PID3.map"; then
	not_ok "the runtime writes /tmp/perf-$PID3.map with DOTNET_PerfMapEnabled=1"
fi
timeout 60 "$MAPLEAK" record -o "$T/own.data" --duration 1 -p "$PID3" \
	>/dev/null 2>"$T/own.err"
check_rc "mapleak record -p --duration 1 (user's perf map)" 0 $? "$T/own.err"
if [ -s "/tmp/perf-$PID3.map" ]; then
	ok "the user's /tmp/perf-$PID3.map (DOTNET_PerfMapEnabled=1) is not removed"
else
	not_ok "the user's /tmp/perf-$PID3.map (DOTNET_PerfMapEnabled=1) is not removed"
fi
if ls -l "/proc/$PID3/fd" 2>/dev/null | grep -q "perf-$PID3\.map"; then
	ok "the user's perf map stays enabled (the runtime still holds it open)"
else
	not_ok "the user's perf map stays enabled (the runtime still holds it open)"
fi
if grep -q -e "$ENABLED_RE" -e '\.NET perf map' "$T/own.err"; then
	not_ok "mapleak neither enables nor notes anything when the user enabled the map"
	show "$T/own.err"
else
	ok "mapleak neither enables nor notes anything when the user enabled the map"
fi

# ---- 4. a process that keeps compiling methods ----

start_app churn '^JitChurn: pid .* ready' "$CHURN"
PID4=$APP_PID
# Its rate before: after warming up (tiering, first GCs).
wait_for 60 rate_lines "$T/churn.out" 6 ||
	bail "JitChurn prints 6 rate lines within 60 s"
n0=$(lines "$T/churn.out")
# Traced without the perf map: what tracing alone costs this app, so that
# the perf map's own cost can be told apart from it.
start_bg rec4a /dev/null "$MAPLEAK" record --no-runtime-symbols -o "$T/churn-a.data" -p "$PID4"
REC4A=$BG_PID
wait_recording "$REC4A" "$T/rec4a.err" || finish
sleep 1.5
na1=$(lines "$T/churn.out")
sleep 5
na2=$(lines "$T/churn.out")
stop_rec "$REC4A" rec4a
[ -e "/tmp/perf-$PID4.map" ] &&
	not_ok "--no-runtime-symbols leaves the .NET perf map off"
if grep -q '^mapleak: note: cannot enable the \.NET perf map (--no-runtime-symbols): managed frames stay unnamed' "$T/rec4a.err" &&
	! grep -q "$ENABLED_RE" "$T/rec4a.err"; then
	ok "--no-runtime-symbols: a note says the managed frames stay unnamed, nothing enabled"
else
	not_ok "--no-runtime-symbols: a note says the managed frames stay unnamed, nothing enabled"
	show "$T/rec4a.err"
fi
sleep 2
start_bg rec4 /dev/null "$MAPLEAK" record -o "$T/churn.data" -p "$PID4"
REC4=$BG_PID
wait_recording "$REC4" "$T/rec4.err" || finish
grep -q "$ENABLED_RE" "$T/rec4.err" ||
	not_ok "mapleak enabled the perf map of JitChurn (see rec4.err)"
sleep 1.5
n1=$(lines "$T/churn.out")
m1=$(wc -l <"/tmp/perf-$PID4.map" 2>/dev/null || echo 0)
sleep 5
n2=$(lines "$T/churn.out")
m2=$(wc -l <"/tmp/perf-$PID4.map" 2>/dev/null || echo 0)
if [ "$m2" -gt "$((m1 + 1000))" ]; then
	ok "while enabled, the runtime logs each new method ($m1 -> $m2 perf map lines in 5 s)"
else
	not_ok "while enabled, the runtime logs each new method: expected > 1000 new perf map lines in 5 s, got $m1 -> $m2"
fi
stop_rec "$REC4" rec4
n3=$(lines "$T/churn.out")
sleep 5
n4=$(lines "$T/churn.out")
if [ -e "/tmp/perf-$PID4.map" ]; then
	not_ok "JitChurn's /tmp/perf-$PID4.map is removed at the end"
else
	ok "JitChurn's /tmp/perf-$PID4.map is removed at the end"
fi
alive "$PID4" && ok "JitChurn still runs after the perf map was enabled and disabled" ||
	not_ok "JitChurn still runs after the perf map was enabled and disabled"
pycheck "$T/churn.out" "$n0" "$n1" "$n2" "$n3" "$n4" "$na1" "$na2" <<'PY'
import statistics
import sys
from report_checks import check

path = sys.argv[1]
n0, n1, n2, n3, n4, na1, na2 = (int(a) for a in sys.argv[2:])
lines = open(path).read().splitlines()

def rates(a, b):
    return [int(l.split()[-1]) for l in lines[a:b] if l.startswith("JitChurn: rate")]

before = rates(2, n0)           # skip the warm-up seconds
during = rates(n1, n2)
traced = rates(na1, na2)        # traced, perf map off
after = rates(n3 + 1, n4)       # the second mapleak stopped is partial
print("# rates before %s, traced without map %s, while enabled %s, after %s"
      % (before, traced, during, after))
mb = statistics.median(before) if before else 0
check(mb > 0 and len(during) >= 3, "rates measured before and while enabled",
      ">= 1 and >= 3 samples", (len(before), len(during)))
if mb and during:
    md = statistics.median(during)
    # Never stopped or starved, whatever the load of the machine ...
    check(md >= 0.25 * mb, "JitChurn keeps running at >= 25%% of its rate while "
          "the perf map is on and mapleak traces it (median %d/s vs %d/s)" % (md, mb),
          ">= %d" % (mb / 4), md)
    # ... and the perf map costs no more than the runtime's own writing:
    # against the same tracing without it, at least half the rate.
    if traced:
        mt = statistics.median(traced)
        check(md >= 0.5 * mt, "the perf map being on costs at most half of the "
              "traced rate (median %d/s vs %d/s traced without it)" % (md, mt),
              ">= %d" % (mt / 2), md)
    else:
        check(False, "rates measured while traced without the perf map",
              ">= 1 sample", traced)
if mb and after:
    ma = statistics.median(after)
    # Its own rate swings by +-30% (GC, tiering): "recovered" means back in
    # that band; nothing of mapleak stays behind (map off, file closed,
    # no BPF programs: checked above and in t0400).
    check(ma >= 0.5 * mb, "JitChurn's rate recovers after mapleak detached "
          "(median %d/s vs %d/s before)" % (ma, mb), ">= %d" % (0.5 * mb), ma)
else:
    check(False, "JitChurn prints rates after mapleak detached", ">= 1 line", after)
PY
finish
