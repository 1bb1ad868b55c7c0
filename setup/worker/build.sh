#!/usr/bin/env bash
# Builds the mediasoup worker from the source inside the npm package against Debian 12's own
# libraries (see README.md here), caches it outside the clone, and links .mimamori/mediasoup-worker.
# Nothing is downloaded: meson finds every subproject already in place (our shims below).
#   MIMAMORI_CACHE=dir        cache root (default ~/.cache/mimamori)
#   MIMAMORI_REBUILD_WORKER=1 build again even if the cached binary exists
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${MIMAMORI_CACHE:-$HOME/.cache/mimamori}"
SRC="$ROOT/node_modules/mediasoup/worker"
LINK="$ROOT/.mimamori/mediasoup-worker"

log() { printf '[worker] %s\n' "$*" >&2; }
die() { printf '[worker] ERROR: %s\n' "$*" >&2; exit 1; }

# --- What the build needs, checked up front: one message naming everything missing -------------
# Debian packages whose versions also go into the cache key (they shape the binary).
KEY_DEBS=(libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev
          flatbuffers-compiler g++)
missing=()
installed="$(dpkg-query -W -f='${Package} ${Status}\n' pkg-config ninja-build "${KEY_DEBS[@]}" 2>/dev/null || true)"
for p in pkg-config ninja-build "${KEY_DEBS[@]}"; do
  grep -qx "$p install ok installed" <<<"$installed" || missing+=("$p")
done
# The commands themselves, by the Debian package that provides them.
for tool_pkg in cc:gcc c++:g++ pkg-config:pkg-config ninja:ninja-build flatc:flatbuffers-compiler python3:python3; do
  command -v "${tool_pkg%%:*}" >/dev/null 2>&1 || missing+=("${tool_pkg#*:}")
