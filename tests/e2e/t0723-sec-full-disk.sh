#!/bin/bash
# A full disk stops the recording at once: mapleak says "cannot write
# 'FILE': No space left on device" and exits 1 within seconds (not at
# --duration), the attached target runs on, and the partial file is cut
# at a record boundary, so report reads it (a recording that did not
# finish, nothing damaged).
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture looper

mkdir "$T/full"
if mount -t tmpfs -o size=256k mapleak-e2e "$T/full" 2>"$T/mount.err"; then
	trap 'umount "$T/full" 2>/dev/null; _cleanup' EXIT
	LIMIT=() WANT="No space left on device"
else
	# no mount here (a container): the file size limit fails writes alike
	note "cannot mount a tmpfs ($(head -n1 "$T/mount.err")): using ulimit -f 256"
	LIMIT=(bash -c 'ulimit -f 256; exec "$@"' limit) WANT="File too large"
fi

# flat out: the recorder's 1 MiB buffer fills, and the file with it, fast.
# --no-fold: every event is written (folded, a churning target's file
# stays far smaller than the disk; the write path is the same).
start_bg looper /dev/null "$FIX/looper"
TGT=$BG_PID
wait_for 10 grep -q 'ready' "$T/looper.out" || bail "looper starts"

SECONDS=0
start_bg rec /dev/null "${LIMIT[@]}" "$MAPLEAK" record -o "$T/full/r.data" \
	--no-fold --duration 40 -p "$TGT"
REC=$BG_PID
if wait_exit "$REC" 30; then
	check_rc "mapleak record on a full disk fails" 1 "$EXIT_STATUS" "$T/rec.err"
	if [ "$SECONDS" -le 20 ]; then
		ok "it stops at once: ${SECONDS}s after starting (--duration 40)"
	else
		not_ok "it stops at once: expected within 20 s (--duration 40), got ${SECONDS}s"
	fi
else
	not_ok "mapleak stops within 30 s when the disk is full (--duration 40)"
	show "$T/rec.err"
	stop_pid "$REC"
fi
if grep -q "^mapleak: cannot write '$T/full/r.data': $WANT" "$T/rec.err"; then
	ok "it says why: $(grep "^mapleak: cannot write" "$T/rec.err")"
else
	not_ok "it says \"cannot write '$T/full/r.data': $WANT\""
	show "$T/rec.err"
fi
N0=$(wc -l <"$T/looper.out")
sleep 1
if alive "$TGT" && [ "$(wc -l <"$T/looper.out")" -gt "$N0" ]; then
	ok "the target runs on after mapleak stopped"
else
	not_ok "the target runs on after mapleak stopped"
fi

timeout 30 "$MAPLEAK" report -i "$T/full/r.data" >"$T/r.txt" 2>"$T/r.txt.err"
check_rc "report reads the partial file" 0 $? "$T/r.txt.err"
if report_json "$T/full/r.data" "$T/r.json" --top 0; then
	pycheck "$T/r.json" "$TGT" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
t = r.get("target") or {}
check(t.get("pid") == int(sys.argv[2]), "the partial file names the target", sys.argv[2], t.get("pid"))
ev = (r.get("events") or {}).get("total")
check(isinstance(ev, int) and ev > 100, "the partial file holds the events written", "> 100", ev)
notes = r.get("notes") or []
check(any("no end record" in n for n in notes),
      "the report says the recording did not finish", "a note 'no end record'", notes)
check(not any("damaged" in n or "cut short" in n for n in notes),
      "the file ends at a record boundary (no damage, not cut inside a record)",
      "no such note", notes)
PY
fi
stop_pid "$TGT"
finish
