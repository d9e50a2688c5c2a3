#!/bin/bash
# The seed scenario in C, attach mode: the target is started first and
# waits; `mapleak record -p PID` attaches, the test then triggers the leak
# and stops mapleak with SIGINT. With and without frame pointers.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so seed-fp seed-nofp

LINE=$(mmap_line)

run() {
	local v=$1 data=$T/$1.data rec pid fd

	note "seed-$v, attach mode"
	make_fifo "in-$v"
	fd=$FIFO_FD
	start_bg "seed-$v" "$T/in-$v.fifo" "$FIX/seed-$v"
	pid=$BG_PID
	if ! wait_for 10 grep -q '^seed: pid .* ready' "$T/seed-$v.out"; then
		not_ok "seed-$v starts and says it is ready"
		show "$T/seed-$v.out"
		show "$T/seed-$v.err"
		return
	fi

	start_bg "rec-$v" /dev/null "$MAPLEAK" record -o "$data" -p "$pid"
	rec=$BG_PID
	wait_recording "$rec" "$T/rec-$v.err" || return
	ok "seed-$v: mapleak is recording"
	echo go >&"$fd"
	if ! wait_for 30 grep -q '^seed: leaked' "$T/seed-$v.out"; then
		not_ok "seed-$v: the target leaks within 30 s of the trigger"
		show "$T/seed-$v.out"
		return
	fi
	sleep 0.5
	kill -INT "$rec"
	if ! wait_exit "$rec" 30; then
		not_ok "seed-$v: mapleak ends within 30 s of SIGINT"
		return
	fi
	check_rc "seed-$v: mapleak record -p" 0 "$EXIT_STATUS" "$T/rec-$v.err"
	if alive "$pid"; then
		ok "seed-$v: the target still runs after mapleak detached"
	else
		not_ok "seed-$v: the target still runs after mapleak detached"
	fi

	report_json "$data" "$T/$v.json" || return
	pycheck "$T/$v.json" "$LINE" "$pid" "seed-$v" <<'PY'
import sys
from report_checks import *
path, line, pid, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = load_json(path)
common(r, stopped_by="signal", alive=True, pid=pid, command=name)
check_agree(r)
b = r.get("baseline") or {}
check(isinstance(b.get("bytes"), int) and b["bytes"] > 0 and b.get("mappings", 0) > 0,
      "baseline holds what was mapped before attaching", "bytes > 0, mappings > 0", b)
top = check_seed_site(r, line, inner=["MyTest", "main"])
if top is not None:
    rb = top.get("resident_bytes")
    check(isinstance(rb, int) and rb >= GIB * 0.98,
          "top site is resident (>= 98% of 1 GiB)", ">= %d" % int(GIB * .98), rb)
PY
	stop_pid "$pid"
}

run fp
run nofp
finish
