import { describe, expect, it } from 'vitest';
import { eventRow, invalidRow } from './rows.js';

const message = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  messageId: 'm1',
  sourceId: 's1',
  receivedAt: 1_700_000_000_000,
  type: 'track',
  enriched: { timestamp: 1_699_999_999_000, channel: 'Paid Search', utm_source: 'google', is_bot: false, sent_at: 1_700_000_000_100, original_timestamp: null, clock_skew_flag: '' },
  event: { type: 'track', event: 'Order Completed', userId: 'u1', anonymousId: 'a1', properties: { revenue: 10 }, context: { traits: { email: 'x@y' } } },
  ...over,
});

describe('eventRow', () => {
  it('maps the message to an events row', () => {
    const row = eventRow(Buffer.from(JSON.stringify(message())));
    expect(row).toMatchObject({
      message_id: 'm1', source_id: 's1', type: 'track', event: 'Order Completed', user_id: 'u1', anonymous_id: 'a1', one_id: '',
      timestamp: 1_699_999_999_000, received_at: 1_700_000_000_000, sent_at: 1_700_000_000_100, original_timestamp: null,
      channel: 'Paid Search', utm_source: 'google', is_bot: false,
    });
    expect(JSON.parse(row.properties)).toEqual({ revenue: 10 });
    expect(JSON.parse(row.traits)).toEqual({ email: 'x@y' });
  });
  it('takes identify traits from the top level', () => {
    const row = eventRow(JSON.stringify(message({ type: 'identify', event: { type: 'identify', userId: 'u', traits: { plan: 'pro' } } })));
    expect(JSON.parse(row.traits)).toEqual({ plan: 'pro' });
  });
  it.each([
    ['not json', '{'],
    ['wrong version', JSON.stringify(message({ schemaVersion: 2 }))],
    ['no event', JSON.stringify(message({ event: undefined }))],
    ['no messageId', JSON.stringify(message({ messageId: '' }))],
  ])('throws on %s', (_n, v) => expect(() => eventRow(v)).toThrow());
});

describe('invalidRow', () => {
  it('maps a dead letter and notes truncation', () => {
    const row = invalidRow(JSON.stringify({ schemaVersion: 1, id: 'd1', receivedAt: 5, sourceId: '', code: 'CDP_ERR_INGEST_MALFORMED_JSON', field: 'body', reason: 'bad', payload: '{', truncated: true, ip: '1.1.1.1' }));
    expect(row).toEqual({ id: 'd1', received_at: 5, source_id: '', code: 'CDP_ERR_INGEST_MALFORMED_JSON', field: 'body', reason: 'bad (payload cut at 64 KiB)', payload: '{', ip: '1.1.1.1' });
  });
});
