/**
 * A sync to a webhook killed with `kill -9` part-way is finished after the
 * restart: the next sync sends only what was still pending, so every member
 * reaches the receiver, and no add is delivered twice under two delivery
 * ids (the one batch in flight at the kill comes again with the same
 * `x-cdp-delivery-id`, as the receiver's dedupe expects). The cut-off run
 * is recorded as failed (interrupted). Runs the built CLI (`npm test`
 * builds first) as a real child process.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '@cdp/destinations';
import { freePort, tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { BIN, startCli, waitHealthy } from './cli-child.js';

const SECRET = 'whsec_crash_test_00000001';

describe('destination syncs across kill -9', () => {
  let dir: TempDir;
  let server: Server | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await dir?.remove();
  });

  it('finishes a killed sync: everyone delivered, no add under two delivery ids', async () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    dir = await tempDir('cdp-export-crash');
    // The receiver: verifies signatures, takes 120 ms a batch, keeps each
    // delivery by its id (a repeat of an id is a retry of the same batch).
    const deliveries = new Map<string, { personId: string; change: string }[]>();
    let received = 0;
    let bad = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (x: Buffer) => chunks.push(x));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (!verifyWebhook(SECRET, req.headers, body).ok) {
          bad++;
          return void res.writeHead(401).end();
        }
        received++;
        const id = String(req.headers['x-cdp-delivery-id']);
        const parsed = JSON.parse(body.toString('utf8')) as {
          changes: { personId: string; change: string }[];
        };
        deliveries.set(id, parsed.changes);
        setTimeout(() => res.writeHead(204).end(), 120);
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (): Promise<ChildProcess> => {
      // No scheduled tag or audience runs: the test decides when syncs happen.
      const p = startCli(dir.path, port, {
        CDP_TAGS_ENABLED: 'false',
        CDP_AUDIENCES_TICK_MS: '3600000',
      });
      children.push(p.child);
      await waitHealthy(url, p);
      return p.child;
    };
    let child = await start();
    const creds = JSON.parse(await readFile(dir.join('credentials.json'), 'utf8')) as {
      writeKey: string;
      adminToken: string;
    };
    const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${creds.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text === '' ? {} : JSON.parse(text)) as T;
    };
    const sql = async <T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> =>
      (await admin<{ rows: T[] }>('POST', '/v1/sql', { query, params })).rows;

    const run = Math.random().toString(36).slice(2, 8);
    const people = 3000;
    for (let i = 0; i < people; i += 500) {
      const res = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          batch: Array.from({ length: 500 }, (_, k) => ({
            type: 'track',
            event: 'Order Completed',
            userId: `x-${run}-${i + k}`,
            properties: { run },
          })),
        }),
      });
      expect(res.status).toBe(200);
    }
    await waitFor(
      async () => {
        const [r] = await sql<{ n: number }>(
          `SELECT uniqExact(person_id) AS n FROM events_by_person WHERE JSONExtractString(properties, 'run') = {r:String}`,
          { r: run },
        );
        expect(Number(r?.n)).toBe(people);
      },
      { timeoutMs: 60_000, what: `${people} buyers loaded` },
    );
    const name = `crash-buyers-${run}`;
    await admin('POST', '/v1/audiences', {
      name,
      refresh: 'manual',
      definition: {
        conditions: {
          performed: {
            event: 'Order Completed',
            where: [{ property: 'run', op: 'eq', value: run }],
          },
        },
      },
    });
    await admin('POST', `/v1/audiences/${name}/refresh`);
    const { destination } = await admin<{ destination: { id: string } }>(
      'POST',
      '/v1/destinations',
      {
        name: 'crash hook',
        type: 'webhook',
        config: { url: hook, secret: SECRET, batchSize: 100 },
      },
    );
    // The first sync starts at once: 30 batches of 100, 120 ms each.
    await admin('POST', `/v1/audiences/${name}/destinations`, { destinationId: destination.id });
    await waitFor(async () => expect(received).toBeGreaterThanOrEqual(8), {
      timeoutMs: 30_000,
      intervalMs: 5,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const beforeRestart = received;
    expect(beforeRestart, 'killed before the sync ended').toBeLessThan(people / 100);

    child = await start();
    const { run: after } = await admin<{ run: { status: string; added: number } }>(
      'POST',
      `/v1/audiences/${name}/destinations/${destination.id}/sync`,
    );
    expect(after.status).toBe('done');
    // Everyone is at the receiver, each entered under exactly one delivery id.
    const entries = new Map<string, number>();
    for (const changes of deliveries.values())
      for (const c of changes) entries.set(c.personId, (entries.get(c.personId) ?? 0) + 1);
    expect(entries.size).toBe(people);
    expect([...entries.values()].filter((n) => n > 1)).toEqual([]);
    // The restart sent only what was pending: at most the batch in flight again.
    expect(received).toBeLessThanOrEqual(people / 100 + 1);
    expect(after.added).toBeLessThanOrEqual(people - (beforeRestart - 1) * 100);
    const runs = await sql<{ status: string; error: string }>(
      `SELECT status, error FROM export_runs FINAL WHERE destination_id = {d:String} ORDER BY started_at`,
      { d: destination.id },
    );
    // (The restarted exporter's first tick may have run the sync before ours.)
    expect(runs[0]?.status).toBe('failed');
    expect(runs.slice(1).map((r) => r.status)).toContain('done');
    expect(runs.slice(1).every((r) => r.status === 'done')).toBe(true);
    expect(runs[0]?.error).toContain('interrupted');
    // Nothing left: another sync sends nothing.
    const { run: again } = await admin<{ run: { added: number; removed: number } }>(
      'POST',
      `/v1/audiences/${name}/destinations/${destination.id}/sync`,
    );
    expect(again).toMatchObject({ added: 0, removed: 0 });
    expect(bad).toBe(0);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 300_000);
});
