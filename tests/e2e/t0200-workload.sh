#!/bin/bash
# Every kind of address-space change (tests/fixtures/workload.c): the bytes
# each function still holds must be what the workload itself says it holds,
# mappings it gave back and calls that failed must leave no trace, and the
# report's regions (sites' and baseline's) must cover exactly the pages of
# the workload's own /proc/self/maps, with the same protections. The
# malloc(32 MiB) site must show malloc and then its caller, op_malloc,
# which takes unwinding through glibc without frame pointers.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture workload

DATA=$T/workload.data
EXPECT=$T/expect.txt

make_fifo in
start_bg rec "$T/in.fifo" "$MAPLEAK" record -o "$DATA" -- \
	"$FIX/workload" --no-wait "$EXPECT"
REC=$BG_PID
# the workload's pid is in its expectations; until then, its ready line
if wait_for 20 grep -q '^workload: pid .* ready' "$T/rec.out"; then
	sed -n 's/^workload: pid \([0-9]*\) ready.*/\1/p' "$T/rec.out" | head -n1 >"$T/workload.pid"
	track_pid_file "$T/workload.pid"
fi
wait_recording "$REC" "$T/rec.err" || finish
if ! wait_for 30 test -s "$EXPECT"; then
	not_ok "the workload writes its expectations within 30 s"
	show "$T/rec.out"
	show "$T/rec.err"
	finish
fi
if grep -q '^workload: error' "$T/rec.out"; then
	not_ok "the workload ran without error"
	show "$T/rec.out"
	finish
fi
ok "the workload ran its operations and wrote its expectations"
PID=$(sed -n 's/^pid //p' "$EXPECT")

# The workload now waits and changes nothing: stop the recording.
sleep 0.3
kill -INT "$REC"
if ! wait_exit "$REC" 30; then
	not_ok "mapleak ends within 30 s of SIGINT"
	finish
fi
check_rc "mapleak record -- workload" 0 "$EXIT_STATUS" "$T/rec.err"
echo done >&"$FIFO_FD"

report_json "$DATA" "$T/report.json" --regions --top 0 || finish
pycheck "$T/report.json" "$EXPECT" "$PID" <<'PY'
import sys
from report_checks import *

path, expect_path, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command="workload")
check_agree(r)

# the workload's own account
expect, maps_text, in_maps = {}, [], False
with open(expect_path) as f:
    for line in f:
        if in_maps:
            maps_text.append(line)
        elif line.startswith("expect "):
            _, fn, b, rv = line.split()
            expect[fn] = (int(b), int(rv))
        elif line.strip() == "maps":
            in_maps = True
maps = parse_maps("".join(maps_text))
check(len(expect) >= 10 and maps, "the expectations file is complete",
      ">= 10 functions and a maps copy", "%d functions, %d maps lines"
      % (len(expect), len(maps)))

sites = r.get("sites") or []
have_regions = all(isinstance(s.get("regions"), list) for s in sites)
check(have_regions and isinstance(r.get("baseline_regions"), list),
      "--regions lists regions per site and baseline_regions",
      "lists", "sites without regions or no baseline_regions")

# Attribute each site to the innermost workload function on its stack.
held = {fn: [0, 0, []] for fn in expect}
named_anywhere = {fn: [] for fn in expect}
for s in sites:
    frames = s.get("frames") or []
    owner = None
    for fr in frames:
        if symbol(fr) in expect:
            owner = owner or symbol(fr)
            named_anywhere[symbol(fr)].append(s)
    if owner:
        held[owner][0] += s.get("bytes") or 0
        held[owner][1] += s.get("reserved_bytes") or 0
        held[owner][2].append(s)

for fn, (want, want_res) in expect.items():
    got, got_res, ss = held[fn]
    detail = "; ".join(site_str(s) for s in ss[:3]) or "no site"
    if want == 0:
        check(not named_anywhere[fn],
              "%s gave back all it mapped (or its calls failed): no site names it" % fn,
              "no site", "; ".join(site_str(s) for s in named_anywhere[fn][:3]))
        continue
    check((got, got_res) == (want, want_res),
          "%s holds %d bytes, %d of them reserved (PROT_NONE)"
          % (fn, want, want_res), "%d bytes, %d reserved" % (want, want_res),
          "%d bytes, %d reserved (%s)" % (got, got_res, detail))

# malloc(32 MiB): malloc, then its caller
ms = [s for s in held["op_malloc"][2] if (s.get("bytes") or 0) >= 32 << 20]
if check(len(ms) == 1, "one site holds op_malloc's malloc(32 MiB)", "1 site",
         "; ".join(site_str(s) for s in held["op_malloc"][2]) or "none"):
    frames = ms[0].get("frames") or []
    # glibc exports malloc and __libc_malloc at the same address
    i = find_in_order(frames, [sym_is("malloc", "__libc_malloc"),
                               sym_is("op_malloc")])
    check(i is not None and i[1] == i[0] + 1,
          "the malloc(32 MiB) site shows malloc, then its caller op_malloc",
          "... <- malloc <- op_malloc <- main", stack_str(frames))
    i = find_in_order(frames, [sym_is("op_malloc"), sym_is("main")])
    check(i is not None and i[1] == i[0] + 1,
          "the unwind goes on from op_malloc to main", "op_malloc <- main",
          stack_str(frames))

# a site per thread function: op_thread_map is called from thread_main
for s in held["op_thread_map"][2]:
    frames = s.get("frames") or []
    i = find_in_order(frames, [sym_is("op_thread_map"), sym_is("thread_main")])
    check(i is not None and i[1] == i[0] + 1,
          "op_thread_map's site shows its caller thread_main",
          "op_thread_map <- thread_main", stack_str(frames))
    break

# raw syscall(SYS_mmap): the caller is op_raw_syscall, not lost
for s in held["op_raw_syscall"][2]:
    frames = s.get("frames") or []
    i = find_in_order(frames, [sym_is("syscall"), sym_is("op_raw_syscall")])
    check(i is not None and i[1] == i[0] + 1,
          "the raw syscall site shows syscall, then op_raw_syscall",
          "syscall <- op_raw_syscall", stack_str(frames))
    break

# page-exact: the report's regions against the workload's own maps
missing, extra, prot, overlap, notes = compare_pages(maps, json_regions(r))
what = "report regions match the workload's /proc/self/maps page for page"
if missing or extra or prot or overlap:
    not_ok("%s: expected 0 pages missing/extra/prot-mismatched/overlapping, "
           "got %d/%d/%d/%d" % (what, missing, extra, prot, overlap))
    for n in notes:
        print("#   " + n)
else:
    ok(what)
PY
finish
