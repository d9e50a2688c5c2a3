#!/bin/bash
# ReadyToRun names for an app published ReadyToRun, not only the framework:
# MmfLeak published with PublishReadyToRun (fixture MmfLeakR2R), so its own
# methods LeakViews and Main are crossgen2 code in MmfLeakR2R.dll, never in
# a perf map. Started with no perf map setting and attached with -p; the
# leak's frames LeakViews <- Main are named as methods of kind r2r in
# MmfLeakR2R.dll (not "[MmfLeakR2R.dll]+0xRVA"), below the framework's
# ReadyToRun CreateViewAccessor; and from the recording alone, once the app
# is gone, resolve -i names the same addresses, and LeakViews' first byte
# (no recorded stack pc) through the recording's symbol table of the .dll.
# LeakViews and Main run once each: far below the runtime's call-count
# threshold (30), so tiering keeps their ReadyToRun code (no tier-1 JIT copy).
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v dotnet >/dev/null 2>&1 || skip_all "the dotnet SDK is not installed"
require_mapleak
require_fixture dotnet/MmfLeakR2R/MmfLeakR2R.dll

APP=$FIX/dotnet/MmfLeakR2R/MmfLeakR2R
VIEWS=16
CLEAN_ENV=(env -u DOTNET_PerfMapEnabled -u COMPlus_PerfMapEnabled
	-u DOTNET_EnableDiagnostics -u COMPlus_EnableDiagnostics
	-u DOTNET_ReadyToRun -u COMPlus_ReadyToRun
	-u DOTNET_TieredCompilation -u COMPlus_TieredCompilation
	-u DOTNET_PerfMapJitDumpPath DOTNET_CLI_TELEMETRY_OPTOUT=1)

make_fifo app
start_bg app "$T/app.fifo" "${CLEAN_ENV[@]}" "$APP" "$VIEWS"
PID=$BG_PID
APP_FD=$FIFO_FD
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"
wait_for 60 grep -q '^MmfLeak: pid .* ready' "$T/app.out" ||
	bail "MmfLeakR2R starts and says it is ready within 60 s"

DATA=$T/r2rapp.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
echo >&"$APP_FD"	# the leak happens after attaching
if ! wait_for 60 grep -q '^MmfLeak: leaked' "$T/app.out"; then
	not_ok "MmfLeakR2R leaks within 60 s of Enter"
	show "$T/app.out"
	show "$T/app.err"
	finish
fi
sleep 1
kill -INT "$REC"
wait_exit "$REC" 60 || bail "mapleak record ends within 60 s of SIGINT"
check_rc "mapleak record -p MmfLeakR2R" 0 "$EXIT_STATUS" "$T/rec.err"

report_json "$DATA" "$T/r2rapp.json" || finish

# The leak's site and the app's frames; prints their addresses and
# LeakViews' first byte for resolve -i.
pycheck "$T/r2rapp.json" "$PID" "$VIEWS" >"$T/check.out" <<'PY'
import sys
from report_checks import *

path, pid, views = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid)
MIB = 1 << 20
sites = [s for s in r.get("sites") or [] if s.get("bytes") == views * MIB
         and s.get("mappings") == views]
check(len(sites) == 1, "one site holds the %d views of 1 MiB" % views,
      "1 site", [site_str(s) for s in (r.get("sites") or [])[:5]])
if sites:
    frames = sites[0].get("frames") or []
    app = "MmfLeakR2R.dll"
    chain = [
        ("System.IO.MemoryMappedFiles.MemoryMappedFile::CreateViewAccessor(int64,int64",
         "System.IO.MemoryMappedFiles.dll"),
        ("MmfLeak.Program::LeakViews(class [System.IO.MemoryMappedFiles]System.IO.MemoryMappedFiles.MemoryMappedFile,int32)", app),
        ("MmfLeak.Program::Main(string[])", app),
    ]
    i = find_in_order(frames, [sym_has(c[0]) for c in chain])
    check(i is not None, "frames contain, in order, "
          + " <- ".join(c[0] for c in chain), "that chain", stack_str(frames, 24))
    if i is not None:
        for k, (text, mod) in zip(i, chain):
            fr = frames[k]
            check(fr.get("kind") == "r2r" and base(fr.get("module")) == mod,
                  "%s is of kind r2r in %s" % (text, mod), "r2r " + mod,
                  "%s %s" % (fr.get("kind"), fr.get("module")))
        bad = [frame_str(f) for f in frames[i[0]:i[-1] + 1]
               if unnamed(f) or "]+0x" in (symbol(f) or "")]
        check(not bad, "every frame from CreateViewAccessor to Main is named",
              "no [X.dll]+0xRVA frame", bad)
        for k, label in zip(i[1:], ("LEAKVIEWS", "MAIN")):
            fr = frames[k]
            a = fr.get("address")
            a = int(a, 0) if isinstance(a, str) else a
            off = fr.get("offset")
            if check(isinstance(a, int) and isinstance(off, int)
                     and 0 < off < 0x10000,
                     "%s's frame has an address and its offset in the method"
                     % fr.get("symbol"), "0 < offset", off):
                print("%s 0x%x 0x%x %s" % (label, a, a - off, fr["symbol"]))
PY
grep -v '^LEAKVIEWS\|^MAIN' "$T/check.out"	# pycheck counted its "not ok"s

# From the recording alone, the app gone: the frames' addresses, and
# LeakViews' first byte (an address no stack holds).
read -r _ LV_PC LV_START LV_NAME < <(grep '^LEAKVIEWS' "$T/check.out")
read -r _ MAIN_PC _ MAIN_NAME < <(grep '^MAIN' "$T/check.out")
stop_pid "$PID"
if [ -n "${LV_PC:-}" ] && [ -n "${MAIN_PC:-}" ]; then
	timeout 60 "$MAPLEAK" resolve -i "$DATA" --format json \
		"$LV_PC" "$MAIN_PC" "$LV_START" >"$T/res.json" 2>"$T/res.err"
	check_rc "mapleak resolve -i (the app's ReadyToRun frames)" 0 $? "$T/res.err"
	pycheck "$T/res.json" "$LV_NAME" "$MAIN_NAME" <<'PY'
import sys
from report_checks import *
a = load_json(sys.argv[1], "resolve -i")["addresses"]
lv, main = sys.argv[2], sys.argv[3]
def is_r2r(e, name):
    return (e.get("symbol") == name and e.get("kind") == "r2r"
            and base(e.get("module")) == "MmfLeakR2R.dll")
if check(len(a) == 3, "resolve -i answers for 3 addresses", 3, len(a)):
    check(is_r2r(a[0], lv) and isinstance(a[0].get("offset"), int) and a[0]["offset"] > 0,
          "resolve -i: LeakViews' stack address is named, kind r2r in MmfLeakR2R.dll",
          lv, a[0])
    check(is_r2r(a[1], main) and isinstance(a[1].get("offset"), int) and a[1]["offset"] > 0,
          "resolve -i: Main's stack address is named, kind r2r in MmfLeakR2R.dll",
          main, a[1])
    check(is_r2r(a[2], lv) and a[2].get("offset") == 0,
          "resolve -i: LeakViews' first byte, in no recorded stack, is named "
          "from the recording's table (kind r2r, offset 0)", lv, a[2])
PY
else
	not_ok "the report gave the addresses of LeakViews and Main to resolve"
fi
finish
