#!/bin/bash
# Leaks over time: a growing site (1 MiB every 100 ms), a 64 MiB plateau
# and a churning site, recorded in attach mode. The report's growth rates
# tell them apart: the growing site within 20% of 10 MiB/s and first
# under --sort growth, the plateau near 0; timelines rise or stay flat;
# the filters (--older-than, --min-bytes, --from/--to) select as told.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture growth

SECS=6
make_fifo in
fd=$FIFO_FD
start_bg growth "$T/in.fifo" "$FIX/growth" --seconds "$SECS"
pid=$BG_PID
if ! wait_for 10 grep -q '^growth: pid .* ready' "$T/growth.out"; then
	not_ok "growth starts and says it is ready"
	show "$T/growth.err"
	finish
fi
start_bg rec /dev/null "$MAPLEAK" record -o "$T/g.data" -p "$pid"
rec=$BG_PID
wait_recording "$rec" "$T/rec.err" || finish
echo go >&"$fd"
if ! wait_for 30 grep -q '^growth: done' "$T/growth.out"; then
	not_ok "growth runs its $SECS seconds"
	show "$T/growth.out"
	finish
fi
kill -INT "$rec"
wait_exit "$rec" 30 || { not_ok "mapleak ends within 30 s of SIGINT"; finish; }
check_rc "mapleak record -p" 0 "$EXIT_STATUS" "$T/rec.err"

report_json "$T/g.data" "$T/bytes.json" --top 0 || finish
report_json "$T/g.data" "$T/growth.json" --top 0 --sort growth || finish
report_json "$T/g.data" "$T/age.json" --top 0 --sort age || finish
report_json "$T/g.data" "$T/old.json" --top 0 --older-than 3 || finish
report_json "$T/g.data" "$T/min.json" --top 0 --min-bytes 63M || finish
# a window of 1.5 s from grow_site's first mapping (a loaded machine
# delays the fixture's start)
FROM=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = [s["first_seen_s"] for s in r["sites"]
     if any(f.get("symbol") == "grow_site" for f in s["frames"])]
print("%.3f" % (t[0] if t else 0))' "$T/bytes.json")
TO=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) + 1.5))' "$FROM")
report_json "$T/g.data" "$T/win.json" --top 0 --from "$FROM" --to "$TO" || finish
"$MAPLEAK" report -i "$T/g.data" --format html -o "$T/g.html" 2>"$T/html.err"
check_rc "mapleak report --format html" 0 $? "$T/html.err"
"$MAPLEAK" report -i "$T/g.data" --sort growth >"$T/text.out" 2>"$T/text.err"
check_rc "mapleak report --sort growth (text)" 0 $? "$T/text.err"

pycheck "$T" "$FROM" "$TO" <<'PY'
import sys, os, json
from report_checks import *
d, FROM, TO = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
MIB = 1 << 20

def find(r, fn):
    return [s for s in r.get("sites", []) if any(symbol(f) == fn for f in s.get("frames", []))]

r = load_json(os.path.join(d, "bytes.json"))
grow, plat = find(r, "grow_site"), find(r, "plateau_site")
check(len(grow) == 1 and len(plat) == 1, "one grow_site and one plateau_site site",
      "1 and 1", (len(grow), len(plat)))
check(not find(r, "churn_site"), "the churning site holds nothing at the end", "absent",
      [site_str(s) for s in find(r, "churn_site")])
