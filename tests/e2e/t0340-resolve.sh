#!/bin/bash
# mapleak resolve: what dotnet-dump's ip2md answered in the seed, without
# a dump. Addresses in the MIDDLE of functions (not recorded return
# addresses): inside mmap_allocation (libExample.so's symbol table from nm
# + the mapping base from /proc/PID/maps), inside MyTest (seed-fp), and,
# for .NET, inside MyConsoleApp.Program::Main (its perf-map line:
# start + size/2). Each is named live (-p) while the target runs, then
# from a recording (-i) after the target is gone: the same answers.
# C part first (no .NET needed), then .NET (skipped without the SDK).
# Also: usage and error exits.
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so seed-fp
command -v nm >/dev/null 2>&1 || skip_all "nm (binutils) is not installed"

# mid PID FILE SYMBOL: prints the address in the middle of SYMBOL (from
# `nm -S`) of FILE as mapped in PID, and the offset, "0xADDR 0xOFF".
mid() {
	python3 - "$@" <<'PY'
import os, subprocess, sys
pid, path, sym = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
base = None
for line in open("/proc/%s/maps" % pid):
    f = line.split(None, 5)
    if len(f) == 6 and f[5].strip() == path and int(f[2], 16) == 0:
        base = int(f[0].split("-")[0], 16)
        break
out = subprocess.run(["nm", "-S", "--defined-only", path], capture_output=True,
                     text=True).stdout
for l in out.splitlines():
    p = l.split()
    if len(p) == 4 and p[3] == sym and base is not None:
        off = int(p[1], 16) // 2
        print("0x%x 0x%x" % (base + int(p[0], 16) + off, off))
        sys.exit(0)
sys.exit(1)
PY
}

# resolve_json NAME ARGS...: mapleak resolve --format json ARGS into
# $T/NAME.json; fails the test unless it exits 0.
resolve_json() {
	local name=$1 rc
	shift
	timeout 60 "$MAPLEAK" resolve --format json "$@" >"$T/$name.json" 2>"$T/$name.err"
	rc=$?
	check_rc "mapleak resolve $name" 0 "$rc" "$T/$name.err"
}

# ---- usage and errors ----

"$MAPLEAK" resolve -p 1 >"$T/u1.out" 2>"$T/u1.err"
check_rc "resolve without an address is a usage error" 2 $? "$T/u1.err"
"$MAPLEAK" resolve -p 1 0x12zz >"$T/u2.out" 2>"$T/u2.err"
check_rc "resolve of a malformed address is a usage error" 2 $? "$T/u2.err"
grep -q "'0x12zz' is not an address" "$T/u2.err" &&
	ok "the usage error names the malformed address" ||
	not_ok "the usage error names the malformed address: got '$(head -n1 "$T/u2.err")'"
"$MAPLEAK" resolve -p 1 0x11112222333344445 >/dev/null 2>"$T/u3.err"
check_rc "resolve of a 17-digit address is a usage error" 2 $? "$T/u3.err"
"$MAPLEAK" resolve -p 1 -i x 0x10 >/dev/null 2>"$T/u4.err"
check_rc "resolve with both -p and -i is a usage error" 2 $? "$T/u4.err"
"$MAPLEAK" resolve --format xml -p 1 0x10 >/dev/null 2>"$T/u5.err"
check_rc "resolve with an unknown format is a usage error" 2 $? "$T/u5.err"
# a pid that does not exist: above pid_max
"$MAPLEAK" resolve -p 2147483646 0x10 >"$T/e1.out" 2>"$T/e1.err"
check_rc "resolve -p of a missing process fails" 1 $? "$T/e1.err"
if [ "$(wc -l <"$T/e1.err")" = 1 ] && grep -q 'no such process' "$T/e1.err" &&
	[ ! -s "$T/e1.out" ]; then
	ok "a missing process is one line on stderr"
else
	not_ok "a missing process is one line on stderr: got '$(cat "$T/e1.err")'"
fi
"$MAPLEAK" resolve -i "$T/none.data" 0x10 >/dev/null 2>"$T/e2.err"
check_rc "resolve -i of a missing file fails" 1 $? "$T/e2.err"

# ---- C: seed-fp ----

make_fifo cin
CFD=$FIFO_FD
start_bg seed "$T/cin.fifo" "$FIX/seed-fp"
SPID=$BG_PID
wait_for 10 grep -q '^seed: pid .* ready' "$T/seed.out" ||
	bail "seed-fp starts and says it is ready"
start_bg crec /dev/null "$MAPLEAK" record -o "$T/c.data" -p "$SPID"
CREC=$BG_PID
wait_recording "$CREC" "$T/crec.err" || finish
echo go >&"$CFD"
wait_for 30 grep -q '^seed: leaked' "$T/seed.out" ||
	bail "seed-fp leaks within 30 s of the trigger"

