import { describe, expect, it } from 'vitest';

import { FeedFetchError, isBlockedAddress, validateFeedUrl } from '../../src/feeds/fetch.js';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::FFFF:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::1',
    'not-an-ip',
    '',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:93.184.216.34'])(
    'allows public %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('validateFeedUrl', () => {
  const refused = (url: string, allowHttp = false) => {
    try {
      validateFeedUrl(url, { allowHttp });
    } catch (error) {
      expect(error).toBeInstanceOf(FeedFetchError);
      return (error as FeedFetchError).code;
    }
    return 'accepted';
  };

  it.each([
    ['https://127.0.0.1/x.ics', 'blockedAddress'],
    ['https://10.0.0.1/x.ics', 'blockedAddress'],
    ['https://169.254.169.254/latest/meta-data/', 'blockedAddress'],
    ['https://[::1]/x.ics', 'blockedAddress'],
    ['https://[::ffff:127.0.0.1]/x.ics', 'blockedAddress'],
    ['https://[::ffff:a9fe:a9fe]/x.ics', 'blockedAddress'],
    ['https://0x7f000001/x.ics', 'blockedAddress'], // WHATWG URL parses this as 127.0.0.1
    ['https://2130706433/x.ics', 'blockedAddress'],
    ['https://localhost/x.ics', 'blockedAddress'],
    ['https://printer.local/x.ics', 'blockedAddress'],
    ['https://metadata.google.internal/x.ics', 'blockedAddress'],
    ['http://example.org/x.ics', 'badUrl'],
    ['file:///etc/passwd', 'badUrl'],
    ['https://u:p@example.org/x.ics', 'badUrl'],
    ['::::', 'badUrl'],
    ['https://timetable.example.org/x.ics', 'accepted'],
  ])('%s → %s', (url, expected) => {
    expect(refused(url)).toBe(expected);
  });

  it('http only when allowed', () => {
    expect(refused('http://timetable.example.org/x.ics', true)).toBe('accepted');
    expect(refused('http://127.0.0.1/x.ics', true)).toBe('blockedAddress');
  });
});
