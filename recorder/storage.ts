// Where recordings go: the configured S3-compatible endpoint, or the embedded S3 server on a
// folder in the data dir (still reached over HTTP through the AWS SDK).

import path from 'node:path';
import type { Config } from '../config/index.ts';
import { EmbeddedS3, S3ObjectStore, type ObjectStore } from './store/index.ts';

export interface Storage {
  store: ObjectStore;
  embedded?: EmbeddedS3;
  close(): Promise<void>;
}

export async function openStorage(config: Pick<Config, 's3' | 'embeddedS3' | 'dataDir'>, options: { port?: number } = {}): Promise<Storage> {
  if (config.s3) {
    const store = await S3ObjectStore.create({ ...config.s3, createBucket: false });
    return { store, close: async () => store.close() };
  }
  const embedded = await EmbeddedS3.start({
    directory: path.join(config.dataDir, 's3'),
    port: options.port ?? config.embeddedS3.port,
    bucket: config.embeddedS3.bucket,
  });
  const store = await S3ObjectStore.create({ ...embedded.options, createBucket: true });
  return {
    store,
    embedded,
    close: async () => {
      store.close();
      await embedded.close();
    },
  };
}
