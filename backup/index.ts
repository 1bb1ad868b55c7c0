// Backups of the metadata (lowdb, wrapped data keys, secrets, accounts, audit: every file of the
// data dir except those in NOT_METADATA) to S3 under backups/, sealed with the recorder's envelope
// encryption under the current master key; the newest 7 generations kept, and the first of each
// month (UTC) for 60 months (retention.ts). Video is not backed up: it is in S3.
//
//   const backups = await Backups.start({ dataDir, store, masterKeys, log, intervalMs, startDelayMs, retention })
//   backups.lastSuccessMs                      // for the metric
//   await backUp({ dataDir, store, masterKeys }) // one now (the command line)
//   await restore({ dataDir, store, generation, force })
//   await backups.close()
export { Backups, backUp, BACKUP_PREFIX, STORE_ROWS_FILE, listGenerations, sealedWith, type BackupResult, type BackupsOptions, type Generation } from './Backups.ts';
export { BackupError, type BackupErrorCode } from './errors.ts';
export { isMetadata, NOT_METADATA, readMetadata, writeMetadata, type MetadataFile, type MetadataSnapshot } from './files.ts';
export { serviceRunningOn } from './inUse.ts';
export { checkRetention, decideRetention, DEFAULT_RETENTION, monthOf, type KeptAs, type Retention, type RetentionVerdict } from './retention.ts';
export { assertDataKeysOpen, openGeneration, restore, type RestoreOptions, type RestoreReport } from './restore.ts';
export { openBackup, readBackupHeader, sealBackup } from './sealed.ts';
