#!/bin/bash
# Static analysis (make lint: clang-tidy's analyzer) must find nothing.
cd "$(dirname "$0")/.."
out=$(make --no-print-directory -s lint 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "ok - make lint: no static-analysis finding"
else
	printf '%s\n' "$out" | grep -E 'warning:|error:' | head -20 | sed 's/^/# /'
	echo "not ok - make lint found problems (exit $rc)"
fi
exit $rc
