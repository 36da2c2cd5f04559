/**
 * A lone UTF-16 surrogate sent with the public write key (issue 14's first
 * repro: `{"userId":"x\ud800","event":"E"}` to /v1/track) no longer stops
 * identity resolution nor vanishes into the dead letters: ingest stores it
 * as U+FFFD, the event is queryable, and links sent after it still resolve.
 * And a fuzz of generated strings (any code point, lone surrogates, NUL) and
 * integers beyond 2^53 through to `events` and `identities`.
 *
 * Replay a fuzz failure with FC_SEED=<seed> (the seed is printed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wellFormed } from '@cdp/core';
import { fcSeed, waitFor } from '@cdp/testkit';
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

  it('takes generated strings and big integers through to events and identities (fuzz)', async () => {
    const nasty = fc.constantFrom(
      '\ud800',
      '\udfff',
      '\udbff\udbff',
      '\u0000',
      'a\u0000b',
      '\\',
      '"',
    );
    const text = fc
      .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), nasty), { maxLength: 6 })
      .map((parts) => parts.join(''));
    /** An id as JSON text, and the value it must be stored as. */
    const id = fc.oneof(
      text.map((s) => ({ json: JSON.stringify(`fz-${s}`), stored: wellFormed(`fz-${s}`) })),
      fc
        .bigInt({ min: 2n ** 53n + 1n, max: 10n ** 24n })
        .map((n) => ({ json: n.toString(), stored: n.toString() })),
    );
    const events = fc.sample(fc.record({ user: id, anon: text, prop: text }), {
      seed: fcSeed(),
      numRuns: 80,
    });
    const tag = Math.random().toString(36).slice(2, 8);
    const batch = events.map(
      (e, i) =>
        `{"type":"track","messageId":"fz-${tag}-${i}","event":"Fuzz","userId":${e.user.json},"anonymousId":${JSON.stringify(`an-${i}-${e.anon}`)},"properties":{"p":${JSON.stringify(e.prop)}}}`,
    );
    const res = await fetch(`${c.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: `{"batch":[${batch.join(',')}]}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: events.length, rejected: [] });
    const rows = await waitFor(
      async () => {
        const r = await sql<{
          message_id: string;
          user_id: string;
          anonymous_id: string;
          p: string;
        }>(
          c,
          `SELECT message_id, user_id, anonymous_id, JSONExtractString(properties, 'p') AS p
           FROM events WHERE message_id LIKE {m:String} ORDER BY toUInt32(splitByChar('-', message_id)[3])`,
          { m: `fz-${tag}-%` },
        );
        expect(r).toHaveLength(events.length);
        return r;
      },
      { what: 'every fuzzed event in events', timeoutMs: 30_000 },
    );
    rows.forEach((r, i) => {
      const e = events[i];
      expect(r.message_id).toBe(`fz-${tag}-${i}`);
      expect([r.user_id, r.anonymous_id, r.p]).toEqual([
        e?.user.stored,
        wellFormed(`an-${i}-${e?.anon ?? ''}`),
        wellFormed(e?.prop ?? ''),
      ]);
    });
    // Every user id of them reached the identity graph.
    const users = [...new Set(events.map((e) => e.user.stored))];
    await waitFor(
      async () => {
        const ids = await sql<{ id_value: string }>(
          c,
          `SELECT DISTINCT id_value FROM identities FINAL WHERE id_type = 'user_id' AND id_value IN {u:Array(String)}`,
          { u: users },
        );
        expect(ids.map((r) => r.id_value).sort()).toEqual([...users].sort());
      },
      { what: 'every fuzzed user id in identities', timeoutMs: 30_000 },
    );
    const dead = await sql<{ n: string }>(
      c,
      `SELECT count() AS n FROM events_invalid WHERE code IN
         ('CDP_ERR_LOADER_BAD_MESSAGE', 'CDP_ERR_LOADER_ROW_REFUSED', 'CDP_ERR_IDENTITY_BAD_LINK')`,
    );
    expect(Number(dead[0]?.n)).toBe(0);
  });
});
