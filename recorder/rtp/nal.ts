// H.264 NAL unit basics shared by everything that reads or writes H.264 (the recorder, playback,
// the synthetic camera): unit types, emulation prevention, and where an access unit begins.

const STAP_A = 24;
const FU_A = 28;

/** NAL unit types this module cares about (ITU-T H.264 table 7-1). */
export const NalType = {
  slice: 1,
  sliceIdr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
  endOfSequence: 10,
  endOfStream: 11,
  filler: 12,
} as const;

export function nalType(nal: Uint8Array): number {
  return nal[0]! & 0x1f;
}

/** Types 1–5 carry slice data (VCL NAL units). */
export function isVcl(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** RBSP → NAL payload: inserts emulation_prevention_three_byte after two zeros before a byte ≤ 3 (7.4.1). */
export function addEmulationPrevention(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

/** NAL payload → RBSP: drops each 0x03 that follows two zeros. */
export function removeEmulationPrevention(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of data) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

/** Whether an RTP payload's first NAL unit can only be the first of an access unit (AUD or SPS). */
export function opensAccessUnit(payload: Uint8Array): boolean {
  if (payload.length === 0) return false;
  let type = payload[0]! & 0x1f;
  if (type === STAP_A) {
    if (payload.length < 4) return false;
    type = payload[3]! & 0x1f;
  } else if (type === FU_A) {
    if (payload.length < 2 || (payload[1]! & 0x80) === 0) return false;
    type = payload[1]! & 0x1f;
  }
  return type === NalType.aud || type === NalType.sps;
}
