#!/bin/bash
# How a recording starts and ends:
#  1. a launched target that exits by itself: stopped_by exit, residency
#     unknown (null), the report still works;
#  2. an attached target killed with SIGKILL: mapleak notices and ends;
#  3. mapleak killed with SIGKILL: the target goes on at full speed, no
#     BPF program of mapleak stays loaded, and the partial file gives a
#     report with a warning or a clear error;
#  4. SIGINT: stopped_by signal; the default file name is mapleak.data;
#  5. --duration: stopped_by duration, and the previous mapleak.data
#     becomes mapleak.data.old.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture looper

LEAK_PAGES=64

# Cases other than 3 run the looper lightly (--sleep-us 1000, about 1000
# pairs/s): a recorder is expected to lose no event at that rate. Case 3
# runs it flat out to measure its speed.

# looper_rate FILE SECONDS: the median of the "looper: rate R" lines the
# target prints during the next SECONDS.
looper_rate() {
	local n0
	n0=$(wc -l <"$1")
	sleep "$2"
	tail -n +"$((n0 + 1))" "$1" | sed -n 's/^looper: rate //p' |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}

# bpf_prog_ids PID: ids of the BPF programs PID holds (fds and links).
bpf_prog_ids() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un
}

# loaded_prog_ids: ids of every BPF program loaded in the kernel.
loaded_prog_ids() {
	bpftool -j prog show 2>/dev/null |
		python3 -c 'import json, sys; [print(p["id"]) for p in json.load(sys.stdin)]'
}

# ---- 1. a launched target exits by itself ----
note "1. launched target exits by itself"
start_bg rec1 /dev/null "$MAPLEAK" record -o "$T/exit.data" -- \
	"$FIX/looper" --leak "$LEAK_PAGES" --exit-after 2 --sleep-us 1000
REC=$BG_PID
if wait_exit "$REC" 30; then
	check_rc "mapleak ends by itself when the launched target exits" 0 "$EXIT_STATUS" "$T/rec1.err"
	grep -q '^mapleak: recording' "$T/rec1.err" ||
		not_ok "mapleak printed a 'mapleak: recording' line"
	if report_json "$T/exit.data" "$T/exit.json" --top 0; then
		pycheck "$T/exit.json" "$LEAK_PAGES" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
pages = int(sys.argv[2])
common(r, stopped_by="exit", alive=False, command="looper")
sites = [s for s in r.get("sites") or []
         if find_in_order(s.get("frames") or [], [sym_is("looper_leak")])]
check(len(sites) == 1 and sites[0].get("bytes") == pages * 4096,
      "the leak of looper_leak is one site of %d bytes" % (pages * 4096),
      pages * 4096, "; ".join(site_str(s) for s in sites) or "no site")
churn = [s for s in r.get("sites") or []
         if find_in_order(s.get("frames") or [], [sym_is("looper_churn")])]
check(not churn, "looper_churn's mmap+munmap pairs leave no site", "none",
      "; ".join(site_str(s) for s in churn[:3]))
PY
	fi
else
	not_ok "mapleak ends by itself within 30 s when the launched target exits"
	show "$T/rec1.err"
	stop_pid "$REC"
fi

# ---- 2. an attached target is killed with SIGKILL ----
note "2. attached target killed with SIGKILL"
start_bg looper2 /dev/null "$FIX/looper" --sleep-us 1000
TGT=$BG_PID
wait_for 10 grep -q 'ready' "$T/looper2.out" || bail "looper starts"
start_bg rec2 /dev/null "$MAPLEAK" record -o "$T/killed.data" -p "$TGT"
REC=$BG_PID
if wait_recording "$REC" "$T/rec2.err"; then
	sleep 0.5
	kill9 "$TGT"
	if wait_exit "$REC" 15; then
		check_rc "mapleak ends by itself when the attached target is killed" 0 "$EXIT_STATUS" "$T/rec2.err"
		if report_json "$T/killed.data" "$T/killed.json"; then
			pycheck "$T/killed.json" "$TGT" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
common(r, stopped_by="exit", alive=False, pid=int(sys.argv[2]))
PY
		fi
	else
		not_ok "mapleak ends within 15 s when the attached target is killed"
		show "$T/rec2.err"
		stop_pid "$REC"
	fi
fi

