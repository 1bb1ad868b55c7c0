// ObjectStore over @aws-sdk/client-s3: AWS S3 or any S3-compatible server (MinIO, R2, the
// embedded s3rver). One attempt per call (the uploader retries with its own backoff), and
// connect/idle timeouts so a dead endpoint fails fast as a retryable StoreError.
import crypto from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { StoreError, toStoreError } from './errors.ts';
import type { ObjectInfo, ObjectStore, S3Options } from './types.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const DELETE_BATCH = 1000; // DeleteObjects' limit
const MAX_PAGE = 1000; // ListObjectsV2's limit

export interface S3ObjectStoreOptions extends S3Options {
  /** create the bucket if it does not exist (the embedded server, first starts) */
  createBucket?: boolean;
  /** @internal ListObjectsV2 MaxKeys, 1–1000 (tests use a small page to exercise continuation) */
  listPageSize?: number;
}

const unquote = (etag: string | undefined) => etag?.replace(/^"(.*)"$/, '$1');

function describe(o: S3Options): string {
  if (!o.endpoint) return `s3://${o.bucket} in AWS ${o.region}`;
  const url = new URL(o.endpoint);
  // origin and path only: never userinfo or query (which could carry credentials)
  return `s3://${o.bucket} at ${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

function checkOptions(o: S3ObjectStoreOptions): void {
  for (const field of ['region', 'bucket', 'accessKeyId', 'secretAccessKey'] as const) {
    if (typeof o?.[field] !== 'string' || o[field] === '') throw new TypeError(`S3ObjectStore.create: ${field} is required`);
  }
  if (typeof o.forcePathStyle !== 'boolean') throw new TypeError('S3ObjectStore.create: forcePathStyle must be true or false');
  if (o.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(o.endpoint);
    } catch {
      throw new TypeError(`S3ObjectStore.create: endpoint must be an http(s) URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('S3ObjectStore.create: endpoint must be an http(s) URL');
  }
  if (o.requestTimeoutMs !== undefined && (!Number.isInteger(o.requestTimeoutMs) || o.requestTimeoutMs <= 0)) {
    throw new TypeError('S3ObjectStore.create: requestTimeoutMs must be a positive integer');
  }
  if (o.listPageSize !== undefined && (!Number.isInteger(o.listPageSize) || o.listPageSize < 1 || o.listPageSize > MAX_PAGE)) {
    throw new TypeError(`S3ObjectStore.create: listPageSize must be an integer from 1 to ${MAX_PAGE}`);
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new TypeError('object key must be a non-empty string');
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #description: string;
  readonly #pageSize: number;
  readonly #listV1: boolean;
  #closed = false;

  private constructor(client: S3Client, bucket: string, description: string, pageSize: number, listV1: boolean) {
    this.#client = client;
    this.#bucket = bucket;
    this.#description = description;
    this.#pageSize = pageSize;
    this.#listV1 = listV1;
  }

  static async create(o: S3ObjectStoreOptions): Promise<S3ObjectStore> {
    checkOptions(o);
    const timeout = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const agent = { keepAlive: true, maxSockets: 50 };
    const client = new S3Client({
      region: o.region,
      endpoint: o.endpoint,
      forcePathStyle: o.forcePathStyle,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      maxAttempts: 1,
      // Options for the SDK's NodeHttpHandler: connectionTimeout bounds the TCP/TLS connect,
      // socketTimeout any stretch without progress (a server that accepts and never answers).
      requestHandler: { connectionTimeout: timeout, socketTimeout: timeout, httpAgent: agent, httpsAgent: agent },
      // Integrity comes from Content-MD5 on puts, which every S3-compatible server accepts;
      // the SDK's newer default checksums are not understood everywhere.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const store = new S3ObjectStore(client, o.bucket, describe(o), o.listPageSize ?? MAX_PAGE, o.listObjectsV1 ?? false);
    if (o.createBucket) {
      // A server that just started (or restarted on the same folder) may answer 5xx for a moment.
      for (let attempt = 1; ; attempt++) {
        try {
          await store.#ensureBucket();
          break;
        } catch (err) {
          if (err instanceof StoreError && err.retryable && attempt < 6) {
            await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
            continue;
          }
          store.close();
          throw err;
        }
      }
    }
    return store;
  }

  get description(): string {
    return this.#description;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async put(key: string, body: Uint8Array): Promise<{ etag: string }> {
    checkKey(key);
    if (!(body instanceof Uint8Array)) throw new TypeError('put: body must be a Uint8Array');
    const out = await this.#send(`put "${key}"`, (client) =>
      client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
          ContentMD5: crypto.createHash('md5').update(body).digest('base64'),
        }),
      ),
    );
    return { etag: unquote(out.ETag) ?? '' };
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    checkKey(key);
    if (range && (!Number.isInteger(range.offset) || range.offset < 0 || !Number.isInteger(range.length) || range.length < 1)) {
      throw new TypeError('get: range needs an integer offset >= 0 and length >= 1');
    }
    const action = range ? `get "${key}" bytes ${range.offset}+${range.length}` : `get "${key}"`;
    return this.#send(action, async (client) => {
      const out = await client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }),
      );
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      if (!range || bytes.length === range.length) return bytes;
      // Some servers answer with more than asked (the whole object if they ignore Range; s3rver
      // for "bytes=0-0"): take the asked-for bytes from where the answer starts.
      const start = out.ContentRange ? Number(/^bytes (\d+)-/.exec(out.ContentRange)?.[1]) : 0;
      const from = range.offset - start;
      if (from >= 0 && bytes.length >= from + range.length) return bytes.subarray(from, from + range.length);
      throw new StoreError(
        'failed',
        `${action} at ${this.#description}: only ${bytes.length} bytes came back (${out.ContentRange ?? 'no Content-Range'}); the object is shorter than the range asked for`,
      );
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    checkKey(key);
    try {
      const out = await this.#send(`head "${key}"`, (client) => client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key })));
      return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), lastModified: out.LastModified };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'not_found') return null;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    if (typeof prefix !== 'string') throw new TypeError('list: prefix must be a string');
    const action = `list "${prefix}"`;
    // ListObjectsV2 resumes from the continuation token; v1 from the last key (the marker).
    let next: string | undefined;
    do {
      const marker = next;
      const page = this.#listV1
        ? await this.#send(action, async (client) => {
            const out = await client.send(new ListObjectsCommand({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: this.#pageSize, Marker: marker }));
            return { contents: out.Contents ?? [], truncated: out.IsTruncated === true, next: out.NextMarker ?? out.Contents?.at(-1)?.Key };
          })
        : await this.#send(action, async (client) => {
            const out = await client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: this.#pageSize, ContinuationToken: marker }));
            return { contents: out.Contents ?? [], truncated: out.IsTruncated === true, next: out.NextContinuationToken };
          });
      for (const o of page.contents) {
        if (o.Key === undefined) continue;
        yield { key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag), lastModified: o.LastModified };
      }
      if (!page.truncated) return;
      if (!page.next) throw new StoreError('failed', `${action} at ${this.#description}: S3 said the listing is truncated but gave no way to continue`);
      next = page.next;
    } while (next);
  }

  async delete(keys: readonly string[]): Promise<number> {
    if (!Array.isArray(keys)) throw new TypeError('delete: keys must be an array');
    keys.forEach(checkKey);
    let deleted = 0;
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const action = `delete of ${batch.length} objects`;
      const out = await this.#send(action, (client) =>
        client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: false } })),
      );
      deleted += out.Deleted?.length ?? 0;
      const [first, ...rest] = out.Errors ?? [];
      if (first) {
        const code = first.Code === 'AccessDenied' ? 'denied' : first.Code === 'InternalError' || first.Code === 'SlowDown' ? 'unavailable' : 'failed';
        throw new StoreError(
          code,
          `S3 at ${this.#description} deleted ${deleted} of ${keys.length} objects; ${rest.length + 1} failed, first "${first.Key}" (${first.Code ?? 'unknown'}${first.Message ? `: ${first.Message}` : ''})`,
        );
      }
    }
    return deleted;
  }

  /** Idempotent: releases the HTTP connections; later calls fail with StoreError('failed'). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
  }

  async #ensureBucket(): Promise<void> {
    try {
      await this.#send('head bucket', (client) => client.send(new HeadBucketCommand({ Bucket: this.#bucket })));
      return;
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'not_found') throw err;
    }
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw toStoreError(err, 'create bucket', this.#description);
    }
  }

  async #send<T>(action: string, fn: (client: S3Client) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('failed', `${action}: the store for ${this.#description} is closed`);
    try {
      return await fn(this.#client);
    } catch (err) {
      throw toStoreError(err, action, this.#description);
    }
  }
}
