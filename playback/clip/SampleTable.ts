// Columns of one track's samples, as planning finds them: typed arrays that grow by doubling, so an
// hour of 30 fps video with audio costs a few MB and no object per sample.

/** One sample as planning appends it. */
export interface TableSample {
  /** Decode time on the clip's timeline (track ticks from the clip's epoch). */
  t: number;
  /** Its own duration in track ticks (what it lasts without a following sample). */
  duration: number;
  /** Bytes in the source fragment. */
  size: number;
  keyframe: boolean;
  compositionOffset: number;
  /** Index of the fragment (in read order) holding its bytes, and their offset in it. */
  fragment: number;
  offset: number;
  /** 1 + index of the parameter-set bytes to write before it, or 0. */
  prefix: number;
}

export class SampleTable {
  length = 0;
  t = new Float64Array(1024);
  duration = new Float64Array(1024);
  size = new Uint32Array(1024);
  keyframe = new Uint8Array(1024);
  compositionOffset = new Int32Array(1024);
  fragment = new Uint32Array(1024);
  offset = new Uint32Array(1024);
  prefix = new Uint16Array(1024);
  /** Any nonzero composition offset: the header needs a ctts. */
  hasCompositionOffsets = false;

  push(s: TableSample): void {
    if (this.length === this.t.length) this.#grow();
    const i = this.length++;
    this.t[i] = s.t;
    this.duration[i] = s.duration;
    this.size[i] = s.size;
    this.keyframe[i] = s.keyframe ? 1 : 0;
    this.compositionOffset[i] = s.compositionOffset;
    this.fragment[i] = s.fragment;
    this.offset[i] = s.offset;
    this.prefix[i] = s.prefix;
    if (s.compositionOffset !== 0) this.hasCompositionOffsets = true;
  }

  #grow(): void {
    const n = this.t.length * 2;
    const grow = <T extends Float64Array | Uint32Array | Uint8Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.t = grow(this.t, (k) => new Float64Array(k));
    this.duration = grow(this.duration, (k) => new Float64Array(k));
    this.size = grow(this.size, (k) => new Uint32Array(k));
    this.keyframe = grow(this.keyframe, (k) => new Uint8Array(k));
    this.compositionOffset = grow(this.compositionOffset, (k) => new Int32Array(k));
    this.fragment = grow(this.fragment, (k) => new Uint32Array(k));
    this.offset = grow(this.offset, (k) => new Uint32Array(k));
    this.prefix = grow(this.prefix, (k) => new Uint16Array(k));
  }
}
