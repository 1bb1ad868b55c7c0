#!/usr/bin/env bash
# Installs whatever a fresh Debian 12 machine is missing to run Mimamori, then gets out of the way.
# Idempotent and fast when everything is present. Usage: setup/setup.sh [--test]
#   --test  also installs what the tests and benchmarks need (Chromium, ffmpeg).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
# Build tools and the libraries the mediasoup worker links against (see setup/worker/README.md).
PKGS=(pkg-config ninja-build flatbuffers-compiler libflatbuffers-dev libssl-dev libuv1-dev
      libsrtp2-dev libusrsctp-dev libabsl-dev g++ make python3 python3-pip openssl)
if [[ $WANT_TEST == 1 ]]; then PKGS+=(chromium ffmpeg); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
  if [[ $(id -u) != 0 ]]; then
    die "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed; check the machine reaches Debian's package mirror"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install failed for: ${missing[*]}"
fi

# --- npm packages ----------------------------------------------------------------------------
# .npmrc sets ignore-scripts: nothing here relies on a package's install script (mediasoup's would
# try to download a prebuilt worker).
stamp="node_modules/.mimamori-lock-hash"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund >&2 || die "npm ci failed; check the machine reaches the npm registry"
  echo "$want" > "$stamp"
fi

# --- mediasoup worker ------------------------------------------------------------------------
bash setup/worker/build.sh

# --- browser client bundle -------------------------------------------------------------------
bash setup/client.sh
