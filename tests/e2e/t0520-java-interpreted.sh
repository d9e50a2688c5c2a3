#!/bin/bash
# Interpreted Java frames named from the JVM's own memory, and visible gap
# markers (tests/fixtures/java/MapLeak.java leaking FileChannel.map
# mappings):
#   1. java -Xint launched by mapleak: no perf map at all, every Java frame
#      interpreted; each is named Class.method(argument types) from the
#      Method* in its frame (kind jit, tier interpreted), and the stack is
#      named from mmap to JavaMain.
#   2. java -Xint attached with -p: the same.
#   3. cold code attached: a JIT-warmed JVM whose leak() and main() run
#      once, so stay interpreted, while leakOne is compiled: both kinds
#      are named in the one stack.
#   4. a JVM without -XX:+PreserveFramePointer: where the walk leaves
#      compiled Java code it says so in the stack (a frame of kind gap).
E2E_TIMEOUT=${E2E_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
command -v java >/dev/null 2>&1 || skip_all "java is not installed"
command -v javac >/dev/null 2>&1 || skip_all "javac (a JDK) is not installed"
require_mapleak
require_fixture java/MapLeak.class

REGIONS=16
JOPTS=(-Xms32m -Xmx32m -XX:+UseSerialGC)
APP=(-cp "$FIX/java" MapLeak "$REGIONS" 1)

# wait_line NAME PATTERN WHAT: waits up to 60 s for PATTERN in NAME.out.
wait_line() {
	if ! wait_for 60 grep -q "$2" "$T/$1.out"; then
		not_ok "$3"
		show "$T/$1.out"
		show "$T/$1.err"
		finish
	fi
}

# start_jvm NAME [JVM OPTION...]: MapLeak with stdin on a fifo (FIFO_FD),
# once it says it is ready; sets JPID.
start_jvm() {
	local name=$1
	shift
	make_fifo "$name"
	start_bg "$name" "$T/$name.fifo" env -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS \
		java "$@" -Djava.io.tmpdir="$T" "${JOPTS[@]}" "${APP[@]}"
	JPID=$BG_PID
	wait_line "$name" '^MapLeak: pid .* ready' "MapLeak ($name) says it is ready within 60 s"
}

# attach_leak NAME: records JPID with -p while MapLeak leaks (its fifo
# FIFO_FD); the recording is $T/NAME.data.
attach_leak() {
	local name=$1 fd=$FIFO_FD rec
	start_bg "rec-$name" /dev/null "$MAPLEAK" record -o "$T/$name.data" -p "$JPID"
	rec=$BG_PID
	wait_recording "$rec" "$T/rec-$name.err" || finish
	echo >&"$fd"
	wait_line "$name" '^MapLeak: leaked' "MapLeak ($name) leaks within 60 s of its input line"
	sleep 0.5
	kill -INT "$rec"
	if ! wait_exit "$rec" 60; then
		not_ok "mapleak ($name) ends within 60 s of SIGINT"
		finish
	fi
	check_rc "mapleak record -p ($name)" 0 "$EXIT_STATUS" "$T/rec-$name.err"
}

# check_named JSON MODE: the file-backed top site names the interpreted
# Java frames; MODE "xint": every Java frame interpreted, "cold": leak and
# main interpreted (leakOne may be compiled).
check_named() {
	pycheck "$1" "$2" "$REGIONS" <<'PY'
import sys
from report_checks import *

r = load_json(sys.argv[1])
mode, regions = sys.argv[2], int(sys.argv[3])
sites = [s for s in r.get("sites") or []
         if any(sym_has("FileChannelImpl_map0")(f) for f in s.get("frames") or [])]
check(sites, "%s: a site maps through FileChannelImpl.map0" % mode,
      "a site with Java_sun_nio_ch_FileChannelImpl_map0", len(r.get("sites") or []))
if sites:
    frames = sites[0]["frames"]
    print("# %s: %s" % (mode, stack_str(frames, 16)))
    total = sum(s.get("mappings", 0) for s in sites)
    check(total == regions, "%s: those sites hold the %d leaked mappings" % (mode, regions),
          regions, total)
    want = [sym_has("mmap"), sym_has("map0"),
            sym_is("MapLeak.leakOne(java.nio.channels.FileChannel, long, long)"),
            sym_is("MapLeak.leak(java.nio.channels.FileChannel, int, long)"),
            sym_is("MapLeak.main(java.lang.String[])"), sym_is("JavaMain")]
    idx = find_in_order(frames, want)
    check(idx is not None, "%s: mmap <- map0 <- MapLeak.leakOne <- MapLeak.leak <- "
          "MapLeak.main <- JavaMain, named Class.method(argument types)" % mode,
          "that order", stack_str(frames, 16))
    if idx is not None:
        interp = [frames[i] for i in idx[2:5]] if mode == "xint" else [frames[i] for i in idx[3:5]]
        bad = [symbol(f) for f in interp
               if f.get("kind") != "jit" or f.get("tier") != "interpreted"]
        check(not bad, "%s: those Java frames have kind jit, tier interpreted" % mode,
              "jit/interpreted", bad)
        between = frames[idx[0]:idx[-1] + 1]
        bad = [frame_str(f) for f in between
               if unnamed(f) or symbol(f) == "[interpreted Java]"]
        check(not bad, "%s: every frame from mmap to JavaMain is named" % mode,
              "no unnamed or generic interpreter frame", bad)
        jframes = [f for f in between if f.get("tier") == "interpreted"]
        check(all("(" in symbol(f) and symbol(f).endswith(")") for f in jframes),
              "%s: every interpreted frame reads Class.method(...)" % mode,
              "Class.method(...)", [symbol(f) for f in jframes])
    gaps = [f for f in frames if f.get("kind") == "gap"]
    check(not gaps, "%s: no gap marker with frame pointers kept" % mode, "none",
          [symbol(f) for f in gaps])
PY
}

# ---- 1. java -Xint, launched ----
make_fifo launch
start_bg launch-rec "$T/launch.fifo" "$MAPLEAK" record -o "$T/launch.data" -- \
	env -u _JAVA_OPTIONS java -Xint -Djava.io.tmpdir="$T" "${JOPTS[@]}" "${APP[@]}"
REC=$BG_PID
LFD=$FIFO_FD
wait_line launch-rec '^MapLeak: pid .* ready' "MapLeak (-Xint, launched) says it is ready within 60 s"
echo >&"$LFD"
wait_line launch-rec '^MapLeak: leaked' "MapLeak (-Xint, launched) leaks within 60 s"
LPID=$(sed -n 's/^MapLeak: pid \([0-9]*\) ready.*/\1/p' "$T/launch-rec.out")
sleep 0.5
kill -INT "$REC"
if ! wait_exit "$REC" 60; then
	not_ok "mapleak (launch) ends within 60 s of SIGINT"
	finish
fi
check_rc "mapleak record -- java -Xint" 0 "$EXIT_STATUS" "$T/launch-rec.err"
# the JVM mapleak started waits for the end of its input: end it (only
# that very process: its command line still names MapLeak)
if [ -n "$LPID" ] && grep -qa MapLeak "/proc/$LPID/cmdline" 2>/dev/null; then
	kill "$LPID"
fi
report_json "$T/launch.data" "$T/launch.json" && check_named "$T/launch.json" xint

# ---- 2. java -Xint, attached ----
start_jvm xint -Xint -XX:-PreserveFramePointer
attach_leak xint
report_json "$T/xint.data" "$T/xint.json" && check_named "$T/xint.json" xint

# ---- 3. cold code: leak() and main() run once, interpreted ----
start_jvm cold -Xbatch -XX:+PreserveFramePointer
attach_leak cold
report_json "$T/cold.data" "$T/cold.json" && check_named "$T/cold.json" cold

# ---- 4. no frame pointers in compiled code: a visible gap ----
start_jvm nofp -Xbatch -XX:-PreserveFramePointer
attach_leak nofp
report_json "$T/nofp.data" "$T/nofp.json" || finish
pycheck "$T/nofp.json" <<'PY'
import sys
from report_checks import *

r = load_json(sys.argv[1])
sites = [s for s in r.get("sites") or []
         if any(sym_has("FileChannelImpl_map0")(f) for f in s.get("frames") or [])]
check(sites, "nofp: a site maps through FileChannelImpl.map0", "such a site",
      len(r.get("sites") or []))
for s in sites:
    frames = s["frames"]
    print("# nofp: " + stack_str(frames, 16))
    gaps = [i for i, f in enumerate(frames) if f.get("kind") == "gap"]
    check(gaps, "nofp: the stack holds a gap marker", "a frame of kind gap",
          stack_str(frames, 16))
    if not gaps:
        continue
    g = gaps[0]
    check("frames skipped" in (symbol(frames[g]) or ""),
          "nofp: the marker says frames were skipped", "[... frames skipped ...]",
          symbol(frames[g]))
    check(g > 0 and frames[g - 1].get("kind") == "jit" and
          frames[g - 1].get("tier") != "interpreted",
          "nofp: the marker follows compiled Java code", "a jit frame before it",
          frame_str(frames[g - 1]) if g else None)
    bad = [frame_str(f) for f in frames[:g] if unnamed(f)]
    check(not bad, "nofp: every frame from mmap to the gap is named", "none", bad)
    i = g + 1
    while i < len(frames) and frames[i].get("kind") != "gap":
        i += 1
    after = frames[g + 1:]
    bad = [frame_str(f) for f in after if unnamed(f)]
    check(not bad, "nofp: every frame after the gap is named or a gap", "none", bad)
PY
finish
