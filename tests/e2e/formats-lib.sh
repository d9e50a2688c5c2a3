# Helpers for the report-format tests (tests/e2e/t08NN-*.sh), sourced
# after lib.sh.

# chromium_bin: Debian's chromium (or chromium-browser elsewhere).
chromium_bin() {
	command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

require_chromium() {
	CHROMIUM=$(chromium_bin) || skip_all "chromium is not installed (Debian package chromium)"
}

# chromium_load HTML NAME [shot]: loads file HTML (may end in #FRAGMENT)
# in headless Chromium, no network, a fresh profile; $T/NAME.dom gets the
# DOM after the page's scripts ran, $T/NAME.log the browser's log (console
# messages and uncaught exceptions are logged there with
# --enable-logging=stderr); with "shot", $T/NAME.png a screenshot.
# Returns Chromium's exit status.
chromium_load() {
	local html=$1 name=$2 shot=${3:-} rc
	local flags=(--headless --disable-gpu --no-sandbox --no-first-run
		--user-data-dir="$T/chrome-$name" --enable-logging=stderr --v=0
		--window-size=1400,900 --disable-background-networking
		--proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>')
	timeout 90 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$html" \
		>"$T/$name.dom" 2>"$T/$name.log"
	rc=$?
	[ "$shot" = shot ] &&
		timeout 90 "$CHROMIUM" "${flags[@]}" --screenshot="$T/$name.png" "file://$html" \
			>/dev/null 2>>"$T/$name.log"
	return $rc
}

# check_console NAME: no JavaScript error or console message in the log.
check_console() {
	local name=$1
	if grep -E 'Uncaught|CONSOLE[(:]|SyntaxError|ReferenceError|TypeError' "$T/$name.log" >"$T/$name.errors"; then
		not_ok "$name: the page logs no JavaScript error or console message"
		show "$T/$name.errors"
	else
		ok "$name: the page logs no JavaScript error or console message"
	fi
}
