#!/bin/bash
# The seed scenario as the article lived it: a .NET app started with
# DOTNET_PerfMapEnabled=1 (W^X on, the default) waits on Console.ReadLine;
# mapleak attaches with -p; the test presses Enter (a line through a fifo);
# after the leak mapleak is stopped. The top site must be the 1 GiB in 256
# mappings, its stack mmap_allocation <- ... IL_STUB_PInvoke <-
# MyConsoleApp.Program::MyTest <- ... <- MyConsoleApp.Program::Main with
# every frame between mmap_allocation and Main named (the article's perf
# showed them as [unknown] in memfd:doublemapper).
#
# Twice: on .NET 10 (the SDK's runtime, MyConsoleApp) and on .NET 8, the
# article's runtime (the same source built self-contained, MyConsoleApp8).
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_dotnet
require_mapleak
require_fixture libExample.so dotnet/MyConsoleApp8/MyConsoleApp

LINE=$(mmap_line)

# seed RT APP CORECLR: the scenario on .NET RT; check titles start "netRT: ".
seed() {
	local RT=$1 APP=$2 CORECLR=$3 DATA=$T/dotnet$1.data PID REC

	note "net$RT: $APP"
	make_fifo "in$RT"
	start_bg "app$RT" "$T/in$RT.fifo" env -u DOTNET_EnableWriteXorExecute \
		-u COMPlus_EnableWriteXorExecute DOTNET_PerfMapEnabled=1 \
		DOTNET_CLI_TELEMETRY_OPTOUT=1 "$APP" "$FIX/libExample.so"
	PID=$BG_PID
	if ! wait_for 60 grep -q '^MyConsoleApp: pid .* ready' "$T/app$RT.out"; then
		not_ok "net$RT: MyConsoleApp starts and says it is ready within 60 s"
		show "$T/app$RT.out"
		show "$T/app$RT.err"
		return
	fi
	echo "$PID" >"$T/app$RT.pid"
	track_pid_file "$T/app$RT.pid"	# removes its /tmp/perf-PID.map at exit
	if grep -q '^[0-9A-Fa-fx]* [0-9a-f]* .*MyConsoleApp.Program::Main' "/tmp/perf-$PID.map" 2>/dev/null; then
		ok "net$RT: the runtime writes /tmp/perf-$PID.map naming MyConsoleApp.Program::Main"
	else
		not_ok "net$RT: the runtime writes /tmp/perf-$PID.map naming MyConsoleApp.Program::Main"
	fi
	if grep -q 'memfd:doublemapper' "/proc/$PID/maps"; then
		ok "net$RT: W^X is on (the default): the runtime has /memfd:doublemapper mappings"
	else
		not_ok "net$RT: W^X is on (the default): expected /memfd:doublemapper mappings in /proc/$PID/maps, found none"
	fi

	if grep -q "$CORECLR" "/proc/$PID/maps"; then
		ok "net$RT: the runtime is .NET $RT ($CORECLR)"
	else
		not_ok "net$RT: the runtime is .NET $RT: expected $CORECLR in /proc/$PID/maps"
	fi

	start_bg "rec$RT" /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
	REC=$BG_PID
	wait_recording "$REC" "$T/rec$RT.err" || return
	ok "net$RT: mapleak is recording the .NET process"
	echo >&"$FIFO_FD"	# press Enter
	if ! wait_for 60 grep -q '^MyConsoleApp: leaked' "$T/app$RT.out"; then
		not_ok "net$RT: MyConsoleApp leaks within 60 s of Enter"
		show "$T/app$RT.out"
		show "$T/app$RT.err"
		return
	fi
	sleep 1
	kill -INT "$REC"
	if ! wait_exit "$REC" 60; then
		not_ok "net$RT: mapleak ends within 60 s of SIGINT"
		return
	fi
	check_rc "net$RT: mapleak record -p (.NET)" 0 "$EXIT_STATUS" "$T/rec$RT.err"
	if alive "$PID"; then
		ok "net$RT: MyConsoleApp still runs after mapleak detached"
	else
		not_ok "net$RT: MyConsoleApp still runs after mapleak detached"
	fi

	report_json "$DATA" "$T/report$RT.json" || return
	cp "/proc/$PID/maps" "$T/app$RT.maps" 2>/dev/null
	pycheck "$T/report$RT.json" "$LINE" "$PID" "$T/app$RT.maps" "net$RT: " <<'PY'
import sys
from report_checks import *

path, line, pid, maps_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
set_prefix(sys.argv[5])
try:
    maps = parse_maps(open(maps_path).read())
except OSError:
    maps = []
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command="MyConsoleApp")
check_agree(r)
top = check_seed_site(r, line)
if top is not None:
    frames = top.get("frames") or []
    rb = top.get("resident_bytes")
    check(isinstance(rb, int) and rb >= GIB * 0.98,
          "top site is resident (>= 98% of 1 GiB)", ">= %d" % int(GIB * .98), rb)
    chain = ["mmap_allocation", "IL_STUB_PInvoke",
             "MyConsoleApp.Program::MyTest", "MyConsoleApp.Program::Main"]
    preds = [sym_is("mmap_allocation")] + [sym_has(c) for c in chain[1:]]
    i = find_in_order(frames, preds)
    check(i is not None, "frames contain, in order, " + " <- ".join(chain),
          " <- ".join(chain), stack_str(frames, 24))
    if i is not None:
        between = frames[i[0]:i[-1] + 1]
        bad = [k + i[0] for k, fr in enumerate(between) if unnamed(fr)]
        check(not bad, "every frame from mmap_allocation to Main is named",
              "no unnamed frame", "unnamed frame(s) at %s in %s"
              % (bad, stack_str(frames, 24)))
        # the managed frames are JIT code executing from the W^X double
        # mapping, where the article's perf saw only [unknown]
        for k in i[2:]:
            fr = frames[k]
            try:
                pc = int(fr.get("address"), 16)
            except (TypeError, ValueError):
                pc = None
            where = [p for a, b, _, p in maps if pc is not None and a <= pc < b]
            check(where and "memfd:doublemapper" in where[0],
                  "%s is JIT code in /memfd:doublemapper" % symbol(fr),
                  "an address in a /memfd:doublemapper mapping",
                  "%s in %s" % (fr.get("address"), where[0] if where else "no mapping"))
            print("# %s has kind %r" % (symbol(fr), fr.get("kind")))
PY

	timeout 60 "$MAPLEAK" report -i "$DATA" >"$T/report$RT.txt" 2>"$T/report$RT.txt.err"
	check_rc "net$RT: mapleak report (text)" 0 $? "$T/report$RT.txt.err"
	if head -n 15 "$T/report$RT.txt" | grep -q '1\.0 GiB'; then
		ok "net$RT: the text report's first lines show 1.0 GiB"
	else
		not_ok "net$RT: the text report's first lines show 1.0 GiB"
		show "$T/report$RT.txt" 15
	fi
	note "net$RT: text report:"
	sed -n '1,30s/^/#   /p' "$T/report$RT.txt"
	stop_pid "$PID"	# its 1 GiB, before the next runtime's
}

seed 10 "$FIX/dotnet/MyConsoleApp/MyConsoleApp" /Microsoft.NETCore.App/10.
seed 8 "$FIX/dotnet/MyConsoleApp8/MyConsoleApp" /MyConsoleApp8/libcoreclr.so
finish
