#!/bin/bash
# Frame names come from the target: a JIT method named
# "Evil;Na\nme</script><script>alert(1)</script>" + U+2028 must show as
# text in the HTML page, never run. The recording is synthetic (written by
# the unit test's writer, build/tests/test-formats --write-recording).
# Also the command line of the formats: a binary format refuses a
# terminal, -o to an unwritable place fails, --group-by takes two words.
# the watchdog starts in lib.sh: two Chromium runs take long on a loaded machine
E2E_TIMEOUT=${E2E_TIMEOUT:-200}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/formats-lib.sh"

require_python
require_mapleak
require_chromium
WRITER=$BUILD/tests/test-formats
[ -x "$WRITER" ] || bail "'$WRITER' is missing: build it with 'make $WRITER'"

"$WRITER" --write-recording "$T/evil.data" || bail "the synthetic recording is written"

timeout 60 "$MAPLEAK" report -i "$T/evil.data" --format html -o "$T/evil.html" 2>"$T/html.err"
check_rc "mapleak report --format html (hostile names)" 0 $? "$T/html.err"
want_scripts=$(grep -o '<script' "$ROOT/src/report/flamegraph.html" | wc -l)
got_scripts=$(grep -o '<script' "$T/evil.html" | wc -l)
[ "$got_scripts" = "$want_scripts" ] &&
	ok "html: the file has the page's $want_scripts <script> tags, no more" ||
	not_ok "html: the file has the page's $want_scripts <script> tags: got $got_scripts"

chromium_load "$T/evil.html" evil shot
check_rc "chromium loads the page" 0 $? "$T/evil.log"
check_console evil
pycheck "$T/evil.dom" "$want_scripts" <<'PY'
import sys
from dom_checks import load_dom, check_page_ran
from report_checks import check
d = load_dom(sys.argv[1])
want = int(sys.argv[2])
check_page_ran(d, "html")
check(d.scripts == want, "html: the DOM holds only the page's own scripts", want, d.scripts)
evil = "Evil;Na?me</script><script>alert(1)</script>\u2028x"
names = [f["name"] for f in d.frames]
check(evil in names, "html: the hostile name is a frame, as text, byte for byte", repr(evil), names)
check(not any(t in ("img", "iframe", "object", "embed") for t, _ in d.tags),
      "html: no element came out of a name")
check(any(f["name"] == "leak_fn" and f["bytes"] == 3 << 20 for f in d.frames),
      "html: leak_fn is drawn with its 3 MiB", "3145728", [(f["name"], f["bytes"]) for f in d.frames])
PY

# ---- the command line ----
run() {	# run NAME ARG...: mapleak with stdin from /dev/null; sets RC
	local name=$1
	shift
	timeout 30 "$MAPLEAK" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}
if command -v script >/dev/null 2>&1; then
	# script(1) gives mapleak a terminal as stdout
	timeout 30 script -qec "$MAPLEAK report -i $T/evil.data --format pprof" /dev/null \
		>"$T/tty.out" 2>&1
	check_rc "pprof to a terminal is refused (usage)" 2 $? "$T/tty.out"
	grep -q "binary" "$T/tty.out" && ok "the refusal says the format is binary" ||
		not_ok "the refusal says the format is binary: $(head -c 200 "$T/tty.out")"
else
	not_ok "script(1) is installed (util-linux), to give mapleak a terminal"
fi
run pipe report -i "$T/evil.data" --format pprof
check_rc "pprof into a pipe or file is allowed" 0 "$RC" "$T/pipe.err"
[ "$(head -c2 "$T/pipe.out" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
	ok "pprof output is gzip" || not_ok "pprof output is gzip"
run unwritable report -i "$T/evil.data" --format folded -o "$T/no/such/dir/x.folded"
check_rc "-o into a missing folder fails" 1 "$RC" "$T/unwritable.err"
grep -q "cannot write '$T/no/such/dir/x.folded'" "$T/unwritable.err" &&
	ok "-o failure names the file" || { not_ok "-o failure names the file"; show "$T/unwritable.err"; }
echo keep >"$T/target.txt"
ln -s "$T/target.txt" "$T/link.html"
run symlink report -i "$T/evil.data" --format html -o "$T/link.html"
check_rc "-o onto a symbolic link is refused" 1 "$RC" "$T/symlink.err"
[ "$(cat "$T/target.txt")" = keep ] && ok "-o did not write through the link" ||
	not_ok "-o did not write through the link"
run groupby report -i "$T/evil.data" --group-by process
check_rc "--group-by process is a usage error" 2 "$RC" "$T/groupby.err"
run badformat report -i "$T/evil.data" --format svg
check_rc "--format svg is a usage error" 2 "$RC" "$T/badformat.err"
grep -q "folded, pprof, speedscope, html" "$T/badformat.err" &&
	ok "an unknown format lists the known ones" || { not_ok "an unknown format lists the known ones"; show "$T/badformat.err"; }
run help report --help
grep -q -- "--fail-over SIZE" "$T/help.out" && grep -q -- "--group-by" "$T/help.out" &&
	ok "report --help documents --fail-over and --group-by" ||
	not_ok "report --help documents --fail-over and --group-by"
# over/under on the synthetic recording: its top site holds 3 MiB
run over report -i "$T/evil.data" --fail-over 1M
check_rc "--fail-over 1M with a 3 MiB site" 3 "$RC" "$T/over.err"
run under report -i "$T/evil.data" --fail-over 3M
check_rc "--fail-over 3M with a 3 MiB site (not more than)" 0 "$RC" "$T/under.err"
finish
