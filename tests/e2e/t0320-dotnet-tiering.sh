#!/bin/bash
# Time-correct JIT names from the jitdump. The tiering app (launched by
# mapleak, the runtime writing ONLY jit-PID.dump: DOTNET_PerfMapEnabled=2)
# maps 8 x 1 MiB from MapOne while it is Tier0 code, then, once the runtime
# has recompiled it, 8 x 2 MiB from its Tier1 code. The report must name
# MapOne in both sites, QuickJitted in the first and OptimizedTier1 in the
# second, and must not count the runtime's 40-byte jitdump marker mapping
# as live memory (one site per stack: --group-by stack); by default the
# two tiers are one site whose variants name both.
#
# DOTNET_PerfMapStubGranularity=2 keeps .NET 10's jitdump writer from
# giving up early (dotnet/runtime#120419); DOTNET_TieredPGO=0 and
# DOTNET_TC_CallCountingDelayMs=0 make Tier0 -> Tier1 direct and quick.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_dotnet
require_mapleak
[ -e "$FIX/dotnet/Tiering/Tiering.dll" ] ||
	bail "fixture '$FIX/dotnet/Tiering' is missing although dotnet is installed: build it with 'make fixtures'"

APP=$FIX/dotnet/Tiering/Tiering
DATA=$T/tiering.data

make_fifo in
start_bg rec "$T/in.fifo" env -u DOTNET_PerfMapEnabled -u COMPlus_PerfMapEnabled \
	DOTNET_PerfMapEnabled=2 DOTNET_PerfMapStubGranularity=2 \
	DOTNET_TieredPGO=0 DOTNET_TC_CallCountingDelayMs=0 \
	DOTNET_CLI_TELEMETRY_OPTOUT=1 \
	"$MAPLEAK" record -o "$DATA" -- "$APP"
REC=$BG_PID
if ! wait_for 60 grep -q '^Tiering: pid .* ready' "$T/rec.out"; then
	not_ok "the tiering app starts under mapleak and says it is ready within 60 s"
	show "$T/rec.out"
	show "$T/rec.err"
	finish
fi
PID=$(sed -n 's/^Tiering: pid \([0-9]*\) ready.*/\1/p' "$T/rec.out" | head -n1)
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"	# removes its /tmp/jit-PID.dump at exit
recording "$T/rec.err" && ok "mapleak is recording the launched app" ||
	not_ok "mapleak is recording the launched app"
echo >&"$FIFO_FD"	# go
if ! wait_for 60 grep -q '^Tiering: done' "$T/rec.out"; then
	not_ok "the tiering app maps both phases within 60 s"
	show "$T/rec.out"
	show "$T/rec.err"
	finish
fi
if [ -s "/tmp/jit-$PID.dump" ] && [ ! -e "/tmp/perf-$PID.map" ]; then
	ok "the runtime writes /tmp/jit-$PID.dump and no perf map: names can only come from the jitdump"
else
	not_ok "the runtime writes /tmp/jit-$PID.dump and no perf map"
	ls -l "/tmp/jit-$PID.dump" "/tmp/perf-$PID.map" 2>&1 | sed 's/^/#   /'
fi
MARKER=$(awk -v f="/tmp/jit-$PID.dump" '$6 == f && $2 ~ /^r-x/ { split($1, a, "-"); print a[1] }' \
	"/proc/$PID/maps" | head -n1)
if [ -n "$MARKER" ]; then
	ok "the runtime maps its jitdump marker r-x (at 0x$MARKER)"
else
	not_ok "the runtime maps its jitdump marker: no r-x mapping of /tmp/jit-$PID.dump in /proc/$PID/maps"
fi
sleep 0.5
kill -INT "$REC"
if ! wait_exit "$REC" 60; then
	not_ok "mapleak ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record -- Tiering" 0 "$EXIT_STATUS" "$T/rec.err"

# One site per stack: each tier's stacks are checked for their names.
report_json "$DATA" "$T/report.json" --top 0 --regions --group-by stack || finish
# By default the tiers of MapOne are one site, its stacks the variants.
report_json "$DATA" "$T/merged.json" --top 0 || finish
pycheck "$T/merged.json" <<'PY'
import sys
from report_checks import *

