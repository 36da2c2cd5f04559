/**
 * Crash safety: under load, `kill -9` the all-in-one process, start it again
 * on the same data directory, and every messageId that was acknowledged with
 * a 200 must be stored in `events`. Delivery is at least once: what was in
 * flight at the crash is delivered again, in batches cut differently (other
 * dedup tokens), so `events` may hold two copies of such an event until its
 * parts merge. What is promised, and checked on the stored rows (no `FINAL`,
 * which would hide copies):
 * - no acknowledged event is lost;
 * - the copies of an event share the table's sorting key and partition, so
 *   the ReplacingMergeTree keeps one and queries that dedupe (`FINAL`) see one;
 * - events committed before the crash (here: by a clean stop) are not
 *   delivered again: their rows are stored once and their partition of
 *   `events` gets no insert after them.
 * Runs the built CLI (`npm test` builds first) as real child processes.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { BIN, startCli, waitHealthy } from './cli-child.js';

/** When the events committed before the crash happened: a month no other event of the test is in. */
const SETTLED_AT = '2020-01-15T12:00:00.000Z';
const SETTLED_PARTITION = '202001';

describe('crash safety of the all-in-one runner', () => {
  let dir: TempDir;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await dir?.remove();
  });

  it('keeps every acknowledged event across kill -9, once for queries that dedupe, and stores committed events once', async () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    dir = await tempDir('cdp-crash');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (): Promise<ChildProcess> => {
      const p = startCli(dir.path, port);
      children.push(p.child);
      await waitHealthy(url, p);
      return p.child;
    };
    const stopCleanly = async (child: ChildProcess): Promise<void> => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(child.exitCode).toBe(0);
    };
    const first = await start();
    const creds = JSON.parse(await readFile(dir.join('credentials.json'), 'utf8')) as {
      writeKey: string;
      adminToken: string;
    };
    const auth = `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`;
    const run = Math.random().toString(36).slice(2, 8);
    const sql = async (
      query: string,
      params: Record<string, unknown> = {},
    ): Promise<Record<string, unknown>[]> => {
      const res = await fetch(`${url}/v1/sql`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${creds.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ query, params }),
      });
      const body = (await res.json()) as { rows: Record<string, unknown>[]; truncated: boolean };
      if (res.status !== 200) throw new Error(`sql ${res.status}: ${JSON.stringify(body)}`);
      expect(body.truncated, query).toBe(false);
      return body.rows;
    };
    const send = (ids: string[], anonymousId: string, timestamp?: string): Promise<Response> =>
      fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          batch: ids.map((id) => ({
            type: 'track',
            event: 'Crash Test',
            anonymousId,
            messageId: id,
            ...(timestamp === undefined ? {} : { timestamp }),
          })),
        }),
      });

    // Events committed before the crash: loaded, then a clean stop commits
    // every consumer. Their timestamp puts them in a partition of their own
    // (`toYYYYMM(timestamp)`), so an insert of them again shows as a part
    // with a higher block number there, even after a merge took it in.
    const settled = Array.from({ length: 200 }, (_, i) => `crash-${run}-settled-${i}`);
    for (let i = 0; i < settled.length; i += 25) {
      const res = await send(settled.slice(i, i + 25), `crash-${run}-s${i % 8}`, SETTLED_AT);
      expect(res.status).toBe(200);
    }
    const settledRows = (): Promise<Record<string, unknown>[]> =>
      sql(
        'SELECT count() AS n, uniqExact(message_id) AS distinct FROM events WHERE message_id LIKE {p:String}',
        { p: `crash-${run}-settled-%` },
      );
    await waitFor(async () => expect(await settledRows()).toEqual([{ n: 200, distinct: 200 }]), {
      timeoutMs: 30_000,
      what: 'the events sent before the crash to be loaded',
    });
    const settledPartition = (): Promise<Record<string, unknown>[]> =>
      sql(
        `SELECT max(max_block_number) AS block FROM system.parts
         WHERE database = currentDatabase() AND table = 'events' AND partition = {part:String}`,
        { part: SETTLED_PARTITION },
      );
    const [before] = await settledPartition();
    expect(Number(before?.['block'])).toBeGreaterThan(0);
    await stopCleanly(first);

    const second = await start();
    const acked = new Set<string>();
    let seq = 0;
    let stop = false;
    const sender = async (w: number): Promise<void> => {
      while (!stop) {
        const ids = Array.from({ length: 25 }, () => `crash-${run}-${seq++}`);
        try {
          const res = await send(ids, `crash-${run}-w${w}`);
          if (res.status === 200) for (const id of ids) acked.add(id);
        } catch {
          // The process died under this request: not acknowledged.
        }
      }
    };
    const senders = Array.from({ length: 8 }, (_, w) => sender(w));
    await waitFor(() => acked.size >= 3000, {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'load before the crash',
    });
    second.kill('SIGKILL');
    await new Promise((r) => second.once('exit', r));
    stop = true;
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThanOrEqual(3000);

    const third = await start();
    // Stored rows, not FINAL: an event is there if any copy of it is.
    const loaded = { p: `crash-${run}-%`, settled: `crash-${run}-settled-%` };
    const stored = await waitFor(
      async () => {
        const rows = await sql(
          'SELECT DISTINCT message_id FROM events WHERE message_id LIKE {p:String} AND message_id NOT LIKE {settled:String}',
          loaded,
        );
        const ids = new Set(rows.map((r) => String(r['message_id'])));
        const missing = [...acked].filter((id) => !ids.has(id));
        expect(
          missing.length,
          `missing acknowledged ids, e.g. ${missing.slice(0, 3).join(', ')}`,
        ).toBe(0);
        return rows;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every acknowledged event after the restart' },
    );
    // Unacknowledged events may or may not be stored; acknowledged ones all are.
    expect(stored.length).toBeGreaterThanOrEqual(acked.size);

    // Copies of one event collapse into one row only if they share the
    // sorting key and the partition: read both from the table itself.
    const [table] = await sql(
      "SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = currentDatabase() AND name = 'events'",
    );
    expect(table?.['engine']).toBe('ReplacingMergeTree');
    const [copies] = await sql(
      `SELECT sum(n) - count() AS copies, countIf(keys > 1) AS apart
       FROM (SELECT message_id, count() AS n,
                    uniqExact(${String(table?.['sorting_key'])}, ${String(table?.['partition_key'])}) AS keys
             FROM events WHERE message_id LIKE {p:String} AND message_id NOT LIKE {settled:String}
             GROUP BY message_id)`,
      loaded,
    );
    // How many rows are second copies may be anything, often none: only a
    // batch stored but not yet committed at the crash is stored again. No
    // copy may be apart from the others of its event.
    expect(copies?.['apart'], `stored copies: ${String(copies?.['copies'])}`).toBe(0);

    // Committed before the crash: not delivered again.
    expect(await settledRows()).toEqual([{ n: 200, distinct: 200 }]);
    expect(await settledPartition()).toEqual([before]);
    await stopCleanly(third);
  }, 240_000);
});
