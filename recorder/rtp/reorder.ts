// Jitter/reorder buffer for one SSRC. Pure: the caller passes the time in, and calls poll() from
// its own timer.
import { seqAdd, seqDiff } from './sequence.ts';
import type { RtpPacket } from './sequence.ts';

/** Packet released in sequence order; `lost` = how many sequence numbers were skipped right before it (0 normally). */
export interface OrderedPacket {
  packet: RtpPacket;
  lost: number;
}

export interface ReorderStats {
  /** Packets received twice (held or already released); dropped. */
  duplicates: number;
  /** Packets that came after their sequence number was given up (retransmissions too late); dropped. */
  late: number;
  /** Sequence numbers given up (sum of `lost` over released packets). */
  lost: number;
  /** Packets that arrived after a later sequence number and were put back in order. */
  reordered: number;
}

export interface ReorderBufferOptions {
  /** Longest a packet waits behind a hole before the hole is given up. Default 300. */
  maxDelayMs?: number;
  /** Most packets held behind a hole; a packet farther ahead than this gives up the oldest holes. Default 1024, at most 3000. */
  maxPackets?: number;
}

/** A jump farther than this (either way) is a new stream or a long outage, not reordering. */
const RESET_JUMP = 3000;

/**
 * Holds out-of-order packets up to maxDelayMs or maxPackets waiting for missing sequence numbers
 * (retransmissions via NACK/RTX arrive late), then gives up on the hole. Handles 16-bit wrap.
 * Duplicates and packets older than what was already released are dropped and counted. A jump of
 * more than 3000 sequence numbers releases what is held and restarts from the new packet; its
 * `lost` is the forward distance when the jump is forward, else 1 (the real count is unknown, and
 * depacketizers must still see the discontinuity).
 *
 * The start is held too: until the first packet has waited maxDelayMs, a packet older than it can
 * still take its place (reordering right at the start would otherwise lose the stream's first
 * packets, often its first keyframe's SPS/PPS). A recording does not mind the 300 ms.
 */
export class ReorderBuffer {
  readonly #maxDelayMs: number;
  readonly #maxPackets: number;
  // Ring of maxPackets + 1 slots: the slot of #next (empty between calls once started) and those after it.
  readonly #slots: (RtpPacket | undefined)[];
  readonly #arrivals: Float64Array;
  #head = 0; // slot index of #next
  #next: number | undefined; // sequence number to release next
  #held = 0;
  #span = 0; // 1 + distance from #next to the farthest held packet; 0 when none is held
  // Earliest arrival among held packets. May be stale-low after releases (never high), which only
  // costs an extra scan in #expire().
  #oldestArrival = Infinity;
  #skipped = 0; // sequence numbers given up since the last released packet
  #started = false; // something was released: before that, an older packet moves the start back
  // One bit per sequence number behind #next: 1 = released, 0 = given up. Tells a duplicate of a
  // released packet from a retransmission that came too late. 8 KiB per stream.
  readonly #released = new Uint8Array(8192);
  readonly #stats: ReorderStats = { duplicates: 0, late: 0, lost: 0, reordered: 0 };

  constructor(options: ReorderBufferOptions = {}) {
    const maxDelayMs = options.maxDelayMs ?? 300;
    const maxPackets = options.maxPackets ?? 1024;
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw new TypeError(`maxDelayMs must be a finite number ≥ 0, got ${maxDelayMs}`);
    if (!Number.isInteger(maxPackets) || maxPackets < 1 || maxPackets > RESET_JUMP) {
      throw new TypeError(`maxPackets must be an integer from 1 to ${RESET_JUMP}, got ${maxPackets}`);
    }
    this.#maxDelayMs = maxDelayMs;
    this.#maxPackets = maxPackets;
    this.#slots = new Array<RtpPacket | undefined>(maxPackets + 1).fill(undefined);
    this.#arrivals = new Float64Array(maxPackets + 1);
  }

  get stats(): Readonly<ReorderStats> {
    return this.#stats;
  }

