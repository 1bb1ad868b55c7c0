// Where recordings go: the configured S3-compatible endpoint, or the embedded S3 server on a
// folder in the data dir (still reached over HTTP through the AWS SDK).

import path from 'node:path';
import type { Config } from '../config/index.ts';
import { EmbeddedS3, EmbeddedS3Process, S3ObjectStore, type EmbeddedS3ProcessOptions, type ObjectStore } from './store/index.ts';

export interface Storage {
  store: ObjectStore;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /** The embedded server's port (default: the configured one). */
  port?: number;
  /**
   * The embedded server in a process of its own (the service: its work stays off the event loop
   * that records). A command that runs briefly keeps it inside the command's process.
   */
  ownProcess?: boolean;
  onTrouble?: EmbeddedS3ProcessOptions['onTrouble'];
}

export async function openStorage(config: Pick<Config, 's3' | 'embeddedS3' | 'dataDir'>, options: OpenStorageOptions = {}): Promise<Storage> {
  if (config.s3) {
    const store = await S3ObjectStore.create({ ...config.s3, createBucket: false });
    return { store, close: async () => store.close() };
  }
  const settings = {
    directory: path.join(config.dataDir, 's3'),
    port: options.port ?? config.embeddedS3.port,
    bucket: config.embeddedS3.bucket,
  };
  const embedded = options.ownProcess ? await EmbeddedS3Process.start({ ...settings, ...(options.onTrouble ? { onTrouble: options.onTrouble } : {}) }) : await EmbeddedS3.start(settings);
  const store = await S3ObjectStore.create({ ...embedded.options, createBucket: true });
  return {
    store,
    close: async () => {
      store.close();
      await embedded.close();
    },
  };
}
