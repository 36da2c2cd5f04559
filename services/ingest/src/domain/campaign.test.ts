import { describe, expect, it } from 'vitest';

import {
  MAX_CAMPAIGN_VALUE_LENGTH,
  MAX_CLICK_ID_LENGTH,
  MAX_URL_LENGTH,
  extractCampaign,
  pageFields,
  pageHost,
  parseQuery,
  referrerHost,
  truncate,
  type CampaignFields,
  type PageFields,
} from './campaign.js';

const NO_UTM = {
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  utm_term: null,
  utm_content: null,
  utm_id: null,
} as const;

/** A track event as analytics.js sends it, with the page context to vary. */
function track(
  page: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { type: 'track', event: 'Clicked', context: { page }, ...extra };
}

describe('extractCampaign', () => {
  const cases: { name: string; event: unknown; expected: Partial<CampaignFields> }[] = [
    {
      name: 'Segment context.campaign, name is utm_campaign, source/medium lower-cased',
      event: {
        context: {
          campaign: {
            name: 'Spring Sale',
            source: 'Google',
            medium: 'CPC',
            term: 'Shoes',
            content: 'Ad A',
            id: 'c-1',
          },
        },
      },
      expected: {
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'Spring Sale',
        utm_term: 'Shoes',
        utm_content: 'Ad A',
        utm_id: 'c-1',
      },
    },
    {
      name: 'utm_-prefixed keys inside context.campaign',
      event: {
        context: {
          campaign: { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'weekly' },
        },
      },
      expected: { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'weekly' },
    },
    {
      name: 'falls back to the query of context.page.url',
      event: track({
        url: 'https://shop.example/p?utm_source=Facebook&utm_medium=Paid_Social&utm_campaign=Q4%20Launch&utm_id=42',
      }),
      expected: {
        utm_source: 'facebook',
        utm_medium: 'paid_social',
        utm_campaign: 'Q4 Launch',
        utm_id: '42',
      },
    },
    {
      name: 'empty context.campaign falls back to the URL',
      event: { context: { campaign: {}, page: { url: 'https://a.example/?utm_source=x' } } },
      expected: { utm_source: 'x' },
    },
    {
      name: 'non-object context.campaign falls back to the URL',
      event: {
        context: { campaign: 'utm_source=evil', page: { url: 'https://a.example/?utm_source=x' } },
      },
      expected: { utm_source: 'x' },
    },
    {
      name: 'context.campaign wins as a whole: no mixing with the URL',
      event: {
        context: { campaign: { source: 'a' }, page: { url: 'https://a.example/?utm_medium=cpc' } },
      },
      expected: { ...NO_UTM, utm_source: 'a' },
    },
    {
      name: 'page call: properties.url',
      event: {
        type: 'page',
        properties: { url: 'https://a.example/?utm_source=bing&utm_medium=cpc' },
      },
      expected: { utm_source: 'bing', utm_medium: 'cpc' },
    },
    {
      name: 'track call: properties.url is user data, ignored',
      event: { type: 'track', properties: { url: 'https://a.example/?utm_source=bing' } },
      expected: NO_UTM,
    },
    {
      name: 'context.page.search with ?',
      event: track({ search: '?utm_source=sms' }),
      expected: { utm_source: 'sms' },
    },
    {
      name: 'context.page.search without ?',
      event: track({ search: 'utm_medium=push' }),
      expected: { utm_medium: 'push' },
    },
    {
      name: 'page.url without query, page.search with one',
      event: track({ url: 'https://a.example/p', search: '?utm_campaign=c' }),
      expected: { utm_campaign: 'c' },
    },
    {
      name: 'hash-router query',
      event: track({ url: 'https://a.example/#/landing?utm_source=newsletter' }),
      expected: { utm_source: 'newsletter' },
    },
    {
      name: 'query before the fragment wins over one inside it',
      event: track({ url: 'https://a.example/?utm_source=real#/x?utm_source=fake' }),
      expected: { utm_source: 'real' },
    },
    {
      name: 'upper-case parameter names',
      event: track({ url: 'https://a.example/?UTM_SOURCE=Partner&Utm_Medium=Referral' }),
      expected: { utm_source: 'partner', utm_medium: 'referral' },
    },
    {
      name: 'plus and percent decoding',
      event: track({ url: 'https://a.example/?utm_campaign=black+friday%20%E2%9C%93' }),
      expected: { utm_campaign: 'black friday ✓' },
    },
    {
      name: 'first of repeated parameters',
      event: track({ url: 'https://a.example/?utm_source=one&utm_source=two' }),
      expected: { utm_source: 'one' },
    },
    {
      name: 'values trimmed, blank is null',
      event: { context: { campaign: { source: '  Google  ', medium: '   ', name: '' } } },
      expected: { ...NO_UTM, utm_source: 'google' },
    },
    {
      name: 'numbers kept as text, other types dropped',
      event: {
        context: {
          campaign: { source: 123, medium: true, name: { x: 1 }, term: ['a'], content: Number.NaN },
        },
      },
      expected: { ...NO_UTM, utm_source: '123' },
    },
    {
      name: 'over-long values cut',
      event: { context: { campaign: { name: 'x'.repeat(1000) } } },
      expected: { utm_campaign: 'x'.repeat(MAX_CAMPAIGN_VALUE_LENGTH) },
    },
    {
      name: 'malformed percent escape does not throw',
      event: track({ url: 'https://a.example/?utm_source=%E0%A4%A&utm_medium=cpc' }),
      expected: { utm_medium: 'cpc' },
    },
    { name: 'not a URL', event: track({ url: 'not a url at all' }), expected: NO_UTM },
    {
      name: 'URL of the wrong type',
      event: track({ url: 42, search: { q: 1 } }),
      expected: NO_UTM,
    },
    { name: 'null event', event: null, expected: NO_UTM },
    { name: 'string event', event: 'utm_source=x', expected: NO_UTM },
    { name: 'array event', event: [{ context: { campaign: { source: 'x' } } }], expected: NO_UTM },
    {
      name: 'context is an array',
      event: { context: [{ campaign: { source: 'x' } }] },
      expected: NO_UTM,
    },
  ];

  it.each(cases)('$name', ({ event, expected }) => {
    expect(extractCampaign(event)).toMatchObject(expected);
  });

  const clickCases: { name: string; event: unknown; expected: CampaignFields['click_ids'] }[] = [
    { name: 'none', event: track({ url: 'https://a.example/' }), expected: {} },
    {
      name: 'gclid from page.url',
      event: track({ url: 'https://a.example/?gclid=Cj0KCQ' }),
      expected: { gclid: 'Cj0KCQ' },
    },
    {
      name: 'several ids',
      event: track({
        url: 'https://a.example/?fbclid=IwAR&msclkid=m1&ttclid=t1&li_fat_id=l1&wbraid=w1&gbraid=g1&dclid=d1',
      }),
      expected: {
        fbclid: 'IwAR',
        msclkid: 'm1',
        ttclid: 't1',
        li_fat_id: 'l1',
        wbraid: 'w1',
        gbraid: 'g1',
        dclid: 'd1',
      },
    },
    {
      name: 'from page.search',
      event: track({ search: '?gclid=abc' }),
      expected: { gclid: 'abc' },
    },
    {
      name: 'read from the URL even when context.campaign has the UTMs',
      event: {
        context: {
          campaign: { source: 'google' },
          page: { url: 'https://a.example/?utm_source=google&gclid=g' },
        },
      },
      expected: { gclid: 'g' },
    },
    {
      name: 'blank id is absent',
      event: track({ url: 'https://a.example/?gclid=&fbclid=%20' }),
      expected: {},
    },
    {
      name: 'upper-case name',
      event: track({ url: 'https://a.example/?GCLID=G' }),
      expected: { gclid: 'G' },
    },
    {
      name: 'unknown parameters ignored',
      event: track({ url: 'https://a.example/?xclid=1&gclid_x=2' }),
      expected: {},
    },
    {
      name: 'over-long id cut',
      event: track({ url: `https://a.example/?gclid=${'g'.repeat(2000)}` }),
      expected: { gclid: 'g'.repeat(MAX_CLICK_ID_LENGTH) },
    },
  ];

  it.each(clickCases)('click ids: $name', ({ event, expected }) => {
    expect(extractCampaign(event).click_ids).toEqual(expected);
  });
});

