#!/bin/bash
# Security: mapleak executes no program taken from its target. An
# unprivileged user's process looks like a JVM ready for attach: it maps
# FAKE/lib/server/libjvm.so and catches SIGQUIT, and FAKE/bin/jcmd is an
# executable that leaves a marker file when run (a mapleak that derived
# jcmd from the libjvm.so path ran it with root's environment and
# terminal). `mapleak record -p PID` as root must end cleanly, say that
# it could not get the perf map, leave no marker and no attach file
# behind, and leave the process running. Ctrl-C while mapleak waits for
# the (never coming) attach listener ends the wait at once.
E2E_TIMEOUT=${E2E_TIMEOUT:-90}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_python
require_mapleak
require_fixture libExample.so
sec_user

HOME_U=$T/home
FAKE=$HOME_U/fake
MARK=$HOME_U/jcmd-ran
mkdir -p "$FAKE/lib/server" "$FAKE/bin"
cp "$FIX/libExample.so" "$FAKE/lib/server/libjvm.so"
cp "$E2E_DIR/fake_jvm.py" "$HOME_U/fake_jvm.py"
cat >"$FAKE/bin/jcmd" <<EOF
#!/bin/sh
echo "jcmd ran as uid \$(id -u): \$*" >>"$MARK"
EOF
chmod 755 "$FAKE/bin/jcmd"
chown -R "$SEC_USER:$SEC_USER" "$HOME_U"

# as_user, as an argument list for start_bg (which cannot run a function)
AS_USER=(setpriv --reuid="$SEC_UID" --regid="$SEC_GID" --clear-groups
	 --no-new-privs env -i PATH=/usr/local/bin:/usr/bin:/bin
	 HOME="$HOME_U" TMPDIR=/tmp)
start_bg jvm /dev/null "${AS_USER[@]}" python3 "$HOME_U/fake_jvm.py" \
	"$FAKE/lib/server/libjvm.so" 80
PID=$BG_PID
if ! wait_for 20 grep -q '^fake-jvm: pid .* ready' "$T/jvm.out"; then
	show "$T/jvm.out"
	show "$T/jvm.err"
	bail "the fake JVM (python3, as $SEC_USER) starts within 20 s"
fi
grep -q '/lib/server/libjvm.so' "/proc/$PID/maps" ||
	bail "the fake JVM maps $FAKE/lib/server/libjvm.so"
[ "$(stat -c %u "/proc/$PID")" = "$SEC_UID" ] ||
	bail "the fake JVM runs as $SEC_USER"
ok "a process of $SEC_USER maps .../lib/server/libjvm.so and catches SIGQUIT"

timeout 70 "$MAPLEAK" record -o "$T/rec.data" -p "$PID" --duration 2 \
	>"$T/rec.out" 2>"$T/rec.err"
check_rc "mapleak record -p (fake JVM) ends cleanly" 0 $? "$T/rec.err"

if [ -e "$MARK" ]; then
	not_ok "no program from the target ran: $FAKE/bin/jcmd left '$(head -1 "$MARK")'"
else
	ok "no program from the target ran ($FAKE/bin/jcmd left no marker)"
fi
# The JVM path was taken (not skipped for want of a JVM): mapleak asked
# over the attach socket and said why it got nothing.
if grep -q '^mapleak: \(note: \)\?cannot get the perf map of JVM' "$T/rec.err"; then
	ok "mapleak says it could not get the JVM's perf map"
else
	not_ok "mapleak says it could not get the JVM's perf map"
	show "$T/rec.err"
fi
if grep -q '^quit' "$T/jvm.out"; then
	ok "the attach handshake signalled the process (SIGQUIT, caught)"
else
	not_ok "the attach handshake signalled the process (SIGQUIT, caught)"
fi
NSPID=$(awk '/^NSpid:/ {print $NF}' "/proc/$PID/status")
if [ -e "/tmp/.attach_pid$NSPID" ] || [ -L "/tmp/.attach_pid$NSPID" ]; then
	not_ok "the attach file /tmp/.attach_pid$NSPID is removed"
	rm -f "/tmp/.attach_pid$NSPID"
else
	ok "the attach file /tmp/.attach_pid$NSPID is removed"
fi
if alive "$PID"; then
	ok "the process still runs"
else
	not_ok "the process still runs"
fi

# The binary itself: the one exec is launch mode's execvp of the user's
# command; no other way to run a program is linked in.
if command -v nm >/dev/null 2>&1; then
	EXECS=$(nm -D --undefined-only "$MAPLEAK" | awk '{print $2}' | sed 's/@.*//' |
		grep -E '^(system|popen|posix_spawnp?|exec[a-z]*|fexecve)$' |
		grep -vx execvp | tr '\n' ' ')
	if [ -z "$EXECS" ]; then
		ok "mapleak links no exec function but launch mode's execvp"
	else
		not_ok "mapleak links no exec function but launch mode's execvp: got $EXECS"
	fi
fi

# Ctrl-C during the wait for the listener (up to 15 s otherwise).
start_bg rec2 /dev/null "$MAPLEAK" record -o "$T/rec2.data" -p "$PID"
REC=$BG_PID
if wait_for 20 test -e "/tmp/.attach_pid$NSPID"; then
	sleep 0.3
	kill -INT "$REC"
	if wait_exit "$REC" 3; then
		check_rc "Ctrl-C while waiting for the JVM: mapleak ends within 3 s" 0 \
			"$EXIT_STATUS" "$T/rec2.err"
	else
		not_ok "Ctrl-C while waiting for the JVM: mapleak ends within 3 s"
		kill9 "$REC"
	fi
	if grep -q '^mapleak: \(note: \)\?cannot get the perf map of JVM .*interrupted' "$T/rec2.err"; then
		ok "mapleak says the attach was interrupted"
	else
		not_ok "mapleak says the attach was interrupted"
		show "$T/rec2.err"
	fi
	[ -e "/tmp/.attach_pid$NSPID" ] && rm -f "/tmp/.attach_pid$NSPID" &&
		not_ok "the attach file is removed after Ctrl-C"
else
	not_ok "mapleak creates /tmp/.attach_pid$NSPID for the attach handshake"
	show "$T/rec2.err"
fi
finish
