// The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) written from the SPS and PPS.
import { Mp4FormatError } from './errors.ts';
import type { ByteWriter } from './writer.ts';

// Profiles whose avcC carries chroma format and bit depths after the PPS list (14496-15 5.3.3.1.2).
const EXTENDED_AVCC_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 144]);
// Profiles whose SPS codes chroma_format_idc and bit depths (H.264 7.3.2.1.1); 144 is the old High 4:4:4.
const CHROMA_IN_SPS_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135, 144]);

export function avcCSize(sps: Uint8Array, pps: Uint8Array): number {
  return 8 + 11 + sps.length + pps.length + (EXTENDED_AVCC_PROFILES.has(sps[1]!) ? 4 : 0);
}

/** One SPS and one PPS; lengthSizeMinusOne = 3 because samples carry 4-byte NAL lengths. */
export function avcC(w: ByteWriter, sps: Uint8Array, pps: Uint8Array): void {
  const profile = sps[1]!;
  const start = w.box('avcC');
  w.u8(1); // configurationVersion
  w.u8(profile);
  w.u8(sps[2]!); // profile_compatibility (the constraint flags)
  w.u8(sps[3]!); // AVCLevelIndication
  w.u8(0xfc | 3);
  w.u8(0xe0 | 1);
  w.u16(sps.length);
  w.bytes(sps);
  w.u8(1);
  w.u16(pps.length);
  w.bytes(pps);
  if (EXTENDED_AVCC_PROFILES.has(profile)) {
    const c = spsChroma(sps);
    w.u8(0xfc | c.chromaFormat);
    w.u8(0xf8 | c.lumaDepthMinus8);
    w.u8(0xf8 | c.chromaDepthMinus8);
    w.u8(0); // numOfSequenceParameterSetExt
  }
  // Browsers' MSE parsers reject a 0 ("to the end") size here; ffmpeg had tolerated it.
  w.end(start);
}

interface SpsChroma {
  chromaFormat: number;
  lumaDepthMinus8: number;
  chromaDepthMinus8: number;
}

/** Reads the few ue(v) fields after the level byte; the rest of the SPS is not needed. */
export function spsChroma(sps: Uint8Array): SpsChroma {
  if (!CHROMA_IN_SPS_PROFILES.has(sps[1]!)) return { chromaFormat: 1, lumaDepthMinus8: 0, chromaDepthMinus8: 0 };
  const bits = new RbspBits(sps, 4);
  bits.ue(); // seq_parameter_set_id
  const chromaFormat = bits.ue();
  if (chromaFormat === 3) bits.bit(); // separate_colour_plane_flag
  const lumaDepthMinus8 = bits.ue();
  const chromaDepthMinus8 = bits.ue();
  if (chromaFormat > 3 || lumaDepthMinus8 > 6 || chromaDepthMinus8 > 6) {
    throw new Mp4FormatError('malformed', `SPS has chroma_format_idc ${chromaFormat}, bit depths ${lumaDepthMinus8 + 8}/${chromaDepthMinus8 + 8}`);
  }
  return { chromaFormat, lumaDepthMinus8, chromaDepthMinus8 };
}

/** Bit reader over NAL bytes that drops emulation-prevention bytes (00 00 03) as it goes. */
class RbspBits {
  #byte = 0;
  #left = 0; // unread bits of #byte
  #zeros = 0;
  #at: number;
  readonly #nal: Uint8Array;

  constructor(nal: Uint8Array, start: number) {
    this.#nal = nal;
    this.#at = start;
  }

  bit(): number {
    if (this.#left === 0) {
      let b = this.#next();
      if (this.#zeros >= 2 && b === 3) {
        this.#zeros = 0;
        b = this.#next();
      }
      this.#zeros = b === 0 ? this.#zeros + 1 : 0;
      this.#byte = b;
      this.#left = 8;
    }
    this.#left -= 1;
    return (this.#byte >> this.#left) & 1;
  }

  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new Mp4FormatError('malformed', 'SPS has an Exp-Golomb code longer than 32 bits');
    }
    let v = 0;
    for (let i = 0; i < zeros; i++) v = v * 2 + this.bit();
    return 2 ** zeros - 1 + v;
  }

  #next(): number {
    const b = this.#nal[this.#at++];
    if (b === undefined) throw new Mp4FormatError('truncated', 'SPS ends before its chroma format and bit depths');
    return b;
  }
}
