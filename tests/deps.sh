#!/bin/bash
# Dependencies point one way (docs/design.md): a file under src/ may
# include its own layer and the layers below, never one above.
#   0 util/, util.h, util.c, mapleak.h, collect/events.h, arch/ (leaves)
#   1 collect   2 track   3 target   4 unwind, symbols   5 runtime
#   6 record    7 report    8 cmd-*.c, cmd.h, main.c
# Prints one "ok -"/"not ok -" line per layer violation found, or one ok.
cd "$(dirname "$0")/.." || exit 1

# layer of a path relative to src/; empty when it is not one of ours
layer() {
	case $1 in
	util/* | util.h | util.c | mapleak.h | collect/events.h | arch/*) echo 0 ;;
	collect/* | *.skel.h) echo 1 ;;	# the skeleton is collect's, generated
	track/*) echo 2 ;;
	target/*) echo 3 ;;
	unwind/* | symbols/*) echo 4 ;;
	runtime/*) echo 5 ;;
	record/*) echo 6 ;;
	report/* | flamegraph-html.h) echo 7 ;;
	cmd-*.c | cmd.h | main.c) echo 8 ;;
	esac
}

bad=0 files=0 unknown=0
while IFS= read -r f; do
	rel=${f#src/}
	from=$(layer "$rel")
	if [ -z "$from" ]; then
		echo "not ok - $f is in no layer: add it to tests/deps.sh"
		unknown=$((unknown + 1))
		continue
	fi
	files=$((files + 1))
	dir=$(dirname "$rel")
	while IFS= read -r inc; do
		# "x.h" is looked up next to the file first, then from src/
		if [ "$dir" != . ] && [ -e "src/$dir/$inc" ]; then
			target="$dir/$inc"
		else
			target=$inc
		fi
		to=$(layer "$target")
		[ -n "$to" ] || continue	# system or generated headers
		if [ "$to" -gt "$from" ]; then
			echo "not ok - $f (layer $from) includes \"$inc\" (layer $to)"
			bad=$((bad + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find src -name '*.[ch]' ! -name '*.bpf.c' ! -name 'vmlinux_*.h' | sort)

if [ "$files" -eq 0 ]; then
	echo "not ok - no source file found under src/"
	exit 1
fi
if [ $bad -eq 0 ] && [ $unknown -eq 0 ]; then
	echo "ok - includes of $files files under src/ point only down the layers"
fi
[ $bad -eq 0 ] && [ $unknown -eq 0 ]