if grow and plat:
    g, p = grow[0], plat[0]
    truth = 10 * MIB
    rate = g.get("growth_bytes_per_s")
    check(isinstance(rate, (int, float)) and abs(rate - truth) <= 0.2 * truth,
          "grow_site grows at 10 MiB/s within 20%", truth, rate)
    prate = p.get("growth_bytes_per_s")
    check(isinstance(prate, (int, float)) and abs(prate) <= 0.02 * truth,
          "the plateau's rate is near 0 (under 2% of the growing site's)", 0, prate)
    check(p.get("bytes") == 64 * MIB, "the plateau holds 64 MiB", 64 * MIB, p.get("bytes"))
    tl = g.get("timeline") or []
    check(len(tl) == 100, "the timeline has 100 points", 100, len(tl))
    if tl:
        ys = [y for _, y in tl]
        check(all(b >= a for a, b in zip(ys, ys[1:])), "grow_site's timeline never falls",
              "non-decreasing", ys[:10])
        check(ys[-1] == g["bytes"], "its last point is what it holds at the end",
              g["bytes"], ys[-1])
        check(ys[0] == 0 and tl[-1][0] >= 5, "it starts at 0 and spans the recording",
              "0 .. >= 5 s", (ys[0], tl[-1][0]))
        mid = ys[len(ys) // 2]
        check(0.25 * g["bytes"] <= mid <= 0.75 * g["bytes"],
              "halfway it holds about half", g["bytes"] / 2, mid)
    pt = p.get("timeline") or []
    check(pt and pt[-1][1] == 64 * MIB and max(y for _, y in pt) == 64 * MIB,
          "the plateau's timeline stays at 64 MiB", 64 * MIB, pt[-3:])
    check(g.get("calls") == g.get("mappings"), "grow_site: one call per mapping",
          g.get("mappings"), g.get("calls"))

# the html page draws the same timelines and rates
with open(os.path.join(d, "g.html")) as fh:
    page = fh.read()
k = page.find("const DATA = ")
h = json.JSONDecoder().raw_decode(page[k + len("const DATA = "):])[0] if k >= 0 else {}
hs = h.get("sites", [])
check(hs and all(len(s.get("tl") or []) == 100 and isinstance(s.get("gr"), (int, float)) for s in hs),
      "html: every site carries its 100-point timeline and rate", "tl, gr",
      [(len(s.get("tl") or []), s.get("gr")) for s in hs][:3])
if grow and hs:
    gt = grow[0]["timeline"]
    hg = [s for s in hs if [y for _, y in s["tl"]] == [y for _, y in gt] and
          all(abs(a[0] - b[0]) < 1e-3 * max(1, b[0]) for a, b in zip(s["tl"], gt)) and
          abs(s["gr"] - grow[0]["growth_bytes_per_s"]) <= 1e-4 * abs(grow[0]["growth_bytes_per_s"]) + 1]
    check(len(hg) == 1, "html: grow_site's timeline and rate are the json ones", 1, len(hg))

r2 = load_json(os.path.join(d, "growth.json"))
s0 = (r2.get("sites") or [{}])[0]
check(any(symbol(f) == "grow_site" for f in s0.get("frames", [])),
      "--sort growth puts grow_site first", "grow_site", site_str(s0) if s0 else None)
rates = [s.get("growth_bytes_per_s") or 0 for s in r2.get("sites", [])]
check(rates == sorted(rates, reverse=True), "--sort growth: rates descending", "sorted", rates[:5])
r1 = r.get("sites") or []
check(r1 and any(symbol(f) == "plateau_site" for f in r1[0].get("frames", [])),
      "the default order stays by bytes (the plateau first)", "plateau_site",
      site_str(r1[0]) if r1 else None)

ra = load_json(os.path.join(d, "age.json"))
ages = [s["first_seen_s"] for s in ra.get("sites", [])]
check(ages and ages == sorted(ages) and len(ages) == len(r.get("sites", [])),
      "--sort age: oldest live mapping first", "ascending first_seen_s", ages[:6])
ro = load_json(os.path.join(d, "old.json"))
og = find(ro, "grow_site")
if grow:
    check(og and og[0]["bytes"] < grow[0]["bytes"] and og[0]["bytes"] > 0,
          "--older-than 3 keeps only grow_site's older mappings", "< %d" % grow[0]["bytes"],
          og[0]["bytes"] if og else None)
rm = load_json(os.path.join(d, "min.json"))
big = [s for s in r.get("sites", []) if s["bytes"] - s["reserved_bytes"] >= 63 * MIB]
check(sorted(s["stack_id"] for s in rm.get("sites", [])) == sorted(s["stack_id"] for s in big)
      and rm.get("sites_filtered") == len(r.get("sites", [])) - len(big),
      "--min-bytes 63M keeps exactly the sites of 63 MiB or more (the plateau)",
      [site_str(s) for s in big], [site_str(s) for s in rm.get("sites", [])])
rw = load_json(os.path.join(d, "win.json"))
wg = find(rw, "grow_site")
if grow:
    check(wg and 0 < wg[0]["bytes"] <= 17 * MIB and wg[0]["bytes"] < grow[0]["bytes"],
          "--from/--to: grow_site's mappings of its first 1.5 s only",
          "<= 17 MiB", wg[0]["bytes"] if wg else None)
    check(all(FROM - 0.001 <= s["first_seen_s"] and s["last_seen_s"] <= TO + 0.001
              for s in rw.get("sites", [])),
          "every site of --from/--to was made in that window", "%.3f..%.3f s" % (FROM, TO),
          [(s["first_seen_s"], s["last_seen_s"]) for s in rw.get("sites", [])][:5])
PY
if grep -q 'growth: .*MiB/s' "$T/text.out"; then
	ok "the text report shows a sparkline and the rate per site"
else
	not_ok "the text report shows a sparkline and the rate per site"
	show "$T/text.out"
fi
if grep -A1 '^#1 ' "$T/text.out" | grep -q 'grow_site'; then
	ok "text --sort growth: grow_site first"
else
	not_ok "text --sort growth: grow_site first"
	head -20 "$T/text.out"
fi
finish
