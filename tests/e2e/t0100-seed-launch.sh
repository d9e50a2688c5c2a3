#!/bin/bash
# The seed scenario in C, launch mode: `mapleak record -- seed` with and
# without frame pointers. The top site is the 1 GiB leak in 256 mappings
# from mmap_allocation (libExample.so, Example.c, the mmap line) <- MyTest
# <- main. The frame-pointer build is stopped with SIGINT, the other with
# --duration; both while the target is alive, so residency is known.
# The 1 GiB leak is touched page by page: on a loaded 2-CPU machine it can
# take 15 s or more, so the duration run gets room.
E2E_TIMEOUT=${E2E_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so seed-fp seed-nofp

LINE=$(mmap_line)

# run VARIANT STOP: STOP is "signal" or "duration"
run() {
	local v=$1 stop=$2 data=$T/$1.data rec pid extra=()

	note "seed-$v, launch mode, stopped by $stop"
	make_fifo "in-$v"
	[ "$stop" = duration ] && extra=(--duration 20)
	start_bg "rec-$v" "$T/in-$v.fifo" "$MAPLEAK" record -o "$data" \
		"${extra[@]}" -- "$FIX/seed-$v" --pid-file "$T/seed-$v.pid"
	rec=$BG_PID
	track_pid_file "$T/seed-$v.pid"
	wait_recording "$rec" "$T/rec-$v.err" || return
	ok "seed-$v: mapleak is recording"
	echo go >&"$FIFO_FD"
	if ! wait_for 60 grep -q '^seed: leaked' "$T/rec-$v.out"; then
		not_ok "seed-$v: the target's output (passed through mapleak) shows the leak within 60 s"
		show "$T/rec-$v.out"
		show "$T/rec-$v.err"
		return
	fi
	ok "seed-$v: the target's stdout is passed through and shows the leak"
	pid=$(pid_from_file "$T/seed-$v.pid")

	if [ "$stop" = signal ]; then
		sleep 0.5
		kill -INT "$rec"
	fi
	if ! wait_exit "$rec" 40; then
		not_ok "seed-$v: mapleak ends within 40 s after SIGINT or --duration"
		return
	fi
	check_rc "seed-$v: mapleak record" 0 "$EXIT_STATUS" "$T/rec-$v.err"
	[ -s "$data" ] || { not_ok "seed-$v: $data was written"; return; }
	# The contract does not say whether a launched target outlives the
	# recording; residency is taken before mapleak lets go either way.
	if alive "$pid"; then
		note "seed-$v: the launched target still runs after the recording"
	else
		note "seed-$v: mapleak ended the launched target when it stopped"
	fi

	report_json "$data" "$T/$v.json" || return
	pycheck "$T/$v.json" "$LINE" "$pid" "$stop" "seed-$v" <<'PY'
import sys
from report_checks import *
path, line, pid, stop, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
r = load_json(path)
common(r, stopped_by=stop, alive=True, pid=pid, command=name)
check_agree(r)
top = check_seed_site(r, line, inner=["MyTest", "main"])
if top is not None:
    rb = top.get("resident_bytes")
    check(isinstance(rb, int) and rb >= GIB * 0.98,
          "top site is resident (>= 98% of 1 GiB)", ">= %d" % int(GIB * .98), rb)
live = (r.get("live") or {}).get("bytes")
check(isinstance(live, int) and live >= GIB, "live.bytes >= 1 GiB", ">= %d" % GIB, live)
PY

	timeout 60 "$MAPLEAK" report -i "$data" >"$T/$v.txt" 2>"$T/$v.txt.err"
	check_rc "seed-$v: mapleak report (text)" 0 $? "$T/$v.txt.err"
	if head -n 15 "$T/$v.txt" | grep -q '1\.0 GiB'; then
		ok "seed-$v: the text report's first lines show 1.0 GiB"
	else
		not_ok "seed-$v: the text report's first lines show 1.0 GiB"
		show "$T/$v.txt" 15
	fi
	ours "$pid" && stop_pid "$pid"
}

run fp signal
run nofp duration
finish
