#!/bin/bash
# mapleak diff: the same program leaking 10 MiB, then 30 MiB, recorded in
# attach mode (two processes, so addresses differ): leak_site's change is
# +20 MiB exactly, matched by frame names; sites of one side only are new
# or gone; text and json agree; usage errors exit 2.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture growth

run() {
	local n=$1 pid rec fd

	make_fifo "in-$n"
	fd=$FIFO_FD
	start_bg "g$n" "$T/in-$n.fifo" "$FIX/growth" --leak-mib "$n"
	pid=$BG_PID
	if ! wait_for 10 grep -q '^growth: pid .* ready' "$T/g$n.out"; then
		not_ok "growth --leak-mib $n says it is ready"
		return 1
	fi
	start_bg "rec$n" /dev/null "$MAPLEAK" record -o "$T/l$n.data" -p "$pid"
	rec=$BG_PID
	wait_recording "$rec" "$T/rec$n.err" || return 1
	echo go >&"$fd"
	if ! wait_for 30 grep -q '^growth: done' "$T/g$n.out"; then
		not_ok "growth --leak-mib $n leaks"
		return 1
	fi
	kill -INT "$rec"
	wait_exit "$rec" 30 || { not_ok "mapleak ends within 30 s of SIGINT"; return 1; }
	check_rc "mapleak record -p (leak $n MiB)" 0 "$EXIT_STATUS" "$T/rec$n.err"
	stop_pid "$pid"
}

run 10 || finish
run 30 || finish

"$MAPLEAK" diff "$T/l10.data" "$T/l30.data" --format json >"$T/d.json" 2>"$T/d.err"
check_rc "mapleak diff --format json" 0 $? "$T/d.err"
"$MAPLEAK" diff "$T/l30.data" "$T/l10.data" -f json >"$T/r.json" 2>"$T/r.err"
check_rc "mapleak diff NEW OLD" 0 $? "$T/r.err"
"$MAPLEAK" diff "$T/l10.data" "$T/l30.data" >"$T/d.txt" 2>"$T/dt.err"
check_rc "mapleak diff (text)" 0 $? "$T/dt.err"
"$MAPLEAK" diff "$T/l10.data" "$T/l10.data" -f json >"$T/same.json" 2>"$T/s.err"
check_rc "mapleak diff of a recording with itself" 0 $? "$T/s.err"

pycheck "$T" <<'PY'
import sys, os
from report_checks import *
d = sys.argv[1]
MIB = 1 << 20
r = load_json(os.path.join(d, "d.json"), "diff")
sites = r.get("sites") or []
leak = [s for s in sites if "leak_site" in s.get("frames", [])]
check(len(leak) == 1, "one leak_site entry (matched by names across two processes)",
      1, len(leak))
if leak:
    s = leak[0]
    check(s.get("delta_bytes") == 20 * MIB, "leak_site: +20 MiB exactly", 20 * MIB,
          s.get("delta_bytes"))
    check(s.get("bytes_old") == 10 * MIB and s.get("bytes_new") == 30 * MIB,
          "leak_site: 10 MiB -> 30 MiB", (10 * MIB, 30 * MIB),
          (s.get("bytes_old"), s.get("bytes_new")))
    check(s.get("status") == "both", "leak_site is in both", "both", s.get("status"))
check(sites and sites[0] is (leak[0] if leak else None), "the largest change comes first",
      "leak_site", sites[0].get("frames") if sites else None)
deltas = [s["delta_bytes"] for s in sites]
check(deltas == sorted(deltas, reverse=True), "sites by delta, descending", "sorted", deltas)
check(r.get("delta_bytes") == sum(deltas), "the total change is the sum", sum(deltas),
      r.get("delta_bytes"))
check(all(s.get("status") in ("both", "new", "gone") for s in sites)
      and all((s["status"] != "new" or s["bytes_old"] == 0) and
              (s["status"] != "gone" or s["bytes_new"] == 0) for s in sites),
      "new sites hold nothing in OLD, gone ones nothing in NEW", "consistent",
      [(s["status"], s["bytes_old"], s["bytes_new"]) for s in sites])
check(all(not str(f).startswith("0x") for s in sites for f in s.get("frames", [])),
      "sites are keyed by names, not addresses", "no 0x...", [s["frames"] for s in sites][:3])
rv = load_json(os.path.join(d, "r.json"), "diff")
lv = [s for s in rv.get("sites", []) if "leak_site" in s.get("frames", [])]
check(lv and lv[0]["delta_bytes"] == -20 * MIB, "reversed: -20 MiB", -20 * MIB,
      lv[0]["delta_bytes"] if lv else None)
same = load_json(os.path.join(d, "same.json"), "diff")
check(same.get("delta_bytes") == 0 and all(s["delta_bytes"] == 0 and s["status"] == "both"
                                            for s in same.get("sites", [])),
      "a recording against itself: no change", 0, same.get("delta_bytes"))
PY
if grep -q '+20.0 MiB' "$T/d.txt" && grep -q 'leak_site' "$T/d.txt"; then
	ok "text: the change +20.0 MiB and leak_site are shown"
else
	not_ok "text: the change +20.0 MiB and leak_site are shown"
	show "$T/d.txt"
fi
"$MAPLEAK" diff "$T/l10.data" >/dev/null 2>"$T/u.err"
check_rc "diff with one recording: usage error" 2 $? "$T/u.err"
"$MAPLEAK" diff -f xml "$T/l10.data" "$T/l30.data" >/dev/null 2>"$T/u2.err"
check_rc "diff --format xml: usage error" 2 $? "$T/u2.err"
"$MAPLEAK" diff "$T/l10.data" "$T/nope.data" >/dev/null 2>"$T/u3.err"
check_rc "diff with a missing recording: failure" 1 $? "$T/u3.err"
finish
