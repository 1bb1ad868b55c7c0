// The embedded default store: s3rver in this process, on a local folder, listening on loopback.
// The recorder still talks HTTP to it through the real SDK (S3ObjectStore), exactly as to AWS.
//
// What s3rver 3.7.1 (unmaintained) does differently, and what is done about it here:
// - ListObjectsV2 paging needs DES, which OpenSSL 3 lacks: `options` asks for v1 listing.
// - DeleteObjects of several keys in one folder fails with 500: tolerated below.
// - A port in use is an unhandled 'error' event: turned into a rejection below.
// - Listing order follows the folder tree, so a key sorts wrongly against a sibling folder it
//   prefixes with a character below '/' ("a.txt" vs "a/b"); paging can then skip keys. Mimamori's
//   object names (fixed-width digits under each prefix) never do this.
// - It checks the access key (S3RVER) but not SigV4 signatures, and serves unsigned requests as
//   an anonymous owner: on loopback the address is the guard; with `credentials` (the standalone
//   server, `mimamori s3`) every request must carry a valid signature by them (sigv4.ts).
import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import { StoreError } from './errors.ts';
import { checkSignature, type S3Credentials } from './sigv4.ts';
import type { S3Options } from './types.ts';

/** In-flight requests get this long to finish when the server closes, then are cut. */
const CLOSE_GRACE_MS = 2_000;

export interface EmbeddedS3StartOptions {
  directory: string;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (an ephemeral port; read it back from `port` to restart on the same one) */
  port?: number;
  bucket: string;
  /**
   * Accept only requests signed (SigV4) with this key pair. Without it, the address is the only
   * guard: keep it on loopback.
   */
  credentials?: S3Credentials;
}

/** The built-in key pair s3rver knows (it checks no signature of it). */
const S3RVER_KEY: S3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Refuses every request not signed by `credentials`, as S3 would (an XML error with S3's code).
 * A verified request goes on without its Authorization header: s3rver knows only its built-in
 * key and serves unsigned requests as the owner.
 */
function requireSignature(server: S3rver, credentials: S3Credentials): void {
  server.middleware.unshift(async (ctx, next) => {
    const { req } = ctx;
    const verdict = checkSignature({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, credentials, Date.now());
    if (!verdict.ok) {
      ctx.status = verdict.status;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${verdict.code}</Code><Message>${verdict.message.replace(/[<>&]/g, '')}</Message></Error>`;
      return;
    }
    delete req.headers.authorization;
    await next();
  });
}

/** What S3ObjectStore.create needs to talk to an embedded server (in this process or its own). */
export function embeddedS3Options(host: string, port: number, bucket: string, credentials: S3Credentials): S3Options {
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    region: 'us-east-1',
    bucket,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    forcePathStyle: true,
    listObjectsV1: true, // s3rver's ListObjectsV2 paging needs DES (see S3Options)
  };
}

export class EmbeddedS3 {
  readonly #server: S3rver;
  readonly #host: string;
  readonly #port: number;
  readonly #bucket: string;
  readonly #directory: string;
  readonly #credentials: S3Credentials;
  #closing: Promise<void> | undefined;

  private constructor(server: S3rver, host: string, port: number, bucket: string, directory: string, credentials: S3Credentials) {
    this.#server = server;
    this.#credentials = credentials;
    this.#host = host;
    this.#port = port;
    this.#bucket = bucket;
    this.#directory = directory;
  }

  static async start(o: EmbeddedS3StartOptions): Promise<EmbeddedS3> {
    if (typeof o?.directory !== 'string' || o.directory === '') throw new TypeError('EmbeddedS3.start: directory is required');
    if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
      throw new TypeError('EmbeddedS3.start: bucket must be a valid S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)');
    }
    const host = o.host ?? '127.0.0.1';
    const port = o.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('EmbeddedS3.start: port must be an integer from 0 to 65535');
    if (o.credentials && !(/^[A-Za-z0-9_-]{3,128}$/.test(o.credentials.accessKeyId) && o.credentials.secretAccessKey.length >= 16)) {
      throw new TypeError('EmbeddedS3.start: credentials need an access key id of 3–128 letters, digits, - or _, and a secret of at least 16 characters');
    }

    try {
      await fs.mkdir(o.directory, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError('failed', `cannot create the embedded S3 folder ${o.directory} (${(err as NodeJS.ErrnoException).code}); check the data directory's permissions`, {
        cause: err,
      });
    }
    const server = new S3rver({
      address: host,
      port,
      silent: true,
      directory: o.directory,
      vhostBuckets: false,
      configureBuckets: [{ name: o.bucket }],
    });
    if (o.credentials) requireSignature(server, o.credentials);
    // s3rver's DeleteObjects removes its keys concurrently, and each removal deletes the folders it
    // emptied: two keys of one folder race, and the request fails with 500 although every object
    // is gone. A folder that vanished (ENOENT) or was refilled (ENOTEMPTY) meanwhile is no error:
    // the removal itself already succeeded (it tolerates ENOENT on the files).
    const deleteObject = server.store.deleteObject.bind(server.store);
    server.store.deleteObject = async (bucket: string, key: string) => {
      try {
        await deleteObject(bucket, key);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw err;
      }
    };
    // s3rver's own listen() never rejects: a bind error (EADDRINUSE) becomes an unhandled
    // 'error' event. Listen through its callback form and turn that event into a rejection.
    const listen = server.listen.bind(server);
    server.listen = ((port: number, address: string, options: object) =>
      new Promise<Server>((resolve, reject) => {
        const http = listen(port, address, options, () => {
          http.off('error', reject);
          resolve(http);
        });
        http.once('error', reject);
      })) as typeof server.listen;
    let address: { port: number };
    try {
      address = await server.run();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      const hint = code === 'EADDRINUSE' ? 'another process uses that port; pick another or stop it' : 'check the host address and the folder';
      throw new StoreError('failed', `cannot start the embedded S3 server on ${host}:${port} (${code}); ${hint}`, { cause: err });
    }
    return new EmbeddedS3(server, host, address.port, o.bucket, o.directory, o.credentials ?? S3RVER_KEY);
  }

  get host(): string {
    return this.#host;
  }

  get port(): number {
    return this.#port;
  }

  get directory(): string {
    return this.#directory;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** What S3ObjectStore.create needs to talk to this server. */
  get options(): S3Options {
    return embeddedS3Options(this.#host, this.#port, this.#bucket, this.#credentials);
  }

  /** Idempotent. Stops listening at once; open requests get a short grace, then are cut. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const http = this.#server.httpServer;
      const closed = this.#server.close();
      http?.closeIdleConnections();
      const grace = setTimeout(() => http?.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await closed;
      } finally {
        clearTimeout(grace);
      }
    })();
    return this.#closing;
  }
}
