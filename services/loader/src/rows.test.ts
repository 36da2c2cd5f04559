import { describe, expect, it } from 'vitest';
import { sha256Hex } from '@cdp/identity';
import { invalidRow, overrideRow } from './rows.js';

describe('invalidRow', () => {
  it('maps a dead letter and notes truncation', () => {
    const row = invalidRow(
      JSON.stringify({
        schemaVersion: 1,
        id: 'd1',
        receivedAt: 5,
        sourceId: '',
        code: 'CDP_ERR_INGEST_MALFORMED_JSON',
        field: 'body',
        reason: 'bad',
        payload: '{',
        truncated: true,
        ip: '1.1.1.1',
      }),
    );
    expect(row).toEqual({
      id: 'd1',
      received_at: 5,
      source_id: '',
      code: 'CDP_ERR_INGEST_MALFORMED_JSON',
      field: 'body',
      reason: 'bad (payload cut at 1 characters)',
      payload: '{',
      ip: '1.1.1.1',
      identifier_hashes: [],
    });
  });

  it('keeps the hashes of the identifiers in the payload, never the identifiers', () => {
    const row = invalidRow(
      JSON.stringify({
        schemaVersion: 1,
        id: 'd2',
        receivedAt: 5,
        code: 'CDP_ERR_EVENT_INVALID_TYPE',
        payload: JSON.stringify({ type: 'track', userId: 'u-9', event: 7 }),
      }),
    );
    expect(row.identifier_hashes).toEqual([sha256Hex('u-9')]);
  });
});

describe('overrideRow', () => {
  it.each([
    [
      'a merge',
      '{"from":"A","into":"B","reason":"identify","version":65}',
      { from_one_id: 'A', into_one_id: 'B', reason: 'identify', version: 65, is_deleted: 0 },
    ],
    [
      'a retirement (GDPR delete)',
      '{"from":"A","into":"B","reason":"gdpr_delete","version":7,"deleted":true}',
      { from_one_id: 'A', into_one_id: 'B', reason: 'gdpr_delete', version: 7, is_deleted: 1 },
    ],
  ])('%s', (_name, value, expected) => {
    expect(overrideRow(value)).toEqual(expected);
  });

  it.each([
    ['not json', '{'],
    ['no from', '{"into":"B","version":1}'],
    ['no version', '{"from":"A"}'],
  ])('refuses %s', (_name, value) => {
    expect(overrideRow(value)).toBeUndefined();
  });
});
