#!/bin/bash
# The command line: help and version exit 0; usage errors exit 2; runtime
# errors exit 1 with one clear "mapleak: ..." line on stderr.
. "$(dirname "$0")/lib.sh"

require_mapleak

# run NAME ARG...: runs mapleak with a 30 s limit; sets RC, output in
# $T/NAME.out and $T/NAME.err.
run() {
	local name=$1
	shift
	timeout 30 "$MAPLEAK" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}

# expect_help NAME ARG...: exits 0 and prints something.
expect_help() {
	local name=$1
	shift
	run "$name" "$@"
	if [ "$RC" = 0 ] && [ -s "$T/$name.out" ]; then
		ok "mapleak $* exits 0 and prints $(wc -l <"$T/$name.out") line(s) on stdout"
	elif [ "$RC" = 0 ]; then
		not_ok "mapleak $*: expected exit 0 and text on stdout, got exit 0 and empty stdout"
		show "$T/$name.err"
	else
		not_ok "mapleak $*: expected exit 0, got $RC"
		show "$T/$name.err"
	fi
}

# expect_error NAME RC ARG...: exits RC and says why on stderr; a runtime
# error (1) in exactly one line beginning with "mapleak: ", a usage error
# (2) in any form (usage lines may follow).
expect_error() {
	local name=$1 want=$2 first
	shift 2
	run "$name" "$@"
	first=$(head -n1 "$T/$name.err")
	if [ "$RC" != "$want" ]; then
		not_ok "mapleak $*: expected exit $want, got $RC"
		show "$T/$name.err"
		show "$T/$name.out"
	elif [ "$want" = 1 ] && [ "$(wc -l <"$T/$name.err")" != 1 ]; then
		not_ok "mapleak $*: expected one line on stderr, got $(wc -l <"$T/$name.err")"
		show "$T/$name.err"
	elif [ "$want" = 1 ] && [[ $first != mapleak:* ]]; then
		not_ok "mapleak $*: expected stderr to begin with 'mapleak: ', got '$first'"
	elif [ ! -s "$T/$name.err" ]; then
		not_ok "mapleak $*: expected a message on stderr, got none"
	else
		ok "mapleak $* exits $want: $first"
	fi
}

expect_help help --help
expect_help help-record help record
expect_help record-help record --help
expect_help report-help report --help
expect_help version --version
if grep -q '[0-9]\+\.[0-9]\+' "$T/version.out"; then
	ok "mapleak --version prints a version number: $(head -n1 "$T/version.out")"
else
	not_ok "mapleak --version prints a version number: got '$(head -n1 "$T/version.out")'"
fi

# usage errors
expect_error bogus 2 --bogus-option
expect_error record-bogus 2 record --bogus-option
expect_error report-bogus 2 report --bogus-option
expect_error no-command 2 nosuchcommand
expect_error record-notarget 2 record -o "$T/x.data"
expect_error report-format 2 report -i "$T/x.data" --format xml
expect_error report-top 2 report -i "$T/x.data" --top many
expect_error report-group 2 report -i "$T/x.data" --group-by frame
expect_error report-group2 2 report -i "$T/x.data" --group-by stack,function
expect_error report-group3 2 report -i "$T/x.data" --group-by ,
expect_error record-duration 2 record --duration soon -p 999999
# the ring buffer's one rule (collect.h): powers of two from 64K to 2G
expect_error record-buffer-small 2 record --buffer-size 32K -p 999999
expect_error record-buffer-big 2 record --buffer-size 4G -p 999999
expect_error record-buffer-odd 2 record --buffer-size 96K -p 999999
if grep -q 'from 64K to 2G' "$T/record-buffer-big.err"; then
	ok "the buffer-size message states the limits the code checks"
else
	not_ok "the buffer-size message states the limits the code checks"
	show "$T/record-buffer-big.err"
fi
# the largest size passes parsing: the error is then the missing pid
expect_error record-buffer-max 1 record -o "$T/max.data" --buffer-size 2G -p 999999

# an option at the end without its value: "needs a value", exit 2
# needs_value NAME ARG...
needs_value() {
	local name=$1
	shift
	run "$name" "$@"
	if [ "$RC" = 2 ] && grep -q "^mapleak: option '$(eval echo "\${$#}")' needs a value" "$T/$name.err"; then
		ok "mapleak $* exits 2: $(head -n1 "$T/$name.err")"
	else
		not_ok "mapleak $*: expected exit 2 and \"option '...' needs a value\", got exit $RC: $(head -n1 "$T/$name.err")"
	fi
}
needs_value record-p record -p
needs_value record-pid record --pid
needs_value record-o record -o
needs_value record-d record -d
needs_value report-i report -i
needs_value report-f report --format
needs_value resolve-p resolve -p
needs_value resolve-i resolve -i
needs_value top-p top -p
needs_value top-interval top --interval
needs_value diff-format diff --format
needs_value diff-top diff --top

# runtime errors
if [ "$(id -u)" = 0 ]; then
	expect_error record-nopid 1 record -o "$T/nopid.data" -p 999999
else
	note "not root: record -p 999999 not tried"
fi
expect_error report-missing 1 report -i "$T/does-not-exist.data"
head -c 4096 /dev/urandom >"$T/garbage.data"
expect_error report-garbage 1 report -i "$T/garbage.data"
: >"$T/empty.data"
expect_error report-empty 1 report -i "$T/empty.data"
printf 'MAPLEAK\0' >"$T/header-only.data"
run header-only report -i "$T/header-only.data"
case $RC in
0 | 1) ok "report on a file cut inside its header exits $RC (no crash)" ;;
*) not_ok "report on a file cut inside its header: expected exit 0 or 1, got $RC"
	show "$T/header-only.err" ;;
esac
finish
