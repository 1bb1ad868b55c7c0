// Sealing of recordings (pure, synchronous) and the keys behind it (envelope encryption).
export { SealError, type SealErrorCode } from './errors.ts';
export {
  open,
  readRecordHeader,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD,
  scanRecords,
  seal,
  sealParts,
  type RecordHeader,
  type RecordKind,
  type ScannedRecord,
  type ScanResult,
  type SealContext,
} from './record.ts';
export { newDataKey, unwrapDataKey, wrapDataKey, type WrappedKey } from './datakey.ts';
export { MASTER_KEYS_ENV, MASTER_KEYS_FILE, MasterKeys, type MasterKey } from './MasterKeys.ts';
