// Whole-file failures of the iCalendar engine. They extend UserFacingError so that the CLI prints the
// message as one line (no stack trace): every message names what is wrong in terms of the input.
import { UserFacingError } from '../cli/errors.js';

export type CalendarErrorCode =
  'notICalendar' | 'tooLarge' | 'tooManyOccurrences' | 'unknownTimeZone' | 'badWindow';

export class CalendarError extends UserFacingError {
  override name = 'CalendarError';
  constructor(
    readonly code: CalendarErrorCode,
    message: string,
  ) {
    super(message);
  }
}
