#!/bin/bash
# mapleak top on a pipe, over the growth fixture (grow_site maps 1 MiB
# every 100 ms, plateau_site 64 MiB once, churn_site maps and unmaps):
# every refresh after the first (once grow_site has started) names
# grow_site first at about 10 MiB/s, the plateau flat; top ends after --iterations with the target still
# running, -o keeps a recording that report reads; and top ends by itself
# when the target exits.
. "$(dirname "$0")/lib.sh"

E2E_TIMEOUT=150
require_root
require_bpf
require_python
require_mapleak
require_fixture growth

ITER=6

# watching ERR_FILE: top's stderr shows it traces.
watching() {
	grep -q '^mapleak: watching pid' "$1"
}

# start_growth NAME SECONDS: the fixture, waiting on a fifo; sets GPID, GFD.
start_growth() {
	make_fifo "$1"
	GFD=$FIFO_FD
	start_bg "$1" "$T/$1.fifo" "$FIX/growth" --seconds "$2"
	GPID=$BG_PID
	wait_for 10 grep -q '^growth: pid .* ready' "$T/$1.out" ||
		bail "the growth fixture says it is ready"
}

# ---- iterations, on a pipe, with -o ----
start_growth g1 120
start_bg top1 /dev/null "$MAPLEAK" top -p "$GPID" --interval 1 \
	--iterations "$ITER" -o "$T/top.data"
TOP=$BG_PID
if ! wait_for 30 watching "$T/top1.err"; then
	show "$T/top1.err"
	bail "mapleak top says it is watching within 30 s"
fi
echo go >&"$GFD"
if wait_exit "$TOP" 40; then
	check_rc "top --iterations $ITER ends by itself" 0 "$EXIT_STATUS" "$T/top1.err"
else
	not_ok "top --iterations $ITER ends within 40 s"
fi
if alive "$GPID"; then
	ok "the target still runs after top ended"
else
	not_ok "the target still runs after top ended"
fi
pycheck "$T/top1.out" "$ITER" <<'PY'
import re, sys
from report_checks import check

text, iters = open(sys.argv[1]).read(), int(sys.argv[2])
MIB = 1 << 20
UNIT = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
blocks = text.split("\n\n")
check(len(blocks) == iters, "one block per refresh, blank line between",
      iters, len(blocks))
check(all(re.match(r"--- \d\d:\d\d:\d\d \+\d+s\n", b) for b in blocks),
      "each block starts '--- HH:MM:SS +Ns'", "all", [b[:20] for b in blocks])

def rate(line):
    m = re.search(r"\s([+-]?)([\d.]+) (B|KiB|MiB|GiB|TiB)/s\s", line)
    if not m:
        return None
    return (-1 if m.group(1) == "-" else 1) * float(m.group(2)) * UNIT[m.group(3)]

def sites_of(b):
    return [l for l in b.splitlines()[3:] if l.strip() and not l.startswith("...")]

# A refresh is judged once grow_site was in the one before: the fixture
# starts growing after touching its plateau, which a loaded machine can
# make take a refresh or two (top's first refresh is its starting level).
judged = 0
for i in range(1, len(blocks)):
    sites, before = sites_of(blocks[i]), sites_of(blocks[i - 1])
    if not any("grow_site" in l for l in before):
        print("# refresh %d not judged: grow_site was not in the refresh before" % (i + 1))
        continue
    judged += 1
    n = i + 1
    first = sites[0] if sites else ""
    check("grow_site" in first, "refresh %d: grow_site first" % n,
          "grow_site", first[:160])
    r = rate(first)
    check(r is not None and abs(r - 10 * MIB) <= 2 * MIB,
          "refresh %d: grow_site grows 10 MiB/s (within 20%%)" % n,
          "10 MiB/s", r and "%.2f MiB/s" % (r / MIB))
    pl = [l for l in sites if "plateau_site" in l]
    r = rate(pl[0]) if pl else None
    check(r is not None and abs(r) < 0.5 * MIB,
          "refresh %d: the 64 MiB plateau is flat" % n, "~0",
          pl[0][:160] if pl else "no plateau_site line")
    ch = [k for k, l in enumerate(sites) if "churn_site" in l]
    check(not ch or ch[0] > 0, "refresh %d: churn_site not ahead of grow_site" % n,
          "after grow_site", ch)
check(judged >= iters - 3, "grow_site was there for at least %d refreshes" % (iters - 3),
      ">= %d" % (iters - 3), judged)
PY
report_json "$T/top.data" "$T/top.json" &&
pycheck "$T/top.json" <<'PY'
import sys
from report_checks import load_json, check
r = load_json(sys.argv[1])
sites = r.get("sites") or []
grow = [s for s in sites if any((f.get("symbol") or "") == "grow_site"
                                for f in s.get("frames") or [])]
check(len(grow) == 1 and grow[0].get("bytes", 0) >= 20 << 20,
      "-o: the recording reports grow_site holding >= 20 MiB",
      ">= 20 MiB", [s.get("bytes") for s in grow])
PY
echo done >&"$GFD"

# ---- the target exits: top ends by itself ----
start_growth g2 2
start_bg top2 /dev/null "$MAPLEAK" top -p "$GPID" --interval 0.5
TOP=$BG_PID
if ! wait_for 30 watching "$T/top2.err"; then
	show "$T/top2.err"
	bail "mapleak top says it is watching within 30 s"
fi
echo go >&"$GFD"
wait_for 20 grep -q '^growth: done' "$T/g2.out" ||
	not_ok "the fixture runs its 2 s"
echo bye >&"$GFD"
if wait_exit "$TOP" 20; then
	check_rc "top ends when the target exits" 0 "$EXIT_STATUS" "$T/top2.err"
	if grep -q "pid $GPID exited" "$T/top2.err"; then
		ok "top says the target exited"
	else
		not_ok "top says the target exited"
		show "$T/top2.err"
	fi
	if grep -q grow_site "$T/top2.out"; then
		ok "top showed grow_site before the end"
	else
		not_ok "top showed grow_site before the end"
	fi
else
	not_ok "top ends within 20 s of the target's exit"
fi

# ---- usage ----
"$MAPLEAK" top >/dev/null 2>&1
check_rc "top without -p is a usage error" 2 $?
"$MAPLEAK" top -p 1 --sort size >/dev/null 2>&1
check_rc "top --sort size is a usage error" 2 $?
"$MAPLEAK" top -p 1 --interval 0 >/dev/null 2>&1
check_rc "top --interval 0 is a usage error" 2 $?
finish
