import { CodedError } from '../errors/index.ts';

/** Errors of the media layer. `code` is stable and reaches clients; `status` is the HTTP mapping. */
export class SfuError extends CodedError {
  override name = 'SfuError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

export class NotFoundError extends SfuError {
  override name = 'NotFoundError';
  constructor(what: string, id: string) {
    super(`${what}_not_found`, `${what} ${id} does not exist here (it may have closed; join again)`, 404);
  }
}
