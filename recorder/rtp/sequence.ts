// RTP packet fields and 16-bit sequence-number arithmetic (RFC 3550), shared by the recorder's
// parser and reorder buffer and the synthetic camera's packetizers.

/** The fields of an RTP packet this module reads and writes (werift's and mediasoup's packets are converted at the edge). */
export interface RtpPacket {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
}

/** a + b modulo 2^16 (sequence numbers). */
export function seqAdd(a: number, b: number): number {
  return (a + b) & 0xffff;
}

/** Signed distance from `a` to `b` on the 16-bit sequence circle, in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
