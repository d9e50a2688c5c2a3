#!/bin/bash
# make install / uninstall into a staging folder; the man page renders
# without warnings and names every command and long option that
# 'mapleak help' shows; the bash completion loads and completes commands.
set -u
cd "$(dirname "$0")/.."
fail=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fail=1; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
MAPLEAK=${MAPLEAK_BUILD:-build}/mapleak

if make --no-print-directory -s install DESTDIR="$d" PREFIX=/usr >"$d/log" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	not_ok "make install failed: $(tail -3 "$d/log")"
fi
for f in usr/bin/mapleak usr/share/man/man1/mapleak.1 \
	 usr/share/bash-completion/completions/mapleak; do
	[ -f "$d/$f" ] && ok "installed /$f" || not_ok "/$f not installed"
done
[ -x "$d/usr/bin/mapleak" ] && "$d/usr/bin/mapleak" --version >/dev/null &&
	ok "installed binary runs" || not_ok "installed binary does not run"

w=$(groff -man -ww -z "$d/usr/share/man/man1/mapleak.1" 2>&1)
[ -z "$w" ] && ok "man page renders without warnings" ||
	not_ok "man page warnings: $(echo "$w" | head -3)"
man_txt=$(MANWIDTH=200 groff -man -Tutf8 "$d/usr/share/man/man1/mapleak.1" 2>/dev/null |
	sed 's/.\x08//g')
cmds=$("$MAPLEAK" --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{f=0}')
for c in $cmds; do
	[ "$c" = help ] && continue
	printf '%s\n' "$man_txt" | grep -q "mapleak $c" &&
		ok "man page has command $c" || not_ok "man page lacks command $c"
	for o in $("$MAPLEAK" help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		[ "$o" = --help ] && continue
		printf '%s\n' "$man_txt" | grep -q -- "$o" ||
			not_ok "man page lacks $c option $o"
	done
done

out=$(bash -c 'source "$1"; COMP_WORDS=(mapleak re); COMP_CWORD=1; _mapleak;
	echo "${COMPREPLY[*]}"' _ "$d/usr/share/bash-completion/completions/mapleak")
[ "$out" = "record report resolve" ] && ok "bash completion of 're'" ||
	not_ok "bash completion of 're': got '$out'"

make --no-print-directory -s uninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
left=$(find "$d" -type f ! -name log)
[ -z "$left" ] && ok "make uninstall removes every file" ||
	not_ok "left after uninstall: $left"
exit $fail
