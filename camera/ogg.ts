// Ogg (RFC 3533) → Opus packets (RFC 7845). Pure and synchronous. Only the first logical stream
// is read; its two header packets (OpusHead, OpusTags) are parsed or skipped, never returned.
import { FormatError } from './errors.ts';
import { concatBytes } from './rtp.ts';

export interface OggOpus {
  /** Channel count from OpusHead (the RTP payload is the same for mono and stereo). */
  channels: number;
  /** Samples at 48 kHz the decoder discards at the start (encoder delay). */
  preSkip: number;
  /** Audio packets in order, header packets excluded. */
  packets: Uint8Array[];
}

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const HEADER_LEN = 27;

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, over the page with its CRC field zeroed. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!; // the CRC field itself counts as zeros
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

/** Splits an Ogg file into the packets of its first logical stream, reassembling packets that span pages. */
export function parseOggPackets(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: Uint8Array[] = [];
  let serial: number | undefined;
  let partial: Uint8Array[] = []; // segments of a packet not yet terminated by a lacing value < 255
  let at = 0;
  while (at < bytes.length) {
    if (at + HEADER_LEN > bytes.length) throw new FormatError(`Ogg page header truncated at byte ${at}`);
    for (let k = 0; k < 4; k++) {
      if (bytes[at + k] !== CAPTURE[k]) throw new FormatError(`no Ogg capture pattern "OggS" at byte ${at}`);
    }
    if (bytes[at + 4] !== 0) throw new FormatError(`Ogg version ${bytes[at + 4]} at byte ${at} is not 0`);
    const flags = bytes[at + 5]!;
    const pageSerial = view.getUint32(at + 14, true);
    const crc = view.getUint32(at + 22, true);
    const segments = bytes[at + 26]!;
    const lacingAt = at + HEADER_LEN;
    if (lacingAt + segments > bytes.length) throw new FormatError(`Ogg lacing table truncated at byte ${at}`);
    let bodyLen = 0;
    for (let s = 0; s < segments; s++) bodyLen += bytes[lacingAt + s]!;
    const bodyAt = lacingAt + segments;
    const end = bodyAt + bodyLen;
    if (end > bytes.length) throw new FormatError(`Ogg page at byte ${at} runs past the end of the file`);
    if (oggCrc(bytes.subarray(at, end)) !== crc) throw new FormatError(`Ogg page at byte ${at} fails its CRC`);

    serial ??= pageSerial;
    if (pageSerial === serial) {
      const continued = (flags & 0x01) !== 0;
      // A page that does not continue a packet while one is pending means a page was lost;
      // the pending bytes are not a whole packet.
      if (!continued) partial = [];
      // A continuation with nothing pending (the file starts mid-packet): skip to the packet's end.
      let skipping = continued && partial.length === 0;
      let segAt = bodyAt;
      for (let s = 0; s < segments; s++) {
        const len = bytes[lacingAt + s]!;
        if (!skipping) partial.push(bytes.subarray(segAt, segAt + len));
        segAt += len;
        if (len < 255) {
          if (!skipping) packets.push(partial.length === 1 ? partial[0]! : concatBytes(partial));
          partial = [];
          skipping = false;
        }
      }
    }
    at = end;
  }
  return packets;
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  if (bytes.length < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** Parses an Ogg Opus file into its audio packets. */
export function parseOggOpus(bytes: Uint8Array): OggOpus {
  const all = parseOggPackets(bytes);
  const head = all[0];
  if (!head || !startsWith(head, 'OpusHead') || head.length < 19) throw new FormatError('first Ogg packet is not an OpusHead header');
  const tags = all[1];
  if (!tags || !startsWith(tags, 'OpusTags')) throw new FormatError('second Ogg packet is not an OpusTags header');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const packets = all.slice(2).filter((p) => p.length > 0);
  return { channels: head[9]!, preSkip: view.getUint16(10, true), packets };
}

// Frame duration in 48 kHz samples for each TOC config (RFC 6716 3.1): SILK 0–11, hybrid 12–15, CELT 16–31.
const SILK = [480, 960, 1920, 2880];
const HYBRID = [480, 960];
const CELT = [120, 240, 480, 960];

/** Duration of an Opus packet in 48 kHz samples, from its TOC byte and frame count (RFC 6716 3.1–3.2). */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) throw new FormatError('empty Opus packet');
  const toc = packet[0]!;
  const config = toc >> 3;
  const frame = config < 12 ? SILK[config % 4]! : config < 16 ? HYBRID[config % 2]! : CELT[config % 4]!;
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.length < 2) throw new FormatError('Opus code-3 packet without its frame count byte');
    frames = packet[1]! & 0x3f;
    if (frames === 0) throw new FormatError('Opus code-3 packet with zero frames');
  }
  const samples = frame * frames;
  if (samples > 5760) throw new FormatError(`Opus packet lasts ${samples / 48} ms, over the 120 ms limit`);
  return samples;
}