# ---- 3. mapleak is killed with SIGKILL ----
note "3. mapleak killed with SIGKILL"
start_bg looper3 /dev/null "$FIX/looper"
TGT=$BG_PID
wait_for 10 grep -q 'ready' "$T/looper3.out" || bail "looper starts"
sleep 0.5
BEFORE=$(looper_rate "$T/looper3.out" 2)
start_bg rec3 /dev/null "$MAPLEAK" record -o "$T/partial.data" -p "$TGT"
REC=$BG_PID
if wait_recording "$REC" "$T/rec3.err"; then
	DURING=$(looper_rate "$T/looper3.out" 2)
	IDS=$(bpf_prog_ids "$REC")
	kill9 "$REC"
	sleep 0.5
	AFTER=$(looper_rate "$T/looper3.out" 2)
	note "looper rate (pairs/s): before $BEFORE, traced $DURING, after $AFTER"
	if alive "$TGT"; then
		ok "the target still runs after mapleak was killed"
	else
		not_ok "the target still runs after mapleak was killed"
	fi
	if awk -v b="$BEFORE" -v a="$AFTER" 'BEGIN { exit !(b > 0 && a >= 0.7 * b) }'; then
		ok "the target runs at full speed after mapleak was killed (>= 70% of its untraced rate)"
	else
		not_ok "the target runs at full speed after mapleak was killed: expected >= 70% of $BEFORE pairs/s, got $AFTER (traced: $DURING)"
	fi
	if [ -z "$IDS" ]; then
		note "mapleak held no BPF program fd (no BPF, or another collector)"
		ok "no BPF program of mapleak remains (it held none)"
	else
		left=
		for i in $(seq 50); do
			left=$(comm -12 <(echo "$IDS") <(loaded_prog_ids | sort -un))
			[ -z "$left" ] && break
			sleep 0.1
		done
		if [ -z "$left" ]; then
			ok "no BPF program of mapleak remains loaded ($(echo $IDS | wc -w) were)"
		else
			not_ok "no BPF program of mapleak remains loaded: expected none of ids $(echo $IDS), still loaded: $(echo $left)"
			bpftool prog show 2>/dev/null | sed 's/^/#   /' | head -20
		fi
	fi
	# the partial file: a report with a warning, or a clear error
	timeout 30 "$MAPLEAK" report -i "$T/partial.data" >"$T/partial.txt" 2>"$T/partial.err"
	rc=$?
	# a warning: any line telling the user the recording is incomplete
	warn='warn|cut short|incomplete|truncat|did not finish|killed|damaged'
	if [ "$rc" = 0 ] && grep -Eqi "$warn" "$T/partial.txt" "$T/partial.err"; then
		ok "report on the file of a killed recorder works and warns: $(grep -Ehi "$warn" "$T/partial.txt" "$T/partial.err" | head -n1)"
	elif [ "$rc" = 1 ] && [ "$(wc -l <"$T/partial.err")" = 1 ] &&
		grep -q '^mapleak: ' "$T/partial.err"; then
		ok "report on the file of a killed recorder fails with a clear message: $(cat "$T/partial.err")"
	else
		not_ok "report on the file of a killed recorder: expected exit 0 with a warning, or exit 1 with one 'mapleak: ...' line, got exit $rc"
		show "$T/partial.err"
		show "$T/partial.txt" 10
	fi
fi
stop_pid "$TGT"

# ---- 4. SIGINT; the default file name ----
note "4. SIGINT, default output file"
start_bg looper4 /dev/null "$FIX/looper" --leak "$LEAK_PAGES" --sleep-us 1000
TGT=$BG_PID
wait_for 10 grep -q 'ready' "$T/looper4.out" || bail "looper starts"
mkdir -p "$T/cwd"
(cd "$T/cwd" && exec env --default-signal=INT "$MAPLEAK" record -p "$TGT" \
	>"$T/rec4.out" 2>"$T/rec4.err") &
REC=$!
_PIDS+=("$REC")
if wait_recording "$REC" "$T/rec4.err"; then
	sleep 1
	kill -INT "$REC"
	if wait_exit "$REC" 15; then
		check_rc "mapleak stops on SIGINT" 0 "$EXIT_STATUS" "$T/rec4.err"
		if [ -s "$T/cwd/mapleak.data" ]; then
			ok "the recording goes to mapleak.data by default"
			(cd "$T/cwd" && timeout 30 "$MAPLEAK" report --format json \
				>"$T/int.json" 2>"$T/int.err")
			check_rc "mapleak report reads mapleak.data by default" 0 $? "$T/int.err" &&
				pycheck "$T/int.json" "$TGT" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
common(r, stopped_by="signal", alive=True, pid=int(sys.argv[2]))
check_agree(r)
PY
		else
			not_ok "the recording goes to mapleak.data by default: $T/cwd/mapleak.data missing"
		fi
	else
		not_ok "mapleak ends within 15 s of SIGINT"
		stop_pid "$REC"
	fi
fi

# ---- 5. --duration; mapleak.data.old ----
note "5. --duration, mapleak.data.old"
(cd "$T/cwd" && exec "$MAPLEAK" record --duration 2 -p "$TGT" \
	>"$T/rec5.out" 2>"$T/rec5.err") &
REC=$!
_PIDS+=("$REC")
if wait_exit "$REC" 20; then
	check_rc "mapleak stops by itself after --duration 2" 0 "$EXIT_STATUS" "$T/rec5.err"
	if [ -s "$T/cwd/mapleak.data.old" ]; then
		ok "the previous mapleak.data became mapleak.data.old"
	else
		not_ok "the previous mapleak.data became mapleak.data.old"
	fi
	if report_json "$T/cwd/mapleak.data" "$T/dur.json"; then
		pycheck "$T/dur.json" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
common(r, stopped_by="duration", alive=True)
d = r.get("duration_s")
check(isinstance(d, (int, float)) and 1.5 <= d <= 10,
      "duration_s is about 2", "1.5 .. 10", d)
PY
	fi
	if [ -s "$T/cwd/mapleak.data.old" ] &&
		report_json "$T/cwd/mapleak.data.old" "$T/old.json"; then
		pycheck "$T/old.json" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
check(r.get("stopped_by") == "signal", "mapleak.data.old is the SIGINT recording",
      "signal", r.get("stopped_by"))
PY
	fi
else
	not_ok "mapleak stops by itself within 20 s with --duration 2"
	show "$T/rec5.err"
	stop_pid "$REC"
fi
stop_pid "$TGT"
finish
