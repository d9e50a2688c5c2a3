#!/bin/bash
# A target attached with -p execs into a program that maps a little at
# startup (the loader, printf's heap) and then goes quiet: no mapping
# event follows until it exits. The exec still takes effect while it
# lives (the reorder buffer releases it on a timer, not only when a newer
# event arrives), so the report has the new image's baseline (its
# kernel-made mappings, seed-fp among them) and names its frames (main in
# seed-fp). Before, both were applied only after the exit, when
# /proc/PID was gone: baseline 0 and unnamed frames.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture seed-fp

make_fifo tgt
# seed-fp waits for a line before its leak: after the exec it is quiet.
start_bg tgt "$T/tgt.fifo" sh -c "read x; exec '$FIX/seed-fp'"
TGT=$BG_PID
TGT_FD=$FIFO_FD
DATA=$T/quiet.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$TGT"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
echo >&"$TGT_FD"	# sh reads it and execs seed-fp, which waits again
wait_for 20 grep -q '^seed: pid .* ready' "$T/tgt.out" ||
	bail "seed-fp starts after the exec ($(cat "$T/tgt.err"))"
sleep 2			# quiet: nothing maps
kill -TERM "$TGT"	# it ends without another mapping event
if ! wait_exit "$REC" 30; then
	not_ok "mapleak ends within 30 s of the target's exit"
	finish
fi
check_rc "mapleak record -p (target exited)" 0 "$EXIT_STATUS" "$T/rec.err"

report_json "$DATA" "$T/quiet.json" --regions || finish
pycheck "$T/quiet.json" "$TGT" <<'PY'
import sys
from report_checks import *

path, pid = sys.argv[1], int(sys.argv[2])
r = load_json(path)
common(r, stopped_by="exit", pid=pid)
bl = r.get("baseline") or {}
regs = r.get("baseline_regions") or []
paths = sorted({base(g.get("path")) for g in regs if g.get("path")})
check((bl.get("mappings") or 0) > 0 and "seed-fp" in paths,
      "the baseline is the exec'd image's (seed-fp among its mappings)",
      "seed-fp in %s" % paths, "%s mappings: %s" % (bl.get("mappings"), paths))
named = [s for s in r.get("sites") or []
         if any(symbol(f) == "main" and base(f.get("module")) == "seed-fp"
                for f in s.get("frames") or [])]
check(named, "a site made after the exec names main in seed-fp",
      "a frame main (seed-fp)",
      [site_str(s) for s in (r.get("sites") or [])[:4]])
PY

finish
