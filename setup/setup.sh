#!/usr/bin/env bash
# Installs whatever a fresh Debian 12 machine is missing to run Mimamori, then gets out of the way.
# Idempotent and fast when everything is present. Usage: setup/setup.sh [--test]
#   --test  also installs what the tests and benchmarks need (Chromium, ffmpeg, PostgreSQL, HAProxy).
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
# postgresql-15: the tests run their own throwaway server (test/postgres.ts: initdb into a temp
# folder, 127.0.0.1 only); the default cluster 15/main the package creates is never used.
# haproxy (2.6): the tests run their own in front of several nodes (test/haproxy.ts: a generated
# configuration, loopback and free ports only); Debian's haproxy.service, whose default
# configuration listens nowhere, is left as the package sets it up.
if [[ $WANT_TEST == 1 ]]; then PKGS+=(chromium ffmpeg postgresql-15 haproxy); fi
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

# --- TURN relay (coturn) -----------------------------------------------------------------------
# Optional: without it MIMAMORI_TURN defaults to off. The service runs its own coturn with a
# generated configuration (turn-config/); Debian's coturn.service, with /etc/turnserver.conf and
# no shared secret of ours, would only hold port 3478, so it is disabled, never relied on.
if ! dpkg-query -W -f='${Status}' coturn 2>/dev/null | grep -q 'install ok installed'; then
  if [[ $(id -u) == 0 ]]; then
    log "installing Debian's coturn (TURN relay)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends coturn >&2 \
      || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends coturn >&2; } \
      || die "apt-get install coturn failed; check the machine reaches Debian's package mirror, or run without TURN (MIMAMORI_TURN=off)"
  else
    log "coturn is not installed: no TURN relay (clients behind UDP-blocking firewalls may not connect). Install it with: sudo apt-get install -y coturn"
  fi
fi
if command -v systemctl >/dev/null && systemctl is-enabled --quiet coturn.service 2>/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    log "disabling Debian's coturn.service (Mimamori runs its own coturn)"
    now=(); [[ -d /run/systemd/system ]] && now=(--now)   # stop it too where systemd runs
    systemctl disable "${now[@]}" coturn.service >&2 || die "could not disable coturn.service; run: sudo systemctl disable --now coturn"
  else
    log "Debian's coturn.service is enabled and may hold port 3478; disable it with: sudo systemctl disable --now coturn"
  fi
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

# --- mediasoup: RTP to the recorder without copies (see the script), then the worker ---------------
bash setup/mediasoup-node.sh
bash setup/worker/build.sh

# --- browser client bundle -------------------------------------------------------------------
bash setup/client.sh
