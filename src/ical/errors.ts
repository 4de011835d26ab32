// Whole-file failures of the iCalendar engine: user errors (the CLI prints the message as one line, HTTP
// answers 400); every message names what is wrong in terms of the input.
import { AppError } from '../errors.js';

export type CalendarErrorCode =
  'notICalendar' | 'tooLarge' | 'tooManyOccurrences' | 'tooComplex' | 'unknownTimeZone' | 'badWindow';

export class CalendarError extends AppError {
  override name = 'CalendarError';
  declare readonly code: CalendarErrorCode;
  constructor(code: CalendarErrorCode, message: string) {
    super(code, message, { isUserError: true });
  }
}
