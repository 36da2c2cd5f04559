import { describe, expect, it } from 'vitest';
import { createEventValidator } from '@cdp/schemas';
import { batchItems, normalizeEvent, typeFromPath } from './normalize.js';
import { depthExceeds, parseJsonBody } from '@cdp/http';

const opts = {
  validate: createEventValidator(),
  newMessageId: () => 'generated-id',
  maxEventBytes: 32 * 1024,
  maxDepth: 32,
};

describe('typeFromPath', () => {
  it.each([
    ['track', 'track'],
    ['t', 'track'],
    ['identify', 'identify'],
    ['i', 'identify'],
    ['p', 'page'],
    ['s', 'screen'],
    ['g', 'group'],
    ['a', 'alias'],
    ['batch', undefined],
    ['x', undefined],
  ])('%s -> %s', (seg, type) => expect(typeFromPath(seg)).toBe(type));
});

describe('normalizeEvent', () => {
  const cases: {
    name: string;
    raw: Record<string, unknown>;
    type?: 'track' | 'identify' | 'group' | 'alias' | 'page';
    code?: string;
    field?: string;
  }[] = [
    {
      name: 'track without event',
      raw: { userId: 'u' },
      type: 'track',
      code: 'CDP_ERR_EVENT_MISSING_FIELD',
      field: 'event',
    },
    {
      name: 'track with empty event',
      raw: { userId: 'u', event: '' },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_VALUE',
      field: 'event',
    },
    {
      name: 'no ids',
      raw: { event: 'x' },
      type: 'track',
      code: 'CDP_ERR_EVENT_MISSING_ID',
      field: 'userId',
    },
    {
      name: 'blank ids',
      raw: { event: 'x', userId: '  ', anonymousId: '' },
      type: 'track',
      code: 'CDP_ERR_EVENT_MISSING_ID',
      field: 'userId',
    },
    {
      name: 'userId object',
      raw: { event: 'x', userId: {} },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'userId',
    },
    {
      name: 'properties array',
      raw: { event: 'x', userId: 'u', properties: [1] },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'properties',
    },
    {
      name: 'traits string',
      raw: { userId: 'u', traits: 'x' },
      type: 'identify',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'traits',
    },
    {
      name: 'context number',
      raw: { userId: 'u', event: 'e', context: 1 },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'context',
    },
    {
      name: 'context.page string',
      raw: { userId: 'u', event: 'e', context: { page: 'x' } },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'context.page',
    },
    {
      name: 'messageId number',
      raw: { userId: 'u', event: 'e', messageId: 5 },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'messageId',
    },
    {
      name: 'timestamp object',
      raw: { userId: 'u', event: 'e', timestamp: {} },
      type: 'track',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'timestamp',
    },
    {
      name: 'group without groupId',
      raw: { userId: 'u' },
      type: 'group',
      code: 'CDP_ERR_EVENT_MISSING_FIELD',
      field: 'groupId',
    },
    {
      name: 'alias without previousId',
      raw: { userId: 'u' },
      type: 'alias',
      code: 'CDP_ERR_EVENT_MISSING_FIELD',
      field: 'previousId',
    },
    {
      name: 'alias without userId',
      raw: { previousId: 'a' },
      type: 'alias',
      code: 'CDP_ERR_EVENT_MISSING_FIELD',
      field: 'userId',
    },
    {
      name: 'page name number',
      raw: { userId: 'u', name: 3 },
      type: 'page',
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'name',
    },
    {
      name: 'batch item without type',
      raw: { userId: 'u' },
      code: 'CDP_ERR_EVENT_MISSING_FIELD',
      field: 'type',
    },
    {
      name: 'batch item unknown type',
      raw: { userId: 'u', type: 'purchase' },
      code: 'CDP_ERR_EVENT_UNKNOWN_TYPE',
      field: 'type',
    },
  ];
  it.each(cases)('rejects $name with $code on $field', ({ raw, type, code, field }) => {
    const r = normalizeEvent(raw, type, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatchObject({ code, field });
  });

  it('turns numeric ids into strings, assigns messageId, drops writeKey, keys by anonymousId', () => {
    const r = normalizeEvent(
      { userId: 42, anonymousId: 'anon', event: 'Signed Up', writeKey: 'secret' },
      'track',
      opts,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event).toMatchObject({
      type: 'track',
      userId: '42',
      anonymousId: 'anon',
      messageId: 'generated-id',
    });
    expect(r.event['writeKey']).toBeUndefined();
    expect(r.key).toBe('anon');
    expect(JSON.parse(r.json)).toEqual(r.event);
  });

  it('keeps a client messageId and keys by userId when there is no anonymousId', () => {
    const r = normalizeEvent({ userId: 'u1', messageId: 'm-1', type: 'identify' }, undefined, opts);
    expect(r.ok && r.event.messageId).toBe('m-1');
    expect(r.ok && r.key).toBe('u1');
  });

  it('refuses events over the byte limit, counting UTF-8 bytes', () => {
    const big = 'é'.repeat(20_000); // 40,000 bytes, 20,000 characters
    const r = normalizeEvent({ userId: 'u', event: 'e', properties: { big } }, 'track', opts);
    expect(r.ok || r.problem.code).toBe('CDP_ERR_INGEST_EVENT_TOO_LARGE');
  });

  it('refuses nesting deeper than the limit', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) deep = deep['x'] = {};
    const r = normalizeEvent({ userId: 'u', event: 'e', properties: root }, 'track', opts);
    expect(r.ok || r.problem.code).toBe('CDP_ERR_INGEST_TOO_DEEP');
  });
});