r = load_json(sys.argv[1])
MIB = 1 << 20
# through the P/Invoke stub: the program's own mappings (see below)
sites = [s for s in r.get("sites", [])
         if any("Tiering.Program::MapOne" in (symbol(f) or "") for f in s.get("frames") or [])
         and any("IL_STUB_PInvoke" in (symbol(f) or "") for f in s.get("frames") or [])]
s = sites[0] if sites else {}
tiers = {t for v in s.get("variants") or [] for t in (v.get("tiers") or "").split("+")}
check(len(sites) == 1 and s.get("bytes") == 24 * MIB and s.get("mappings") == 16,
      "by default MapOne's two tiers are one site of 24 MiB in 16 mappings",
      "1 site", [site_str(x) for x in sites])
check({"QuickJitted", "OptimizedTier1"} <= tiers,
      "its variants show both tiers", "QuickJitted, OptimizedTier1", sorted(tiers))
PY
pycheck "$T/report.json" "${MARKER:-none}" <<'PY'
import sys
from report_checks import *

path, marker = sys.argv[1], sys.argv[2]
r = load_json(path)
common(r, stopped_by="signal", command="Tiering")
MIB = 1 << 20

def mapone(s):
    return [f for f in s.get("frames") or [] if "Tiering.Program::MapOne" in (symbol(f) or "")]

# The program's own mappings: through the P/Invoke stub. The runtime may
# also map or commit a page of its own while MapOne runs (a stub page, a
# stack probe): such a site names MapOne deeper down, not through the stub.
sites = [s for s in r.get("sites", []) if mapone(s) and
         any("IL_STUB_PInvoke" in (symbol(f) or "") for f in s.get("frames") or [])]
# A phase may be several sites: its callers' code can change under it too
# (MapMany's loop recompiled on stack), which makes other stacks. What
# must hold is that each phase's mappings are all named with the tier of
# the MapOne code that ran then.
for want_bytes, tier in ((8 * MIB, "QuickJitted"), (16 * MIB, "OptimizedTier1")):
    group = [s for s in sites if mapone(s)[0].get("tier") == tier]
    total = sum(s.get("bytes") or 0 for s in group)
    maps = sum(s.get("mappings") or 0 for s in group)
    if not check(total == want_bytes and maps == 8,
                 "the mappings made through MapOne %s are %d MiB in 8 mappings"
                 % (tier, want_bytes // MIB), "%d bytes in 8" % want_bytes,
                 "%d bytes in %d, among: %s" % (total, maps,
                 "; ".join(site_str(s) for s in sites) or "no site naming MapOne")):
        continue
    for s in group:
        frames = s["frames"]
        f = mapone(s)[0]
        check(f.get("kind") == "jit" and f.get("module") == "Tiering",
              "MapOne %s is JIT code of its assembly" % tier,
              "kind 'jit', module 'Tiering'",
              "kind %r, module %r" % (f.get("kind"), f.get("module")))
        chain = ["IL_STUB_PInvoke", "Tiering.Program::MapOne", "Tiering.Program::Main"]
        i = find_in_order(frames, [sym_has(c) for c in chain])
        check(i is not None, "the %s site's frames contain, in order, %s"
              % (tier, " <- ".join(chain)), " <- ".join(chain),
              stack_str(frames, 24))
        if i is not None:
            bad = [k for k in range(i[0], i[-1] + 1) if unnamed(frames[k])]
            check(not bad, "every frame from the IL stub to Main is named",
                  "no unnamed frame", "unnamed at %s in %s" % (bad, stack_str(frames, 24)))

if marker != "none":
    addr = int(marker, 16)
    held = [s for s in r.get("sites", []) for g in s.get("regions") or []
            if int(g["start"], 16) <= addr < int(g["start"], 16) + g["size"]]
    check(not held, "the jitdump marker mapping is in no site", "no site",
          "; ".join(site_str(s) for s in held))
    notes = r.get("notes") or []
    check(any("jitdump marker" in n for n in notes),
          "a note says the jitdump marker is not counted", "such a note", notes)
PY
timeout 60 "$MAPLEAK" report -i "$DATA" >"$T/report.txt" 2>"$T/report.txt.err"
check_rc "mapleak report (text)" 0 $? "$T/report.txt.err"
note "text report:"
sed -n '1,40s/^/#   /p' "$T/report.txt"
finish
