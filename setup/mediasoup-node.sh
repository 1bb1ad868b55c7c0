#!/usr/bin/env bash
# Changes to mediasoup's Node layer (node_modules/mediasoup/node/lib), made after every npm ci, so
# that RTP reaches the recorder (a DirectTransport consumer's 'rtp' listener) without copies that
# only feed the garbage collector. At 175 recorded cameras about 28,000 packets a second cross the
# worker's channel, and mediasoup 3.15.8:
# - copies each channel message (Channel.js), then each packet again (Consumer.js): both removed,
#   each packet is handed on as a view of the bytes read. Nothing keeps or changes those bytes
#   afterwards (a read chunk is never reused), so a view is safe;
# - joins a message cut across two reads by copying the whole next read onto it (Channel.js): a
#   read under load is 64 KB and nearly every one ends inside a message, so every byte was copied
#   once more. Now only that one message is joined; the rest of the read is used in place.
# Idempotent; a mediasoup whose code differs fails here, to be looked at again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="$ROOT/node_modules/mediasoup/node/lib"

log() { printf '[mediasoup] %s\n' "$*" >&2; }
die() { printf '[mediasoup] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$LIB/Channel.js" && -f "$LIB/Consumer.js" ]] || die "mediasoup is not installed ($LIB missing); run: npm ci"

# file, what for, the original text, the replacement (both literal, may span lines)
change() {
  local file="$LIB/$1" what="$2"
  FROM="$3" TO="$4" python3 - "$file" <<'PY' || die "$1 of this mediasoup does not contain the code setup/mediasoup-node.sh changes ($what); see that file and update it for this version"
import os, sys
path = sys.argv[1]
text = open(path, encoding='utf-8').read()
if os.environ['TO'] in text:
    sys.exit(0)
if os.environ['FROM'] not in text:
    sys.exit(1)
open(path, 'w', encoding='utf-8').write(text.replace(os.environ['FROM'], os.environ['TO'], 1))
print(f'[mediasoup] {os.path.basename(path)}: changed', file=sys.stderr)
PY
}

change Channel.js 'each message copied' \
  'new flatbuffers.ByteBuffer(new Uint8Array(payload))' \
  'new flatbuffers.ByteBuffer(payload) /* mimamori: no copy */'
change Consumer.js 'each packet copied' \
  "this.safeEmit('rtp', Buffer.from(notification.dataArray()));" \
  "{ const data = notification.dataArray(); this.safeEmit('rtp', Buffer.from(data.buffer, data.byteOffset, data.byteLength)); /* mimamori: no copy */ }"
change Channel.js 'a read copied to join one message' \
  "        this.#consumerSocket.on('data', (buffer) => {
            if (!this.#recvBuffer.length) {" \
  "        const onData = (buffer) => {
            // mimamori: a message cut across two reads is joined alone, the rest of the read is used in place.
            if (this.#recvBuffer.length >= 4) {
                const held = this.#recvBuffer;
                const need = 4 + new DataView(held.buffer, held.byteOffset).getUint32(0, IS_LITTLE_ENDIAN) - held.length;
                if (need > 0 && need < buffer.length) {
                    this.#recvBuffer = Buffer.alloc(0);
                    onData(Buffer.concat([held, buffer.subarray(0, need)], held.length + need));
                    buffer = buffer.subarray(need);
                }
            }
            if (!this.#recvBuffer.length) {"
change Channel.js 'the reader registered' \
  "                this.#recvBuffer = this.#recvBuffer.slice(msgStart);
            }
        });
        this.#consumerSocket.on('end'," \
  "                this.#recvBuffer = this.#recvBuffer.slice(msgStart);
            }
        };
        this.#consumerSocket.on('data', onData);
        this.#consumerSocket.on('end',"
