import type { Depacketizer } from './frame.ts';
import { H264FrameDepacketizer } from './h264.ts';
import { OpusDepacketizer } from './opus.ts';
import { Vp8Depacketizer } from './vp8.ts';

export type DepacketizerCodec = 'h264' | 'vp8' | 'opus';

/** A fresh depacketizer for one stream (one SSRC) of `codec`. */
export function createDepacketizer(codec: DepacketizerCodec): Depacketizer {
  switch (codec) {
    case 'h264':
      return new H264FrameDepacketizer();
    case 'vp8':
      return new Vp8Depacketizer();
    case 'opus':
      return new OpusDepacketizer();
    default:
      throw new TypeError(`no depacketizer for codec ${String(codec satisfies never)}`);
  }
}
