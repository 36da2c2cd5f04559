/**
 * A GDPR delete reaches every copy the platform keeps (all-in-one: embedded
 * bus, chDB): events, identities, the dead letters ingest refused (found by
 * the hashes of their identifiers), the mutations' own files, the data parts
 * the delete rewrote, the bus journal's segments and the log lines; an event
 * stamped before the delete and loaded after it is not loaded. The export
 * includes the dead letters.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createLogger } from '@cdp/core';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { loadRunnerConfig, startPlatform, type RunningPlatform } from './platform.js';

/** Files under `dir` whose bytes contain one of `needles`. */
async function filesHolding(dir: string, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await readdir(d);
    } catch {
      return; // removed while we walked (a part that merged away)
    }
    for (const e of entries) {
      const p = join(d, e);
      const s = await stat(p).catch(() => undefined);
      if (!s) continue;
      if (s.isDirectory()) await walk(p);
      else {
        const bytes = await readFile(p).catch(() => undefined);
        if (bytes && needles.some((n) => bytes.includes(n))) found.push(p);
      }
    }
  };
  await walk(dir);
  return found;
}

describe('GDPR delete reaches every copy (embedded)', () => {
  let dir: TempDir;
  let platform: RunningPlatform;
  let writeKey: string;
  let admin: string;
  const logLines: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));

  beforeAll(async () => {
    dir = await tempDir('cdp-erasure');
    platform = await startPlatform(
      loadRunnerConfig({
        CDP_DATA_DIR: dir.path,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        CDP_LOADER_FLUSH_MS: '250',
        CDP_TAGS_ENABLED: 'false',
      }),
      // Every line the platform logs, at the most verbose level.
      createLogger({ service: 'cdp', level: 'debug', destination: logStream }),
    );
    writeKey = platform.credentials.created?.writeKey as string;
    admin = platform.credentials.adminToken;
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await dir?.remove();
  });

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${platform.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  const api = (method: string, path: string): Promise<Response> =>
    fetch(`${platform.url}${path}`, { method, headers: { authorization: `Bearer ${admin}` } });
  const sql = async <T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> =>
    platform.warehouse.query<T>(query, params);

  it('leaves no identifier of the person in any table, file of the data dir or log line', async () => {
    const user = `erase-user-${randomUUID()}`;
    const email = `erase-${randomUUID().slice(0, 8)}@example.com`;
    const anon = `erase-anon-${randomUUID()}`;
    expect(
      (await post('/v1/identify', { userId: user, anonymousId: anon, traits: { email } })).status,
    ).toBe(200);
    expect(
      (await post('/v1/track', { userId: user, event: 'Order Completed', properties: { email } }))
        .status,
    ).toBe(200);
    // Refused by ingest (a number for `event`): a dead letter with the user id.
    const refused = await post('/v1/track', { userId: user, event: 7, properties: { email } });
    expect(refused.status).toBe(400);

    let person = '';
    await waitFor(
      async () => {
        const rows = await sql<{ one_id: string; n: string }>(
          `SELECT one_id, count() AS n FROM events WHERE user_id = {u:String} GROUP BY one_id`,
          { u: user },
        );
        expect(rows).toHaveLength(1);
        expect(Number(rows[0]?.n)).toBe(2);
        person = rows[0]?.one_id as string;
        const dead = await sql(
          `SELECT id FROM events_invalid WHERE positionUTF8(payload, {u:String}) > 0`,
          {
            u: user,
          },
        );
        expect(dead).toHaveLength(1);
      },
      { timeoutMs: 20_000 },
    );

    // The export holds the dead letter too.
    const exported = await (await api('GET', `/v1/persons/${person}/export`)).text();
    const kinds = exported
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(kinds).toContain('dead_letter');
    expect(kinds.filter((k) => k === 'event')).toHaveLength(2);

    const del = await api('DELETE', `/v1/persons/${person}`);
    expect(del.status, await del.clone().text()).toBe(200);

    // An event stamped with the erased id before the delete, loaded after it.
    const late = randomUUID();
    const stamped = (id: string, messageId: string, u: string): string =>
      JSON.stringify({
        oneId: id,
        schemaVersion: 1,
        messageId,
        receivedAt: Date.now(),
        sourceId: 'late',
        type: 'track',
        event: { type: 'track', event: 'Late', messageId, userId: u },
        enriched: { timestamp: Date.now(), channel: 'Direct', is_bot: false },
      });
    const marker = randomUUID();
    await platform.bus.produce('cdp.events.raw', [
      { key: user, value: stamped(person, late, user) },
      { key: user, value: stamped(randomUUID(), marker, `marker-${randomUUID()}`) },
    ]);
    // The marker after it is loaded: the late event was read and left out.
    await waitFor(
      async () =>
        expect(
          await sql(`SELECT 1 FROM events WHERE message_id = {m:String}`, { m: marker }),
        ).toHaveLength(1),
      { timeoutMs: 20_000 },
    );
    expect(await sql(`SELECT 1 FROM events WHERE message_id = {m:String}`, { m: late })).toEqual(
      [],
    );

    for (const [table, column] of [
      ['events', 'user_id'],
      ['identities', 'id_value'],
    ] as const)
      expect(
        await sql(`SELECT 1 FROM ${table} WHERE ${column} IN {v:Array(String)}`, {
          v: [user, anon],
        }),
        table,
      ).toEqual([]);
    expect(
      await sql(`SELECT 1 FROM events_invalid WHERE positionUTF8(payload, {u:String}) > 0`, {
        u: user,
      }),
    ).toEqual([]);

    // No file of the data dir holds them: not a mutation's text, not a part
    // the delete rewrote (they leave after old_parts_lifetime), not a bus
    // journal segment (the erase purges what every consumer has read).
    await waitFor(
      async () => {
        const files = await filesHolding(dir.path, [user, anon, email]);
        // The parts' state, so a failure says whether a part is still active
        // (the delete missed it) or outdated and waiting for removal.
        const parts =
          files.length === 0
            ? []
            : await sql(
                `SELECT table, name, active, modification_time, remove_time, refcount, removal_state
                 FROM system.parts WHERE database = currentDatabase()
                   AND table IN ('events', 'events_invalid', 'identities')`,
              );
        expect({ files, parts }).toEqual({ files: [], parts: [] });
      },
      // ClickHouse removes them in the background: on a loaded machine that
      // has taken over 90 s (removal_state says why a part is still there).
      { timeoutMs: 240_000, intervalMs: 2000 },
    );
    // Nor does any line the platform logged, at debug level.
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => [user, anon, email].some((v) => l.includes(v)))).toEqual([]);
  }, 300_000);
});
