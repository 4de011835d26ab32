// One timetabled session as read from a feed: the unit the planner turns into one Teams meeting.

export interface Person {
  /** Lower-cased e-mail address (from `mailto:`), or '' when the property had none. */
  email: string;
  name?: string;
}

export type OccurrenceStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface Occurrence {
  /** The VEVENT's UID, or '' where the event has none. */
  uid: string;
  /**
   * Original start of this instance (RECURRENCE-ID), in the same format as `start`, for instances of
   * a recurring event; null for a single event. Together with uid it identifies the session and does
   * not change when the session moves.
   */
  recurrenceId: string | null;
  /**
   * ISO 8601: `YYYY-MM-DDTHH:MM:SSZ` when bound to a zone (TZID or UTC), `YYYY-MM-DDTHH:MM:SS` when
   * floating (no zone and no default zone given), `YYYY-MM-DD` for all-day dates.
   */
  start: string;
  end: string;
  allDay: boolean;
  floating: boolean;
  summary: string;
  description: string;
  location: string;
  organizer: Person | null;
  attendees: Person[];
  status: OccurrenceStatus;
  sequence: number;
}

export interface ExpandWarning {
  /** UID of the event the warning is about ('' when none or unknown). */
  uid: string;
  /** 1-based line of the event's BEGIN:VEVENT in the source, when known. */
  line?: number;
  reason: string;
}

export interface ExpandResult {
  occurrences: Occurrence[];
  warnings: ExpandWarning[];
  /** The calendar's own name (X-WR-CALNAME of its first VCALENDAR, unescaped, at most 255 characters); null when none. */
  calendarName?: string | null;
}

export interface ExpandWindow {
  /** Inclusive lower bound, epoch ms (UTC). Occurrences overlapping [from, to) are kept. */
  from: number;
  /** Exclusive upper bound, epoch ms (UTC). */
  to: number;
}
