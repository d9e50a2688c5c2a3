#!/bin/bash
# Replays the fuzz corpora: for each built fuzz target, every file of
# fuzz/corpus/NAME/ once, then a short bounded random run from a copy of
# the corpus (the repository's corpus is never written).
# Prints "ok - fuzz NAME replay (N inputs)" or "not ok - ..."; exits 0 when
# all are ok. A fuzz/fuzz-NAME.c without its binary is "not ok": build it
# with `make fuzz-bins`.
# Environment: FUZZ_BIN_DIR (default build/fuzz), FUZZ_RUNS (20000),
# FUZZ_TIME (10 s), FUZZ_SEED (1; a fixed seed keeps the run repeatable).
set -u
cd "$(dirname "$0")/.." || exit 1

bindir=${FUZZ_BIN_DIR:-build/fuzz}
runs=${FUZZ_RUNS:-20000}
secs=${FUZZ_TIME:-10}
seed=${FUZZ_SEED:-1}
artifacts=$bindir/artifacts
status=0

# Shows the end of a failed run's log, as TAP comments.
show_log() {
	tail -n 25 "$1" | sed 's/^/# /'
}

shopt -s nullglob
srcs=(fuzz/fuzz-*.c)
if [ ${#srcs[@]} -eq 0 ]; then
	echo "not ok - fuzz: no fuzz/fuzz-*.c targets"
	exit 1
fi

for src in "${srcs[@]}"; do
	name=${src#fuzz/fuzz-}
	name=${name%.c}
	bin=$bindir/fuzz-$name
	corpus=fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $name replay: $bin not built (make fuzz-bins)"
		status=1
		continue
	fi
	files=()
	if [ -d "$corpus" ]; then
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$corpus" -type f -print0 | sort -z)
	fi
	log=$(mktemp)
	work=$(mktemp -d)
	mkdir -p "$artifacts"

	# libFuzzer runs files given on the command line once each.
	ok=1
	if [ ${#files[@]} -gt 0 ] &&
	   ! "$bin" -artifact_prefix="$artifacts/$name-" "${files[@]}" >"$log" 2>&1; then
		echo "not ok - fuzz $name replay (${#files[@]} inputs): a corpus input fails"
		show_log "$log"
		ok=0
	fi
	if [ $ok = 1 ]; then
		[ ${#files[@]} -gt 0 ] && cp -- "${files[@]}" "$work/"
		if ! "$bin" -runs="$runs" -max_total_time="$secs" -seed="$seed" \
		     -artifact_prefix="$artifacts/$name-" "$work" >"$log" 2>&1; then
			echo "not ok - fuzz $name replay (${#files[@]} inputs): random run (seed $seed) failed, see $artifacts/"
			show_log "$log"
			ok=0
		fi
	fi
	[ $ok = 1 ] && echo "ok - fuzz $name replay (${#files[@]} inputs)"
	[ $ok = 1 ] || status=1
	rm -rf -- "$log" "$work"
done
exit $status
