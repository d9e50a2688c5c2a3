#!/bin/bash
# One leak, one site, on a real web app (issue 6, items 5 and 8): an
# ASP.NET Core minimal app whose GET /leak maps 1 MiB through P/Invoke
# (libc mmap) and keeps it, started with no perf map setting, attached
# with `record -p`, hit 30 times with curl, then stopped. The requests run
# on pool threads while the handler is tiered up (30 calls is the
# runtime's call-count threshold), so the leak comes as several stacks;
# the report must give
#   - one top site holding all 30 leaks (30 MiB in 30 mappings), by default;
#   - a headline (the one-line answer) naming the handler, LeakHandler;
#   - the runtime's own memory apart: no ranked site is the runtime's, a
#     GC label is a runtime site's, and --include-runtime ranks them again;
#   - --group-by stack keeps one site per stack (as many or more sites);
#   - launched by mapleak (the GC's reservation recorded), the GC's
#     commits labelled ".NET GC heap (committed)" and apart.
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v dotnet >/dev/null 2>&1 || skip_all "the dotnet SDK is not installed"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed (scripts/install-deps.sh)"
require_mapleak
require_fixture dotnet/AspLeak/AspLeak.dll

APP=$FIX/dotnet/AspLeak/AspLeak
HITS=30
CLEAN_ENV=(env -u DOTNET_PerfMapEnabled -u COMPlus_PerfMapEnabled
	-u DOTNET_EnableDiagnostics -u COMPlus_EnableDiagnostics
	-u DOTNET_PerfMapJitDumpPath -u ASPNETCORE_URLS -u DOTNET_URLS
	DOTNET_CLI_TELEMETRY_OPTOUT=1)

start_bg app /dev/null "${CLEAN_ENV[@]}" "$APP"
PID=$BG_PID
echo "$PID" >"$T/app.pid"
track_pid_file "$T/app.pid"
if ! wait_for 60 grep -q '^AspLeak: pid .* listening on http://127.0.0.1:' "$T/app.out"; then
	show "$T/app.out"
	show "$T/app.err"
	bail "AspLeak listens on 127.0.0.1 within 60 s"
fi
URL=$(sed -n 's/^AspLeak: pid .* listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' \
	"$T/app.out" | head -n1)
[ -n "$URL" ] || bail "AspLeak printed its address"
# A first request before attaching: the app's start-up (Kestrel, routing)
# is not what this test is about.
curl -sS --max-time 20 "$URL/" >/dev/null 2>&1

DATA=$T/asp.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish

leaked=0
for i in $(seq "$HITS"); do
	if curl -sS --max-time 20 "$URL/leak" >>"$T/curl.out" 2>>"$T/curl.err"; then
		leaked=$((leaked + 1))
	fi
done
if [ "$leaked" = "$HITS" ]; then
	ok "curl hit /leak $HITS times"
else
	not_ok "curl hit /leak $HITS times: expected $HITS answers, got $leaked"
	show "$T/curl.err"
fi
sleep 1
kill -INT "$REC"
wait_exit "$REC" 60 || bail "mapleak record ends within 60 s of SIGINT"
check_rc "mapleak record -p AspLeak" 0 "$EXIT_STATUS" "$T/rec.err"
stop_pid "$PID"

report_json "$DATA" "$T/asp.json" || finish
report_json "$DATA" "$T/asp-stack.json" --group-by stack --top 0 || finish
report_json "$DATA" "$T/asp-rt.json" --include-runtime --top 0 || finish
timeout 60 "$MAPLEAK" report -i "$DATA" >"$T/asp.txt" 2>"$T/asp.txt.err"
check_rc "mapleak report (text)" 0 $? "$T/asp.txt.err"

pycheck "$T/asp.json" "$T/asp-stack.json" "$T/asp-rt.json" "$PID" "$HITS" <<'PY'
import sys
from report_checks import *

path, stack_path, rt_path = sys.argv[1:4]
pid, hits = int(sys.argv[4]), int(sys.argv[5])
MIB = 1 << 20
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid)
sites = r.get("sites") or []
top = sites[0] if sites else {}
check(top.get("bytes") == hits * MIB and top.get("mappings") == hits,
      "the top site holds all %d leaks of 1 MiB" % hits,
      "%d bytes in %d mappings" % (hits * MIB, hits), site_str(top) if top else None)
rest = [s for s in sites[1:] if s.get("bytes") == MIB and s.get("mappings") == 1
        and any("LeakHandler" in (symbol(f) or "") for f in s.get("frames") or [])]
check(not rest, "no other site holds a leak of the handler", "none",
      [site_str(s) for s in rest[:5]])
frames = top.get("frames") or []
check(any("LeakHandler" in (symbol(f) or "") for f in frames),
      "the top site's frames name LeakHandler", "LeakHandler", stack_str(frames, 24))
variants = top.get("variants") or []
check(sum(v.get("bytes", 0) for v in variants) == top.get("bytes") and variants,
      "the top site's variants add up to it", top.get("bytes"),
      [(v.get("stack_id"), v.get("tiers"), v.get("bytes")) for v in variants])
print("# %d variant(s): %s" % (len(variants),
      ", ".join("%s %d MiB" % (v.get("differs"), v.get("bytes", 0) >> 20) for v in variants)))

