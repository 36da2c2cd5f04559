import { describe, expect, it } from 'vitest';

import { enrich, type EnrichOptions, type EnrichedFields } from './enrich.js';

const RECEIVED_AT = Date.parse('2024-05-01T12:00:00.000Z');
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

type Json = Record<string, unknown>;

/**
 * A page call as analytics.js sends it: device clock 1 h slow, sent 2 s after
 * the call, landing from Google with UTMs.
 */
function browserPage(overrides: { context?: Json; properties?: Json; top?: Json } = {}): Json {
  const url =
    'https://www.shop.example/shoes?utm_source=Google&utm_medium=CPC&utm_campaign=Spring&utm_term=boots&utm_content=ad1';
  return {
    type: 'page',
    anonymousId: 'a-1',
    timestamp: '2024-05-01T10:59:58.000Z',
    sentAt: '2024-05-01T11:00:00.000Z',
    properties: {
      url,
      path: '/shoes',
      referrer: 'https://www.google.com/',
      ...overrides.properties,
    },
    context: {
      userAgent: CHROME,
      page: {
        url,
        path: '/shoes',
        referrer: 'https://www.google.com/',
        search: '?utm_source=Google',
      },
      campaign: { source: 'Google', medium: 'CPC', name: 'Spring', term: 'boots', content: 'ad1' },
      ...overrides.context,
    },
    ...overrides.top,
  };
}

/** A track call from a server library: no page, end-user IP in context, no sentAt on the event. */
function serverTrack(overrides: { context?: Json; top?: Json } = {}): Json {
  return {
    type: 'track',
    event: 'Order Completed',
    userId: 'u-1',
    timestamp: '2024-05-01T11:59:59.000Z',
    properties: { url: 'https://irrelevant.example/?utm_source=bing', total: 10 },
    context: {
      ip: '198.51.100.23',
      library: { name: '@segment/analytics-node', version: '2.1.0' },
      ...overrides.context,
    },
    ...overrides.top,
  };
}

function options(overrides: Partial<EnrichOptions> = {}): EnrichOptions {
  return {
    receivedAt: RECEIVED_AT,
    sourceId: 'src_1',
    ip: '203.0.113.7',
    userAgent: 'analytics-node-next/latest',
    ipPolicy: 'keep',
    ...overrides,
  };
}

const NO_CAMPAIGN = {
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  utm_term: null,
  utm_content: null,
} as const;
const NO_PAGE = { page_url: null, page_path: null, referrer: null } as const;

