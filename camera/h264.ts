// H.264 Annex-B parsing and access-unit grouping. Pure and synchronous: bytes in, structures out.
// The canonical access-unit hash lives here too, so the camera and the viewer cannot disagree on it.
import { createHash } from 'node:crypto';
import { FormatError } from './errors.ts';
import { NalType, nalType, isVcl, keptInSample } from '../recorder/rtp/index.ts';

export { NalType, nalType, isVcl, addEmulationPrevention, removeEmulationPrevention } from '../recorder/rtp/index.ts';


/** One coded picture with the parameter sets and SEI that precede it; NAL units without start codes. */
export interface AccessUnit {
  nalus: Uint8Array[];
  /** Contains an IDR slice (type 5), so a decoder can start here. */
  keyframe: boolean;
}



/**
 * Whether a slice NAL unit starts a picture: first_mb_in_slice is ue(v) right after the 1-byte NAL
 * header, and ue(v) encodes 0 as a single '1' bit. Emulation prevention cannot touch that byte
 * (it is inserted only after two zero bytes).
 */
export function isFirstSliceOfPicture(nal: Uint8Array): boolean {
  return nal.length > 1 && (nal[1]! & 0x80) !== 0;
}

/**
 * Splits an Annex-B byte stream at 3- and 4-byte start codes. Bytes before the first start code
 * are ignored if they are zero (leading_zero_8bits) and rejected otherwise; trailing zero bytes of
 * each NAL unit are trailing_zero_8bits of the stream, not NAL data (a NAL unit ends with its
 * rbsp stop bit, so its last byte is never zero). Returned arrays are views into `bytes`.
 */
export function splitAnnexB(bytes: Uint8Array): Uint8Array[] {
  const nalus: Uint8Array[] = [];
  let start = -1; // index of the first byte of the current NAL unit
  let i = 0;
  const n = bytes.length;
  while (i + 2 < n) {
    // A start code is 00 00 01; skip fast over bytes that cannot begin one.
    if (bytes[i + 2]! > 1) {
      i += 3;
      continue;
    }
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) pushNal(nalus, bytes, start, i);
      else if (bytes.subarray(0, i).some((b) => b !== 0)) {
        throw new FormatError(`Annex-B stream has ${i} bytes of garbage before its first start code`);
      }
      i += 3;
      start = i;
      continue;
    }
    i += 1;
  }
  if (start < 0) {
    if (bytes.some((b) => b !== 0)) throw new FormatError('not an Annex-B stream: no start code (00 00 01) found');
    return nalus;
  }
  pushNal(nalus, bytes, start, n);
  return nalus;
}

function pushNal(out: Uint8Array[], bytes: Uint8Array, start: number, end: number): void {
  while (end > start && bytes[end - 1] === 0) end -= 1;
  if (end > start) out.push(bytes.subarray(start, end));
}

// Non-VCL types that, after a picture's slices, open the next access unit (H.264 7.4.1.2.3).
const OPENS_ACCESS_UNIT: ReadonlySet<number> = new Set([NalType.sei, NalType.sps, NalType.pps, NalType.aud, 14, 15, 16, 17, 18]);

/**
 * Groups NAL units into access units. A new one starts when the current one already holds a slice
 * and the next NAL unit is an AUD, SPS, PPS, SEI (or types 14–18), or a slice with
 * first_mb_in_slice == 0. NAL units before the first slice belong to the first access unit; a tail
 * without any slice (e.g. a lone SPS at the end of a file) is not a picture and is dropped.
 */
export function groupAccessUnits(nalus: readonly Uint8Array[]): AccessUnit[] {
  const units: AccessUnit[] = [];
  let current: Uint8Array[] = [];
  let hasSlice = false;
  let keyframe = false;
  for (const nal of nalus) {
    if (nal.length === 0) continue;
    const type = nalType(nal);
    const vcl = isVcl(type);
    if (hasSlice && (OPENS_ACCESS_UNIT.has(type) || (vcl && isFirstSliceOfPicture(nal)))) {
      units.push({ nalus: current, keyframe });
      current = [];
      hasSlice = false;
      keyframe = false;
    }
    current.push(nal);
    if (vcl) hasSlice = true;
    if (type === NalType.sliceIdr) keyframe = true;
  }
  if (hasSlice) units.push({ nalus: current, keyframe });
  return units;
}

/** Annex-B bytes → access units. */
export function parseAnnexB(bytes: Uint8Array): AccessUnit[] {
  return groupAccessUnits(splitAnnexB(bytes));
}

/**
 * The canonical hash of an access unit, used to prove that what a viewer receives (or the recorder
 * stores) is bit-for-bit the picture the camera sent: lowercase hex SHA-256 of the access unit as
 * the recorder's depacketizer makes it into a sample, i.e. for each NAL unit in order but the
 * parameter sets, AUD and filler (which are not part of a sample), its length as a 4-byte
 * big-endian integer followed by its bytes (AVCC with 4-byte lengths; no start codes, no
 * emulation-prevention changes). Lengths make the form unambiguous, so [ab][c] and [a][bc] hash
 * differently. The same as `hashSample` of that sample.
 */
export function hashAccessUnit(nalus: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  const len = new Uint8Array(4);
  const view = new DataView(len.buffer);
  for (const nal of nalus) {
    if (!keptInSample(nalType(nal))) continue;
    view.setUint32(0, nal.length);
    hash.update(len);
    hash.update(nal);
  }
  return hash.digest('hex');
}

/** `hashAccessUnit` of the access unit a recorded (AVCC, 4-byte lengths) sample holds. */
export function hashSample(sample: Uint8Array): string {
  return createHash('sha256').update(sample).digest('hex');
}

/** An AVCC sample with 4-byte lengths → its NAL units (views into it). */
export function sampleNalus(sample: Uint8Array): Uint8Array[] {
  const nalus: Uint8Array[] = [];
  const view = new DataView(sample.buffer, sample.byteOffset, sample.byteLength);
  for (let at = 0; at + 4 <= sample.length; ) {
    const size = view.getUint32(at);
    if (at + 4 + size > sample.length) throw new FormatError(`an AVCC sample's NAL unit of ${size} bytes runs past its end`);
    nalus.push(sample.subarray(at + 4, at + 4 + size));
    at += 4 + size;
  }
  return nalus;
}

/** Access unit → Annex-B bytes with 4-byte start codes (for writing a received stream to a file). */
export function toAnnexB(nalus: readonly Uint8Array[]): Uint8Array {
  const total = nalus.reduce((sum, nal) => sum + 4 + nal.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const nal of nalus) {
    out.set([0, 0, 0, 1], at);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}


