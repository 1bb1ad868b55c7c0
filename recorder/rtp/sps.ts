// H.264 sequence parameter set → picture size and profile (ITU-T H.264 section 7.3.2.1.1). Pure.
import { removeEmulationPrevention } from './nal.ts';
import { RtpFormatError } from './errors.ts';

export interface SpsInfo {
  width: number;
  height: number;
  profileIdc: number;
  /** constraint_set0..5 flags and the 2 reserved bits: the byte between profile and level. */
  constraintFlags: number;
  levelIdc: number;
}

// Profiles whose SPS carries chroma format, bit depths and scaling matrices (7.3.2.1.1).
const HIGH_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

const MAX_MBS = 2048;

/** Pure SPS parser (exp-Golomb, frame cropping, high-profile chroma/scaling lists). Throws RtpFormatError('malformed_sps'). */
export function parseSps(sps: Uint8Array): SpsInfo {
  if (sps.length < 4) throw malformed(`SPS of ${sps.length} bytes is too short`);
  if ((sps[0]! & 0x1f) !== 7) throw malformed(`NAL unit type ${sps[0]! & 0x1f} is not an SPS (7)`);
  const profileIdc = sps[1]!;
  const constraintFlags = sps[2]!;
  const levelIdc = sps[3]!;
  const r = new BitReader(removeEmulationPrevention(sps.subarray(4)));

  const spsId = r.ue();
  if (spsId > 31) throw malformed(`seq_parameter_set_id ${spsId} is above 31`);
  let chromaFormatIdc = 1; // 4:2:0 when not signalled
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw malformed(`chroma_format_idc ${chromaFormatIdc} is above 3`);
    if (chromaFormatIdc === 3) separateColourPlane = r.bit() === 1;
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit() === 1) {
      // seq_scaling_matrix_present_flag: only skipped, but their length depends on their contents.
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.bit() === 1) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.bit(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    if (cycle > 255) throw malformed(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} is above 255`);
    for (let i = 0; i < cycle; i++) r.se();
  } else if (pocType !== 2) {
    throw malformed(`pic_order_cnt_type ${pocType} is above 2`);
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = r.ue() + 1;
  const heightInMapUnits = r.ue() + 1;
  // Level 6.2 allows about 1055 macroblocks a side; far above that is garbage, not a picture.
  if (widthInMbs > MAX_MBS || heightInMapUnits > MAX_MBS) throw malformed(`${widthInMbs}x${heightInMapUnits} macroblocks is not a plausible picture size`);
  const frameMbsOnly = r.bit();
  if (frameMbsOnly === 0) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.bit() === 1) {
    cropLeft = r.ue();
    cropRight = r.ue();
    cropTop = r.ue();
    cropBottom = r.ue();
  }

  // Crop offsets count in chroma sample units (7.4.2.1.1, table 6-1).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  const width = widthInMbs * 16 - cropUnitX * (cropLeft + cropRight);
  const height = (2 - frameMbsOnly) * heightInMapUnits * 16 - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0) throw malformed(`frame cropping leaves a ${width}x${height} picture`);
  return { width, height, profileIdc, constraintFlags, levelIdc };
}

/** Reads a scaling_list() only to move past it (7.3.2.1.1.1). */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      next = (last + r.se() + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** MSB-first reader of an RBSP (emulation prevention already removed). */
class BitReader {
  readonly #bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  bit(): number {
    const byte = this.#bytes[this.#bit >> 3];
    if (byte === undefined) throw malformed('SPS ends in the middle of a field');
    const value = (byte >> (7 - (this.#bit & 7))) & 1;
    this.#bit += 1;
    return value;
  }

  /** Unsigned exp-Golomb ue(v) (9.1). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros += 1;
      if (zeros > 31) throw malformed('exp-Golomb code longer than 32 bits');
    }
    let value = 0;
    for (let i = 0; i < zeros; i++) value = value * 2 + this.bit();
    return 2 ** zeros - 1 + value;
  }

  /** Signed exp-Golomb se(v) (9.1.1): 1, -1, 2, -2, ... */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

function malformed(message: string): RtpFormatError {
  return new RtpFormatError('malformed_sps', message);
}