done
if (( ${#missing[@]} )); then
  missing=($(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++'))
  die "missing Debian packages: ${missing[*]}. Install them as root with: apt-get install -y ${missing[*]} (setup/setup.sh does this)"
fi
[[ -f "$SRC/meson.build" && -f "$SRC/../package.json" ]] \
  || die "mediasoup is not installed ($SRC missing); run: npm ci"
MS_VERSION="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$SRC/../package.json")"

# --- Cache key: mediasoup version + Debian library versions + our files here -------------------
versions="$(dpkg-query -W -f='${Package}=${Version}\n' "${KEY_DEBS[@]}" | LC_ALL=C sort)"
ours="$(cd "$HERE" && find . -type f ! -name README.md -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)"
KEY="$MS_VERSION-$(printf '%s\n%s\n%s\n' "$MS_VERSION" "$versions" "$ours" | sha256sum | cut -c1-16)"
CDIR="$CACHE/mediasoup-worker"
DEST="$CDIR/$KEY"
BIN="$DEST/mediasoup-worker"

link() {  # replaced by a rename, so a worker starting meanwhile never finds the link missing
  mkdir -p "$ROOT/.mimamori"
  ln -sfn "$BIN" "$LINK.tmp.$$"
  mv -Tf "$LINK.tmp.$$" "$LINK"
}

if [[ -x "$BIN" && "${MIMAMORI_REBUILD_WORKER:-0}" != 1 ]]; then
  link
  exit 0
fi

# One build at a time per cache; a run that waited here reuses what the other one built.
mkdir -p "$CDIR"
exec 9>"$CDIR/.lock"
if ! flock -n 9; then
  log "another build of the worker is running; waiting for it"
  flock 9
  if [[ -x "$BIN" ]]; then link; log "using $BIN"; exit 0; fi
fi

START=$SECONDS
log "building mediasoup-worker $MS_VERSION against Debian's libraries (once per machine, ~6-9 minutes on 2 cores)"
log "cache: $DEST"
mkdir -p "$DEST"
LOGFILE="$DEST/build.log"
: > "$LOGFILE"
fail() { log "$1; last lines of $LOGFILE:"; tail -n 40 "$LOGFILE" >&2; die "$1 (full log: $LOGFILE)"; }

# --- meson >= 1.1 (Debian 12 has 1.0.1): from pip, into the cache, never into the system -------
MESON_DIR="$CACHE/meson-1"
if ! PYTHONPATH="$MESON_DIR" python3 -c 'import mesonbuild' 2>/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 \
    || die "missing: pip for python3. Install it with: apt-get install -y python3-pip"
  log "installing meson (pip) into $MESON_DIR"
  rm -rf "$MESON_DIR.tmp"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$MESON_DIR.tmp" 'meson>=1.1,<1.13' >>"$LOGFILE" 2>&1 \
    || fail "pip could not install meson (python3 -m pip install 'meson>=1.1,<1.13')"
  rm -rf "$MESON_DIR" && mv "$MESON_DIR.tmp" "$MESON_DIR"
fi
meson() { PYTHONPATH="$MESON_DIR" python3 -m mesonbuild.mesonmain "$@"; }

# --- A private copy of the worker source (node_modules is never modified) ---------------------
find "$CDIR" -maxdepth 1 -type d -name 'build*' -exec rm -rf {} +   # leftovers of killed runs
WORK="$(mktemp -d "$CDIR/build.XXXXXX")"
TMPBIN="$DEST/.mediasoup-worker.tmp.$$"
NINJA=""
cleanup() {
  if [[ -n "$NINJA" ]]; then kill "$NINJA" 2>/dev/null || true; wait "$NINJA" 2>/dev/null || true; fi
  rm -rf "$WORK" "$TMPBIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
cp -a "$SRC" "$WORK/worker"
W="$WORK/worker"

# Our subprojects stand in for mediasoup's downloads: each goes into the directory its .wrap file
# names, and the .wrap is cut down to that directory alone (no URL, no [provide]), so meson has
# nothing it could fetch; wraps we do not shim (liburing, wingetopt: not used here) are removed.
# --wrap-mode=nodownload below forbids fetching as well.
for wrap in "$W"/subprojects/*.wrap; do
  name="$(basename "$wrap" .wrap)"
  if [[ -d "$HERE/subprojects/$name" ]]; then
    dir="$(sed -n 's/^directory *= *//p' "$wrap")"
    [[ -n "$dir" ]] || die "no directory in $name.wrap of mediasoup $MS_VERSION"
    rm -rf "${W:?}/subprojects/$dir"
    cp -a "$HERE/subprojects/$name" "$W/subprojects/$dir"
    printf '[wrap-file]\ndirectory = %s\n' "$dir" > "$wrap"
  else
    rm -f "$wrap"
  fi
done
rm -rf "$W/subprojects/packagefiles" "$W/subprojects/packagecache"
for name in openssl libuv libsrtp2 usrsctp abseil-cpp flatbuffers catch2; do
  [[ -f "$W/subprojects/$name.wrap" ]] \
    || die "mediasoup $MS_VERSION has no subprojects/$name.wrap; the shims in setup/worker/subprojects need review"
done

# --- The one source fix ----------------------------------------------------------------------
# onSslBioOut() is the callback OpenSSL runs around every operation on the worker's outgoing DTLS
# BIO: once before it (operationType = BIO_CB_WRITE, BIO_CB_CTRL, ...) and once after it, with the
# BIO_CB_RETURN bit added (BIO_CB_WRITE|BIO_CB_RETURN, BIO_CB_CTRL|BIO_CB_RETURN, ...). Whatever the
# after-call returns replaces the operation's own result. mediasoup tests
# `operationType == BIO_CB_RETURN`, which is never true since the bit always comes combined, so it
# returns 1 for every after-call: every write and every BIO_ctrl query on that BIO reports 1
# instead of its real result. Debian's OpenSSL 3.0.22 trusts those results and the worker dies
# (SIGSEGV inside libssl) as soon as a DTLS handshake starts. Testing the bit
# (`operationType & BIO_CB_RETURN`) passes the real result `ret` through for after-calls and keeps
# returning 1 ("go on") for before-calls, as the OpenSSL BIO_set_callback_ex manual prescribes.
DTLS="$W/src/RTC/DtlsTransport.cpp"
before='long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;'
after='long resultOfcallback = (operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;'
[[ "$(grep -cF "$before" "$DTLS")" == 1 ]] \
  || die "the DTLS BIO fix no longer applies to mediasoup $MS_VERSION (onSslBioOut in src/RTC/DtlsTransport.cpp changed); review setup/worker/build.sh"
sed -i "s/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/" "$DTLS"
[[ "$(grep -cF "${after//\\/}" "$DTLS")" == 1 ]] || die "applying the DTLS BIO fix to $DTLS failed"
log "patched onSslBioOut in src/RTC/DtlsTransport.cpp (BIO_CB_RETURN is a bit, not a value)"

# --- Configure and build ---------------------------------------------------------------------
log "configuring (log: $LOGFILE)"
( cd "$W" && meson setup build --buildtype=release -Db_ndebug=true -Dms_disable_liburing=true \
    --wrap-mode=nodownload ) >>"$LOGFILE" 2>&1 || fail "meson setup failed"

# The worker's targets do not wait for the generated headers, so build the generator first.
log "generating FlatBuffers headers with $(flatc --version 2>/dev/null || echo flatc)"
ninja -C "$W/build" fbs/FBS >>"$LOGFILE" 2>&1 || fail "flatc generation failed"

log "compiling (progress every 30 s)"
ninja -C "$W/build" -j "$(nproc)" mediasoup-worker >>"$LOGFILE" 2>&1 &
NINJA=$!
last=""
while kill -0 "$NINJA" 2>/dev/null; do
  for _ in $(seq 30); do kill -0 "$NINJA" 2>/dev/null || break; sleep 1; done
  step="$(grep -o '^\[[0-9]*/[0-9]*\]' "$LOGFILE" | tail -n 1 || true)"
  if [[ -n "$step" && "$step" != "$last" ]] && kill -0 "$NINJA" 2>/dev/null; then
    log "compiling $step"; last="$step"
  fi
done
wait "$NINJA" || { NINJA=""; fail "compiling the worker failed"; }
NINJA=""

# It must load against the system libraries: without MEDIASOUP_VERSION it exits with 41.
out="$W/build/mediasoup-worker"
if ldd "$out" | grep -q 'not found'; then ldd "$out" >>"$LOGFILE"; fail "the built worker misses shared libraries"; fi
rc=0; "$out" >/dev/null 2>&1 || rc=$?
[[ $rc == 41 ]] || fail "the built worker does not start (exit $rc, expected 41)"

# Into place atomically: a rename over the final name, never a half-written binary.
cp "$out" "$TMPBIN"
strip "$TMPBIN" 2>/dev/null || true
chmod 755 "$TMPBIN"
mv -f "$TMPBIN" "$BIN"
link
log "built $BIN in $(( (SECONDS - START) / 60 )) min $(( (SECONDS - START) % 60 )) s"
