// Logs are named events with structured properties (`sync.run.completed`, `policy.missing`, ...).
// Levels mean something: error = a session will not get its meeting without someone acting;
// warning = degraded but self-healing; info = run summaries and state changes; debug = detail.
// Every property passes through `redactProperties`, so a secret, token, passcode or join URL handed
// to a logger by mistake is removed before it is written anywhere.
//
// Where they go: on this machine one readable line per event (`info    name {json}`, the same level
// names in the CLI, `serve` and `func start`); in Azure, once the services are built with an Application
// Insights connection string, straight to Application Insights with every property a customDimension
// (src/telemetry.ts), because a Functions log line can only carry text.
import type { InvocationContext, LogLevel } from '@azure/functions';

export type EventLevel = 'debug' | 'info' | 'warning' | 'error';
export type EventProperties = Record<string, unknown>;

export interface LoggedEvent {
  level: EventLevel;
  name: string;
  properties: EventProperties;
}

export type EventSink = (event: LoggedEvent) => void;

export interface EventLogger {
  debug(name: string, properties?: EventProperties): void;
  info(name: string, properties?: EventProperties): void;
  warning(name: string, properties?: EventProperties): void;
  error(name: string, properties?: EventProperties): void;
}

const SECRET_KEY =
  /secret|token|password|passcode|assertion|authorization|privatekey|joinweburl|joinurl|connectionstring|accountkey/i;
// JWTs (three base64url parts starting with `eyJ`) and Teams join links carry credentials or passcodes.
const JWT = /eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*/g;
const JOIN_URL = /https:\/\/teams\.microsoft\.com\/l\/meetup-join\/\S+/gi;
const ACCOUNT_KEY = /AccountKey=[^;]+/gi;

function redactString(value: string): string {
  return value
    .replace(JWT, '[redacted-token]')
    .replace(JOIN_URL, '[redacted-join-url]')
    .replace(ACCOUNT_KEY, 'AccountKey=[redacted]');
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (value instanceof Error) return redactString(`${value.name}: ${value.message}`);
  return redactProperties(value as EventProperties, depth + 1);
}

/** Removes keys that name secrets and scrubs tokens and join links from string values. */
export function redactProperties(properties: EventProperties, depth = 0): EventProperties {
  const out: EventProperties = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined) continue;
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redactValue(value, depth);
  }
  return out;
}

export function createEventLogger(...sinks: EventSink[]): EventLogger {
  const emit = (level: EventLevel, name: string, properties: EventProperties = {}) => {
    const event = { level, name, properties: redactProperties(properties) };
    for (const sink of sinks) sink(event);
  };
  return {
    debug: (name, properties) => emit('debug', name, properties),
    info: (name, properties) => emit('info', name, properties),
    warning: (name, properties) => emit('warning', name, properties),
    error: (name, properties) => emit('error', name, properties),
  };
}

/** One line per event: `name {json}` (the level is the log line's own). */
export function formatEventLine(event: LoggedEvent): string {
  return `${event.name} ${JSON.stringify({ event: event.name, ...event.properties })}`;
}

export const EVENT_LEVELS: readonly EventLevel[] = ['debug', 'info', 'warning', 'error'];

/** Whether `level` is at least `minLevel`. */
export function atLeast(level: EventLevel, minLevel: EventLevel): boolean {
  return EVENT_LEVELS.indexOf(level) >= EVENT_LEVELS.indexOf(minLevel);
}

/** The Functions log levels in this product's names (one set everywhere: debug, info, warning, error). */
export function eventLevelOf(level: LogLevel): EventLevel {
  if (level === 'information' || level === 'none') return 'info';
  if (level === 'critical') return 'error';
  if (level === 'trace') return 'debug';
  return level;
}

/** A line as printed on this machine (CLI, `serve`): the level padded, then the text. */
export function formatLocalLine(level: EventLevel, text: string): string {
  return `${level.padEnd(7)} ${text}`;
}

/** Where an event was logged in the Functions host: carried to Application Insights for correlation. */
export interface EventOrigin {
  invocationId: string;
  functionName: string;
  /** W3C traceparent of the invocation: the event joins the host's request/operation. */
  traceParent: string | null;
}

/** Sends an event to the telemetry backend (src/telemetry.ts). */
export type EventExporter = (event: LoggedEvent, origin: EventOrigin | null) => void;

// One per process, like the services that install it (compose.ts getServices): set once the Functions
// worker has built its telemetry, read by every invocation's sink.
let eventExporter: EventExporter | null = null;

/** Sends every event of a Functions invocation to `exporter` from now on instead of the host's log (null: back to the log). */
export function exportEvents(exporter: EventExporter | null): void {
  eventExporter = exporter;
}

/**
 * The sink of a Functions invocation: to Application Insights with its properties as dimensions when
 * telemetry is installed (not also through the host, which would store each event a second time as a
 * bare message), else one line through the invocation context at the matching level.
 */
export function contextSink(context: InvocationContext): EventSink {
  const origin: EventOrigin = {
    invocationId: context.invocationId,
    functionName: context.functionName,
    traceParent: context.traceContext?.traceParent ?? null,
  };
  return (event) => {
    if (eventExporter) {
      try {
        eventExporter(event, origin);
        return;
      } catch {
        // Logging never breaks a run: an exporter that throws leaves the event to the host's log.
      }
    }
    const line = formatEventLine(event);
    if (event.level === 'error') context.error(line);
    else if (event.level === 'warning') context.warn(line);
    else if (event.level === 'debug') context.debug(line);
    else context.info(line);
  };
}

/** For the CLI: one line per event on stderr (so stdout stays the command's output), nothing below `minLevel`. */
export function stderrSink(minLevel: EventLevel = 'info'): EventSink {
  return (event) => {
    if (!atLeast(event.level, minLevel)) return;
    process.stderr.write(`${formatLocalLine(event.level, formatEventLine(event))}\n`);
  };
}

/** Collects events in memory (tests, and the demo's report). */
export function memorySink(): { sink: EventSink; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  return { sink: (event) => events.push(event), events };
}