  /** Whatever can be released now, in order. */
  push(packet: RtpPacket, nowMs: number): OrderedPacket[] {
    const out: OrderedPacket[] = [];
    const seq = packet.sequenceNumber & 0xffff;
    if (this.#next === undefined) this.#next = seq;
    let distance = seqDiff(this.#next, seq);
    if (!this.#started && distance < 0 && distance >= -RESET_JUMP && this.#span - distance <= this.#slots.length) {
      // Older than the first packet, before anything was released: it becomes the start.
      this.#head = (this.#head + distance + this.#slots.length) % this.#slots.length;
      this.#span -= distance;
      this.#next = seq;
      distance = 0;
    }

    if (distance > RESET_JUMP || distance < -RESET_JUMP) {
      this.#releaseAll(out);
      const forward = seqDiff(this.#next, seq);
      this.#released.fill(0);
      this.#skipped += forward > 0 ? forward : 1;
      this.#next = seq;
      distance = 0;
    }

    if (distance < 0) {
      if (this.#wasReleased(seq)) this.#stats.duplicates += 1;
      else this.#stats.late += 1;
      this.#expire(nowMs, out);
      return out;
    }

    if (distance > this.#maxPackets) {
      // No room to wait that far ahead: give up the oldest holes (releasing what they held back).
      this.#advance(distance - this.#maxPackets, out);
      distance = seqDiff(this.#next!, seq); // ≤ maxPackets, less if held packets were released too
    }
    const slot = (this.#head + distance) % this.#slots.length;
    if (this.#slots[slot] !== undefined) {
      this.#stats.duplicates += 1;
    } else {
      if (distance < this.#span) this.#stats.reordered += 1;
      this.#slots[slot] = packet;
      this.#arrivals[slot] = nowMs;
      this.#held += 1;
      if (distance + 1 > this.#span) this.#span = distance + 1;
      if (nowMs < this.#oldestArrival) this.#oldestArrival = nowMs;
      this.#releaseReady(out);
    }
    this.#expire(nowMs, out);
    return out;
  }

  /** Releases what waited past maxDelayMs, giving up the holes before it (call from a timer). */
  poll(nowMs: number): OrderedPacket[] {
    const out: OrderedPacket[] = [];
    this.#expire(nowMs, out);
    return out;
  }

  /** Releases everything held, giving up all holes (end of stream). */
  flush(): OrderedPacket[] {
    const out: OrderedPacket[] = [];
    this.#releaseAll(out);
    return out;
  }

  #releaseAll(out: OrderedPacket[]): void {
    if (this.#held > 0) this.#advance(this.#span, out);
  }

  /** Releases consecutive packets from #next on (once started). */
  #releaseReady(out: OrderedPacket[]): void {
    if (!this.#started) return;
    while (this.#slots[this.#head] !== undefined) this.#step(out);
  }

  /** Moves #next forward by `count`, releasing held packets and giving up holes, then releases what follows in order. */
  #advance(count: number, out: OrderedPacket[]): void {
    for (let i = 0; i < count; i++) this.#step(out);
    this.#releaseReady(out);
  }

  #step(out: OrderedPacket[]): void {
    const seq = this.#next!;
    const packet = this.#slots[this.#head];
    const bit = 1 << (seq & 7);
    if (packet === undefined) {
      this.#skipped += 1;
      this.#released[seq >> 3]! &= ~bit;
    } else {
      this.#slots[this.#head] = undefined;
      this.#started = true;
      this.#held -= 1;
      if (this.#held === 0) this.#oldestArrival = Infinity;
      out.push({ packet, lost: this.#skipped });
      this.#stats.lost += this.#skipped;
      this.#skipped = 0;
      this.#released[seq >> 3]! |= bit;
    }
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#next = seqAdd(seq, 1);
    if (this.#span > 0) this.#span -= 1;
  }

  #wasReleased(seq: number): boolean {
    return (this.#released[seq >> 3]! & (1 << (seq & 7))) !== 0;
  }

  /** Gives up the holes before the farthest packet that has waited maxDelayMs, releasing up to it and what follows in order. */
  #expire(nowMs: number, out: OrderedPacket[]): void {
    if (this.#held === 0 || nowMs - this.#oldestArrival < this.#maxDelayMs) return;
    if (!this.#started) {
      this.#started = true;
      this.#releaseReady(out);
    }
    let farthestExpired = -1;
    let oldestRemaining = Infinity;
    for (let distance = 1; distance < this.#span; distance++) {
      const slot = (this.#head + distance) % this.#slots.length;
      if (this.#slots[slot] === undefined) continue;
      const arrival = this.#arrivals[slot]!;
      if (nowMs - arrival >= this.#maxDelayMs) farthestExpired = distance;
      else if (arrival < oldestRemaining) oldestRemaining = arrival;
    }
    if (farthestExpired >= 0) this.#advance(farthestExpired + 1, out);
    this.#oldestArrival = this.#held === 0 ? Infinity : oldestRemaining;
  }
}
