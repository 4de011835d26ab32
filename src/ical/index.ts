// Public API of the iCalendar engine.
export { expandCalendar, resolveDefaultTimeZone, feedTimeZone, type ExpandOptions } from './expand.js';
export { CalendarError, type CalendarErrorCode } from './errors.js';
export { resolveZoneName, wallToUtc, utcToWall, type Zone } from './zones.js';
