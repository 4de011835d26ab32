// Public API of the iCalendar engine.
export { expandCalendar, type ExpandOptions } from './expand.js';
export { resolveDefaultTimeZone, feedTimeZone } from './tzid.js';
export { CalendarError, type CalendarErrorCode } from './errors.js';
export { resolveZoneName, wallToUtc, utcToWall, type Zone } from './zones.js';
export { joinSplitCharacters, firstInvalidUtf8Line } from './bytes.js';
