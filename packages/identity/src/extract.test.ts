import { describe, expect, it } from 'vitest';
import { extractIdentifiers } from './extract.js';
import { sha256Hex } from './hash.js';
import { createIdentityRules } from './rules.js';

const gb = createIdentityRules({ defaultRegion: 'GB' });

/** A whole `cdp.events.raw` message, as ingest produces it. */
const rawMessage = (type: string, event: Record<string, unknown>) => ({
  schemaVersion: 1,
  messageId: 'msg-1',
  sourceId: 'src-1',
  receivedAt: 1_700_000_000_000,
  type,
  event: { type, messageId: 'msg-1', ...event },
  enriched: { timestamp: 1_700_000_000_000, channel: 'direct', is_bot: false },
});

describe('extractIdentifiers', () => {
  it('reads every identifier of an identify call, in priority-friendly order', () => {
    const x = extractIdentifiers(
      rawMessage('identify', {
        userId: 'u-1',
        anonymousId: 'a-1',
        traits: { email: ' Foo@Example.COM ', phone: '020 7946 0958', name: 'Foo' },
        context: {
          device: { id: 'd-1' },
          traits: { email: 'foo@example.com' },
          externalIds: [
            { id: 'B-77', type: 'Shop_Buyer_Id', collection: 'users', encoding: 'none' },
            { id: 'wx-1', type: 'wechat_open_id' },
          ],
        },
      }),
      gb,
    );
    expect(x.identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'external:shop_buyer_id', value: 'B-77' },
      { type: 'external:wechat_open_id', value: 'wx-1' },
      { type: 'email', value: sha256Hex('foo@example.com') },
      { type: 'phone', value: sha256Hex('+442079460958') },
      { type: 'device_id', value: 'd-1' },
      { type: 'anonymous_id', value: 'a-1' },
    ]);
    expect(x.previousId).toBeUndefined();
    expect(x.rejected).toEqual([]);
    expect(x.junk).toEqual({});
  });

  it('reports every unusable value with its field, and counts junk per reason', () => {
    const x = extractIdentifiers(
      rawMessage('track', {
        userId: 'null',
        anonymousId: '00000000-0000-0000-0000-000000000000',
        traits: { email: 'not-an-email', phone: 'call me' },
        context: { device: { id: "'0'" }, traits: { email: { nested: true } } },
      }),
      gb,
    );
    expect(x.identifiers).toEqual([]);
    expect(x.rejected).toEqual([
      { field: 'event.userId', type: 'user_id', reason: 'junk_placeholder' },
      { field: 'event.traits.email', type: 'email', reason: 'email_invalid' },
      { field: 'event.context.traits.email', type: 'email', reason: 'invalid_type' },
      { field: 'event.traits.phone', type: 'phone', reason: 'phone_unparseable' },
      { field: 'event.context.device.id', type: 'device_id', reason: 'junk_placeholder' },
      { field: 'event.anonymousId', type: 'anonymous_id', reason: 'junk_zeros' },
    ]);
    expect(x.junk).toEqual({ junk_placeholder: 2, junk_zeros: 1 });
  });

  it('treats null and absent fields as absent, not as junk', () => {
    const x = extractIdentifiers(
      rawMessage('page', { userId: null, anonymousId: 'a-1', traits: null }),
    );
    expect(x.identifiers).toEqual([{ type: 'anonymous_id', value: 'a-1' }]);
    expect(x.rejected).toEqual([]);
  });

  it('maps external ids of built-in types onto those types (hashing emails), and skips non-user collections', () => {
    const x = extractIdentifiers(
      rawMessage('track', {
        anonymousId: 'a-1',
        context: {
          externalIds: [
            { id: 'Foo@Example.com', type: 'email', collection: 'users' },
            { id: 'acme', type: 'group_id', collection: 'accounts' },
            { id: 'ab12', type: 'email', encoding: 'sha256' },
            { id: 'x', type: 'bad type!' },
            'not-an-object',
          ],
        },
      }),
    );
    expect(x.identifiers).toEqual([
      { type: 'email', value: sha256Hex('foo@example.com') },
      { type: 'external:email', value: 'ab12' },
      { type: 'anonymous_id', value: 'a-1' },
    ]);
    expect(x.rejected).toEqual([
      {
        field: 'event.context.externalIds[1].collection',
        type: 'external:group_id',
        reason: 'external_collection_ignored',
      },
      {
        field: 'event.context.externalIds[3].type',
        type: undefined,
        reason: 'identifier_type_unknown',
      },
      { field: 'event.context.externalIds[4]', type: undefined, reason: 'invalid_type' },
    ]);
  });

  it('ignores external types on ignoredExternalTypes', () => {
    const rules = createIdentityRules({ ignoredExternalTypes: ['Session_Id'] });
    const x = extractIdentifiers(
      rawMessage('track', {
        anonymousId: 'a',
        context: { externalIds: [{ id: 's', type: 'session_id' }] },
      }),
      rules,
    );
    expect(x.identifiers).toEqual([{ type: 'anonymous_id', value: 'a' }]);
    expect(x.rejected).toEqual([
      {
        field: 'event.context.externalIds[0].type',
        type: 'external:session_id',
        reason: 'external_type_ignored',
      },
    ]);
  });

  it('returns the previousId of an alias call apart, unless it repeats anonymousId or userId', () => {
    expect(
      extractIdentifiers(rawMessage('alias', { userId: 'u-2', previousId: 'u-1' })).previousId,
    ).toBe('u-1');
    expect(
      extractIdentifiers(
        rawMessage('alias', { userId: 'u-2', previousId: 'a-1', anonymousId: 'a-1' }),
      ).previousId,
    ).toBeUndefined();
    expect(
      extractIdentifiers(rawMessage('track', { userId: 'u-2', previousId: 'u-1' })).previousId,
    ).toBeUndefined();
    const junk = extractIdentifiers(
      rawMessage('alias', { userId: 'u-2', previousId: 'undefined' }),
    );
    expect(junk.previousId).toBeUndefined();
    expect(junk.rejected).toEqual([
      { field: 'event.previousId', type: undefined, reason: 'junk_placeholder' },
    ]);
  });

  it('accepts numeric ids as strings and refuses over-long ones', () => {
    const x = extractIdentifiers(
      rawMessage('identify', { userId: 42, anonymousId: 'a'.repeat(1025) }),
    );
    expect(x.identifiers).toEqual([{ type: 'user_id', value: '42' }]);
    expect(x.rejected).toEqual([
      { field: 'event.anonymousId', type: 'anonymous_id', reason: 'value_too_long' },
    ]);
  });

  it('reads nothing from a message without an event object', () => {
    expect(extractIdentifiers({ type: 'track' })).toEqual({
      identifiers: [],
      previousId: undefined,
      rejected: [],
      junk: {},
    });
  });
});
