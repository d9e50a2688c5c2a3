#!/bin/bash
# mapleak follows one process. When the target starts others (a shell
# script, `dotnet run`), the user hears of it, on stderr and in the
# report, with the command that would record the child.
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture seed-fp

start_bg rec /dev/null "$MAPLEAK" record -o "$T/sh.data" -- \
	sh -c "'$FIX/seed-fp' --no-wait --exit-after 1; true"
REC=$BG_PID
if wait_exit "$REC" 60; then
	check_rc "mapleak record -- sh -c 'seed; true'" 0 "$EXIT_STATUS" "$T/rec.err"
	if grep -Eq '^mapleak: note: pid [0-9]+ started process [0-9]+, which is not traced .*mapleak record -p [0-9]+' "$T/rec.err"; then
		ok "stderr names the child process and how to record it"
	else
		not_ok "stderr names the child process and how to record it"
		show "$T/rec.err"
	fi
	if report_json "$T/sh.data" "$T/sh.json" --top 0; then
		pycheck "$T/sh.json" <<'PY'
import sys
from report_checks import *
r = load_json(sys.argv[1])
notes = [n for n in r.get("notes") or [] if "not traced" in n]
check(len(notes) == 1, "the report has one note about the untraced child",
      1, r.get("notes"))
sites = [s for s in r.get("sites") or []
         if find_in_order(s.get("frames") or [], [sym_is("mmap_allocation")])]
check(not sites, "the child's leak is not attributed to the shell", "none",
      "; ".join(site_str(s) for s in sites))
PY
	fi
else
	not_ok "mapleak ends by itself when the launched shell exits"
	show "$T/rec.err"
	stop_pid "$REC"
fi
finish
