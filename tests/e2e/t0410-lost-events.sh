#!/bin/bash
# Lost events are never silent: with a ring buffer far too small for a
# target that maps and unmaps flat out, mapleak counts the losses, says
# so in both report formats, reconciles the live set with
# /proc/PID/maps, and still finds the leak made before the flood (the
# looper pauses after it, so its event is in before the ring overflows).
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture looper

LEAK_PAGES=256

start_bg rec /dev/null "$MAPLEAK" record --buffer-size 64K -o "$T/lost.data" -- \
	"$FIX/looper" --leak "$LEAK_PAGES" --pause-ms 500 --exit-after 2.5
REC=$BG_PID
if wait_exit "$REC" 60; then
	check_rc "mapleak record --buffer-size 64K (flooded)" 0 "$EXIT_STATUS" "$T/rec.err"
	if grep -q 'events were lost' "$T/rec.err"; then
		ok "mapleak record warns on stderr that events were lost"
	else
		not_ok "mapleak record warns on stderr that events were lost: got none"
		show "$T/rec.err"
	fi
	"$MAPLEAK" report -i "$T/lost.data" >"$T/lost.txt" 2>&1
	if grep -q 'events LOST' "$T/lost.txt"; then
		ok "the text report says events were lost"
	else
		not_ok "the text report says events were lost"
		show "$T/lost.txt"
	fi
	if report_json "$T/lost.data" "$T/lost.json" --top 0; then
		pycheck "$T/lost.json" "$LEAK_PAGES" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
pages = int(sys.argv[2])
lost = (r.get("events") or {}).get("lost")
check(isinstance(lost, int) and lost > 0, "events.lost counts the losses",
      "> 0", lost)
notes = " ".join(r.get("notes") or [])
check("reconciled" in notes, "a note says the live set was reconciled",
      "a note with 'reconciled'", notes[:200] or "no notes")
sites = [s for s in r.get("sites") or []
         if find_in_order(s.get("frames") or [], [sym_is("looper_leak")])]
check(len(sites) == 1 and sites[0].get("bytes") == pages * 4096,
      "the leak made before the flood is still one site of %d bytes" % (pages * 4096),
      pages * 4096, "; ".join(site_str(s) for s in sites) or "no site")
PY
	fi
else
	not_ok "mapleak ends by itself within 60 s when the flooded target exits"
	show "$T/rec.err"
	stop_pid "$REC"
fi
finish
