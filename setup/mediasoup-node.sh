#!/usr/bin/env bash
# One change to mediasoup's Node layer (node_modules/mediasoup/node/lib), made after every npm ci:
# an RTP packet a DirectTransport consumer hands to its 'rtp' listener (the recorder's path) is a
# view of the bytes read from the worker's channel, not a copy of a copy. mediasoup copies each
# channel message (Channel.js) and then each packet again (Consumer.js); at 175 recorded cameras
# that is about 28,000 packets a second, two buffers each, for the garbage collector to free.
# Nothing keeps or changes those bytes afterwards (the read chunk is never reused), so a view is
# safe. Idempotent; a mediasoup whose code differs fails here, to be looked at again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="$ROOT/node_modules/mediasoup/node/lib"

log() { printf '[mediasoup] %s\n' "$*" >&2; }
die() { printf '[mediasoup] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$LIB/Channel.js" && -f "$LIB/Consumer.js" ]] || die "mediasoup is not installed ($LIB missing); run: npm ci"

# file, the original text, the replacement (both literal)
change() {
  local file="$LIB/$1" from="$2" to="$3"
  if grep -qF -- "$to" "$file"; then return 0; fi
  grep -qF -- "$from" "$file" \
    || die "$1 of this mediasoup does not contain the code setup/mediasoup-node.sh changes; see that file and update it for this version"
  FROM="$from" TO="$to" python3 - "$file" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path, encoding='utf-8').read()
open(path, 'w', encoding='utf-8').write(text.replace(os.environ['FROM'], os.environ['TO'], 1))
PY
  log "$1: RTP handed on without copying"
}

change Channel.js \
  'new flatbuffers.ByteBuffer(new Uint8Array(payload))' \
  'new flatbuffers.ByteBuffer(payload) /* mimamori: no copy */'
change Consumer.js \
  "this.safeEmit('rtp', Buffer.from(notification.dataArray()));" \
  "{ const data = notification.dataArray(); this.safeEmit('rtp', Buffer.from(data.buffer, data.byteOffset, data.byteLength)); /* mimamori: no copy */ }"
