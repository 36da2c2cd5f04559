import { describe, expect, it } from 'vitest';
import { invalidRow } from './rows.js';

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
      reason: 'bad (payload cut at 64 KiB)',
      payload: '{',
      ip: '1.1.1.1',
    });
  });
});