describe('pageFields', () => {
  const cases: { name: string; event: unknown; expected: PageFields }[] = [
    {
      name: 'track call: context.page',
      event: track({
        url: 'https://a.example/p?x=1',
        path: '/p',
        referrer: 'https://www.google.com/',
      }),
      expected: {
        page_url: 'https://a.example/p?x=1',
        page_path: '/p',
        referrer: 'https://www.google.com/',
      },
    },
    {
      name: 'page call: properties win over context.page',
      event: {
        type: 'page',
        properties: { url: 'https://a.example/new', path: '/new', referrer: 'https://t.co/x' },
        context: {
          page: { url: 'https://a.example/old', path: '/old', referrer: 'https://old.example/' },
        },
      },
      expected: {
        page_url: 'https://a.example/new',
        page_path: '/new',
        referrer: 'https://t.co/x',
      },
    },
    {
      name: 'page call: context.page fills what properties lack',
      event: {
        type: 'page',
        properties: { name: 'Home' },
        context: { page: { url: 'https://a.example/', referrer: 'https://r.example/' } },
      },
      expected: { page_url: 'https://a.example/', page_path: '/', referrer: 'https://r.example/' },
    },
    {
      name: 'track call: properties ignored',
      event: { type: 'track', properties: { url: 'https://shared.example/', referrer: 'x' } },
      expected: { page_url: null, page_path: null, referrer: null },
    },
    {
      name: 'path derived from the URL',
      event: track({ url: 'https://a.example/a/b?c=d#e' }),
      expected: { page_url: 'https://a.example/a/b?c=d#e', page_path: '/a/b', referrer: null },
    },
    {
      name: 'relative URL kept, no path derived',
      event: track({ url: '/a/b' }),
      expected: { page_url: '/a/b', page_path: null, referrer: null },
    },
    {
      name: 'mobile deep-link referrer from context.referrer.url',
      event: { type: 'screen', context: { referrer: { type: 'app', url: 'myapp://promo' } } },
      expected: { page_url: null, page_path: null, referrer: 'myapp://promo' },
    },
    {
      name: 'empty referrer is null',
      event: track({ url: 'https://a.example/', referrer: '' }),
      expected: { page_url: 'https://a.example/', page_path: '/', referrer: null },
    },
    {
      name: 'values trimmed',
      event: track({ url: '  https://a.example/x  ', path: ' /x ' }),
      expected: { page_url: 'https://a.example/x', page_path: '/x', referrer: null },
    },
    {
      name: 'wrong types',
      event: track({ url: 1, path: ['/'], referrer: { href: 'x' } }),
      expected: { page_url: null, page_path: null, referrer: null },
    },
    {
      name: 'over-long URL cut',
      event: track({ url: `https://a.example/${'p'.repeat(10_000)}` }),
      expected: {
        page_url: `https://a.example/${'p'.repeat(MAX_URL_LENGTH - 'https://a.example/'.length)}`,
        page_path: `/${'p'.repeat(MAX_URL_LENGTH - 'https://a.example/'.length)}`,
        referrer: null,
      },
    },
    {
      name: 'no context',
      event: { type: 'track' },
      expected: { page_url: null, page_path: null, referrer: null },
    },
    {
      name: 'undefined event',
      event: undefined,
      expected: { page_url: null, page_path: null, referrer: null },
    },
  ];

  it.each(cases)('$name', ({ event, expected }) => {
    expect(pageFields(event)).toEqual(expected);
  });
});

