#!/bin/bash
# A command mapleak launched does not outlive it unseen: killed with
# SIGKILL, mapleak takes its child along (PR_SET_PDEATHSIG). With
# --keep-child the command runs on, when mapleak is killed and when the
# recording stops (--duration).
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_mapleak
require_fixture seed-fp

# launch NAME ARG...: mapleak record ARG... -- seed-fp, which runs until
# killed; waits for the recording and the child's pid (CHILD).
launch() {
	local name=$1
	shift
	start_bg "$name" /dev/null "$MAPLEAK" record -o "$T/$name.data" "$@" -- \
		"$FIX/seed-fp" --pid-file "$T/$name.pid"
	REC=$BG_PID
	track_pid_file "$T/$name.pid"
	wait_recording "$REC" "$T/$name.err" || return 1
	wait_for 10 test -s "$T/$name.pid" || { not_ok "the child writes its pid"; return 1; }
	CHILD=$(pid_from_file "$T/$name.pid")
}

# gone_within SECONDS PID
gone_within() {
	local n=$(($1 * 10)) i=0
	while alive "$2"; do
		i=$((i + 1))
		[ "$i" -gt "$n" ] && return 1
		sleep 0.1
	done
}

if launch die; then
	kill9 "$REC"
	if gone_within 5 "$CHILD"; then
		ok "the launched command dies with mapleak (SIGKILL)"
	else
		not_ok "the launched command dies with mapleak (SIGKILL): pid $CHILD still runs after 5 s"
	fi
fi

if launch keep --keep-child; then
	kill9 "$REC"
	sleep 1
	if alive "$CHILD"; then
		ok "--keep-child: the command runs on after mapleak is killed"
	else
		not_ok "--keep-child: the command runs on after mapleak is killed"
	fi
	stop_pid "$CHILD"
fi

if launch keepdur --keep-child --duration 2; then
	if wait_exit "$REC" 30; then
		check_rc "--keep-child --duration 2: the recording ends" 0 "$EXIT_STATUS" "$T/keepdur.err"
	else
		not_ok "--keep-child --duration 2: the recording ends within 30 s"
		stop_pid "$REC"
	fi
	if alive "$CHILD"; then
		ok "--keep-child: the command runs on after the recording stopped"
	else
		not_ok "--keep-child: the command runs on after the recording stopped"
	fi
	stop_pid "$CHILD"
fi
finish
