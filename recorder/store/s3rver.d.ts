// Minimal types for s3rver 3.x (it ships none): only what recorder/store uses.
declare module 's3rver' {
  import type { IncomingMessage, Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    vhostBuckets?: boolean;
    serviceEndpoint?: string;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: { name: string; configs?: (string | Uint8Array)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets, then listens. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** Called by run(); with a callback last it returns the http.Server at once. */
    listen(port: number, address: string, options: object, callback: () => void): Server;
    listen(port: number, address: string, options: object): Promise<Server>;
    /** Set by run(). */
    httpServer?: Server;
    /** Koa's middleware list, composed when the server starts listening (s3rver is a Koa app). */
    middleware: ((ctx: { req: IncomingMessage; status: number; type: string; body: unknown }, next: () => Promise<void>) => Promise<void>)[];
    /** The filesystem store behind the routes (the same object as each request's ctx.store). */
    store: { deleteObject(bucket: string, key: string): Promise<void> };
  }

  export = S3rver;
}
