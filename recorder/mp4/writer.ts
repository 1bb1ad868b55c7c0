// Big-endian field writer over one buffer allocated at the final size: callers compute the size
// first, so writing a segment never reallocates or concatenates. Boxes patch their own size field
// on end(), and finish() checks the precomputed size was exact.

const TWO_32 = 2 ** 32;

export class ByteWriter {
  readonly #out: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  #open = 0;

  /** A size makes a fresh buffer; a given buffer (exactly as long as what is written) is zeroed first. */
  constructor(sizeOrBuffer: number | Uint8Array) {
    if (typeof sizeOrBuffer === 'number') this.#out = new Uint8Array(sizeOrBuffer);
    else this.#out = sizeOrBuffer.fill(0);
    this.#view = new DataView(this.#out.buffer, this.#out.byteOffset, this.#out.byteLength);
  }

  u8(v: number): void {
    this.#out[this.#at++] = v;
  }

  u16(v: number): void {
    this.#view.setUint16(this.#at, v);
    this.#at += 2;
  }

  u32(v: number): void {
    this.#view.setUint32(this.#at, v);
    this.#at += 4;
  }

  i32(v: number): void {
    this.#view.setInt32(this.#at, v);
    this.#at += 4;
  }

  /** A non-negative safe integer as 64 bits (DataView's BigInt setter would cost an allocation). */
  u64(v: number): void {
    this.#view.setUint32(this.#at, Math.floor(v / TWO_32));
    this.#view.setUint32(this.#at + 4, v >>> 0);
    this.#at += 8;
  }

  fourcc(type: string): void {
    const out = this.#out;
    const at = this.#at;
    out[at] = type.charCodeAt(0);
    out[at + 1] = type.charCodeAt(1);
    out[at + 2] = type.charCodeAt(2);
    out[at + 3] = type.charCodeAt(3);
    this.#at = at + 4;
  }

  bytes(b: Uint8Array): void {
    this.#out.set(b, this.#at);
    this.#at += b.length;
  }

  /** The buffer starts zeroed, so reserved and zero fields are skipped, not written. */
  zeros(n: number): void {
    this.#at += n;
  }

  /** Opens a box; returns its start for end(). */
  box(type: string): number {
    this.#open += 1;
    const start = this.#at;
    this.#at += 4;
    this.fourcc(type);
    return start;
  }

  fullBox(type: string, version: number, flags: number): number {
    const start = this.box(type);
    this.u32(((version << 24) | flags) >>> 0);
    return start;
  }

  end(start: number): void {
    this.#open -= 1;
    this.#view.setUint32(start, this.#at - start);
  }

  finish(): Uint8Array {
    if (this.#open !== 0) {
      // A box left with size 0 means "to the end of the file": ffmpeg accepts it, browsers do not.
      throw new Error(`mp4 writer bug: ${this.#open} box(es) opened and never ended`);
    }
    if (this.#at !== this.#out.length) {
      // A size formula disagrees with the writers: a bug here, never the caller's.
      throw new Error(`mp4 writer bug: wrote ${this.#at} bytes into a buffer of ${this.#out.length}`);
    }
    return this.#out;
  }
}