describe('enrich', () => {
  const cases: {
    name: string;
    event: unknown;
    options: EnrichOptions;
    expected: Partial<EnrichedFields>;
  }[] = [
    {
      name: 'browser page call from a Google ad',
      event: browserPage(),
      options: options({ userAgent: CHROME, ipPolicy: 'strip_last_octet' }),
      expected: {
        timestamp: RECEIVED_AT - 2000,
        received_at: RECEIVED_AT,
        sent_at: Date.parse('2024-05-01T11:00:00.000Z'),
        original_timestamp: Date.parse('2024-05-01T10:59:58.000Z'),
        clock_skew_flag: '',
        channel: 'Paid Search',
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'Spring',
        utm_term: 'boots',
        utm_content: 'ad1',
        page_url:
          'https://www.shop.example/shoes?utm_source=Google&utm_medium=CPC&utm_campaign=Spring&utm_term=boots&utm_content=ad1',
        page_path: '/shoes',
        referrer: 'https://www.google.com/',
        ip: '203.0.113.0',
        user_agent: CHROME,
        is_bot: false,
      },
    },
    {
      name: 'browser page call from Google search without UTMs',
      event: browserPage({
        context: {
          campaign: undefined,
          page: { url: 'https://www.shop.example/', referrer: 'https://www.google.com/' },
        },
        properties: { url: 'https://www.shop.example/', path: '/' },
      }),
      options: options(),
      expected: {
        channel: 'Organic Search',
        ...NO_CAMPAIGN,
        page_path: '/',
        referrer: 'https://www.google.com/',
      },
    },
    {
      name: 'internal navigation is Direct, not Referral',
      event: browserPage({
        context: {
          campaign: undefined,
          page: { url: 'https://shop.example/cart', referrer: 'https://www.shop.example/shoes' },
        },
        properties: {
          url: 'https://shop.example/cart',
          path: '/cart',
          referrer: 'https://www.shop.example/shoes',
        },
      }),
      options: options(),
      expected: { channel: 'Direct', page_path: '/cart' },
    },
    {
      name: 'landing from Facebook with fbclid is Organic Social',
      event: browserPage({
        context: {
          campaign: undefined,
          page: { url: 'https://shop.example/?fbclid=IwAR1', referrer: 'https://l.facebook.com/' },
        },
        properties: {
          url: 'https://shop.example/?fbclid=IwAR1',
          referrer: 'https://l.facebook.com/',
        },
      }),
      options: options(),
      expected: { channel: 'Organic Social', ...NO_CAMPAIGN },
    },
    {
      name: 'gclid without UTMs is Paid Search',
      event: browserPage({
        context: {
          campaign: undefined,
          page: { url: 'https://shop.example/?gclid=Cj0', referrer: '' },
        },
        properties: { url: 'https://shop.example/?gclid=Cj0', referrer: '' },
      }),
      options: options(),
      expected: { channel: 'Paid Search', utm_source: null, referrer: null },
    },
    {
      name: 'crawler running analytics.js is a bot',
      event: browserPage({ context: { userAgent: GOOGLEBOT } }),
      options: options({ userAgent: GOOGLEBOT }),
      expected: { user_agent: GOOGLEBOT, is_bot: true },
    },
    {
      name: 'context.userAgent wins over the request header',
      event: browserPage(),
      options: options({ userAgent: GOOGLEBOT }),
      expected: { user_agent: CHROME, is_bot: false },
    },
    {
      name: 'server library: batch sentAt, context.ip, SDK user agent not a bot, Direct',
      event: serverTrack(),
      options: options({ batchSentAt: '2024-05-01T11:59:59.500Z' }),
      expected: {
        timestamp: RECEIVED_AT - 500,
        sent_at: Date.parse('2024-05-01T11:59:59.500Z'),
        original_timestamp: Date.parse('2024-05-01T11:59:59.000Z'),
        clock_skew_flag: '',
        channel: 'Direct',
        ...NO_CAMPAIGN,
        ...NO_PAGE,
        ip: '198.51.100.23',
        user_agent: 'analytics-node-next/latest',
        is_bot: false,
      },
    },
    {
      name: 'event sentAt wins over batch sentAt',
      event: serverTrack({ top: { sentAt: '2024-05-01T11:59:59.900Z' } }),
      options: options({ batchSentAt: '2024-05-01T11:00:00.000Z' }),
      expected: { timestamp: RECEIVED_AT - 900, sent_at: Date.parse('2024-05-01T11:59:59.900Z') },
    },
    {
      name: 'unparseable event sentAt falls back to batch sentAt',
      event: serverTrack({ top: { sentAt: 'garbage' } }),
      options: options({ batchSentAt: '2024-05-01T11:59:59.500Z' }),
      expected: { timestamp: RECEIVED_AT - 500 },
    },
    {
      name: 'invalid context.ip falls back to the request IP',
      event: serverTrack({ context: { ip: 'unknown' } }),
      options: options(),
      expected: { ip: '203.0.113.7' },
    },
    {
      name: 'IPv6 context.ip anonymised',
      event: serverTrack({ context: { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348' } }),
      options: options({ ipPolicy: 'strip_last_octet' }),
      expected: { ip: '2001:db8:85a3::' },
    },
    {
      name: 'drop policy stores no IP',
      event: serverTrack(),
      options: options({ ipPolicy: 'drop' }),
      expected: { ip: null },
    },
    {
      name: 'crawler calling the HTTP API directly is a bot',
      event: serverTrack(),
      options: options({ userAgent: GOOGLEBOT }),
      expected: { user_agent: GOOGLEBOT, is_bot: true },
    },
    {
      name: 'no user agent anywhere: null, not a bot',
      event: serverTrack(),
      options: options({ userAgent: undefined }),
      expected: { user_agent: null, is_bot: false },
    },
    {
      name: 'blank context.userAgent falls back to the header',
      event: serverTrack({ context: { userAgent: '  ' } }),
      options: options({ userAgent: CHROME }),
      expected: { user_agent: CHROME, is_bot: false },
    },
    {
      name: 'timestamp far in the future is clamped',
      event: serverTrack({ top: { timestamp: '2024-05-02T12:00:00.000Z' } }),
      options: options(),
      expected: {
        timestamp: RECEIVED_AT,
        clock_skew_flag: 'future_clamped',
        original_timestamp: Date.parse('2024-05-02T12:00:00.000Z'),
      },
    },
    {
      name: 'custom maxFutureMs',
      event: serverTrack({ top: { timestamp: '2024-05-01T12:10:00.000Z' } }),
      options: options({ maxFutureMs: 5 * 60_000 }),
      expected: { timestamp: RECEIVED_AT, clock_skew_flag: 'future_clamped' },
    },
    {
      name: 'garbage timestamp is flagged, not rejected',
      event: serverTrack({ top: { timestamp: 'tomorrow-ish' } }),
      options: options(),
      expected: {
        timestamp: RECEIVED_AT,
        clock_skew_flag: 'invalid_timestamp',
        original_timestamp: null,
      },
    },
    {
      name: 'trustClientTimestamp skips the correction',
      event: browserPage(),
      options: options({ trustClientTimestamp: true }),
      expected: { timestamp: Date.parse('2024-05-01T10:59:58.000Z'), clock_skew_flag: '' },
    },
    {
      name: 'not an object at all',
      event: 'hello',
      options: options({ userAgent: undefined, ip: undefined }),
      expected: {
        timestamp: RECEIVED_AT,
        received_at: RECEIVED_AT,
        sent_at: null,
        original_timestamp: null,
        clock_skew_flag: '',
        channel: 'Direct',
        ...NO_CAMPAIGN,
        ...NO_PAGE,
        ip: null,
        user_agent: null,
        is_bot: false,
      },
    },
    {
      name: 'every field of the wrong type',
      event: {
        type: 7,
        timestamp: {},
        sentAt: [],
        context: { ip: 5, userAgent: 9, page: 'x', campaign: 3 },
        properties: null,
      },
      options: options({ userAgent: undefined }),
      expected: {
        timestamp: RECEIVED_AT,
        clock_skew_flag: 'invalid_timestamp',
        channel: 'Direct',
        ...NO_CAMPAIGN,
        ...NO_PAGE,
        ip: '203.0.113.7',
        user_agent: null,
        is_bot: false,
      },
    },
  ];

  it.each(cases)('$name', ({ event, options: opts, expected }) => {
    expect(enrich(event, opts)).toMatchObject(expected);
  });

  it('returns exactly the warehouse columns', () => {
    expect(Object.keys(enrich(browserPage(), options())).sort()).toEqual(
      [
        'timestamp',
        'received_at',
        'sent_at',
        'original_timestamp',
        'clock_skew_flag',
        'channel',
        'utm_source',
        'utm_medium',
        'utm_campaign',
        'utm_term',
        'utm_content',
        'page_url',
        'page_path',
        'referrer',
        'ip',
        'user_agent',
        'is_bot',
      ].sort(),
    );
  });

  it('does not modify the event', () => {
    const event = browserPage();
    const before = structuredClone(event);
    enrich(event, options());
    expect(event).toEqual(before);
  });
});
