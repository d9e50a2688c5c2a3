#!/bin/bash
# mapleak top on a terminal (ncurses), in a tmux pane: the screen shows
# the header and grow_site, 's' switches the sort, 'q' ends it with exit
# 0 and the target lives on.
. "$(dirname "$0")/lib.sh"

E2E_TIMEOUT=120
require_root
require_bpf
require_mapleak
require_fixture growth
command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"

SOCK=$T/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
trap 'tmux -S "$SOCK" kill-server 2>/dev/null; _cleanup' EXIT

screen() { tm capture-pane -p -t top >"$T/screen" 2>/dev/null; }
on_screen() { screen && grep -q -- "$1" "$T/screen"; }

make_fifo g
GFD=$FIFO_FD
start_bg g "$T/g.fifo" "$FIX/growth" --seconds 100
GPID=$BG_PID
wait_for 10 grep -q '^growth: pid .* ready' "$T/g.out" ||
	bail "the growth fixture says it is ready"

# The pane runs top with its stderr in a file, then records the status;
# the pid file lets the test's cleanup end a top that did not quit.
cat >"$T/run.sh" <<EOF
echo \$\$ >"$T/top.pid"
exec 2>"$T/top.err"
"$MAPLEAK" top -p $GPID --interval 0.5
echo \$? >"$T/top.rc"
sleep 60
EOF
track_pid_file "$T/top.pid"
tm -f /dev/null new-session -d -s top -x 160 -y 30 "bash $T/run.sh" ||
	bail "tmux starts a session"
if ! wait_for 30 grep -q '^mapleak: watching pid' "$T/top.err"; then
	show "$T/top.err"
	bail "mapleak top says it is watching within 30 s"
fi
echo go >&"$GFD"

if wait_for 20 on_screen grow_site; then
	ok "the screen shows grow_site"
else
	not_ok "the screen shows grow_site within 20 s"
	show "$T/screen"
fi
if grep -q "^mapleak top - sort: growth" "$T/screen" &&
	grep -q "^pid $GPID (growth), .* events, .* lost, live .* in .* site" "$T/screen" &&
	grep -q "LIVE *GROWTH *MAPS *AGE *SITE" "$T/screen"; then
	ok "the screen shows the header (pid, comm, events, lost, live) and columns"
else
	not_ok "the screen shows the header (pid, comm, events, lost, live) and columns"
	show "$T/screen"
fi
tm send-keys -t top s
if wait_for 5 on_screen "sort: bytes"; then
	ok "'s' switches the sort to bytes"
else
	not_ok "'s' switches the sort to bytes"
	show "$T/screen"
fi
tm send-keys -t top q
if wait_for 15 test -s "$T/top.rc"; then
	check_rc "'q' ends top" 0 "$(cat "$T/top.rc")" "$T/top.err"
else
	not_ok "'q' ends top within 15 s"
	show "$T/top.err"
fi
if alive "$GPID"; then
	ok "the target still runs after top quit"
else
	not_ok "the target still runs after top quit"
fi
echo done >&"$GFD"
finish
