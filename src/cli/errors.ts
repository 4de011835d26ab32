// Errors the CLI prints as one clear line (never a stack trace): the user's input or the system's.
import { AppError, errorMessage, isUserError } from '../errors.js';

/** Wrong command-line words: exit code 2. */
export class UsageError extends AppError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message, { isUserError: true });
  }
}

/** The process exit codes (README, "Commands"). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The process exit code for a failure: 2 for wrong command-line words, 1 for anything else. */
export function cliExitCode(error: unknown): number {
  return error instanceof AppError && error.code === 'usage' ? EXIT.usage : EXIT.failed;
}

/**
 * One line for the terminal. A user error's message is made to be shown as it is; anything else is a
 * fault, shown by its message alone (a class name such as `StorageError:` tells the reader nothing).
 */
export function formatCliError(error: unknown): string {
  if (isUserError(error)) return `timetable-sync: ${error.message}`;
  return `timetable-sync: ${errorMessage(error).split('\n')[0] ?? ''}`;
}

/** Why a file given on the command line cannot be read, in words (never a bare EISDIR). */
export function unreadableFile(flag: string | null, file: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'no such file: check the path'
      : code === 'EISDIR'
        ? 'it is a directory: give the path of a file in it'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied: check who may read it'
          : errorMessage(error);
  return new AppError('unreadableFile', `${flag ? `${flag} ` : ''}${file}: cannot read it (${why})`, {
    isUserError: true,
  });
}

/** Runs `work` on a file given as `flag`; a complaint about its content names the flag and the file. */
export async function aboutFile<T>(flag: string, file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isUserError(error) || error.message.includes(file)) throw error;
    throw new AppError(error.code, `${flag} ${file}: ${error.message}`, { isUserError: true, cause: error });
  }
}

/** A server that could not listen, in words: EADDRINUSE names the port and `--port`. */
export function listenProblem(error: unknown, port: number, host = '127.0.0.1'): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE')
    return new AppError(
      'portInUse',
      `port ${port} on ${host} is in use by another process: choose another with --port N (0 picks a free one), or stop that process`,
      { isUserError: true },
    );
  if (code === 'EACCES')
    return new AppError(
      'portNotAllowed',
      `port ${port} needs more privileges: choose one above 1023 with --port N`,
      {
        isUserError: true,
      },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new AppError('hostNotAvailable', `--host ${host} is not an address of this machine`, {
      isUserError: true,
    });
  return error;
}
