// RTP fixed header parsing (RFC 3550 section 5.1). Pure: bytes in, fields out.
import type { RtpPacket } from './sequence.ts';
import { RtpFormatError } from './errors.ts';

const HEADER_LEN = 12;

/**
 * Parses one RTP packet (v2, CSRCs, header extensions, padding). Throws
 * RtpFormatError('malformed_rtp', ...) on garbage, and on RTCP (payload types 72–79). `payload` is a view into `bytes` (no copy), so
 * `bytes` must not be reused while the packet is in use; a padding-only packet has an empty payload.
 */
export function parseRtp(bytes: Uint8Array): RtpPacket {
  const length = bytes.length;
  if (length < HEADER_LEN) throw malformed(`RTP packet of ${length} bytes is shorter than the 12-byte header`);
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const version = b0 >> 6;
  if (version !== 2) throw malformed(`RTP version ${version}, want 2`);
  const payloadType = b1 & 0x7f;
  // With rtcp-mux, RTCP SR, RR, SDES, BYE, APP, RTPFB, PSFB and XR (200–207) read as marker +
  // payload type 72–79, which RTP must therefore not use (RFC 5761 section 4).
  if (payloadType >= 72 && payloadType <= 79) throw malformed(`payload type ${payloadType} is RTCP packet type ${payloadType + 128}, not RTP`);

  let offset = HEADER_LEN + (b0 & 0x0f) * 4; // CSRC list
  if (offset > length) throw malformed(`${b0 & 0x0f} CSRCs do not fit a ${length}-byte packet`);
  if (b0 & 0x10) {
    // Header extension: 16-bit profile, 16-bit length in 32-bit words, then the words (RFC 3550 5.3.1).
    if (offset + 4 > length) throw malformed('header extension flag set but the packet ends before the extension header');
    const words = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > length) throw malformed(`header extension of ${words} words does not fit a ${length}-byte packet`);
  }
  let end = length;
  if (b0 & 0x20) {
    // The last byte counts the padding bytes, itself included, so it is never 0.
    const padding = bytes[length - 1]!;
    if (padding === 0 || offset + padding > length) throw malformed(`padding of ${padding} bytes is invalid for ${length - offset} bytes after the header`);
    end = length - padding;
  }
  return {
    payloadType,
    sequenceNumber: (bytes[2]! << 8) | bytes[3]!,
    timestamp: ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0,
    ssrc: ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0,
    marker: (b1 & 0x80) !== 0,
    payload: bytes.subarray(offset, end),
  };
}

function malformed(message: string): RtpFormatError {
  return new RtpFormatError('malformed_rtp', message);
}
