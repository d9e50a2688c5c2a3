#!/bin/bash
# Node in launch mode: `mapleak record -- node buffers.js` keeps 16 Buffers
# of 8 MiB (glibc serves each calloc with mmap). mapleak adds
# --perf-basic-prof (and --interpreted-frames-native-stack) through
# NODE_OPTIONS, so the top site names the JavaScript function that
# allocates (leakBuffer, with its file and line) and its caller; the perf
# map that mapleak caused is removed afterwards.
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v node >/dev/null 2>&1 || skip_all "node is not installed"
require_mapleak

SCRIPT=$ROOT/tests/fixtures/node/buffers.js
COUNT=16
MIB=8
DATA=$T/node.data
FN_LINE=$(grep -n '^function leakBuffer' "$SCRIPT" | cut -d: -f1)

make_fifo in
start_bg rec "$T/in.fifo" env -u NODE_OPTIONS "$MAPLEAK" record -o "$DATA" -- \
	node "$SCRIPT" "$COUNT" "$MIB"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
if ! wait_for 30 grep -q '^buffers: pid [0-9]* leaked' "$T/rec.out"; then
	not_ok "node leaks its buffers within 30 s"
	show "$T/rec.out"
	show "$T/rec.err"
	finish
fi
NPID=$(sed -n 's/^buffers: pid \([0-9]*\) leaked.*/\1/p' "$T/rec.out")
ok "node (pid $NPID) leaked $COUNT x $MIB MiB under mapleak"
sleep 0.5
kill -INT "$REC"
if ! wait_exit "$REC" 40; then
	not_ok "mapleak ends within 40 s of SIGINT"
	finish
fi
check_rc "mapleak record -- node" 0 "$EXIT_STATUS" "$T/rec.err"
if [ -e "/tmp/perf-$NPID.map" ]; then
	not_ok "the perf map that mapleak caused (/tmp/perf-$NPID.map) is removed"
	rm -f "/tmp/perf-$NPID.map"
else
	ok "the perf map that mapleak caused (/tmp/perf-$NPID.map) is removed"
fi

report_json "$DATA" "$T/report.json" --regions || finish
pycheck "$T/report.json" "$SCRIPT" "$FN_LINE" "$COUNT" "$MIB" <<'PY'
import sys
from report_checks import *

path, script, fn_line, count, mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = load_json(path)
common(r, stopped_by="signal", alive=True, command="buffers.js")
sites = r.get("sites") or []
top = sites[0] if sites else {}
frames = top.get("frames") or []
print("# top site: " + site_str(top))
# V8 tiers leakBuffer up while it runs (interpreted, baseline, optimized):
# its calls may come from a few distinct stacks, hence a few sites.
named = [s for s in sites if any(sym_is("leakBuffer")(fr) for fr in s.get("frames") or [])]
# (V8 may map a little heap on the way: count the buffer-sized regions)
big = [g for s in named for g in s.get("regions") or [] if g.get("size", 0) >= mib << 20]
check(len(big) == count,
      "the sites naming leakBuffer hold the %d buffers of %d MiB" % (count, mib),
      "%d regions of >= %d MiB" % (count, mib),
      "%d in %d sites (%s)" % (len(big), len(named), [s.get("mappings") for s in named]))
check(top in named, "the top site names leakBuffer", "leakBuffer in site #1",
      stack_str(frames, 24))
print("# leakBuffer tiers: %s" % sorted({fr.get("tier") or "?" for s in named
      for fr in s.get("frames") or [] if symbol(fr) == "leakBuffer"}))
i = find_in_order(frames, [sym_has("mmap"), sym_is("leakBuffer"), sym_is("leakAll")])
check(i is not None, "its frames name, in order, mmap <- ... leakBuffer <- leakAll",
      "mmap <- leakBuffer <- leakAll", stack_str(frames, 24))
if i is not None:
    fr = frames[i[1]]
    check(fr.get("kind") == "jit", "leakBuffer has kind jit", "jit", fr.get("kind"))
    check(fr.get("file") == script and fr.get("line") == fn_line,
          "leakBuffer has the script and its line", "%s:%d" % (script, fn_line),
          "%s:%s" % (fr.get("file"), fr.get("line")))
    check(isinstance(fr.get("tier"), str), "leakBuffer has a V8 tier",
          "a tier", fr.get("tier"))
PY
# --perf-basic-prof would also make V8 write isolate-*-v8.log into the
# working directory: mapleak must not litter the user's folder.
if ls isolate-*-v8.log >/dev/null 2>&1; then
	not_ok "no isolate-*-v8.log left in the working directory ($PWD)"
else
	ok "no isolate-*-v8.log left in the working directory"
fi
finish
