# Front-end set-up for scripts/run and scripts/test: vendor libraries from npm, and Chromium for the e2e tests.
# Sourced after common.sh, not executed.

VENDOR="$ROOT/dispatch/static/vendor"

# Installs the locked npm packages when node_modules is missing or the lock changed, then copies their dist files.
ensure_frontend() {
  local stamp="$ROOT/node_modules/.callsight-lock" want
  command -v npm >/dev/null || ensure_debs nodejs npm
  want="$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
  if [ ! -d "$ROOT/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing front-end libraries (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" >"$stamp"
  fi
  local tmp="$VENDOR.tmp.$$" nm="$ROOT/node_modules"
  rm -rf "$tmp" && mkdir -p "$tmp/images"
  cp "$nm/leaflet/dist/leaflet-src.esm.js" "$nm/leaflet/dist/leaflet.css" "$tmp/"
  cp "$nm/leaflet/dist/images/"*.png "$tmp/images/"
  cp "$nm/leaflet/LICENSE" "$tmp/LICENSE.leaflet"
  cp "$nm/hls.js/dist/hls.min.mjs" "$tmp/"
  cp "$nm/hls.js/LICENSE" "$tmp/LICENSE.hls.js"
  rm -rf "$VENDOR" && mv "$tmp" "$VENDOR"
}

# Installs Debian's Chromium for the browser tests when missing (Playwright drives it; no browser download).
ensure_browser() {
  [ -x /usr/bin/chromium ] || ensure_debs chromium
}
