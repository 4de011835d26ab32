// Logs are named events with structured properties (`sync.run.completed`, `policy.missing`, ...).
// Levels mean something: error = a session will not get its meeting without someone acting;
// warning = degraded but self-healing; info = run summaries and state changes; debug = detail.
// Every property passes through `redactProperties`, so a secret, token, passcode or join URL handed
// to a logger by mistake is removed before it is written anywhere.
import type { InvocationContext } from '@azure/functions';

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

/** One line per event: `name {json}`; App Insights keeps it as the trace message (queries parse the JSON). */
export function formatEventLine(event: LoggedEvent): string {
  return `${event.name} ${JSON.stringify({ event: event.name, ...event.properties })}`;
}

/** Writes events through the Functions invocation context at the matching level. */
export function contextSink(context: InvocationContext): EventSink {
  return (event) => {
    const line = formatEventLine(event);
    if (event.level === 'error') context.error(line);
    else if (event.level === 'warning') context.warn(line);
    else if (event.level === 'debug') context.debug(line);
    else context.info(line);
  };
}

/** For the CLI: JSON lines on stderr (so stdout stays the command's output), or nothing below `minLevel`. */
export function stderrSink(minLevel: EventLevel = 'info'): EventSink {
  const order: EventLevel[] = ['debug', 'info', 'warning', 'error'];
  return (event) => {
    if (order.indexOf(event.level) < order.indexOf(minLevel)) return;
    process.stderr.write(`${event.level.padEnd(7)} ${formatEventLine(event)}\n`);
  };
}

/** Collects events in memory (tests, and the demo's report). */
export function memorySink(): { sink: EventSink; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  return { sink: (event) => events.push(event), events };
}