describe('batchItems', () => {
  it('merges the envelope context into each item, item keys winning', () => {
    const items = batchItems({
      batch: [{ type: 'track', context: { ip: '1.2.3.4' } }, { type: 'page' }],
      context: { ip: '9.9.9.9', library: { name: 'x' } },
      sentAt: '2024-01-01T00:00:00Z',
    });
    expect(items).toEqual([
      {
        type: 'track',
        context: { ip: '1.2.3.4', library: { name: 'x' } },
        sentAt: '2024-01-01T00:00:00Z',
      },
      {
        type: 'page',
        context: { ip: '9.9.9.9', library: { name: 'x' } },
        sentAt: '2024-01-01T00:00:00Z',
      },
    ]);
  });
  it('names a missing or non-array batch', () => {
    expect(batchItems({})).toMatchObject({ code: 'CDP_ERR_EVENT_MISSING_FIELD', field: 'batch' });
    expect(batchItems({ batch: {} })).toMatchObject({
      code: 'CDP_ERR_EVENT_INVALID_TYPE',
      field: 'batch',
    });
  });
});

describe('parseJsonBody', () => {
  it.each([
    [Buffer.from([0x7b, 0xff, 0x7d]), 'CDP_ERR_INGEST_INVALID_UTF8'],
    [Buffer.from('{"a":'), 'CDP_ERR_INGEST_MALFORMED_JSON'],
    [Buffer.from('[1,2]'), 'CDP_ERR_EVENT_INVALID_TYPE'],
    [Buffer.from('null'), 'CDP_ERR_EVENT_INVALID_TYPE'],
  ])('rejects %s with %s', (buf, code) => {
    expect(() => parseJsonBody(buf)).toThrow(expect.objectContaining({ code, field: 'body' }));
  });
  it('parses an object', () => expect(parseJsonBody(Buffer.from('{"a":"ü"}'))).toEqual({ a: 'ü' }));
  it('measures depth', () => {
    expect(depthExceeds({ a: { b: { c: 1 } } }, 3)).toBe(false);
    expect(depthExceeds({ a: { b: { c: {} } } }, 3)).toBe(true);
    expect(depthExceeds([[[[]]]], 3)).toBe(true);
  });
});
