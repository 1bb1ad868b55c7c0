// Sealed records: one AES-256-GCM message per fMP4 fragment (or init segment, trailer, index),
// self-delimiting so a spool file of appended records can be scanned and cut after a crash.
// Pure and synchronous: no I/O, no clocks; randomness only for the nonce.
//
// Layout (big endian):
//   magic 'MMR1' (4) | kind (1) | index (u32) | ciphertext length incl. 16-byte tag (u32)
//   | nonce (12, random) | ciphertext | tag (16)
// Additional data: the first 13 header bytes followed by utf8(`mimamori/v1\0${cameraId}\0${object}`),
// so a record moved to another camera, object, position or kind does not open.
import crypto from 'node:crypto';
import { SealError } from './errors.ts';

export type RecordKind = 'init' | 'fragment' | 'trailer' | 'index' | 'export';

export interface SealContext {
  cameraId: string;
  /** the object/segment name the record belongs to */
  object: string;
  index: number;
  kind: RecordKind;
}

export interface RecordHeader {
  kind: RecordKind;
  index: number;
  /** total length of the record in bytes (header, ciphertext and tag) */
  length: number;
}

export interface ScannedRecord extends RecordHeader {
  offset: number;
}

export interface ScanResult {
  records: ScannedRecord[];
  /** end of the last complete record: truncate a torn spool file to this length */
  validBytes: number;
  /**
   * What follows `validBytes`: 'none' (the bytes end exactly there), 'torn' (an incomplete
   * record, as left by a crash mid-append), 'malformed' (bytes that are not a record header).
   */
  tail: 'none' | 'torn' | 'malformed';
}

const MAGIC = [0x4d, 0x4d, 0x52, 0x31] as const; // 'MMR1'
const FIXED_HEADER_BYTES = 13; // magic, kind, index, length: the part that is additional data
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MAX_U32 = 0xffff_ffff;

export const RECORD_HEADER_BYTES = FIXED_HEADER_BYTES + NONCE_BYTES; // 25
export const RECORD_OVERHEAD = RECORD_HEADER_BYTES + TAG_BYTES; // 41

const KIND_CODES: Record<RecordKind, number> = { init: 1, fragment: 2, trailer: 3, index: 4, export: 5 };
const KINDS_BY_CODE: ReadonlyMap<number, RecordKind> = new Map(
  Object.entries(KIND_CODES).map(([kind, code]) => [code, kind as RecordKind]),
);

const encoder = new TextEncoder();

function checkKey(dataKey: Uint8Array): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_BYTES) {
    throw new TypeError(`dataKey must be a Uint8Array of ${KEY_BYTES} bytes (AES-256)`);
  }
}

function checkContext(ctx: SealContext): void {
  if (typeof ctx.cameraId !== 'string' || ctx.cameraId === '' || ctx.cameraId.includes('\0')) {
    throw new TypeError('ctx.cameraId must be a non-empty string without NUL characters');
  }
  if (typeof ctx.object !== 'string' || ctx.object === '' || ctx.object.includes('\0')) {
    throw new TypeError('ctx.object must be a non-empty string without NUL characters');
  }
  if (!Number.isInteger(ctx.index) || ctx.index < 0 || ctx.index > MAX_U32) {
    throw new TypeError(`ctx.index must be an integer from 0 to ${MAX_U32}, got ${ctx.index}`);
  }
  if (!Object.hasOwn(KIND_CODES, ctx.kind)) {
    throw new TypeError(`ctx.kind must be one of ${Object.keys(KIND_CODES).join(', ')}, got ${String(ctx.kind)}`);
  }
}

function additionalData(fixedHeader: Uint8Array, ctx: SealContext): Uint8Array {
  const suffix = encoder.encode(`mimamori/v1\0${ctx.cameraId}\0${ctx.object}`);
  const aad = new Uint8Array(fixedHeader.length + suffix.length);
  aad.set(fixedHeader, 0);
  aad.set(suffix, fixedHeader.length);
  return aad;
}

const where = (ctx: SealContext) => `${ctx.kind} #${ctx.index} of "${ctx.object}" (camera ${ctx.cameraId})`;

/** Encrypts one record. A fresh random nonce per call; the result is header, ciphertext and tag. */
export function seal(dataKey: Uint8Array, ctx: SealContext, plaintext: Uint8Array): Uint8Array {
  const parts = sealParts(dataKey, ctx, plaintext);
  const record = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    record.set(part, at);
    at += part.length;
  }
  return record;
}

/**
 * The same record as `seal`, as the pieces the cipher made (header and nonce, ciphertext, tag), to
 * be written one after another (writev): the large ciphertext is not copied once more.
 */
export function sealParts(dataKey: Uint8Array, ctx: SealContext, plaintext: Uint8Array): Uint8Array[] {
  checkKey(dataKey);
  checkContext(ctx);
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  const cipherLength = plaintext.length + TAG_BYTES;
  if (cipherLength > MAX_U32) throw new TypeError(`plaintext of ${plaintext.length} bytes is too large for one record`);

  const head = new Uint8Array(RECORD_HEADER_BYTES);
  const view = new DataView(head.buffer);
  head.set(MAGIC, 0);
  view.setUint8(4, KIND_CODES[ctx.kind]);
  view.setUint32(5, ctx.index);
  view.setUint32(9, cipherLength);
  const nonce = head.subarray(FIXED_HEADER_BYTES, RECORD_HEADER_BYTES);
  crypto.randomFillSync(nonce);

  const cipher = crypto.createCipheriv('aes-256-gcm', dataKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(head.subarray(0, FIXED_HEADER_BYTES), ctx));
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  return rest.length > 0 ? [head, body, rest, cipher.getAuthTag()] : [head, body, cipher.getAuthTag()];
}

