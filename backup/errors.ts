/**
 * Errors of backing up and restoring metadata. `code` is stable; the message says what was wrong
 * and what to do, and never holds key bytes or file contents.
 */
export type BackupErrorCode =
  /** the data dir holds no db.json: nothing that is worth a backup */
  | 'nothing_to_back_up'
  /** a metadata file kept changing or is not whole (e.g. a .json file that does not parse) */
  | 'metadata_unreadable'
  /** no master key configured for a restore (neither MIMAMORI_MASTER_KEYS nor master-keys.json) */
  | 'master_key_needed'
  /** the backup (or a data key in it) names a master key that is not configured */
  | 'master_key_missing'
  /** the configured master key of that id does not open the backup: another key */
  | 'wrong_master_key'
  /** not a backup object, or one that was altered or cut short */
  | 'backup_damaged'
  /** no backup in the bucket, or not the asked generation */
  | 'backup_not_found'
  /** restore refuses to replace existing metadata without --force */
  | 'data_dir_not_empty'
  /** restore refuses while a service runs on the data dir */
  | 'service_running';

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
