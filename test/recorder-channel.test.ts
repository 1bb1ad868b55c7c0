// How RTP reaches the recorder from the real mediasoup worker: through a DirectTransport consumer,
// each packet byte for byte, in order, handed over as a view of the channel's message rather than
// a copy, and a burst read in 64 KB chunks without copying each chunk to join the message cut at
// its end (setup/mediasoup-node.sh; the copies cost the garbage collector at hundreds of cameras).
import '../sfu/worker-bin.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as mediasoup from 'mediasoup';
import { parseRtp } from '../recorder/rtp/index.ts';

/** An RTP packet (Opus, payload type 100, SSRC 1111) carrying `payload`. */
function rtp(seq: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 100;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(seq * 960, 4);
  header.writeUInt32BE(1111, 8);
  return Buffer.concat([header, payload]);
}

/** A producer and its consumer on one DirectTransport of the real worker: what is sent comes back through the channel. */
async function loop(worker: mediasoup.types.Worker) {
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 }] });
  const transport = await router.createDirectTransport();
  const producer = await transport.produce({
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc: 1111 }] },
  });
  const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  return { producer, consumer };
}

/** Sends a packet per payload and resolves with what the consumer hands on, once all of it came back. */
async function roundTrip(worker: mediasoup.types.Worker, payloads: Buffer[], timeoutMs: number) {
  const { producer, consumer } = await loop(worker);
  const received: Buffer[] = [];
  const all = new Promise<void>((resolve) => consumer.on('rtp', (packet) => received.push(packet) === payloads.length && resolve()));
  for (const [i, payload] of payloads.entries()) producer.send(rtp((1000 + i) % 65536, payload));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${received.length} of ${payloads.length} packets came back`)), timeoutMs)))]);
  clearTimeout(timer);
  return { received, consumer };
}

function assertInOrder(received: Buffer[]): void {
  const seqs = received.map((p) => parseRtp(p).sequenceNumber);
  for (let i = 1; i < seqs.length; i++) assert.is((seqs[i]! - seqs[i - 1]! + 65536) % 65536, 1, 'in order, none missing');
}

test('a DirectTransport consumer hands every packet on unchanged, in order, as a view of the message from the worker', async () => {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  try {
    // Bytes that say which packet this is (the worker does not look into an Opus payload).
    const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(200 + i, i));
    const { received, consumer } = await roundTrip(worker, payloads, 5000);

    for (const [i, packet] of received.entries()) {
      const parsed = parseRtp(packet);
      assert.ok(Buffer.from(parsed.payload).equals(payloads[i]!), `packet ${i}: the payload unchanged`);
      assert.is(parsed.payloadType, consumer.rtpParameters.codecs[0]!.payloadType, 'the consumer\'s payload type');
      // In the worker's message, a flatbuffers vector: its length (uint32, little-endian) comes
      // right before the bytes. A copy would have the previous allocation there instead.
      const prefix = packet.byteOffset >= 4 ? new DataView(packet.buffer, packet.byteOffset - 4, 4).getUint32(0, true) : -1;
      assert.is(prefix, packet.length, `packet ${i} is a view of the worker's message, not a copy (setup/mediasoup-node.sh)`);
    }
    assertInOrder(received);
  } finally {
    worker.close();
  }
});

test('a burst read in large chunks: every packet whole and in order, and only the messages cut between reads are joined', async () => {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const concat = Buffer.concat;
  const joined: number[] = [];
  try {
    // What mediasoup's channel joins while the burst is read (nothing else in this process concatenates meanwhile).
    Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
      const out = concat(list, length);
      joined.push(out.length);
      return out;
    }) as typeof Buffer.concat;
    // Packets of a video's size, sent at once: the worker's messages pile up and are read in large chunks.
    const payloads = Array.from({ length: 4000 }, (_, i) => Buffer.alloc(1000 + (i % 200), i % 251));
    const { received } = await roundTrip(worker, payloads, 10_000);
    Buffer.concat = concat;

    for (const [i, packet] of received.entries()) {
      assert.ok(Buffer.from(parseRtp(packet).payload).equals(payloads[i]!), `packet ${i}: the payload unchanged`);
    }
    assertInOrder(received);
    // Messages were cut between reads (else this test shows nothing), and each was joined alone:
    // a message here is under 1.5 KB, a read up to 64 KB.
    assert.ok(joined.length > 0, 'some messages were cut between two reads');
    assert.ok(Math.max(...joined) < 2048, `only the cut message is copied, not the read it ends in: joined ${joined.length} times, at most ${Math.max(...joined)} bytes`);
  } finally {
    Buffer.concat = concat;
    worker.close();
  }
});

test.run();
