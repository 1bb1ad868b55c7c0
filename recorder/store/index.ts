// Object storage for recordings: the ObjectStore interface, its S3 implementation, and the
// embedded S3-compatible server used by default.
export { StoreError, toStoreError, type StoreErrorCode } from './errors.ts';
export type { ObjectInfo, ObjectStore, S3Options } from './types.ts';
export { S3ObjectStore, type S3ObjectStoreOptions } from './S3ObjectStore.ts';
export { EmbeddedS3, type EmbeddedS3StartOptions } from './EmbeddedS3.ts';
export { EmbeddedS3Process, type EmbeddedS3ProcessOptions } from './EmbeddedS3Process.ts';
export { checkSignature, type S3Credentials, type SignatureVerdict, type SignedRequest } from './sigv4.ts';
export { assertWritableFolder, CREDENTIALS_FILE, folderCredentials, nodeSettings } from './standalone.ts';
