#!/bin/bash
# Bounded recordings through BPF: `mapleak record -- mmap-loop PAIRS` with
# folding (the default) and with --no-fold; prints the file size, bytes
# per event and the recorder's peak RSS for each. Needs root.
#   MAPLEAK=build/mapleak BENCH_PROG=build/bench/mmap-loop bench/fold-bpf.sh [PAIRS]
set -eu
MAPLEAK=${MAPLEAK:-build/mapleak}
PROG=${BENCH_PROG:-build/bench/mmap-loop}
PAIRS=${1:-500000}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
for mode in fold no-fold; do
	args=()
	[ "$mode" = no-fold ] && args=(--no-fold)
	/usr/bin/time -f "%M" -o "$d/rss" "$MAPLEAK" record "${args[@]}" -o "$d/r.data" \
		-- "$PROG" "$PAIRS" >"$d/out" 2>"$d/err"
	events=$(grep -o '^mapleak: [0-9]* events' "$d/err" | grep -o '[0-9]*')
	size=$(stat -c %s "$d/r.data")
	awk -v m="$mode" -v e="$events" -v s="$size" -v r="$(cat "$d/rss")" 'BEGIN {
		printf "%-8s %9d events  file %10d bytes (%6.1f B/event)  peak RSS %6.1f MiB\n",
			m, e, s, s / e, r / 1024 }'
done