describe('referrerHost and pageHost', () => {
  it.each([
    { event: track({ referrer: 'https://www.Google.com/search?q=x' }), referrer: 'google.com' },
    { event: track({ referrer: 'https://l.facebook.com/l.php?u=x' }), referrer: 'l.facebook.com' },
    {
      event: track({ referrer: 'android-app://com.google.android.gm/' }),
      referrer: 'com.google.android.gm',
    },
    { event: track({ referrer: 'http://[2001:db8::1]:8080/' }), referrer: '2001:db8::1' },
    { event: track({ referrer: 'about:blank' }), referrer: null },
    { event: track({ referrer: 'garbage' }), referrer: null },
    { event: track({}), referrer: null },
  ])('referrer of $event.context.page.referrer → $referrer', ({ event, referrer }) => {
    expect(referrerHost(event)).toBe(referrer);
  });

  it.each([
    { event: track({ url: 'https://www.shop.example:8443/x' }), host: 'shop.example' },
    { event: { type: 'page', properties: { url: 'https://a.example/' } }, host: 'a.example' },
    { event: track({ url: '/relative' }), host: null },
  ])('page host → $host', ({ event, host }) => {
    expect(pageHost(event)).toBe(host);
  });
});

describe('parseQuery', () => {
  it.each([
    { url: 'https://a.example/?a=1&b=2', expected: { a: '1', b: '2' } },
    { url: '?A=1', expected: { a: '1' } },
    { url: '/p?x', expected: { x: '' } },
    { url: 'https://a.example/#/r?h=1', expected: { h: '1' } },
    { url: 'https://a.example/?q=1#/r?h=1', expected: { q: '1' } },
    { url: 'https://a.example/', expected: undefined },
    { url: 'https://a.example/?', expected: undefined },
    { url: 42, expected: undefined },
  ])('$url', ({ url, expected }) => {
    const parsed = parseQuery(url);
    expect(parsed === undefined ? undefined : Object.fromEntries(parsed)).toEqual(expected);
  });
});

describe('truncate', () => {
  it.each([
    { value: 'abc', max: 5, expected: 'abc' },
    { value: 'abcdef', max: 3, expected: 'abc' },
    { value: 'ab😀', max: 3, expected: 'ab' },
    { value: 'a😀b', max: 3, expected: 'a😀' },
  ])('$value to $max', ({ value, max, expected }) => {
    expect(truncate(value, max)).toBe(expected);
  });
});
