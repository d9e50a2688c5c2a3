#!/bin/bash
# ReadyToRun frames named from the assembly itself (symbols/r2r.c): a .NET
# app leaking MemoryMappedFile views, started with no perf map setting and
# attached with -p. The leak's stack goes from mmap through
# libSystem.Native.so (SystemNative_MMap), the framework's ReadyToRun code
# (Interop+Sys::MMap <- MemoryMappedView::CreateView <-
# MemoryMappedFile::CreateViewAccessor, in System.IO.MemoryMappedFiles.dll)
# to the app's JIT code (LeakViews <- Main): every managed frame named,
# in the report's text and JSON; and from the recording alone, once the
# app is gone: the first byte of CreateView (no recorded stack pc) named
# through the recording's symbol table of the .dll (resolve -i).
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v dotnet >/dev/null 2>&1 || skip_all "the dotnet SDK is not installed"
require_mapleak
require_fixture dotnet/MmfLeak/MmfLeak.dll

APP=$FIX/dotnet/MmfLeak/MmfLeak
VIEWS=16
CLEAN_ENV=(env -u DOTNET_PerfMapEnabled -u COMPlus_PerfMapEnabled
	-u DOTNET_EnableDiagnostics -u COMPlus_EnableDiagnostics
	-u DOTNET_ReadyToRun -u COMPlus_ReadyToRun
	-u DOTNET_PerfMapJitDumpPath DOTNET_CLI_TELEMETRY_OPTOUT=1)

make_fifo app
start_bg app "$T/app.fifo" "${CLEAN_ENV[@]}" "$APP" "$VIEWS"
PID=$BG_PID
APP_FD=$FIFO_FD
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"
wait_for 60 grep -q '^MmfLeak: pid .* ready' "$T/app.out" ||
	bail "MmfLeak starts and says it is ready within 60 s"

DATA=$T/r2r.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
echo >&"$APP_FD"	# the leak happens after attaching
if ! wait_for 60 grep -q '^MmfLeak: leaked' "$T/app.out"; then
	not_ok "MmfLeak leaks within 60 s of Enter"
	show "$T/app.out"
	show "$T/app.err"
	finish
fi
sleep 1
kill -INT "$REC"
wait_exit "$REC" 60 || bail "mapleak record ends within 60 s of SIGINT"
check_rc "mapleak record -p MmfLeak" 0 "$EXIT_STATUS" "$T/rec.err"

report_json "$DATA" "$T/r2r.json" || finish
timeout 60 "$MAPLEAK" report -i "$DATA" >"$T/r2r.txt" 2>"$T/r2r.txt.err"
check_rc "mapleak report (text)" 0 $? "$T/r2r.txt.err"

# The leak's site and its frames; prints the first byte of CreateView.
pycheck "$T/r2r.json" "$PID" "$VIEWS" >"$T/check.out" <<'PY'
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
    dll = "System.IO.MemoryMappedFiles.dll"
    chain = [
        ("Interop+Sys::MMap(native int,uint64,", "r2r", dll),
        ("System.IO.MemoryMappedFiles.MemoryMappedView::CreateView(", "r2r", dll),
        ("System.IO.MemoryMappedFiles.MemoryMappedFile::CreateViewAccessor(int64,int64", "r2r", dll),
        ("MmfLeak.Program::LeakViews(", "jit", None),
        ("MmfLeak.Program::Main(string[])", "jit", None),
    ]
    i = find_in_order(frames, [sym_has(c[0]) for c in chain])
    check(i is not None, "frames contain, in order, "
          + " <- ".join(c[0] for c in chain), "that chain", stack_str(frames, 24))
    if i is not None:
        for k, (text, kind, mod) in zip(i, chain):
            fr = frames[k]
            check(fr.get("kind") == kind and (mod is None or base(fr.get("module")) == mod),
                  "%s is of kind %s%s" % (text, kind, " in " + mod if mod else ""),
                  "%s %s" % (kind, mod), "%s %s" % (fr.get("kind"), fr.get("module")))
        between = frames[i[0]:i[-1] + 1]
        bad = [frame_str(f) for f in between if unnamed(f) or "]+0x" in (symbol(f) or "")]
        check(not bad, "every frame from Interop+Sys::MMap to Main is named",
              "no [X.dll]+0xRVA frame", bad)
        # Adjacent: ReadyToRun frames are not skipped (CreateViewAccessor's
        # own short overload may be inlined into LeakViews).
        check(i[0] + 2 == i[2] and i[1] == i[0] + 1,
              "the three ReadyToRun frames are adjacent", "adjacent",
              stack_str(between, 24))
        # The native frames below: mmap in libc, then libSystem.Native.so.
        below = frames[:i[0]]
        check(any(base(f.get("module")) == "libSystem.Native.so" for f in below),
              "below Interop+Sys::MMap: a frame in libSystem.Native.so",
              "libSystem.Native.so", stack_str(below))
        named = [f for f in below if symbol(f) == "SystemNative_MMap"]
        if named:
            ok("SystemNative_MMap is named")
        else:
            print("# SystemNative_MMap not named yet (native naming): %s"
                  % stack_str(below))
        cv = frames[i[1]]
        off = cv.get("offset")
        if check(isinstance(off, int) and 0 < off < 0x10000,
                 "CreateView's frame has its offset in the method", "0 < offset",
                 off):
            a = cv["address"]
            a = int(a, 0) if isinstance(a, str) else a
            print("CREATEVIEW 0x%x %s" % (a - off, cv["symbol"]))
PY
grep -v '^CREATEVIEW' "$T/check.out"	# pycheck counted its "not ok"s

# The text report: "Ns.Type::Method(args) [r2r, X.dll]", as JIT frames.
if grep -q '^  #[0-9]* System\.IO\.MemoryMappedFiles\.MemoryMappedView::CreateView(.*) \[r2r, System\.IO\.MemoryMappedFiles\.dll\]$' "$T/r2r.txt"; then
	ok "text: 'MemoryMappedView::CreateView(...) [r2r, System.IO.MemoryMappedFiles.dll]'"
else
	not_ok "text: 'MemoryMappedView::CreateView(...) [r2r, System.IO.MemoryMappedFiles.dll]'"
	grep -m5 'r2r' "$T/r2r.txt" | sed 's/^/#   /'
fi

# From the recording alone, the app gone: an address no stack holds.
read -r _ START NAME < <(grep '^CREATEVIEW' "$T/check.out")
stop_pid "$PID"
if [ -n "${START:-}" ]; then
	timeout 60 "$MAPLEAK" resolve -i "$DATA" --format json "$START" \
		>"$T/res.json" 2>"$T/res.err"
	check_rc "mapleak resolve -i (CreateView's first byte)" 0 $? "$T/res.err"
	pycheck "$T/res.json" "$NAME" <<'PY'
import sys
from report_checks import *
a = load_json(sys.argv[1], "resolve -i")["addresses"]
want = sys.argv[2]
check(len(a) == 1 and a[0].get("symbol") == want and a[0].get("offset") == 0
      and a[0].get("kind") == "r2r"
      and base(a[0].get("module")) == "System.IO.MemoryMappedFiles.dll",
      "resolve -i: CreateView's first byte, in no recorded stack, is named "
      "from the recording's table (kind r2r, offset 0)", want, a)
PY
fi
finish
