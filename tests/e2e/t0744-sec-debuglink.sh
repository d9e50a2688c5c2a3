#!/bin/bash
# Security: naming a target's code never opens a file the target names
# for mapleak (root) to open. An unprivileged user's library carries a
# .gnu_debuglink "x.debug", and next to it (in the user's own folder)
# x.debug is a FIFO. libdwfl's standard search opens that name with a
# plain open(), which waits forever for a writer (and `resolve` blocks
# SIGTERM while it works). mapleak takes separate debug info from the
# host's build-id folders only: the address is named from the library's
# own symbols, at once.
E2E_TIMEOUT=${E2E_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_root
require_mapleak
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip_all "no C compiler ($CC)"
command -v objcopy >/dev/null 2>&1 || skip_all "objcopy (binutils) is not installed"
sec_user

D=$T/home/lib
mkdir "$D"
printf 'int mapleak_debuglink_probe(int x) { return x * 3; }\n' >"$D/x.c"
"$CC" -g -O1 -shared -fPIC -o "$D/libx.so" "$D/x.c" &&
	objcopy --only-keep-debug "$D/libx.so" "$D/x.debug" &&
	objcopy --strip-debug --add-gnu-debuglink="$D/x.debug" "$D/libx.so" ||
	bail "setup: build libx.so with a .gnu_debuglink"
rm "$D/x.debug"
mkfifo "$D/x.debug"
chown -R "$SEC_UID:$SEC_GID" "$D"

start_bg tgt /dev/null setpriv --reuid="$SEC_UID" --regid="$SEC_GID" \
	--clear-groups --no-new-privs env -i PATH=/usr/bin:/bin \
	LD_PRELOAD="$D/libx.so" sleep 300
TGT=$BG_PID
wait_for 10 grep -q "libx.so" "/proc/$TGT/maps" ||
	bail "setup: the target maps libx.so"
SYM=$(nm -D "$D/libx.so" | awk '$3 == "mapleak_debuglink_probe" { print $1 }')
START=$(awk '/libx\.so/ && $2 ~ /x/ { split($1, a, "-"); print a[1]; exit }' "/proc/$TGT/maps")
OFF=$(awk '/libx\.so/ && $2 ~ /x/ { print $3; exit }' "/proc/$TGT/maps")
# The library's first executable mapping: load address = start - offset.
ADDR=$(printf '0x%x' $((0x$START - 0x$OFF + 0x$SYM + 1)))

t0=$(date +%s)
timeout -s KILL 30 "$MAPLEAK" resolve -p "$TGT" "$ADDR" >"$T/res.out" 2>&1
rc=$?
t1=$(date +%s)
if [ "$rc" = 0 ] && [ $((t1 - t0)) -lt 20 ]; then
	ok "a FIFO named by the library's .gnu_debuglink does not hang mapleak ($((t1 - t0)) s)"
else
	not_ok "a FIFO named by the library's .gnu_debuglink does not hang mapleak: exit $rc after $((t1 - t0)) s"
	show "$T/res.out"
fi
if grep -q 'mapleak_debuglink_probe+0x1' "$T/res.out"; then
	ok "the address is named from the library's own symbols"
else
	not_ok "the address is named from the library's own symbols (mapleak_debuglink_probe+0x1)"
	show "$T/res.out"
fi

finish
