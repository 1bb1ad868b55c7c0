// Frame stamps: an SEI user_data_unregistered message (H.264 D.1.6) the camera adds to each access
// unit, carrying which camera session sent it, its frame number and when. Decoders ignore it; it
// makes every access unit unique (the fixture loops, two cameras share a fixture) and lets a viewer
// measure glass-to-glass latency. Pure.
import { addEmulationPrevention, isVcl, NalType, nalType, removeEmulationPrevention } from './h264.ts';

export interface FrameStamp {
  /** 16 hex digits naming one Camera instance (`Camera.stampId`). */
  source: string;
  /** Frame number within that camera's stream, from 0. */
  frame: number;
  /** When the camera sent the frame: ms since the epoch, sub-millisecond (performance.timeOrigin + now()). */
  sentAt: number;
}

/** UUID of our user_data_unregistered payload: the ASCII bytes of "mimamori-stamp-1". */
export const STAMP_UUID = Uint8Array.from('mimamori-stamp-1', (c) => c.charCodeAt(0));
const SEI_USER_DATA_UNREGISTERED = 5;
const BODY = 8 + 4 + 8; // source, frame, sentAt

/** The SEI NAL unit carrying `stamp`. */
export function encodeStamp(stamp: FrameStamp): Uint8Array {
  if (!/^[0-9a-f]{16}$/.test(stamp.source)) throw new TypeError('stamp source must be 16 lowercase hex digits');
  const size = STAMP_UUID.length + BODY;
  const rbsp = new Uint8Array(2 + size + 1);
  rbsp[0] = SEI_USER_DATA_UNREGISTERED; // payloadType
  rbsp[1] = size; // payloadSize (< 255: one byte)
  rbsp.set(STAMP_UUID, 2);
  const body = new DataView(rbsp.buffer, 2 + STAMP_UUID.length, BODY);
  for (let i = 0; i < 8; i++) body.setUint8(i, parseInt(stamp.source.slice(2 * i, 2 * i + 2), 16));
  body.setUint32(8, stamp.frame >>> 0);
  body.setFloat64(12, stamp.sentAt);
  rbsp[rbsp.length - 1] = 0x80; // rbsp_trailing_bits
  const payload = addEmulationPrevention(rbsp);
  const nal = new Uint8Array(1 + payload.length);
  nal[0] = NalType.sei; // forbidden_zero_bit 0, nal_ref_idc 0
  nal.set(payload, 1);
  return nal;
}

/** The stamp in an SEI NAL unit, or undefined if it is not one of ours. */
export function decodeStamp(nal: Uint8Array): FrameStamp | undefined {
  if (nal.length < 3 + STAMP_UUID.length + BODY || nalType(nal) !== NalType.sei) return undefined;
  const rbsp = removeEmulationPrevention(nal.subarray(1));
  if (rbsp[0] !== SEI_USER_DATA_UNREGISTERED || rbsp[1] !== STAMP_UUID.length + BODY || rbsp.length < 2 + STAMP_UUID.length + BODY) return undefined;
  for (let i = 0; i < STAMP_UUID.length; i++) if (rbsp[2 + i] !== STAMP_UUID[i]) return undefined;
  const body = new DataView(rbsp.buffer, rbsp.byteOffset + 2 + STAMP_UUID.length, BODY);
  let source = '';
  for (let i = 0; i < 8; i++) source += body.getUint8(i).toString(16).padStart(2, '0');
  return { source, frame: body.getUint32(8), sentAt: body.getFloat64(12) };
}

/** The access unit with the stamp's SEI inserted right before its first slice (where SEI belongs). */
export function stampAccessUnit(nalus: readonly Uint8Array[], stamp: FrameStamp): Uint8Array[] {
  const at = nalus.findIndex((n) => isVcl(nalType(n)));
  const out = [...nalus];
  out.splice(at < 0 ? out.length : at, 0, encodeStamp(stamp));
  return out;
}

/** The first of our stamps in an access unit. */
export function findStamp(nalus: readonly Uint8Array[]): FrameStamp | undefined {
  for (const nal of nalus) {
    if (isVcl(nalType(nal))) return undefined; // SEI only comes before the first slice
    const stamp = decodeStamp(nal);
    if (stamp) return stamp;
  }
  return undefined;
}
