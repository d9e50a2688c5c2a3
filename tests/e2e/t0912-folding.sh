#!/bin/bash
# Bounded recordings: the growth fixture with a fast churning site,
# recorded with folding (the default) and with --no-fold. The folded
# recording folds the churn (a note says so) into a far smaller file per
# event, its live set is page-exact against /proc/PID/maps, and it reports
# the same sites and bytes as the unfolded one (compared with mapleak diff;
# the growing site may differ by the one mapping timing decides).
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture growth

run() {
	local v=$1 pid rec fd
	shift

	make_fifo "in-$v"
	fd=$FIFO_FD
	start_bg "g-$v" "$T/in-$v.fifo" "$FIX/growth" --seconds 3 --churn-ms 0.02
	pid=$BG_PID
	if ! wait_for 10 grep -q '^growth: pid .* ready' "$T/g-$v.out"; then
		not_ok "$v: growth says it is ready"
		return 1
	fi
	start_bg "rec-$v" /dev/null "$MAPLEAK" record -o "$T/$v.data" -p "$pid" "$@"
	rec=$BG_PID
	wait_recording "$rec" "$T/rec-$v.err" || return 1
	echo go >&"$fd"
	if ! wait_for 30 grep -q '^growth: done' "$T/g-$v.out"; then
		not_ok "$v: growth runs its 3 seconds"
		return 1
	fi
	sleep 0.5
	cat "/proc/$pid/maps" >"$T/$v.maps"
	kill -INT "$rec"
	wait_exit "$rec" 30 || { not_ok "$v: mapleak ends within 30 s of SIGINT"; return 1; }
	check_rc "$v: mapleak record -p $*" 0 "$EXIT_STATUS" "$T/rec-$v.err"
	stop_pid "$pid"
	report_json "$T/$v.data" "$T/$v.json" --top 0 --regions
}

run fold || finish
run nofold --no-fold || finish
"$MAPLEAK" diff "$T/nofold.data" "$T/fold.data" -f json >"$T/diff.json" 2>"$T/diff.err"
check_rc "mapleak diff nofold fold" 0 $? "$T/diff.err"

pycheck "$T" <<'PY'
import sys, os, struct
from report_checks import *
d = sys.argv[1]

def op_bytes(path):
    """Bytes of OP, FOLD and PATCH records (docs/recording-format.md): what
    the events cost, without the fixed part (baseline, stacks, names)."""
    with open(path, "rb") as fh:
        data = fh.read()
    off, total = struct.unpack_from("<I", data, 12)[0], 0
    while off + 16 <= len(data):
        typ, size = struct.unpack_from("<II", data, off)
        if size < 16:
            break
        if typ in (3, 14, 15):
            total += size
        off += size
    return total

MIB = 1 << 20
f = load_json(os.path.join(d, "fold.json"))
n = load_json(os.path.join(d, "nofold.json"))
for name, r in (("folded", f), ("unfolded", n)):
    with open(os.path.join(d, ("fold" if r is f else "nofold") + ".maps")) as fh:
        maps = parse_maps(fh.read())
    missing, extra, prot, overlap, notes = compare_pages(maps, json_regions(r))
    check(missing == extra == prot == overlap == 0,
          "%s: the report's regions are /proc/PID/maps, page for page" % name,
          "0 0 0 0", "%d %d %d %d %s" % (missing, extra, prot, overlap, notes))
    check_agree(r)
fe = f.get("events", {}).get("total", 0)
ne = n.get("events", {}).get("total", 0)
check(fe > 500 and ne > 500, "both saw the churn (over 500 events)", "> 500", (fe, ne))
check(f.get("folded_ops", 0) > 0.9 * fe, "folded: most ops were folded",
      "> %d" % int(0.9 * fe), f.get("folded_ops"))
check(n.get("folded_ops") == 0, "--no-fold: nothing folded", 0, n.get("folded_ops"))
with open(os.path.join(d, "rec-fold.err")) as fh:
    err = fh.read()
check("mapleak: folded " in err, "the recorder says what it folded", "a line", err[-300:])
if fe and ne:
    fb = op_bytes(os.path.join(d, "fold.data")) / fe
    nb = op_bytes(os.path.join(d, "nofold.data")) / ne
    check(nb > 40, "unfolded: each event is an OP record", "> 40 B per event", nb)
    check(fb < nb / 5, "folded: the events take over 5x fewer bytes",
          "< %.1f B per event" % (nb / 5), "%.1f B (unfolded %.1f B)" % (fb, nb))
dj = load_json(os.path.join(d, "diff.json"), "diff")
sites = dj.get("sites", [])
check(sites and all(s.get("status") == "both" for s in sites),
      "folded and unfolded have the same sites", "all both",
      [(s.get("status"), s.get("frames", [])[:3]) for s in sites if s.get("status") != "both"])
plat = [s for s in sites if "plateau_site" in s.get("frames", [])]
grow = [s for s in sites if "grow_site" in s.get("frames", [])]
check(plat and plat[0]["bytes_old"] == plat[0]["bytes_new"] == 64 * MIB,
      "the plateau: 64 MiB in both", 64 * MIB, plat[0] if plat else None)
check(grow and abs(grow[0]["delta_bytes"]) <= 2 * MIB and grow[0]["bytes_new"] >= 25 * MIB,
      "grow_site: the same bytes within the mapping or two timing decides", "|delta| <= 2 MiB",
      grow[0] if grow else None)
others = [s for s in sites if s not in plat + grow]
check(all(s["delta_bytes"] == 0 for s in others), "every other site: the same bytes", 0,
      [(s["delta_bytes"], s["frames"][:3]) for s in others if s["delta_bytes"]])
for name, r in (("folded", f), ("unfolded", n)):
    g = [s for s in r.get("sites", []) if any(symbol(x) == "grow_site" for x in s.get("frames", []))]
    check(g and g[0].get("growth_bytes_per_s", 0) > 5 * MIB and len(g[0].get("timeline") or []) == 100,
          "%s: grow_site has its timeline and rate" % name, "> 5 MiB/s",
          g[0].get("growth_bytes_per_s") if g else None)
PY
finish
