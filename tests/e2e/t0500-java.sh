#!/bin/bash
# A JVM leaking FileChannel.map mappings (tests/fixtures/java/MapLeak.java:
# MappedByteBuffers kept in a list), started with -XX:+PreserveFramePointer
# and nothing else special, attached with -p: mapleak asks the JVM for its
# perf map (Compiler.perfmap over the attach socket, no jcmd) at the start
# and at the end, so the top site names the JIT-compiled Java method that
# maps (MapLeak.leakOne), its regions are the temporary file's, and the
# perf map file mapleak caused is gone afterwards. Then a JVM without -XX:+PreserveFramePointer: the report
# says which frames may be missing and how to fix it.
E2E_TIMEOUT=${E2E_TIMEOUT:-90}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v java >/dev/null 2>&1 || skip_all "java is not installed"
command -v javac >/dev/null 2>&1 || skip_all "javac (a JDK) is not installed"
require_mapleak
require_fixture java/MapLeak.class

REGIONS=64
JAVA=(java -Xbatch -Xms32m -Xmx32m -XX:+UseSerialGC
      -cp "$FIX/java" MapLeak "$REGIONS" 1)

# start_jvm NAME [JVM OPTION...]: starts MapLeak with its stdin on a fifo
# (FIFO_FD), waits for its "ready" line; sets JPID.
start_jvm() {
	local name=$1
	shift
	make_fifo "$name"
	start_bg "$name" "$T/$name.fifo" env -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS \
		"${JAVA[0]}" "$@" -Djava.io.tmpdir="$T" "${JAVA[@]:1}"
	JPID=$BG_PID
	if ! wait_for 30 grep -q '^MapLeak: pid .* ready' "$T/$name.out"; then
		not_ok "MapLeak ($name) starts and says it is ready within 30 s"
		show "$T/$name.out"
		show "$T/$name.err"
		finish
	fi
}

# ---- 1. with -XX:+PreserveFramePointer: the leak, named ----
start_jvm app -XX:+PreserveFramePointer
PID=$JPID
APP_FD=$FIFO_FD
MAP=/tmp/perf-$PID.map
if [ -e "$MAP" ]; then
	bail "$MAP exists before mapleak attached: cannot tell whether mapleak removes only its own"
fi

DATA=$T/java.data
start_bg rec /dev/null "$MAPLEAK" record -o "$DATA" -p "$PID"
REC=$BG_PID
wait_recording "$REC" "$T/rec.err" || finish
ok "mapleak is recording the JVM"
echo >&"$APP_FD"	# leak
if ! wait_for 30 grep -q '^MapLeak: leaked' "$T/app.out"; then
	not_ok "MapLeak leaks within 30 s of its input line"
	show "$T/app.out"
	show "$T/app.err"
	finish
fi
sleep 0.5
kill -INT "$REC"
if ! wait_exit "$REC" 60; then
	not_ok "mapleak ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record -p (JVM)" 0 "$EXIT_STATUS" "$T/rec.err"
if alive "$PID"; then
	ok "the JVM still runs after mapleak detached"
else
	not_ok "the JVM still runs after mapleak detached"
fi
if [ -e "$MAP" ]; then
	not_ok "the perf map mapleak had the JVM write ($MAP) is removed"
else
	ok "the perf map mapleak had the JVM write ($MAP) is removed"
fi
if grep -q 'PreserveFramePointer' "$T/rec.err"; then
	not_ok "no frame-pointer note for a JVM that preserves frame pointers"
	show "$T/rec.err"
else
	ok "no frame-pointer note for a JVM that preserves frame pointers"
fi
cp "/proc/$PID/maps" "$T/app.maps"

report_json "$DATA" "$T/report.json" --regions || finish
pycheck "$T/report.json" "$PID" "$T/app.maps" "$REGIONS" <<'PY'
import sys
from report_checks import *

path, pid, maps_path, regions = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
maps = parse_maps(open(maps_path).read())
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command="MapLeak")
check_agree(r)

def in_leak_file(reg):
    a = int(reg["start"], 16)
    b = a + reg["size"]
    return any(lo <= a and b <= hi and p and "/mapleak-java" in p
               for lo, hi, _, p in maps)

sites = r.get("sites") or []
# file-backed sites: every region lies in a mapping of the leaked file
fsites = [s for s in sites if s.get("regions") and all(in_leak_file(g) for g in s["regions"])]
check(fsites, "some site holds mappings of MapLeak's temporary file",
      "a site whose regions are in /tmp/.../mapleak-java*.bin", "%d sites" % len(sites))
