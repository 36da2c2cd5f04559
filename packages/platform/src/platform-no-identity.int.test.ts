import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

describe('with OneID turned off (CDP_IDENTITY_ENABLED=false)', () => {
  const c = usePlatform(() => startTestPlatform({ CDP_IDENTITY_ENABLED: 'false' }));

  it('still loads events, without a one_id', async () => {
    const res = await fetch(`${c.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ anonymousId: 'a-off', event: 'Off', messageId: 'off-1' }),
    });
    expect(res.status).toBe(200);
    expect(c.platform.identity).toBeUndefined();
    const rows = await waitFor(
      async () => {
        const r = await sql(c, "SELECT event, one_id FROM events FINAL WHERE message_id = 'off-1'");
        expect(r).toHaveLength(1);
        return r;
      },
      { timeoutMs: 20_000 },
    );
    expect(rows[0]).toEqual({ event: 'Off', one_id: '' });
  });
});