read -r MA MA_OFF < <(mid "$SPID" "$FIX/libExample.so" mmap_allocation) ||
	bail "mmap_allocation found with nm in libExample.so and mapped in seed-fp"
read -r MT MT_OFF < <(mid "$SPID" "$FIX/seed-fp" MyTest) ||
	bail "MyTest found with nm in seed-fp and mapped"
note "inside mmap_allocation: $MA (+$MA_OFF); inside MyTest: $MT (+$MT_OFF)"

resolve_json c-live -p "$SPID" "$MA" "$MT" 0x10
timeout 60 "$MAPLEAK" resolve -p "$SPID" "$MA" "$MT" 0x10 >"$T/c-live.txt" 2>"$T/c-live.txt.err"
check_rc "mapleak resolve -p (text)" 0 $? "$T/c-live.txt.err"

sleep 0.5
kill -INT "$CREC"
wait_exit "$CREC" 30 || bail "mapleak record ends within 30 s of SIGINT"
check_rc "mapleak record -p seed-fp" 0 "$EXIT_STATUS" "$T/crec.err"
stop_pid "$SPID"
alive "$SPID" && bail "seed-fp is gone before resolving from the recording"

resolve_json c-rec -i "$T/c.data" "$MA" "$MT" 0x10
report_json "$T/c.data" "$T/c-report.json" || finish
# the recorded return address of mmap_allocation, as the report shows it
RA=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for s in r["sites"]:
    for f in s["frames"]:
        if f.get("symbol") == "mmap_allocation":
            print(f["address"]); sys.exit(0)
' "$T/c-report.json")
[ -n "$RA" ] || bail "the report has a mmap_allocation frame"
resolve_json c-ra -i "$T/c.data" --return-address "$RA"

pycheck "$T" "$MA_OFF" "$MT_OFF" "$(mmap_line)" <<'PY'
import sys
from report_checks import *
T, ma_off, mt_off, line = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4])
live = load_json(T + "/c-live.json", "resolve -p")["addresses"]
rec = load_json(T + "/c-rec.json", "resolve -i")["addresses"]
keys = ["address", "module", "symbol", "offset", "kind", "tier", "file", "line", "managed"]
check(len(live) == 3 and all(sorted(a) == sorted(keys) for a in live),
      "resolve -p: one object per address with every field", keys, live)
ma, mt, unk = live
check(ma["symbol"] == "mmap_allocation" and ma["kind"] == "native" and
      ma["managed"] is False and base(ma["module"]) == "libExample.so" and
      ma["offset"] == ma_off,
      "live: inside mmap_allocation is mmap_allocation+0x%x, native, libExample.so" % ma_off,
      "mmap_allocation+0x%x native" % ma_off, ma)
check((ma["file"] or "").endswith("Example.c") and isinstance(ma["line"], int),
      "live: an address inside mmap_allocation has file:line", "Example.c:N", ma)
check(mt["symbol"] == "MyTest" and mt["kind"] == "native" and
      base(mt["module"]) == "seed-fp" and mt["offset"] == mt_off,
      "live: inside MyTest is MyTest+0x%x in seed-fp" % mt_off, "MyTest", mt)
check(unk["kind"] == "unknown" and unk["symbol"] is None and unk["managed"] is False,
      "live: 0x10 is unknown", "kind unknown", unk)
same = ["address", "module", "symbol", "offset", "kind", "tier", "managed"]
for l, r in zip(live, rec):
    check({k: l[k] for k in same} == {k: r[k] for k in same},
          "resolve -i %s answers as resolve -p did (%s)" % (l["address"], l["symbol"]),
          {k: l[k] for k in same}, {k: r[k] for k in same})
ra = load_json(T + "/c-ra.json", "resolve -i -r")["addresses"][0]
check(ra["symbol"] == "mmap_allocation" and (ra["file"] or "").endswith("Example.c")
      and ra["line"] == line,
      "resolve -i of a recorded return address has the report's file:line",
      "mmap_allocation Example.c:%d" % line, ra)
PY

if grep -q '^0x[0-9a-f]*  mmap_allocation+0x[0-9a-f]*  \[native, libExample.so\]' "$T/c-live.txt" &&
	[ "$(wc -l <"$T/c-live.txt")" = 3 ]; then
	ok "text: one line per address, 'ADDR  mmap_allocation+0xN  [native, libExample.so]'"
else
	not_ok "text: one line per address, 'ADDR  mmap_allocation+0xN  [native, libExample.so]'"
	show "$T/c-live.txt"
fi
note "text:"
sed 's/^/#   /' "$T/c-live.txt"

# ---- .NET: the seed app ----