if fsites:
    total = sum(s.get("mappings", 0) for s in fsites)
    check(total == regions, "the file-backed sites hold the %d leaked mappings" % regions,
          regions, total)
    top = fsites[0]
    check(sites.index(top) == 0, "the top site is the file leak",
          "site #1", "site #%d" % (sites.index(top) + 1))
    frames = top.get("frames") or []
    print("# top site: " + stack_str(frames, 12))
    i = find_in_order(frames, [sym_has("mmap"), sym_has("map0"),
                               sym_has("MapLeak.leakOne")])
    check(i is not None, "its frames name, in order, mmap <- ...map0 <- MapLeak.leakOne",
          "mmap <- map0 <- MapLeak.leakOne", stack_str(frames, 12))
    if i is not None:
        fr = frames[i[-1]]
        check(fr.get("kind") == "jit", "MapLeak.leakOne has kind jit", "jit",
              fr.get("kind"))
        check(symbol(fr).startswith("MapLeak.leakOne(java.nio.channels.FileChannel"),
              "the Java name is readable (no return type, no L...; form)",
              "MapLeak.leakOne(java.nio.channels.FileChannel, long, long)", symbol(fr))
        between = frames[i[0]:i[-1] + 1]
        bad = [fr for fr in between if unnamed(fr)]
        check(not bad, "every frame from mmap to MapLeak.leakOne is named",
              "no unnamed frame", stack_str(frames, 12))
    # the walk got through the Java frames to the JVM's native launcher
    check(any(symbol(fr) == "JavaMain" for fr in frames),
          "the walk reaches JavaMain (libjli) through the Java frames",
          "JavaMain in the stack", stack_str(frames, 24))
PY

# ---- 1b. resolve -p asks the JVM as record does (src/runtime/) ----
# The return address in MapLeak.leakOne that the report holds: named
# live from the perf map resolve has the JVM write, which it then removes.
ADDR=$(python3 - "$T/report.json" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1])).get("sites") or []:
    for f in (s.get("frames") or [])[1:]:
        if (f.get("symbol") or "").startswith("MapLeak.leakOne"):
            print(f["address"]); sys.exit(0)
PY
)
if [ -z "$ADDR" ]; then
	not_ok "the report holds a MapLeak.leakOne frame to resolve"
else
	timeout 60 "$MAPLEAK" resolve --format json --return-address -p "$PID" "$ADDR" \
		>"$T/resolve.json" 2>"$T/resolve.err"
	check_rc "mapleak resolve -p (JVM)" 0 $? "$T/resolve.err"
	pycheck "$T/resolve.json" "$ADDR" <<'PY'
import json, sys
from report_checks import *

doc = json.load(open(sys.argv[1]))
a = (doc.get("addresses") or [{}])[0]
check((a.get("symbol") or "").startswith("MapLeak.leakOne") and a.get("kind") == "jit",
      "resolve -p names %s in a live JVM (it asks for the perf map)" % sys.argv[2],
      "MapLeak.leakOne..., kind jit", a)
check(not doc.get("notes"), "resolve -p of a JVM that answers: no note",
      "[]", doc.get("notes"))
PY
	if [ -e "$MAP" ]; then
		not_ok "the perf map resolve had the JVM write ($MAP) is removed"
	else
		ok "the perf map resolve had the JVM write ($MAP) is removed"
	fi
fi

# ---- 2. without -XX:+PreserveFramePointer: the note ----
start_jvm nofp -XX:-PreserveFramePointer
DATA2=$T/nofp.data
timeout 60 "$MAPLEAK" record -o "$DATA2" -p "$JPID" --duration 1 >"$T/rec2.out" 2>"$T/rec2.err"
check_rc "mapleak record -p (JVM without frame pointers)" 0 $? "$T/rec2.err"
if grep -Eq '^mapleak: (note: )?JVM .*-XX:\+PreserveFramePointer' "$T/rec2.err"; then
	ok "mapleak says on stderr that the JVM runs without -XX:+PreserveFramePointer"
else
	not_ok "mapleak says on stderr that the JVM runs without -XX:+PreserveFramePointer"
	show "$T/rec2.err"
fi
report_json "$DATA2" "$T/nofp.json" || finish
pycheck "$T/nofp.json" <<'PY'
import sys
from report_checks import *

r = load_json(sys.argv[1])
notes = [n for n in r.get("notes") or [] if "PreserveFramePointer" in n]
check(notes and "restart" in notes[0] and "missing" in notes[0],
      "the report notes which frames may be missing and how to fix it",
      "a note naming -XX:+PreserveFramePointer", r.get("notes"))
PY
finish