# The runtime's own memory is apart: none of it ranked, GC labels only there.
rt = r.get("runtime") or {}
ranked_rt = [site_str(s) for s in sites if s.get("runtime")]
check(not ranked_rt, "no ranked site is the runtime's", "none", ranked_rt)
gc_ranked = [site_str(s) for s in sites if ".NET GC" in (s.get("label") or "")]
check(not gc_ranked, "no ranked site is labelled .NET GC", "none", gc_ranked)
check(rt.get("ranked") is False and
      len(rt.get("sites") or []) == rt.get("sites_total"),
      "the runtime's sites are listed apart", "ranked false",
      (rt.get("ranked"), rt.get("sites_total")))
gc = [s for s in rt.get("sites") or [] if ".NET GC" in (s.get("label") or "")]
print("# runtime: %s bytes in %s sites; GC sites: %s" % (
      rt.get("bytes"), rt.get("sites_total"), [site_str(s) for s in gc]))

# --include-runtime: the same sites, ranked together.
ri = load_json(rt_path, "report --include-runtime")
ri_rt = [s for s in ri.get("sites") or [] if s.get("runtime")]
check(len(ri_rt) == rt.get("sites_total") and (ri.get("runtime") or {}).get("ranked") is True,
      "--include-runtime ranks the runtime's sites with the rest",
      rt.get("sites_total"), len(ri_rt))

# --group-by stack: one site per stack, the leak in at least one of them.
rs = load_json(stack_path, "report --group-by stack")
ls = [s for s in rs.get("sites") or []
      if s.get("bytes") == s.get("mappings", 0) * MIB
      and any("LeakHandler" in (symbol(f) or "") for f in s.get("frames") or [])]
check(sum(s.get("bytes", 0) for s in ls) == hits * MIB and
      len(ls) == len(variants),
      "--group-by stack splits the leak into its %d variant(s)" % len(variants),
      len(variants), [site_str(s) for s in ls])
PY

# Launched by mapleak, the GC's reservation is recorded too, so its
# commits (mprotect inside it, from whatever allocated) are labelled from
# it and put apart with the runtime's memory.
DATA2=$T/asp-launch.data
start_bg launch /dev/null "${CLEAN_ENV[@]}" "$MAPLEAK" record -o "$DATA2" -- "$APP"
REC2=$BG_PID
if ! wait_for 60 grep -q '^AspLeak: pid .* listening on http://127.0.0.1:' "$T/launch.out"; then
	show "$T/launch.out"
	show "$T/launch.err"
	bail "AspLeak launched by mapleak listens within 60 s"
fi
sed -n 's/^AspLeak: pid \([0-9]*\) .*/\1/p' "$T/launch.out" | head -n1 >"$T/app2.pid"
track_pid_file "$T/app2.pid"
URL2=$(sed -n 's/^AspLeak: pid .* listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' \
	"$T/launch.out" | head -n1)
for i in $(seq "$HITS"); do
	curl -sS --max-time 20 "$URL2/leak" >/dev/null 2>>"$T/curl2.err"
done
sleep 1
kill -INT "$REC2"
wait_exit "$REC2" 60 || bail "mapleak record -- AspLeak ends within 60 s of SIGINT"
report_json "$DATA2" "$T/launch.json" || finish
pycheck "$T/launch.json" "$HITS" <<'PY'
import sys
from report_checks import *

r = load_json(sys.argv[1])
hits = int(sys.argv[2])
MIB = 1 << 20
sites = r.get("sites") or []
top = sites[0] if sites else {}
check(top.get("bytes") == hits * MIB and top.get("mappings") == hits and
      any("LeakHandler" in (symbol(f) or "") for f in top.get("frames") or []),
      "launched: the top site is the handler's %d leaks" % hits,
      "%d bytes in %d mappings" % (hits * MIB, hits), site_str(top) if top else None)
rt = r.get("runtime") or {}
gc = [s for s in rt.get("sites") or [] if s.get("label") == ".NET GC heap (committed)"]
gc_bytes = sum(s.get("bytes", 0) - s.get("reserved_bytes", 0) for s in gc)
check(gc and gc_bytes > 0 and all(s.get("runtime") for s in gc),
      "launched: the GC's commits are labelled .NET GC heap (committed), with the runtime's",
      "a labelled runtime site", [site_str(s) for s in (rt.get("sites") or [])[:5]])
resv = [s for s in rt.get("sites") or [] if s.get("label") == ".NET GC reservation"]
check(resv, "launched: the GC's reservation is labelled, with the runtime's", "a site",
      len(resv))
ranked = [site_str(s) for s in sites if ".NET GC" in (s.get("label") or "")
          or s.get("runtime")]
check(not ranked, "launched: none of it is ranked", "none", ranked[:5])
print("# launched: GC heap committed %.1f MiB in %d sites; runtime %.1f MiB committed"
      % (gc_bytes / MIB, len(gc), (rt.get("bytes", 0) - rt.get("reserved_bytes", 0)) / MIB))
PY

# The one-line answer names the handler.
HEAD=$(grep -m1 '^#1 ' "$T/asp.txt")
case $HEAD in
"#1 30.0 MiB in 30 mappings, held by "*LeakHandler*)
	ok "the headline names LeakHandler: $HEAD" ;;
*)
	not_ok "the headline names LeakHandler: expected '#1 30.0 MiB in 30 mappings, held by ...LeakHandler...', got '$HEAD'"
	show "$T/asp.txt" ;;
esac
if grep -q '^runtime:  ' "$T/asp.txt"; then
	ok "the text header has a runtime: line: $(grep -m1 '^runtime:  ' "$T/asp.txt")"
else
	not_ok "the text header has a runtime: line"
	show "$T/asp.txt"
fi
finish
