#!/bin/bash
# Wrong targets are refused with a clear error and exit 2, before any
# tracing: a thread id that is not its process's id (record -p and
# resolve -p name the process to use instead), and a kernel thread
# (kthreadd, pid 2 on a host), which has no user-space mappings.
. "$(dirname "$0")/lib.sh"

require_root
require_python
require_mapleak

# a process with a second thread: prints "PID TID"
start_bg thr /dev/null python3 -c '
import os, threading, time
t = threading.Thread(target=time.sleep, args=(600,), daemon=True)
t.start()
print(os.getpid(), t.native_id, flush=True)
time.sleep(600)'
wait_for 10 grep -q ' ' "$T/thr.out" || bail "a two-thread python process starts"
read -r PID TID <"$T/thr.out"
[ "$PID" != "$TID" ] || bail "the second thread has its own id ($PID, $TID)"

# refused NAME WHAT PATTERN ARG...: mapleak ARG... exits 2 and its first
# stderr line matches PATTERN.
refused() {
	local name=$1 what=$2 pat=$3 rc
	shift 3
	timeout 30 "$MAPLEAK" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	check_rc "$what" 2 "$rc" "$T/$name.err" || return
	if head -n1 "$T/$name.err" | grep -Eq "$pat"; then
		ok "$what: says $(head -n1 "$T/$name.err")"
	else
		not_ok "$what: expected a line matching '$pat', got '$(head -n1 "$T/$name.err")'"
	fi
}

refused rec-tid "record -p THREAD_ID" "$TID is a thread of process $PID.*-p $PID" \
	record -o "$T/tid.data" --duration 1 -p "$TID"
[ -e "$T/tid.data" ] && not_ok "no recording is made for a thread id" ||
	ok "no recording is made for a thread id"
refused res-tid "resolve -p THREAD_ID" "$TID is a thread of process $PID" \
	resolve -p "$TID" 0x1000
# a kernel thread: kthreadd (2) on a host; any task with PF_KTHREAD set
KT=$(python3 -c '
import os
for p in sorted((int(d) for d in os.listdir("/proc") if d.isdigit())):
    try:
        s = open("/proc/%d/stat" % p).read()
    except OSError:
        continue
    if int(s[s.rindex(")") + 2:].split()[6]) & 0x00200000:
        print(p)
        break')
if [ -n "$KT" ]; then
	refused rec-kthread "record -p $KT (kernel thread $(cat /proc/$KT/comm))" \
		"$KT is a kernel thread" record -o "$T/k.data" --duration 1 -p "$KT"
	refused res-kthread "resolve -p $KT (kernel thread)" "$KT is a kernel thread" \
		resolve -p "$KT" 0x1000
else
	note "no kernel thread is visible here (a pid namespace): not tried"
fi

# the process itself is still accepted
timeout 30 "$MAPLEAK" resolve -p "$PID" 0x1000 >"$T/res-pid.out" 2>"$T/res-pid.err"
check_rc "resolve -p PROCESS_ID of the same process works" 0 $? "$T/res-pid.err"
finish
