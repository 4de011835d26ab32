// Which zone a name in this file stands for: TZIDs (the file's VTIMEZONEs, the tz database, Windows
// names), X-WR-TIMEZONE, and the caller's default time zone. Lookups are cached per call.
import type { ExpandWarning, ExpandWindow } from '../core/occurrence.js';
import { parseComponents, unescapeText, type RawComponent } from './content.js';
import { CalendarError } from './errors.js';
import type { WorkBudget } from './guard.js';
import { DAY, ianaZone, resolveZoneName, vtimezoneZone, type Zone } from './zones.js';

/** The part of an expansion's state that zone lookups use. */
export interface ZoneLookup {
  window: ExpandWindow;
  warnings: ExpandWarning[];
  vtimezones: Map<string, RawComponent>;
  zones: Map<string, Zone | null>;
  /** VTIMEZONE onsets are expanded up to this UTC instant. */
  horizon: number;
  /** ical.js work left for the whole file (guard.ts). */
  budget: WorkBudget;
  /** Iterator steps allowed per recurrence rule, VTIMEZONE onset rules included. */
  maxSteps: number;
}

/**
 * A TZID as the file's VTIMEZONEs and TZID parameters are compared: TEXT-unescaped (Outlook and
 * Exchange write `TZID:Kuala Lumpur\, Singapore` in the VTIMEZONE and `TZID="Kuala Lumpur, Singapore"`
 * on the event), without surrounding quotes and spaces.
 */
export function tzidKey(raw: string): string {
  return unescapeText(raw.trim().replace(/^"(.*)"$/, '$1')).trim();
}

/**
 * The zone for floating times: the `defaultTimeZone` option, validated. Throws CalendarError
 * 'unknownTimeZone' when the name is neither IANA nor Windows.
 */
export function resolveDefaultTimeZone(name: string | undefined): Zone | null {
  if (name === undefined || name === '') return null;
  const zone = resolveZoneName(name);
  if (!zone)
    throw new CalendarError(
      'unknownTimeZone',
      `unknown time zone '${name}' (expected an IANA name such as Europe/Berlin or a Windows name such as W. Europe Standard Time)`,
    );
  return zone;
}

/** VTIMEZONEs of the whole file by TZID, found first so that events can be read as they stream by. */
export function findVtimezones(text: string): Map<string, RawComponent> {
  const map = new Map<string, RawComponent>();
  const begin = /^BEGIN:VTIMEZONE[ \t]*$/gim;
  // Line numbers of the file, counted as far as the last VTIMEZONE found.
  let line = 1;
  let counted = 0;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const end = /^END:VTIMEZONE[ \t]*$/gim;
    end.lastIndex = m.index;
    const e = end.exec(text);
    const stop = e ? e.index + e[0].length : text.length;
    for (let at = text.indexOf('\n', counted); at >= 0 && at < m.index; at = text.indexOf('\n', at + 1))
      line++;
    counted = m.index;
    for (const comp of parseComponents(text.slice(m.index, stop), undefined, line)) {
      const tzid = comp.props.find((p) => p.name === 'TZID')?.value;
      if (comp.name === 'VTIMEZONE' && tzid !== undefined && tzidKey(tzid)) map.set(tzidKey(tzid), comp);
    }
    begin.lastIndex = stop;
  }
  return map;
}

/**
 * X-WR-TIMEZONE (a Google Calendar extension): the calendar's zone. Google means that date-times in
 * UTC and floating date-times of the feed are shown in that zone, so recurring events keep their
 * local time across DST. Null when absent; unknown names are warned about and ignored.
 */
export function feedTimeZone(cal: RawComponent, ctx?: ZoneLookup): Zone | null {
  const name = cal.props.find((p) => p.name === 'X-WR-TIMEZONE')?.value.trim();
  if (!name) return null;
  const zone = ctx ? zoneFor(name, ctx, cal.line, '') : resolveZoneName(name);
  return zone;
}

/**
 * The zone a TZID names; null (warned about once, naming the event `uid` on `line` that first used
 * it) when it names none.
 */
export function zoneFor(rawTzid: string, ctx: ZoneLookup, line: number, uid: string): Zone | null {
  const cached = ctx.zones.get(rawTzid);
  if (cached !== undefined) return cached;
  const tzid = tzidKey(rawTzid);
  const vtz = ctx.vtimezones.get(tzid);
  // A TZID that is an IANA name uses the runtime's tz database even when the file has a VTIMEZONE of
  // that name: feeds often embed truncated VTIMEZONEs (only the transitions around the export date,
  // so earlier sessions get the wrong offset), and the tz database is also more current. Other TZIDs
  // (Windows names, custom ids) use their VTIMEZONE as RFC 5545 §3.2.19 says, then name mapping.
  let zone = ianaZone(tzid);
  if (!zone && vtz)
    zone = vtimezoneZone(vtz, ctx.horizon, ctx.window.from - 400 * DAY, {
      budget: ctx.budget,
      maxChecks: ctx.maxSteps * 4,
      warn: (at, reason) => ctx.warnings.push({ uid: '', line: at, reason }),
    });
  zone ??= resolveZoneName(tzid);
  if (!zone) {
    ctx.warnings.push({
      uid,
      line,
      reason: `unknown time zone '${tzid}' (no usable VTIMEZONE, not an IANA or Windows name): its times are read as floating (in the feed's time zone or DEFAULT_TIME_ZONE; without one its sessions are skipped as floating)`,
    });
  }
  ctx.zones.set(rawTzid, zone);
  return zone;
}
