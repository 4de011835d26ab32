// Errors of admin operations, shaped as RFC 9457 problem details so HTTP routes return them as-is and
// the CLI prints their detail. Every detail names the input and what is wrong; none carries a secret.
import { AppError } from '../errors.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** An answer, not a fault: its detail is safe to show; 4xx problems are the caller's input. */
export class ProblemError extends AppError {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly problemType: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(problemType, detail, { isUserError: status < 500 });
  }

  toBody(): ProblemBody {
    return {
      type: `https://timetable-sync.dev/problems/${this.problemType}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }
}

export const problems = {
  badRequest: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError(400, 'bad-request', 'The request is not valid', detail, extensions),
  invalidCalendar: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError(
      400,
      'invalid-calendar',
      'The uploaded file is not a usable iCalendar timetable',
      detail,
      extensions,
    ),
  notFound: (detail: string) => new ProblemError(404, 'not-found', 'Not found', detail),
  conflict: (detail: string) => new ProblemError(409, 'conflict', 'Conflict', detail),
  tooLarge: (detail: string) => new ProblemError(413, 'too-large', 'The request body is too large', detail),
  unsupportedMediaType: (detail: string) =>
    new ProblemError(415, 'unsupported-media-type', 'Unsupported content type', detail),
  unauthorized: (detail: string) => new ProblemError(401, 'unauthorized', 'Authentication required', detail),
  forbidden: (detail: string) => new ProblemError(403, 'forbidden', 'Not allowed', detail),
  unavailable: (detail: string) => new ProblemError(503, 'unavailable', 'Service unavailable', detail),
};
