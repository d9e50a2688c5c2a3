#!/bin/bash
# Runs test programs and sums their "ok"/"not ok"/"skip" lines.
# Usage: tests/run-all.sh PROGRAM...  (unit binaries and e2e scripts)
# With MAPLEAK_REQUIRE_E2E=1 a skip counts as a failure (CI).
# Last line: "N passed, N failed, N skipped".
set -u
pass=0 fail=0 skip=0
for t in "$@"; do
	name=$(basename "$t")
	echo "=== $name"
	out=$(mktemp)
	case $t in
	*.sh) bash "$t" >"$out" 2>&1 ;;	# whatever its mode bits
	*) "$t" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	s=$(grep -c '^skip - ' "$out")
	rm -f "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "not ok - $name ran no check"
		f=1
	fi
	if [ "${MAPLEAK_REQUIRE_E2E:-0}" = 1 ] && [ "$s" -gt 0 ]; then
		echo "not ok - $name skipped $s check(s) but MAPLEAK_REQUIRE_E2E=1"
		f=$((f + s)); s=0
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
done
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
