// Errors of the metadata store. `code` is stable (the HTTP layer answers with it); `status` is the
// HTTP status it maps to.
import { CodedError } from '../../errors/index.ts';

export type StoreErrorCode =
  /** Another account already has this username (409). */
  | 'username_taken'
  /** The change would leave an organisation without an administrator (409). */
  | 'last_admin'
  /** The database cannot be reached or refused the change: nothing was changed (503). */
  | 'database_unavailable'
  /** The store holds data already where an empty one is needed (restore, migrate-store) (409). */
  | 'store_not_empty'
  /** The database schema is newer than this program knows, or a migration failed (500). */
  | 'schema_mismatch'
  /** A group's parent is not a group of its organisation (404). */
  | 'group_not_found'
  /** The move would put a group under itself or one of its own descendants (400). */
  | 'group_cycle'
  /** The tree of groups would be deeper than MAX_GROUP_DEPTH (400). */
  | 'group_too_deep'
  /** The user (own layouts) or organisation (shared layouts) keeps as many saved layouts as it may (409). */
  | 'layout_limit';

type Status = 400 | 404 | 409 | 500 | 503;
const STATUS: Record<StoreErrorCode, Status> = {
  group_not_found: 404,
  group_cycle: 400,
  group_too_deep: 400,
  layout_limit: 409,
  username_taken: 409,
  last_admin: 409,
  database_unavailable: 503,
  store_not_empty: 409,
  schema_mismatch: 500,
};

export class StoreError extends CodedError {
  override name = 'StoreError';
  readonly status: Status;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS[code];
  }

  /** The database being away is the caller's to know (try again); a schema mismatch is the operator's. */
  override answer() {
    return this.code === 'schema_mismatch' ? super.answer() : { code: this.code, message: this.message };
  }
}

export const usernameTaken = (username: string) => new StoreError('username_taken', `the username "${username}" is taken; choose another`);
export const lastAdmin = () =>
  new StoreError('last_admin', 'this is the last administrator of the organisation; make someone else an administrator first');