/**
 * Decrypts exactly one record read for the position `ctx`. Throws SealError: record_truncated,
 * record_malformed, record_misplaced (the header says another kind or index), record_tampered
 * (authentication failed: altered bytes, another camera or object, or another key).
 */
export function open(dataKey: Uint8Array, ctx: SealContext, record: Uint8Array): Uint8Array {
  checkKey(dataKey);
  checkContext(ctx);
  if (!(record instanceof Uint8Array)) throw new TypeError('record must be a Uint8Array');

  const magicSeen = Math.min(record.length, MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (record[i] !== MAGIC[i]) {
      throw new SealError('record_malformed', `${where(ctx)} is not a sealed record (bad magic); check the object and offset it was read from`);
    }
  }
  if (record.length < RECORD_HEADER_BYTES) {
    throw new SealError(
      'record_truncated',
      `${where(ctx)} is truncated: ${record.length} bytes, shorter than the ${RECORD_HEADER_BYTES}-byte header; read the whole record`,
    );
  }
  const header = parseHeader(record, 0, ctx);
  if (record.length < header.length) {
    throw new SealError(
      'record_truncated',
      `${where(ctx)} is truncated: ${record.length} of its ${header.length} bytes; read the whole record (readRecordHeader gives its length)`,
    );
  }
  if (record.length > header.length) {
    throw new SealError(
      'record_malformed',
      `${where(ctx)} has ${record.length - header.length} bytes after its end; pass exactly one record (scanRecords splits a sequence)`,
    );
  }
  if (header.kind !== ctx.kind || header.index !== ctx.index) {
    throw new SealError(
      'record_misplaced',
      `the record read for ${where(ctx)} is ${header.kind} #${header.index}; the index or offset used to find it is wrong`,
    );
  }

  const nonce = record.subarray(FIXED_HEADER_BYTES, RECORD_HEADER_BYTES);
  const tagStart = record.length - TAG_BYTES;
  const decipher = crypto.createDecipheriv('aes-256-gcm', dataKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(record.subarray(0, FIXED_HEADER_BYTES), ctx));
  decipher.setAuthTag(record.subarray(tagStart));
  const body = decipher.update(record.subarray(RECORD_HEADER_BYTES, tagStart));
  try {
    decipher.final();
  } catch (err) {
    throw new SealError(
      'record_tampered',
      `${where(ctx)} failed authentication: its bytes were altered, or it belongs to another camera, object or data key; do not use it`,
      { cause: err },
    );
  }
  // A copy, so the caller never holds a view into Buffer's shared pool.
  return new Uint8Array(body);
}

function parseHeader(bytes: Uint8Array, offset: number, ctx?: SealContext): RecordHeader {
  const at = ctx ? where(ctx) : `the record at offset ${offset}`;
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[offset + i] !== MAGIC[i]) {
      throw new SealError('record_malformed', `${at} is not a sealed record (bad magic); check the object and offset it was read from`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FIXED_HEADER_BYTES);
  const kindCode = view.getUint8(4);
  const kind = KINDS_BY_CODE.get(kindCode);
  if (!kind) {
    throw new SealError('record_malformed', `${at} has unknown kind ${kindCode}; it was not written by this version of Mimamori or is corrupt`);
  }
  const cipherLength = view.getUint32(9);
  if (cipherLength < TAG_BYTES) {
    throw new SealError('record_malformed', `${at} declares ${cipherLength} ciphertext bytes, fewer than the ${TAG_BYTES}-byte tag; it is corrupt`);
  }
  return { kind, index: view.getUint32(5), length: RECORD_HEADER_BYTES + cipherLength };
}

/**
 * Reads the header at `offset` without decrypting: null if fewer than RECORD_HEADER_BYTES remain;
 * SealError('record_malformed') on bad magic, kind or length. `length` is the whole record's.
 */
export function readRecordHeader(bytes: Uint8Array, offset: number): RecordHeader | null {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new TypeError(`offset must be an integer from 0 to ${bytes.length}, got ${offset}`);
  }
  if (bytes.length - offset < RECORD_HEADER_BYTES) return null;
  return parseHeader(bytes, offset);
}

/**
 * Walks consecutive records from the start without decrypting. Stops at the first incomplete
 * record or non-record bytes; `validBytes` is where the last complete record ends.
 */
export function scanRecords(bytes: Uint8Array): ScanResult {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let header: RecordHeader | null;
    try {
      header = readRecordHeader(bytes, offset);
    } catch (err) {
      if (err instanceof SealError) return { records, validBytes: offset, tail: 'malformed' };
      throw err;
    }
    if (!header) {
      // Fewer bytes than a header: torn if they begin like one.
      const begun = bytes.subarray(offset, offset + MAGIC.length).every((b, i) => b === MAGIC[i]);
      return { records, validBytes: offset, tail: begun ? 'torn' : 'malformed' };
    }
    if (offset + header.length > bytes.length) return { records, validBytes: offset, tail: 'torn' };
    records.push({ offset, ...header });
    offset += header.length;
  }
  return { records, validBytes: offset, tail: 'none' };
}
