/**
 * A lone UTF-16 surrogate sent with the public write key (issue 14's first
 * repro: `{"userId":"x\ud800","event":"E"}` to /v1/track) no longer stops
 * identity resolution nor vanishes into the dead letters: ingest stores it
 * as U+FFFD, the event is queryable, and links sent after it still resolve.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/testkit';
import { sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

const c = usePlatform(() => startTestPlatform());

const track = async (raw: string): Promise<number> => {
  const res = await fetch(`${c.url}/v1/track`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: raw,
  });
  return res.status;
};

describe('unpaired surrogates (all-in-one)', () => {
  it('are stored as U+FFFD, and identity resolution goes on after them', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    expect(
      await track(`{"userId":"x${tag}\\ud800","event":"E","properties":{"p":"\\udc00v"}}`),
    ).toBe(200);
    expect(await track(`{"userId":"after-${tag}","anonymousId":"a-${tag}","event":"E2"}`)).toBe(
      200,
    );
    const rows = await waitFor(
      async () => {
        const r = await sql<{ user_id: string; properties: string; person_id: string }>(
          c,
          `SELECT user_id, properties, person_id FROM events_by_person
           WHERE user_id IN ({a:String}, {b:String}) ORDER BY user_id`,
          { a: `x${tag}\ufffd`, b: `after-${tag}` },
        );
        expect(r).toHaveLength(2);
        return r;
      },
      { what: 'both events in events' },
    );
    expect(JSON.parse(rows[1]?.properties ?? '{}')).toEqual({ p: '\ufffdv' });
    // The resolver wrote the links of both: the poison one did not stop it.
    await waitFor(
      async () => {
        const ids = await sql<{ n: string }>(
          c,
          `SELECT count() AS n FROM identities FINAL WHERE id_type = 'user_id' AND id_value IN ({a:String}, {b:String})`,
          { a: `x${tag}\ufffd`, b: `after-${tag}` },
        );
        return Number(ids[0]?.n) === 2;
      },
      { what: 'both identities resolved' },
    );
    const dead = await sql<{ n: string }>(
      c,
      "SELECT count() AS n FROM events_invalid WHERE code = 'CDP_ERR_LOADER_BAD_MESSAGE'",
    );
    expect(Number(dead[0]?.n)).toBe(0);
  });
});
