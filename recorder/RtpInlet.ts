// Where recorded RTP enters the Node process: one UDP socket on 127.0.0.1 that every recording
// session's PlainTransport sends to, routed to the session's track by (the transport's port, the
// consumer's SSRC). The alternative, a DirectTransport, turns every RTP packet into a channel
// message that Node decodes from FlatBuffers; a datagram is handed over as it is.

import dgram from 'node:dgram';

/** Big enough for a second of 300 cameras at 1 Mbit/s, should the event loop stall that long. */
const RECEIVE_BUFFER_BYTES = 32 * 1024 * 1024;

export class RtpInlet {
  readonly #socket: dgram.Socket;
  /** port × 2^32 + SSRC → the track's handler (a number key: one lookup, no string per packet). */
  readonly #routes = new Map<number, (bytes: Buffer) => void>();
  #unrouted = 0;

  static async open(): Promise<RtpInlet> {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpInlet(socket);
  }

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', (bytes, from) => this.#onMessage(bytes, from.port));
    socket.on('error', () => undefined); // ICMP errors of a closed transport; nothing to do
  }

  get port(): number {
    return this.#socket.address().port;
  }
  /** Datagrams that matched no track (a session closing, or not RTP from a transport of ours). */
  get unrouted(): number {
    return this.#unrouted;
  }

  /** Sends the RTP of `ssrc` arriving from `fromPort` to `onRtp`; returns the undo. */
  route(fromPort: number, ssrc: number, onRtp: (bytes: Buffer) => void): () => void {
    const key = fromPort * 0x1_0000_0000 + ssrc;
    this.#routes.set(key, onRtp);
    return () => {
      if (this.#routes.get(key) === onRtp) this.#routes.delete(key);
    };
  }

  close(): void {
    this.#socket.close();
  }

  #onMessage(bytes: Buffer, fromPort: number): void {
    // RTCP shares the port (rtcp-mux): packet types 200–206 read as payload types 72–78 with the marker.
    if (bytes.length < 12) return;
    const type = bytes[1]! & 0x7f;
    if (type >= 72 && type <= 78) return;
    const handler = this.#routes.get(fromPort * 0x1_0000_0000 + bytes.readUInt32BE(8));
    if (handler) handler(bytes);
    else this.#unrouted += 1;
  }
}
