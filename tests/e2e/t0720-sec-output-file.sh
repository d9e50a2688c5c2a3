#!/bin/bash
# The recording file is safe to write where others can plant names:
#  1. `cd /tmp && mapleak record`: another user's link at mapleak.data in a
#     sticky folder is refused; the root-owned file it points to is
#     unchanged;
#  2. the same for a link planted at FILE.old (rotation would move it);
#  3. a link in a folder that is not sticky is replaced, never followed:
#     its target is unchanged and the recording is a new regular file,
#     mode 0600 whatever the umask;
#  4. a FIFO (or a device) as -o is refused at once: mapleak does not
#     block on it, and the command is never started.
E2E_TIMEOUT=${E2E_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_root
require_bpf
require_mapleak
require_fixture looper
sec_user

printf 'root secret\n' >"$T/rootfile"
chmod 644 "$T/rootfile"
SUM=$(sha256sum <"$T/rootfile")

# rootfile_intact WHAT: root's file still holds what it held.
rootfile_intact() {
	if [ "$(sha256sum <"$T/rootfile")" = "$SUM" ] && [ ! -L "$T/rootfile" ]; then
		ok "$1: root's file is unchanged"
	else
		not_ok "$1: root's file is unchanged: it now holds $(head -c 60 "$T/rootfile" | od -An -c | head -2)"
	fi
}

# record NAME DIR ARG...: mapleak record in DIR, launching a looper that
# exits after 0.2 s; RC, output in $T/NAME.err.
record() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && timeout 60 "$MAPLEAK" record "$@" -- "$FIX/looper" \
		--exit-after 0.2 --sleep-us 1000 --pid-file "$T/$name.pid" \
		</dev/null >"$T/$name.out" 2>"$T/$name.err")
	RC=$?
}

mkdir "$T/sticky" && chmod 1777 "$T/sticky"

# ---- 1. cd /tmp && mapleak record, mapleak.data planted ----
as_user ln -s "$T/rootfile" "$T/sticky/mapleak.data" || bail "the test user plants a link"
record planted "$T/sticky"
check_rc "record in a sticky folder where another user's link is mapleak.data fails" 1 "$RC" "$T/planted.err"
if grep -q "refusing.*mapleak.data.*another user" "$T/planted.err"; then
	ok "it says why: $(head -n1 "$T/planted.err")"
else
	not_ok "it says why: expected 'refusing ... another user', got '$(head -n1 "$T/planted.err")'"
fi
rootfile_intact "planted mapleak.data"
[ -L "$T/sticky/mapleak.data" ] && ok "the other user's link is left alone" ||
	not_ok "the other user's link is left alone"
[ -s "$T/planted.pid" ] && not_ok "the command is not started when the output is refused" ||
	ok "the command is not started when the output is refused"

# ---- 2. a link planted at FILE.old ----
record first "$T/sticky" -o r.data
check_rc "root records to r.data in the sticky folder" 0 "$RC" "$T/first.err"
as_user ln -s "$T/rootfile" "$T/sticky/r.data.old" || bail "the test user plants a .old link"
record second "$T/sticky" -o r.data
check_rc "a second recording, with another user's link at r.data.old, fails" 1 "$RC" "$T/second.err"
rootfile_intact "planted r.data.old"
if [ -L "$T/sticky/r.data.old" ] && [ -f "$T/sticky/r.data" ] && [ ! -L "$T/sticky/r.data" ]; then
	ok "r.data and the other user's r.data.old are left as they were"
else
	not_ok "r.data and the other user's r.data.old are left as they were"
	ls -la "$T/sticky" | sed 's/^/#   /'
fi

# ---- 3. a folder that is not sticky: the link is replaced ----
as_user ln -s "$T/rootfile" "$T/home/out.data" || bail "the test user plants a link in its folder"
OLD_UMASK=$(umask)
umask 000
record own "$T/home" -o out.data
umask "$OLD_UMASK"
check_rc "record to a name that is a link (in a folder that is not sticky) works" 0 "$RC" "$T/own.err"
rootfile_intact "link in the user's folder"
if [ -f "$T/home/out.data" ] && [ ! -L "$T/home/out.data" ]; then
	ok "the recording is a regular file in place of the link"
else
	not_ok "the recording is a regular file in place of the link: $(ls -la "$T/home/out.data")"
fi
mode=$(stat -c %a "$T/home/out.data" 2>/dev/null)
[ "$mode" = 600 ] && ok "the recording has mode 0600 (umask 000)" ||
	not_ok "the recording has mode 0600 (umask 000): expected 600, got $mode"
timeout 30 "$MAPLEAK" report -i "$T/home/out.data" >"$T/own.txt" 2>"$T/own.txt.err"
check_rc "the recording reads" 0 $? "$T/own.txt.err"
if ls -a "$T/home" "$T/sticky" | grep -q '\.tmp'; then
	not_ok "no temporary file is left: $(ls -a "$T/home" "$T/sticky" | grep '\.tmp' | head -3)"
else
	ok "no temporary file is left"
fi

# ---- 4. a FIFO or a device as -o ----
mkfifo "$T/sticky/fifo.data"
SECONDS=0
record fifo "$T/sticky" -o fifo.data
check_rc "record -o FIFO is refused (in ${SECONDS}s, without blocking)" 1 "$RC" "$T/fifo.err"
grep -q "refusing.*FIFO" "$T/fifo.err" && ok "it says why: $(head -n1 "$T/fifo.err")" ||
	not_ok "it says why: expected 'refusing ... FIFO', got '$(head -n1 "$T/fifo.err")'"
[ -p "$T/sticky/fifo.data" ] && ok "the FIFO is left in place" || not_ok "the FIFO is left in place"
record dev "$T" -o /dev/null
check_rc "record -o /dev/null is refused" 1 "$RC" "$T/dev.err"
[ -c /dev/null ] && ok "/dev/null is still a device" || not_ok "/dev/null is still a device"
finish
