import { describe, expect, it } from 'vitest';
import { buildContext, type PageSnapshot } from './context.js';
import { buildEvent, type EventMeta } from './event.js';
import { VERSION } from './version.js';

const snap: PageSnapshot = {
  href: 'https://shop.example/p/1?utm_source=x#reviews',
  pathname: '/p/1',
  search: '?utm_source=x',
  title: 'Product',
  referrer: 'https://google.com/',
  userAgent: 'UA/1',
  locale: 'fr-FR',
  timezone: 'Europe/Paris',
  screen: { width: 390, height: 844, density: 3 },
};

const meta = (over: Partial<EventMeta> = {}): EventMeta => ({
  messageId: 'm-1',
  at: Date.parse('2025-03-01T12:00:00.000Z'),
  anonymousId: 'a-1',
  userId: null,
  context: buildContext(snap, { sessionId: 1700000000000, sessionStart: false }),
  ...over,
});

describe('buildContext', () => {
  it('carries page, device, library and session; nothing absent is sent empty', () => {
    expect(buildContext(snap, { sessionId: 5, sessionStart: false })).toEqual({
      library: { name: '@cdp/sdk-browser', version: VERSION },
      page: {
        url: 'https://shop.example/p/1?utm_source=x',
        path: '/p/1',
        title: 'Product',
        referrer: 'https://google.com/',
        search: '?utm_source=x',
      },
      userAgent: 'UA/1',
      locale: 'fr-FR',
      timezone: 'Europe/Paris',
      screen: { width: 390, height: 844, density: 3 },
      sessionId: 5,
    });
    const bare = buildContext(
      { ...snap, locale: undefined, timezone: undefined, screen: undefined },
      { sessionId: 5, sessionStart: true, campaign: { source: 'x' }, consent: { analytics: true } },
    );
    expect(Object.keys(bare).sort()).toEqual(
      ['campaign', 'consent', 'library', 'page', 'sessionId', 'sessionStart', 'userAgent'].sort(),
    );
    expect(bare.consent).toEqual({ categoryPreferences: { analytics: true } });
    expect(bare.sessionStart).toBe(true);
  });
});

describe('buildEvent', () => {
  it.each([
    {
      type: 'track' as const,
      fields: { event: 'Order Completed', properties: { total: 12 } },
      keys: ['anonymousId', 'context', 'event', 'messageId', 'properties', 'timestamp', 'type'],
    },
    {
      type: 'track' as const,
      fields: { event: 'Clicked', properties: undefined, name: '', category: undefined },
      keys: ['anonymousId', 'context', 'event', 'messageId', 'properties', 'timestamp', 'type'],
    },
    {
      type: 'page' as const,
      fields: { name: 'Home', category: 'Docs' },
      keys: [
        'anonymousId',
        'category',
        'context',
        'messageId',
        'name',
        'properties',
        'timestamp',
        'type',
      ],
    },
    {
      type: 'identify' as const,
      fields: { traits: { plan: 'pro' }, properties: { junk: true } },
      keys: ['anonymousId', 'context', 'messageId', 'timestamp', 'traits', 'type'],
    },
    {
      type: 'group' as const,
      fields: { groupId: 'g1' },
      keys: ['anonymousId', 'context', 'groupId', 'messageId', 'timestamp', 'traits', 'type'],
    },
    {
      type: 'alias' as const,
      fields: { previousId: 'old' },
      keys: ['anonymousId', 'context', 'messageId', 'previousId', 'timestamp', 'type'],
    },
  ])('$type has exactly its fields', ({ type, fields, keys }) => {
    const e = buildEvent(type, fields, meta());
    expect(Object.keys(e).sort()).toEqual(keys);
    expect(JSON.stringify(e)).not.toMatch(/null|undefined/);
    expect(e).toMatchObject({
      type,
      messageId: 'm-1',
      anonymousId: 'a-1',
      timestamp: '2025-03-01T12:00:00.000Z',
    });
  });

  it('adds userId only when there is one, integrations only when some are given', () => {
    expect(buildEvent('track', { event: 'x' }, meta({ userId: '' }))).not.toHaveProperty('userId');
    const e = buildEvent(
      'track',
      { event: 'x' },
      meta({ userId: 'u-1', options: { integrations: {} } }),
    );
    expect(e.userId).toBe('u-1');
    expect(e).not.toHaveProperty('integrations');
    const f = buildEvent(
      'track',
      { event: 'x' },
      meta({ options: { integrations: { All: false } } }),
    );
    expect(f.integrations).toEqual({ All: false });
  });

  it('merges call context over the automatic one and takes a call timestamp', () => {
    const e = buildEvent(
      'track',
      { event: 'x', properties: ['not', 'an', 'object'] as unknown as Record<string, unknown> },
      meta({
        options: {
          context: { ip: '0.0.0.0', locale: 'de-DE', skipped: undefined },
          timestamp: new Date('2024-01-02T03:04:05Z'),
        },
      }),
    );
    expect(e.properties).toEqual({});
    expect(e.context).toMatchObject({ ip: '0.0.0.0', locale: 'de-DE', sessionId: 1700000000000 });
    expect(e.context).not.toHaveProperty('skipped');
    expect(e.timestamp).toBe('2024-01-02T03:04:05.000Z');
    const bad = buildEvent('track', { event: 'x' }, meta({ options: { timestamp: 'not a date' } }));
    expect(bad.timestamp).toBe('2025-03-01T12:00:00.000Z');
  });

  it('copies properties, so later changes by the caller do not reach a held event', () => {
    const props = { n: 1 };
    const e = buildEvent('track', { event: 'x', properties: props }, meta());
    props.n = 2;
    expect(e.properties).toEqual({ n: 1 });
  });
});
