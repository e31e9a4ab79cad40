# SPDX-License-Identifier: GPL-2.0-only
# Open an HTML file in headless Chromium once: a screenshot, the rendered DOM and the page's
# console, for report.bats. No network, no profile left behind, bounded in time.

require_chromium() {
	CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
	[ -n "$CHROMIUM" ] || skip "chromium not installed (tests/lib/deps.sh installs it)"
}

# Build the PNG checker (tests/lib/pngstat.c) once per file; sets PNGSTAT.
build_pngstat() {
	PNGSTAT="${BATS_FILE_TMPDIR}/pngstat"
	[ -x "$PNGSTAT" ] || cc -O2 -o "$PNGSTAT" "${FL_ROOT}/tests/lib/pngstat.c" -lz
}

# browser_render FILE.html OUTDIR: OUTDIR/shot.png (1200x900), OUTDIR/dom.html (the DOM after
# rendering), OUTDIR/console.log (the page's console messages, one per line; empty is clean).
browser_render() {
	local html="$1" out="$2"
	mkdir -p "$out"
	# --enable-logging=stderr --v=0 logs every console message of the page as
	# "INFO:CONSOLE:LINE] "message", source: URL (LINE)" (console.error and uncaught
	# exceptions included); the rest of stderr is the browser's own noise (D-Bus, GPU).
	timeout 30 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-dev-shm-usage --user-data-dir="$out/profile" \
		--enable-logging=stderr --v=0 --window-size=1200,900 \
		--screenshot="$out/shot.png" --dump-dom "file://$(realpath "$html")" \
		>"$out/dom.html" 2>"$out/stderr.log"
	local st=$?
	grep -E 'CONSOLE[:(]|Uncaught' "$out/stderr.log" >"$out/console.log" || true
	rm -rf "$out/profile"
	return $st
}