if ! command -v dotnet >/dev/null 2>&1 ||
	[ ! -e "$FIX/dotnet/MyConsoleApp/MyConsoleApp.dll" ]; then
	echo "skip - $TEST_NAME (.NET part): the dotnet SDK or the MyConsoleApp fixture is missing"
	finish
fi

make_fifo din
DFD=$FIFO_FD
start_bg app "$T/din.fifo" env -u DOTNET_EnableWriteXorExecute \
	-u COMPlus_EnableWriteXorExecute DOTNET_PerfMapEnabled=1 \
	DOTNET_CLI_TELEMETRY_OPTOUT=1 "$FIX/dotnet/MyConsoleApp/MyConsoleApp" \
	"$FIX/libExample.so"
DPID=$BG_PID
echo "$DPID" >"$T/app.pid"
track_pid_file "$T/app.pid"	# removes its /tmp/perf-PID.map at exit
wait_for 60 grep -q '^MyConsoleApp: pid .* ready' "$T/app.out" ||
	bail "MyConsoleApp starts and says it is ready within 60 s"
start_bg drec /dev/null "$MAPLEAK" record -o "$T/d.data" -p "$DPID"
DREC=$BG_PID
wait_recording "$DREC" "$T/drec.err" || finish
echo >&"$DFD"
wait_for 60 grep -q '^MyConsoleApp: leaked' "$T/app.out" ||
	bail "MyConsoleApp leaks within 60 s of Enter"

MAIN=$(python3 - "/tmp/perf-$DPID.map" <<'PY'
import sys
for l in open(sys.argv[1]):
    p = l.rstrip("\n").split(" ", 2)
    if len(p) == 3 and "MyConsoleApp.Program::Main(" in p[2]:
        start, size = int(p[0], 16), int(p[1], 16)
        print("0x%x 0x%x" % (start + size // 2, size // 2))
PY
)
read -r MN MN_OFF <<<"$(tail -n1 <<<"$MAIN")"
[ -n "$MN" ] || bail "/tmp/perf-$DPID.map names MyConsoleApp.Program::Main"
read -r DMA DMA_OFF < <(mid "$DPID" "$FIX/libExample.so" mmap_allocation) ||
	bail "mmap_allocation found with nm and mapped in MyConsoleApp"
note "inside Main: $MN (+$MN_OFF); inside mmap_allocation: $DMA (+$DMA_OFF)"

resolve_json d-live -p "$DPID" "$DMA" "$MN"
timeout 60 "$MAPLEAK" resolve -p "$DPID" "$MN" "$DMA" >"$T/d-live.txt" 2>&1
note "text:"
sed 's/^/#   /' "$T/d-live.txt"
sleep 0.5
kill -INT "$DREC"
wait_exit "$DREC" 60 || bail "mapleak record ends within 60 s of SIGINT"
check_rc "mapleak record -p MyConsoleApp" 0 "$EXIT_STATUS" "$T/drec.err"
stop_pid "$DPID"
alive "$DPID" && bail "MyConsoleApp is gone before resolving from the recording"
resolve_json d-rec -i "$T/d.data" "$DMA" "$MN"

pycheck "$T" "$DMA_OFF" "$MN_OFF" <<'PY'
import sys
from report_checks import *
T, ma_off, mn_off = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
live = load_json(T + "/d-live.json", "resolve -p")["addresses"]
rec = load_json(T + "/d-rec.json", "resolve -i")["addresses"]
check(len(live) == 2 and len(rec) == 2, "one answer per address", 2, (live, rec))
if len(live) == 2 and len(rec) == 2:
    ma, mn = live
    check(ma["symbol"] == "mmap_allocation" and ma["kind"] == "native" and
          ma["managed"] is False and ma["offset"] == ma_off,
          ".NET live: inside mmap_allocation is mmap_allocation+0x%x, native" % ma_off,
          "mmap_allocation native", ma)
    check(mn["symbol"] == "MyConsoleApp.Program::Main(string[])" and
          mn["kind"] == "jit" and mn["managed"] is True and
          mn["module"] == "MyConsoleApp" and mn["offset"] == mn_off and mn["tier"],
          ".NET live: inside Main is MyConsoleApp.Program::Main(string[])+0x%x, "
          "jit with a tier, managed, assembly MyConsoleApp" % mn_off,
          "Main jit managed", mn)
    same = ["address", "module", "symbol", "offset", "kind", "tier", "managed"]
    for l, r in zip(live, rec):
        check({k: l[k] for k in same} == {k: r[k] for k in same},
              ".NET: resolve -i %s answers as resolve -p did (%s)" % (l["address"], l["symbol"]),
              {k: l[k] for k in same}, {k: r[k] for k in same})
PY
finish
