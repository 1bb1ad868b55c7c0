#!/usr/bin/env bash
# Builds the browser client (client/ → dist/client, served by the server at /) with Vite.
# Rebuilds only when client/ sources, the protocol types or package-lock.json changed (a hash kept
# in dist/client/.build-hash). The new build is made next to the old one and swapped in, so a
# running server never serves a half-written directory. Usage: setup/client.sh [--force]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[client] %s\n' "$*" >&2; }
die() { printf '[client] ERROR: %s\n' "$*" >&2; exit 1; }

OUT="dist/client"
STAMP="$OUT/.build-hash"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

[[ -d client ]] || die "client/ is missing in $ROOT"
[[ -x node_modules/.bin/vite ]] || die "vite is not installed; run 'npm ci' (setup/setup.sh does it) and try again"

# Everything that can change the bundle: our sources, the shared protocol types and answer schemas,
# the locked deps.
hash="$(
  {
    find client signaling/wire/answers -type f ! -path 'client/node_modules/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum signaling/protocol.ts signaling/wire/domain.ts package-lock.json
  } | sha256sum | cut -d' ' -f1
)"

if [[ $FORCE == 0 && -f "$STAMP" && -f "$OUT/index.html" && -f "$OUT/camera.html" && "$(cat "$STAMP")" == "$hash" ]]; then
  log "up to date ($OUT)"
  exit 0
fi

log "building $OUT with vite"
staging="dist/.client-build-$$"
rm -rf "$staging"
trap 'rm -rf "$staging"' EXIT
if ! npx --no-install vite build --config client/vite.config.ts --outDir "$ROOT/$staging" --emptyOutDir --logLevel warn >&2; then
  die "vite build failed (errors above); fix client/ and run setup/client.sh again"
fi
for page in index.html camera.html; do
  [[ -f "$staging/$page" ]] || die "the build did not produce $page"
done
echo "$hash" > "$staging/.build-hash"

# Swap the finished build in.
old="dist/.client-old-$$"
if [[ -d "$OUT" ]]; then mv "$OUT" "$old"; fi
mv "$staging" "$OUT"
rm -rf "$old"
log "built $OUT ($(du -sh "$OUT" | cut -f1))"
