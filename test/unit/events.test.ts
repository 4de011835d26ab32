import { describe, expect, it } from 'vitest';
import { createEventLogger, formatEventLine, memorySink } from '../../src/events.js';

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
