#!/bin/bash
# ReadyToRun names against the runtime's own: the .NET runtime names every
# method it compiles in its perf map, so the framework methods an app runs
# with DOTNET_ReadyToRun=0 (all of them jitted) are named by the runtime
# itself. The names symbols/r2r.c reads from the same assemblies
# (build/tests/test-r2r dump) must be those names, parameter types and all:
#   - of the runtime's names whose "Type::Method" the assembly's ReadyToRun
#     code also has, >= 98% are equal in full (the signature formatting);
#   - >= 60% of the runtime's names (methods of non-generic types) are
#     ReadyToRun methods of the assembly (the entry point tables; methods
#     crossgen2 leaves to the JIT, IL stubs and lambdas make up the rest).
E2E_TIMEOUT=${E2E_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"

require_root
require_python
command -v dotnet >/dev/null 2>&1 || skip_all "the dotnet SDK is not installed"
require_fixture dotnet/MmfLeak/MmfLeak.dll
DUMP=$MAPLEAK_BUILD/tests/test-r2r
[ -x "$DUMP" ] || bail "'$DUMP' is missing: build it with 'make $DUMP'"

make_fifo app
start_bg app "$T/app.fifo" env -u DOTNET_PerfMapJitDumpPath \
	DOTNET_ReadyToRun=0 DOTNET_PerfMapEnabled=3 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
	"$FIX/dotnet/MmfLeak/MmfLeak" 4
PID=$BG_PID
APP_FD=$FIFO_FD
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"	# removes /tmp/perf-PID.map at exit
wait_for 60 grep -q '^MmfLeak: pid .* ready' "$T/app.out" ||
	bail "MmfLeak (DOTNET_ReadyToRun=0) starts within 60 s"
echo >&"$APP_FD"
wait_for 60 grep -q '^MmfLeak: leaked' "$T/app.out" ||
	bail "MmfLeak (DOTNET_ReadyToRun=0) leaks within 60 s"
cp "/tmp/perf-$PID.map" "$T/perf.map" ||
	bail "the runtime wrote /tmp/perf-$PID.map (DOTNET_PerfMapEnabled=3)"
FW=$(awk '$6 ~ /\/System\.Private\.CoreLib\.dll$/ { print $6; exit }' "/proc/$PID/maps")
FW=${FW%/*}
[ -d "$FW" ] || bail "the app's framework folder is found in /proc/$PID/maps"
stop_pid "$PID"
note "framework: $FW"

for asm in System.Private.CoreLib System.IO.MemoryMappedFiles System.Console \
	System.Collections System.Runtime.InteropServices; do
	[ -e "$FW/$asm.dll" ] || continue
	"$DUMP" dump "$FW/$asm.dll" >"$T/$asm.names" 2>"$T/$asm.err" ||
		not_ok "test-r2r dump $asm.dll (see $T/$asm.err)"
done

pycheck "$T" <<'PY'
import os, re, sys
from report_checks import *

T = sys.argv[1]
# "[instance ]RET [Asm] Ns.Type::Method(args)[Tier]"
line_re = re.compile(r" \[([A-Za-z0-9_.]+)\] (\S.*::[^(]+\(.*\))\[[A-Za-z0-9]+\]$")
runtime = {}
for line in open(T + "/perf.map", errors="replace"):
    m = line_re.search(line.rstrip("\n"))
    if m:
        runtime.setdefault(m.group(1), set()).add(m.group(2))
total_same = total_prefix = total = 0
for asm in sorted(runtime):
    path = "%s/%s.names" % (T, asm)
    if not os.path.exists(path):
        continue
    ours = set(l.rstrip("\n").split(" ", 2)[2] for l in open(path) if l.count(" ") >= 2)
    prefixes = set(n.split("(", 1)[0] for n in ours)
    # methods of non-generic types: the runtime writes a generic type's
    # instantiation, which ReadyToRun code shares (System.__Canon)
    names = [n for n in runtime[asm] if "[" not in n.split("::", 1)[0]
             and not n.startswith("dynamicClass")]
    same = [n for n in names if n in ours]
    with_prefix = [n for n in names if n.split("(", 1)[0] in prefixes]
    differ = [n for n in with_prefix if n not in ours]
    print("# %s: runtime names %d, in ReadyToRun %d, same Type::Method %d, "
          "differing %d" % (asm, len(names), len(same), len(with_prefix), len(differ)))
    for n in differ[:5]:
        print("#   runtime: %s" % n)
        p = n.split("(", 1)[0]
        print("#   ours:    %s" % [o for o in ours if o.split("(", 1)[0] == p][:3])
    total += len(names)
    total_same += len(same)
    total_prefix += len(with_prefix)
check(total >= 200, "the runtime named >= 200 framework methods (DOTNET_ReadyToRun=0)",
      ">= 200", total)
if total:
    check(total_prefix and total_same >= 0.98 * total_prefix,
          "names equal the runtime's in full (parameter types too) for >= 98% "
          "of the methods both know", ">= 98%% of %d" % total_prefix, total_same)
    check(total_same >= 0.6 * total,
          ">= 60% of the framework methods the runtime ran are ReadyToRun "
          "methods named the same", ">= 60%% of %d" % total, total_same)
PY
finish
