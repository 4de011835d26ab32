import { InvocationContext, PostInvocationContext, type PostInvocationHandler } from '@azure/functions';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  contextSink,
  createEventLogger,
  eventLevelOf,
  exportEvents,
  formatEventLine,
  formatLocalLine,
  memorySink,
} from '../../src/events.js';
import { flushAfterInvocations, managedIdentityClientId, otelEventExporter } from '../../src/telemetry.js';

describe('event logger', () => {
  it('keeps structured properties under the event name', () => {
    const { sink, events } = memorySink();
    createEventLogger(sink).info('sync.run.completed', { feedId: 'cs', created: 3 });
    expect(events).toEqual([
      { level: 'info', name: 'sync.run.completed', properties: { feedId: 'cs', created: 3 } },
    ]);
    expect(formatEventLine(events[0]!)).toBe(
      'sync.run.completed {"event":"sync.run.completed","feedId":"cs","created":3}',
    );
  });

  it('never writes secrets, tokens or join links, even nested or inside messages', () => {
    const { sink, events } = memorySink();
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJ4Il19.c2lnbmF0dXJl';
    createEventLogger(sink).error('graph.error', {
      clientSecret: 'hunter2',
      nested: { accessToken: 'abc', note: `bearer ${jwt}` },
      message: 'see https://teams.microsoft.com/l/meetup-join/19%3ameeting_x/0?context=%7b%7d for details',
      storage: 'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0;',
      joinWebUrl: 'https://teams.microsoft.com/l/meetup-join/abc',
    });
    const text = JSON.stringify(events);
    for (const leaked of ['hunter2', jwt, 'meetup-join', 'c2VjcmV0', '"abc"'])
      expect(text).not.toContain(leaked);
    expect(text).toContain('[redacted');
  });
});

describe('one set of level names', () => {
  it('the Functions host levels print as the CLI prints them', () => {
    expect(
      (['trace', 'debug', 'information', 'warning', 'error', 'critical'] as const).map(eventLevelOf),
    ).toEqual(['debug', 'debug', 'info', 'warning', 'error', 'error']);
    expect(formatLocalLine('info', 'sync.fanout {}')).toBe('info    sync.fanout {}');
    expect(formatLocalLine(eventLevelOf('information'), 'x')).toBe(formatLocalLine('info', 'x'));
  });
});

describe('events in Application Insights', () => {
  const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
  const PARENT_ID = 'b7ad6b7169203331';

  function installed() {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    exportEvents(otelEventExporter(provider.getLogger('test')));
    const lines: string[] = [];
    const context = new InvocationContext({
      functionName: 'syncFeedQueue',
      invocationId: 'inv-1',
      traceContext: { traceParent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
    });
    return { memory, lines, logger: createEventLogger(contextSink(context)) };
  }
  afterEach(() => exportEvents(null));

  it('every property becomes a dimension (lists as JSON, null left out), redacted, at the event level, in the invocation trace', () => {
    const { memory, lines, logger } = installed();
    logger.error('policy.missing', {
      feedId: 'cs',
      email: 'carol@uni.example',
      displayName: 'Carol',
      objectId: '7f1c',
      sessions: 4,
      retry: false,
      examples: [{ uid: 'a@uni' }],
      grantedAt: null,
      clientSecret: 'hunter2',
    });
    const [record] = memory.getFinishedLogRecords();
    expect(record?.body).toBe('policy.missing');
    expect(record?.severityText).toBe('error');
    expect(record?.attributes).toEqual({
      event: 'policy.missing',
      level: 'error',
      feedId: 'cs',
      email: 'carol@uni.example',
      displayName: 'Carol',
      objectId: '7f1c',
      sessions: 4,
      retry: false,
      examples: '[{"uid":"a@uni"}]',
      clientSecret: '[redacted]',
      InvocationId: 'inv-1',
      functionName: 'syncFeedQueue',
    });
    expect(record?.spanContext?.traceId).toBe(TRACE_ID);
    // Not also through the host's log: that would store the event a second time, as text only.
    expect(lines).toEqual([]);
  });

  it('debug detail is not sent; without telemetry the same events are one line each in the host log', () => {
    const { memory, logger } = installed();
    logger.debug('meeting.created', { feedId: 'cs' });
    logger.info('sync.run.completed', { feedId: 'cs', outcome: 'unchanged' });
    expect(memory.getFinishedLogRecords().map((r) => r.body)).toEqual(['sync.run.completed']);

    exportEvents(null);
    const lines: Array<[string, string]> = [];
    const context = new InvocationContext({
      logHandler: (level, ...args) => lines.push([level, args.map(String).join(' ')]),
    });
    createEventLogger(contextSink(context)).info('sync.run.completed', { feedId: 'cs' });
    expect(lines).toEqual([
      ['information', 'sync.run.completed {"event":"sync.run.completed","feedId":"cs"}'],
    ]);
  });

  it('an exporter that throws breaks nothing: the event goes to the host log instead', () => {
    exportEvents(() => {
      throw new Error('exporter bug');
    });
    const lines: string[] = [];
    const context = new InvocationContext({
      logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
    });
    expect(() =>
      createEventLogger(contextSink(context)).error('policy.missing', { feedId: 'cs' }),
    ).not.toThrow();
    expect(lines).toEqual(['policy.missing {"event":"policy.missing","feedId":"cs"}']);
  });

  it('reads the managed identity from APPLICATIONINSIGHTS_AUTHENTICATION_STRING', () => {
    expect(managedIdentityClientId('ClientId=1234-abcd;Authorization=AAD')).toBe('1234-abcd');
    expect(managedIdentityClientId('Authorization=AAD')).toBe('');
    expect(managedIdentityClientId(undefined)).toBeNull();
    expect(managedIdentityClientId('ClientId=1234')).toBeNull();
  });
});

describe('events sent before the instance may be recycled', () => {
  it('are flushed after every queue or timer invocation, not after HTTP requests, and a failed send fails nothing', async () => {
    const handlers: PostInvocationHandler[] = [];
    let flushes = 0;
    let failNext = false;
    flushAfterInvocations(
      (handler) => handlers.push(handler),
      () => {
        flushes++;
        return failNext ? Promise.reject(new Error('ingestion down')) : Promise.resolve();
      },
    );
    const after = (type: string) =>
      handlers[0]!(
        new PostInvocationContext({
          invocationContext: new InvocationContext({ options: { trigger: { type, name: 't' } } }),
          inputs: [],
          hookData: {},
        }),
      );
    await after('queueTrigger');
    await after('timerTrigger');
    await after('httpTrigger');
    expect(flushes).toBe(2);
    failNext = true;
    await expect(after('queueTrigger')).resolves.toBeUndefined();
    expect(flushes).toBe(3);
  });
});
