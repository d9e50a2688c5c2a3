#!/bin/bash
# ReadyToRun frames, frame kinds and region labels on the .NET seed app
# (started with DOTNET_PerfMapEnabled=1, W^X on, attached with -p):
# - no frame whose address lies in a .dll mapping is of kind "unknown";
#   ReadyToRun frames are of kind "r2r", named "Ns.Type::Method(args)"
#   from the assembly (or "[X.dll]+0xRVA" for code no method holds):
#   System.Private.CoreLib's code runs from its r-xp mapping, never in the
#   perf map;
# - every region of the W^X double mapping is labeled "JIT code";
# - every region /proc/PID/maps names [anon:NAME] keeps that name;
# - JSON parses, and the text shows the same.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_dotnet
require_mapleak
require_fixture libExample.so

APP=$FIX/dotnet/MyConsoleApp/MyConsoleApp
DATA=$T/labels.data

make_fifo in
start_bg app "$T/in.fifo" env DOTNET_PerfMapEnabled=1 \
	DOTNET_CLI_TELEMETRY_OPTOUT=1 "$APP" "$FIX/libExample.so"
PID=$BG_PID
if ! wait_for 60 grep -q '^MyConsoleApp: pid .* ready' "$T/app.out"; then
	not_ok "MyConsoleApp starts and says it is ready within 60 s"
	show "$T/app.err"
	finish
fi
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"

start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
echo >&"$FIFO_FD"	# press Enter: the leak, through P/Invoke
if ! wait_for 60 grep -q '^MyConsoleApp: leaked' "$T/app.out"; then
	not_ok "MyConsoleApp leaks within 60 s of Enter"
	finish
fi
cp "/proc/$PID/maps" "$T/app.maps"	# while the app and mapleak both run
kill -INT "$REC"
if ! wait_exit "$REC" 60; then
	not_ok "mapleak ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record -p (.NET)" 0 "$EXIT_STATUS" "$T/rec.err"

report_json "$DATA" "$T/report.json" --top 0 --regions || finish
pycheck "$T/report.json" "$T/app.maps" <<'PY'
import re, sys
from report_checks import *

r = load_json(sys.argv[1])
maps = parse_maps(open(sys.argv[2]).read())

def mapping_of(addr):
    for a, b, prot, path in maps:
        if a <= addr < b:
            return path
    return None

frames = [f for s in r.get("sites") or [] for f in s.get("frames") or []]
in_dll, r2r, bad_r2r, unknown_dll = 0, 0, [], []
for f in frames:
    path = mapping_of(int(f["address"], 16)) or ""
    if f.get("kind") == "r2r":
        r2r += 1
        if not re.fullmatch(r"\[[^/\]]+\.dll\]\+0x[0-9a-f]+", f.get("symbol") or "") \
           and not re.fullmatch(r"[^ ]+::[^ (]+\(.*\)", f.get("symbol") or "") \
           and not (f.get("tier") or "").lower().startswith("prejit"):
            bad_r2r.append(frame_str(f))
    if path.lower().endswith(".dll"):
        in_dll += 1
        if f.get("kind") == "unknown":
            unknown_dll.append("%s in %s" % (f["address"], path))
print("# %d frames, %d in .dll mappings, %d of kind r2r" % (len(frames), in_dll, r2r))
check(not unknown_dll, "no frame in a .dll mapping is of kind unknown",
      "none", ", ".join(unknown_dll[:5]))
check(in_dll == 0 or r2r > 0, "frames in .dll mappings are of kind r2r",
      ">= 1 r2r frame", r2r)
check(not bad_r2r, "r2r frames are named Type::Method(args) or [X.dll]+0xRVA",
      "Ns.Type::Method(...) or [Name.dll]+0x...", "; ".join(bad_r2r[:5]))
kinds = {f.get("kind") for f in frames}
check(kinds <= {"native", "jit", "r2r", "stub", "unknown", "kernel"} and None not in kinds,
      "every frame has a kind", "native|jit|r2r|stub|unknown", sorted(map(str, kinds)))

regions = [g for s in r.get("sites") or [] for g in s.get("regions") or []]
regions += r.get("baseline_regions") or []
check(all("label" in g and "path" in g for g in regions),
      "every region has \"label\" and \"path\"", "both keys", "missing")
dm = [g for g in regions if (g.get("path") or "").startswith("/memfd:doublemapper")]
check(dm and all(g.get("label") == "JIT code" for g in dm),
      "every /memfd:doublemapper region is labeled JIT code",
      "%d regions labeled" % len(dm),
      sorted({str(g.get("label")) for g in dm}))
jit_sites = [s for s in r.get("sites") or [] if s.get("label") == "JIT code"]
print("# %d sites labeled JIT code" % len(jit_sites))
named = [(a, p) for a, b, prot, p in maps if p.startswith("[anon:")]
by_start = {int(g["start"], 16): g for g in regions}
lost = [p for a, p in named if a in by_start and by_start[a].get("label") != p]
if named:
    check(not lost, "regions named [anon:NAME] in /proc/PID/maps keep the name",
          "the name", lost[:5])
else:
    print("# no [anon:NAME] mapping in this process (covered by test-labels)")
labels = {}
for s in r.get("sites") or []:
    labels[s.get("label")] = labels.get(s.get("label"), 0) + 1
print("# site labels: %s" % labels)
PY

timeout 60 "$MAPLEAK" report -i "$DATA" --top 0 --regions >"$T/report.txt" 2>"$T/report.txt.err"
check_rc "mapleak report --top 0 --regions (text)" 0 $? "$T/report.txt.err"
# "Ns.Type::Method(args) [r2r, X.dll]" or "[X.dll]+0xRVA [r2r]", and no
# r2r frame written any other way.
if grep -q '\[r2r' "$T/report.txt" &&
   ! grep '\[r2r' "$T/report.txt" | grep -v -e '^  #[0-9]* [^ ]*::[^ ]*(.*) \[r2r, [^]/]*\.dll\]$' \
	-e '^  #[0-9]* \[[^]/]*\.dll\]+0x[0-9a-f]* \[r2r\]$' | grep -q .; then
	ok "text: ReadyToRun frames read 'Ns.Type::Method(args) [r2r, X.dll]' (or '[X.dll]+0xRVA [r2r]')"
elif ! grep -q 'r2r' "$T/report.txt"; then
	ok "text: no ReadyToRun frame in this report"
else
	not_ok "text: ReadyToRun frames read 'Ns.Type::Method(args) [r2r, X.dll]' (or '[X.dll]+0xRVA [r2r]')"
	grep -m3 'r2r' "$T/report.txt" | sed 's/^/#   /'
fi
if grep -q '\[jit [A-Za-z0-9]*, MyConsoleApp\]$' "$T/report.txt"; then
	ok "text: JIT frames read '[jit TIER, ASSEMBLY]'"
else
	not_ok "text: JIT frames read '[jit TIER, ASSEMBLY]'"
fi
if grep -q '  JIT code  /memfd:doublemapper' "$T/report.txt"; then
	ok "text: double-mapped regions read 'JIT code  /memfd:doublemapper...'"
else
	not_ok "text: double-mapped regions read 'JIT code  /memfd:doublemapper...'"
fi
note "labeled sites:"
grep '^#[0-9].* — ' "$T/report.txt" | sed 's/^/#   /' | head -8
finish
