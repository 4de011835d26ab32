// Application Insights for the named events: each event becomes one OpenTelemetry log record whose
// attributes are its (already redacted) properties, and the Azure Monitor exporter turns those into a
// `traces` row with one customDimension per property. Queries and alerts then read
// `customDimensions.feedId` instead of parsing JSON out of the message (infra/monitoring).
//
// Why the worker exports the events itself: a Functions log line (context.log) reaches Application
// Insights as text only, in either of the host's telemetry modes. Only the exporter and the logs SDK
// are used (no auto-instrumentation distro); they load on the first invocation in Azure, never in the
// CLI or at cold start.
import type { PostInvocationHandler } from '@azure/functions';
import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';

import type { EventExporter, EventLevel, EventOrigin, LoggedEvent } from './events.js';
import { atLeast } from './events.js';

type AttributeValue = string | number | boolean;

const SEVERITY: Record<EventLevel, SeverityNumber> = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warning: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

/**
 * The customDimensions of an event: `event` and `level`, then every property (numbers, strings and
 * booleans as they are; lists and objects as JSON; null and undefined left out: a dimension is a value).
 */
export function eventDimensions(event: LoggedEvent): Record<string, AttributeValue> {
  const dimensions: Record<string, AttributeValue> = { event: event.name, level: event.level };
  for (const [key, value] of Object.entries(event.properties)) {
    if (value === null || value === undefined || key === 'event' || key === 'level') continue;
    dimensions[key] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : JSON.stringify(value);
  }
  return dimensions;
}

/** The invocation's trace as the parent of the record, so an event shares the host's operation_Id. */
function invocationContext(origin: EventOrigin | null): Context | undefined {
  const match = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/.exec(origin?.traceParent ?? '');
  if (!match) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/**
 * Emits each event at or above `minLevel` as a log record of `logger`: body `name`, severity from the
 * level, the properties as attributes, plus the invocation id and function name it was logged in.
 */
export function otelEventExporter(logger: Logger, minLevel: EventLevel = 'info'): EventExporter {
  return (event, origin) => {
    if (!atLeast(event.level, minLevel)) return;
    const context = invocationContext(origin);
    logger.emit({
      body: event.name,
      severityNumber: SEVERITY[event.level],
      severityText: event.level,
      attributes: {
        ...eventDimensions(event),
        ...(origin ? { InvocationId: origin.invocationId, functionName: origin.functionName } : {}),
      },
      ...(context ? { context } : {}),
    });
  };
}

export interface AzureMonitorSettings {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING */
  connectionString: string;
  /** APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=<managed identity client id>;Authorization=AAD`. */
  authenticationString?: string | undefined;
}

export interface EventTelemetry {
  exporter: EventExporter;
  /** Sends what is batched (the processor also sends every second). */
  flush(): Promise<void>;
}

/** The client id named by APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Entra auth; local auth is off in Azure). */
export function managedIdentityClientId(authenticationString: string | undefined): string | null {
  if (!authenticationString || !/(^|;)\s*Authorization\s*=\s*AAD\s*(;|$)/i.test(authenticationString))
    return null;
  return /(?:^|;)\s*ClientId\s*=\s*([^;]+)/i.exec(authenticationString)?.[1]?.trim() ?? '';
}

/**
 * The Azure Monitor exporter behind a batching logs SDK, signing in with the app's managed identity when
 * the authentication string asks for Entra ID (the only way in: the component has local auth off).
 */
export async function createAzureMonitorTelemetry(settings: AzureMonitorSettings): Promise<EventTelemetry> {
  const [{ AzureMonitorLogExporter }, { BatchLogRecordProcessor, LoggerProvider }, identity] =
    await Promise.all([
      import('@azure/monitor-opentelemetry-exporter'),
      import('@opentelemetry/sdk-logs'),
      import('@azure/identity'),
    ]);
  const clientId = managedIdentityClientId(settings.authenticationString);
  const credential =
    clientId === null
      ? undefined
      : clientId === ''
        ? new identity.ManagedIdentityCredential()
        : new identity.ManagedIdentityCredential({ clientId });
  const exporter = new AzureMonitorLogExporter({
    connectionString: settings.connectionString,
    ...(credential ? { credential } : {}),
  });
  const provider = new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 1_000 })],
  });
  return {
    exporter: otelEventExporter(provider.getLogger('timetable-sync')),
    flush: () => provider.forceFlush(),
  };
}

/**
 * After each queue or timer invocation, sends what it logged before the host may recycle the instance
 * (the batch would otherwise wait up to a second). Not after HTTP requests: their callers would wait for
 * it. A failed send never fails the invocation (the exporter keeps and retries what it could not send).
 */
export function flushAfterInvocations(
  registerPostInvocation: (handler: PostInvocationHandler) => unknown,
  flush: () => Promise<void>,
): void {
  registerPostInvocation(async (context) => {
    if (context.invocationContext.options.trigger.type.toLowerCase() === 'httptrigger') return;
    await flush().catch(() => undefined);
  });
}
