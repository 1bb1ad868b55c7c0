#!/usr/bin/env bash
# Builds the mediasoup worker from the source inside the npm package against Debian 12's own
# libraries (see README.md here), caches it outside the clone, and links .mimamori/mediasoup-worker.
# Nothing is downloaded: meson finds every subproject already in place (our shims below).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${MIMAMORI_CACHE:-$HOME/.cache/mimamori}"
SRC="$ROOT/node_modules/mediasoup/worker"

log() { printf '[worker] %s\n' "$*" >&2; }
die() { printf '[worker] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$SRC/meson.build" ]] || die "mediasoup is not installed ($SRC missing); run: npm ci"
MS_VERSION="$(node -p "require('$ROOT/node_modules/mediasoup/package.json').version")"

# What the build needs from Debian, checked up front so a missing piece gives one clear message.
DEBS=(g++ pkg-config ninja-build flatbuffers-compiler libflatbuffers-dev libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev python3)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
(( ${#missing[@]} == 0 )) || die "missing Debian packages: ${missing[*]}. Install them: apt-get install -y ${missing[*]} (setup/setup.sh does this as root)"
for tool in g++ ninja flatc pkg-config python3; do
  command -v "$tool" >/dev/null || die "$tool not found on PATH; install the Debian packages above"
done

# Cache key: mediasoup version, the Debian library versions, and our shims and patch.
versions="$(dpkg-query -W -f='${Package}=${Version}\n' "${DEBS[@]}" | sort)"
ours="$(cd "$HERE" && find . -type f ! -name README.md -print0 | sort -z | xargs -0 sha256sum)"
KEY="$(printf '%s\n%s\n%s\n' "$MS_VERSION" "$versions" "$ours" | sha256sum | cut -c1-16)"
DEST="$CACHE/mediasoup-worker/$MS_VERSION-$KEY"
BIN="$DEST/mediasoup-worker"

link() {
  mkdir -p "$ROOT/.mimamori"
  ln -sfn "$BIN" "$ROOT/.mimamori/mediasoup-worker"
}

if [[ -x "$BIN" && "${MIMAMORI_REBUILD_WORKER:-0}" != 1 ]]; then
  link
  exit 0
fi

log "building mediasoup-worker $MS_VERSION against Debian's libraries (once per machine, ~6 minutes on 2 cores)"
log "cache: $DEST"

# meson >= 1.1 (Debian 12 has 1.0.1): from pip, into the cache, never into the system.
MESON_DIR="$CACHE/meson-1"
if ! PYTHONPATH="$MESON_DIR" python3 -c 'import mesonbuild' 2>/dev/null; then
  log "installing meson (pip) into $MESON_DIR"
  rm -rf "$MESON_DIR.tmp"
  python3 -m pip install --quiet --disable-pip-version-check --retries 0 --timeout 10 --target "$MESON_DIR.tmp" 'meson>=1.1,<1.13' >&2 \
    || die "pip could not install meson; install it with: python3 -m pip install 'meson>=1.1'"
  rm -rf "$MESON_DIR" && mv "$MESON_DIR.tmp" "$MESON_DIR"
fi
meson() { PYTHONPATH="$MESON_DIR" python3 -m mesonbuild.mesonmain "$@"; }

WORK="$CACHE/mediasoup-worker/build-$MS_VERSION-$KEY.$$"
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cp -a "$SRC" "$WORK/worker"
W="$WORK/worker"

# Our subprojects stand in for mediasoup's downloads: each goes into the directory its .wrap file
# names, where meson finds it already present; --wrap-mode=nodownload forbids any fetch.
for wrap in "$W"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  dir="$(sed -n 's/^directory *= *//p' "$wrap")"
  if [[ -d "$HERE/subprojects/$name" ]]; then
    rm -rf "$W/subprojects/$dir"
    cp -a "$HERE/subprojects/$name" "$W/subprojects/$dir"
  fi
done
rm -rf "$W/subprojects/packagefiles"

# --- The one source fix -----------------------------------------------------------------------
# onSslBioOut() is OpenSSL's BIO callback for DTLS output. OpenSSL calls it twice per write: with
# BIO_CB_WRITE, then with BIO_CB_RETURN|BIO_CB_WRITE, and the second call's return value becomes
# the write's result. mediasoup tests `operationType == BIO_CB_RETURN`, which is never true, so it
# returns 1 for the second call; Debian's OpenSSL 3.0.22 then believes 1 byte was written and the
# worker dies (SIGSEGV in libssl) as soon as a DTLS handshake starts. Testing the bit fixes it.
DTLS="$W/src/RTC/DtlsTransport.cpp"
before='(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1'
after='(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1'
grep -qF "$before" "$DTLS" || die "the DTLS BIO fix no longer applies to mediasoup $MS_VERSION (onSslBioOut changed); review setup/worker/build.sh"
sed -i "s/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1/$after/" "$DTLS"
grep -qF '(operationType & BIO_CB_RETURN)' "$DTLS" || die "applying the DTLS BIO fix failed"
log "patched DtlsTransport.cpp onSslBioOut (BIO_CB_RETURN is a bit, not a value)"

LOGFILE="$CACHE/mediasoup-worker/build-$MS_VERSION-$KEY.log"
fail() { log "build failed; last lines of $LOGFILE:"; tail -n 40 "$LOGFILE" >&2; die "$1"; }
log "configuring (log: $LOGFILE)"
( cd "$W" && meson setup build --buildtype=release -Db_ndebug=true -Dms_disable_liburing=true \
    --wrap-mode=nodownload ) > "$LOGFILE" 2>&1 || fail "meson setup failed"
log "generating FlatBuffers headers"
# The worker's targets do not wait for the generated headers, so build the generator first.
( cd "$W/build" && ninja fbs/FBS ) >> "$LOGFILE" 2>&1 || fail "flatc generation failed"
log "compiling"
( cd "$W/build" && ninja mediasoup-worker ) >> "$LOGFILE" 2>&1 || fail "compiling the worker failed"
"$W/build/mediasoup-worker" --version >/dev/null 2>&1 || true

mkdir -p "$DEST.tmp.$$"
cp "$W/build/mediasoup-worker" "$DEST.tmp.$$/mediasoup-worker"
strip "$DEST.tmp.$$/mediasoup-worker" 2>/dev/null || true
rm -rf "$DEST"
mv "$DEST.tmp.$$" "$DEST"
link
log "built $BIN"
