// Storage errors: a stable `code`, the SDK error kept as `cause`, and a message that is safe to log or
// show (it names the table and row, never the connection string, account key or a SAS token).
import { AppError } from '../errors.js';

export type StorageErrorCode =
  | 'concurrency' // a conditional write lost a race: re-read and decide again
  | 'conflict' // the row already exists and the caller asked to create it (user input, e.g. a feed id)
  | 'notFound' // the row the caller wanted to change does not exist (any more)
  | 'invalidInput' // a key or record the storage cannot hold (bad feed id, key with `/ \ # ?`)
  | 'corruptRow' // a stored row does not have the shape this code writes
  | 'unavailable'; // any other storage failure, after the SDK's own retries

export class StorageError extends AppError {
  override name = 'StorageError';
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown; isUserError?: boolean }) {
    super(code, message, options);
  }
}

/** An ETag `If-Match` failed (412), an insert found the row already there, or a transaction row did. */
export class ConcurrencyError extends StorageError {
  override name = 'ConcurrencyError';
  constructor(
    message: string,
    /** Which row lost the race (`table/partition/row`). */
    readonly row: string,
    options?: { cause?: unknown },
  ) {
    super('concurrency', message, options);
  }
}

export class ConflictError extends StorageError {
  override name = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, { ...options, isUserError: true });
  }
}

export class NotFoundError extends StorageError {
  override name = 'NotFoundError';
  constructor(
    message: string,
    readonly row: string,
    options?: { cause?: unknown },
  ) {
    super('notFound', message, options);
  }
}

export class InvalidInputError extends StorageError {
  override name = 'InvalidInputError';
  constructor(message: string) {
    super('invalidInput', message, { isUserError: true });
  }
}

/**
 * A storage failure that is not a lost race: the storage refused or did not answer (connection refused,
 * timeout, 5xx after the SDK's retries), or answered something a conditional write cannot go on from.
 * A ConcurrencyError (ETag 412, insert 409) is another writer's, not the storage's: it is not one.
 * Never a Graph failure, whatever the caller was doing when it happened.
 */
export function isStorageFailure(error: unknown): error is StorageError {
  return error instanceof StorageError && !(error instanceof ConcurrencyError);
}

/** The parts of an Azure SDK `RestError` we decide on; read defensively from `unknown`. */
export function restErrorInfo(error: unknown): { statusCode: number | undefined; code: string | undefined } {
  if (typeof error !== 'object' || error === null) return { statusCode: undefined, code: undefined };
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  return {
    statusCode: typeof statusCode === 'number' ? statusCode : undefined,
    code: typeof code === 'string' ? code : undefined,
  };
}

/** Wraps anything unexpected once, so callers see only StorageError subclasses. */
export function toStorageError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const { statusCode, code } = restErrorInfo(error);
  // The SDK's own message can quote request URLs (with SAS tokens, if one were used): keep it out of ours.
  const detail = [statusCode === undefined ? null : `status ${statusCode}`, code ?? null]
    .filter(Boolean)
    .join(', ');
  const kind = error instanceof Error ? error.name : typeof error;
  return new StorageError('unavailable', `${what} failed (${detail || kind})`, { cause: error });
}
