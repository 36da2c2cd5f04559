/**
 * The enrichment hot path reads common inputs without the general machinery
 * (`new URL()`, `URLSearchParams`, the ISO-8601 regex) and memoises channels
 * and bot verdicts. These tests pin each shortcut to the general behaviour.
 */

import { describe, expect, it, vi } from 'vitest';

import { extractCampaign, parseQuery } from './campaign.js';
import {
  channelForTraffic,
  classifyChannel,
  classifyChannelWith,
  resolveTrafficSource,
  type ChannelInput,
} from './channel.js';
import { parseClientTime } from './clock-skew.js';
import { enrich, type EnrichOptions } from './enrich.js';
import { hostOfUrl, normalizeHost } from './host.js';
import { applyIpPolicy, applyIpPolicyToParsed, parseIp, type IpPolicy } from './ip-policy.js';

describe('parseClientTime: Date#toISOString() shape agrees with the general ISO-8601 reading', () => {
  // Surrounding spaces keep a string off the fast path (it is trimmed, then parsed by the regex).
  it.each([
    '2024-05-01T12:00:00.123Z',
    '2024-02-29T00:00:00.000Z',
    '2023-02-29T00:00:00.000Z',
    '2024-04-31T00:00:00.000Z',
    '2024-13-01T00:00:00.000Z',
    '2024-00-01T00:00:00.000Z',
    '2024-05-00T00:00:00.000Z',
    '2024-05-01T24:00:00.000Z',
    '2024-05-01T12:60:00.000Z',
    '2024-05-01T23:59:60.999Z',
    '2000-02-29T00:00:00.000Z',
    '1900-02-29T00:00:00.000Z',
    '0000-02-29T00:00:00.000Z',
    '0004-02-29T00:00:00.000Z',
    '0099-12-31T23:59:59.999Z',
    '0100-02-29T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '1970-01-01T00:00:00.000Z',
  ])('%s', (iso) => {
    expect(parseClientTime(iso)).toBe(parseClientTime(` ${iso} `));
  });

  it('reads the canonical shape as UTC', () => {
    expect(parseClientTime('2024-05-01T12:00:00.123Z')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
  });

  it.each([
    { iso: '2100-02-29T00:00:00.000Z', expected: undefined },
    { iso: '2400-02-29T00:00:00.000Z', expected: Date.UTC(2400, 1, 29) },
    // Date.UTC reads years 0-99 as 1900-1999, and so does the check for 29 February.
    { iso: '0000-02-29T00:00:00.000Z', expected: undefined },
    { iso: '0004-02-29T00:00:00.000Z', expected: Date.UTC(1904, 1, 29) },
  ])('leap years: $iso', ({ iso, expected }) => {
    expect(parseClientTime(iso)).toBe(expected);
  });
});

describe('hostOfUrl agrees with the WHATWG URL parser', () => {
  function viaUrlParser(url: string): string | undefined {
    try {
      const { hostname } = new URL(url.trim());
      return hostname === '' ? undefined : normalizeHost(hostname);
    } catch {
      return undefined;
    }
  }

  it.each([
    'https://www.google.com/',
    'https://www.google.com',
    'http://l.facebook.com/l.php?u=x',
    'https://shop.example?utm_source=x',
    'https://shop.example#top',
    'https://www.',
    'https://www.shop.example./x',
    'https://a..b/',
    'https://.a.com/',
    'https://1.2.3.4/',
    'https://1.2.3/',
    'https://0x7f.1/',
    'https://example.1/',
    'https://999.1.1.1/',
    'https://123movies.com/',
    'https://xn--bcher-kva.example/',
    'https://xn--a.com/',
    'https://WWW.Example.COM/a',
    'https://user@host.com/',
    'https://host.com:8080/',
    'https://host.com:443/',
    'https:///host.com/',
    'https:\\\\host.com\\x',
    'https://ex ample.com/',
    'https://ex%41mple.com/',
    'https://-a-.com/',
    `https://${'x'.repeat(260)}.com/`,
    '  https://www.google.com/  ',
    'HTTPS://www.google.com/',
    'http:/www.google.com/',
  ])('%s', (url) => {
    expect(hostOfUrl(url)).toBe(viaUrlParser(url));
  });
});

describe('parseQuery agrees with URLSearchParams', () => {
  function viaUrlSearchParams(query: string): Record<string, string> {
    const params = new Map<string, string>();
    for (const [name, value] of new URLSearchParams(query)) {
      const key = name.trim().toLowerCase();
      if (!params.has(key)) params.set(key, value);
    }
    return Object.fromEntries(params);
  }

  it.each([
    'a=1&b=2',
    '?a=1',
    '??a=1',
    'a=1&&b=2&',
    '&a',
    'a==1&b=x=y',
    '=x&=y',
    'A=1&a=2&%20a%20=3',
    ' utm_source =x&UTM_SOURCE=y',
    'q=black+friday',
    'q=%E2%9C%93&r=%E0%A4%A',
    'q=\uD83D\uDE00',
    'q=\uD83D',
    'gcl\u212Aid=1',
  ])('%s', (query) => {
    const parsed = parseQuery(`?${query}`);
    expect(parsed === undefined ? {} : Object.fromEntries(parsed)).toEqual(
      viaUrlSearchParams(query),
    );
  });
});

describe('extractCampaign shortcuts', () => {
  const url = 'https://shop.example/?utm_source=Google&utm_medium=cpc&gclid=G1';

  it('reads a query repeated in search and properties once, with the same result', () => {
    const once = extractCampaign({ type: 'page', properties: { url } });
    const repeated = extractCampaign({
      type: 'page',
      properties: { url, search: '?utm_source=Google&utm_medium=cpc&gclid=G1' },
      context: { page: { url, search: '?utm_source=Google&utm_medium=cpc&gclid=G1' } },
    });
    expect(repeated).toEqual(once);
    expect(once).toMatchObject({ utm_source: 'google', click_ids: { gclid: 'G1' } });
  });

  it.each([
    { name: 'upper-case name', query: 'GCLID=a', expected: { gclid: 'a' } },
    { name: 'Kelvin sign lower-cases to k', query: 'MSCL\u212AID=b', expected: { msclkid: 'b' } },
    { name: 'percent-encoded name', query: 'gcl%69d=c', expected: { gclid: 'c' } },
    { name: 'padded name', query: '%20fbclid%20=d', expected: { fbclid: 'd' } },
    { name: 'dotted capital I is not i', query: 'GCL\u0130D=e', expected: {} },
    { name: 'no click id', query: 'ref=home', expected: {} },
  ])('click ids next to context.campaign: $name', ({ query, expected }) => {
    const event = {
      context: { campaign: { source: 'newsletter' }, page: { url: `https://a.example/?${query}` } },
    };
    expect(extractCampaign(event).click_ids).toEqual(expected);
  });

  it('returns click ids a caller may change without affecting later events', () => {
    const event = { context: { page: { url: 'https://a.example/?gclid=x' } } };
    const first = extractCampaign(event);
    (first.click_ids as Record<string, string>)['gclid'] = 'changed';
    expect(extractCampaign(event).click_ids).toEqual({ gclid: 'x' });
  });
});

describe('classifyChannelWith', () => {
  const cases: ChannelInput[] = [
    { source: 'google', medium: 'cpc', campaign: 'spring', referrerHost: 'bing.com' },
    { source: 'newsletter', medium: 'email' },
    { clickIds: { gclid: 'x' }, referrerHost: 'facebook.com' },
    { clickIds: { dclid: 'x' } },
    { referrerHost: 'www.google.co.uk', pageHost: 'shop.example' },
    { referrerHost: 'blog.shop.example', pageHost: 'shop.example' },
    { referrerHost: 'partner.example', pageHost: 'shop.example' },
    { referrerHost: 'https://l.facebook.com/x', pageHost: null },
    {},
  ];

  it.each(cases)('agrees with the rules applied afresh: %o', (input) => {
    const { referrerHost, pageHost, ...tagging } = input;
    const expected = channelForTraffic(resolveTrafficSource(input));
    expect(classifyChannelWith(tagging, () => ({ referrerHost, pageHost }))).toBe(expected);
    expect(classifyChannel(input)).toBe(expected);
    expect(classifyChannel({ ...input })).toBe(expected);
  });

  it('asks for the hosts only for untagged traffic', () => {
    const hosts = vi.fn(() => ({ referrerHost: 'google.com', pageHost: 'shop.example' }));
    expect(classifyChannelWith({ source: 'google', medium: 'cpc' }, hosts)).toBe('Paid Search');
    expect(classifyChannelWith({ clickIds: { gclid: 'x' } }, hosts)).toBe('Paid Search');
    expect(hosts).not.toHaveBeenCalled();
    expect(classifyChannelWith({ source: '  ' }, hosts)).toBe('Organic Search');
    expect(hosts).toHaveBeenCalledTimes(1);
  });

  it('keeps inputs that only differ in where one field ends apart', () => {
    expect(classifyChannel({ source: 'email', medium: 'x' })).toBe('Email');
    expect(classifyChannel({ source: 'emai', medium: 'lx' })).toBe('Unassigned');
    expect(classifyChannel({ referrerHost: 'shop.example', pageHost: 'shop.example' })).toBe(
      'Direct',
    );
    expect(classifyChannel({ referrerHost: 'shop.exampleshop.example', pageHost: '' })).toBe(
      'Referral',
    );
  });
});

describe('applyIpPolicyToParsed', () => {
  it.each([
    '203.0.113.7',
    '0.0.0.0',
    '255.255.255.255',
    '::ffff:198.51.100.23',
    '2001:db8:85a3:8d3:1319:8a2e:370:7348',
    '[2001:db8::1]:443',
    '1.2.3.4:8080',
  ])('%s agrees with applyIpPolicy', (ip) => {
    const parsed = parseIp(ip);
    expect(parsed).toBeDefined();
    if (parsed === undefined) return;
    for (const policy of ['keep', 'strip_last_octet', 'drop'] as IpPolicy[]) {
      expect(applyIpPolicyToParsed(parsed, policy)).toBe(applyIpPolicy(ip, policy));
    }
  });

  it.each(['010.0.0.1', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '1.2.3.', ' 1.2.3.4 x'])(
    '%s is not an IPv4 address',
    (ip) => {
      expect(parseIp(ip)).toBeUndefined();
    },
  );
});

describe('enrich with memoised steps', () => {
  const options: EnrichOptions = {
    receivedAt: Date.parse('2024-05-01T12:00:00.000Z'),
    ip: '203.0.113.7',
    userAgent: 'analytics-node-next/latest',
    ipPolicy: 'strip_last_octet',
  };

  it.each([
    {
      context: {
        page: { url: 'https://shop.example/?utm_source=x', referrer: 'https://t.co/' },
        userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      },
      timestamp: '2024-05-01T11:59:59.000Z',
    },
    { context: { page: { url: 'https://shop.example/', referrer: 'https://www.google.com/' } } },
    { context: { library: { name: '@segment/analytics-node' } }, sentAt: 'garbage' },
  ])('gives the same columns every time: %#', (event) => {
    const first = enrich(event, options);
    expect(enrich(structuredClone(event), options)).toEqual(first);
    expect(enrich(event, options)).toEqual(first);
  });
});
