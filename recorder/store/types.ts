export interface ObjectInfo {
  key: string;
  size: number;
  /** without the surrounding quotes S3 sends */
  etag?: string;
  lastModified?: Date;
}

/** Where sealed segments and indexes live. Every failure is a StoreError. */
export interface ObjectStore {
  put(key: string, body: Uint8Array): Promise<{ etag: string }>;
  /** range: `length` bytes from `offset`; StoreError('not_found') for a missing key */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  /** null for a missing key */
  head(key: string): Promise<ObjectInfo | null>;
  /** every object under `prefix`, in key order, page by page (ListObjectsV2) */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** deletes in batches of 1000 (DeleteObjects); returns how many S3 reported deleted */
  delete(keys: readonly string[]): Promise<number>;
  /** for logs and messages, e.g. "s3://bucket at http://127.0.0.1:4568"; never credentials */
  readonly description: string;
}

export interface S3Options {
  /** omit for AWS itself */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** ms allowed to connect, and ms without progress once connected; default 10_000 */
  requestTimeoutMs?: number;
  /**
   * List with ListObjects (v1, paged by marker) instead of ListObjectsV2. For servers whose V2
   * continuation tokens are broken: s3rver 3.7 makes them with DES, which Node's OpenSSL 3 lacks,
   * so every truncated V2 page fails with 500. EmbeddedS3.options sets it.
   */
  listObjectsV1?: boolean;
}
