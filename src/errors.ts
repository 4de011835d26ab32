// The root of every error this product raises on purpose. Callers decide on two fields, never on
// class chains: `code` (stable, for programs and problem bodies) and `isUserError` (the input was
// wrong: the message names the input and what is wrong, and is safe to show as it is). Anything that
// is not an AppError is an unexpected fault: shown only as "unexpected error", logged in full.

export interface AppErrorOptions {
  cause?: unknown;
  /** True when the caller's input is at fault (a 4xx, a one-line CLI message), not the system. */
  isUserError?: boolean;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly isUserError: boolean;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.isUserError = options.isUserError ?? false;
  }
}

/** An error in the input: its message is safe and useful to show as it is. */
export function userError(
  code: string,
  message: string,
  options: Omit<AppErrorOptions, 'isUserError'> = {},
): AppError {
  return new AppError(code, message, { ...options, isUserError: true });
}

function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

export function isUserError(value: unknown): value is AppError {
  return isAppError(value) && value.isUserError;
}

/** Normalises anything thrown (a string, an SDK object) to an Error, once, where it is caught. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : safeStringify(value));
}

/** `name: message` (first line) of anything thrown: for log fields and run reports. */
export function describeError(value: unknown): string {
  const error = ensureError(value);
  return `${error.name}: ${error.message.split('\n')[0] ?? ''}`;
}

/** The message of anything thrown, without the class name. */
export function errorMessage(value: unknown): string {
  return ensureError(value).message;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
