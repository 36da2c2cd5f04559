/**
 * An audience run killed with `kill -9` part-way is finished after the
 * restart with the same version and the diff it would have had: every
 * person who qualified enters once, in that version, whatever step the run
 * was at (computing its set, writing the diff, publishing). Runs the built
 * CLI (`npm test` builds first) as a real child process.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { BIN, startCli, waitHealthy } from './cli-child.js';

describe('audience runs across kill -9', () => {
  let dir: TempDir;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await dir?.remove();
  });

  it('finishes a killed run with the same version, and nobody enters twice', async () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    dir = await tempDir('cdp-audience-crash');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (): Promise<ChildProcess> => {
      // Audiences on demand only, no tag runs: the test decides when runs happen.
      const p = startCli(dir.path, port, { CDP_TAGS_ENABLED: 'false' });
      children.push(p.child);
      await waitHealthy(url, p);
      return p.child;
    };
    let child = await start();
    const creds = JSON.parse(await readFile(dir.join('credentials.json'), 'utf8')) as {
      writeKey: string;
      adminToken: string;
    };
    const admin = async (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${creds.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const sql = async <T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> => {
      const res = await admin('POST', '/v1/sql', { query, params });
      const body = (await res.json()) as { rows: T[] };
      if (res.status !== 200) throw new Error(`sql ${res.status}: ${JSON.stringify(body)}`);
      return body.rows;
    };
    const run = Math.random().toString(36).slice(2, 8);
    let people = 0;
    /** `n` new buyers, loaded. */
    const buyers = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i += 500) {
        const batch = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
          type: 'track',
          event: 'Order Completed',
          userId: `crash-${run}-${people + i + k}`,
          properties: { run },
        }));
        const res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ batch }),
        });
        expect(res.status).toBe(200);
      }
      people += n;
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
    };
    const name = `buyers-${run}`;
    expect(
      (
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
        })
      ).status,
    ).toBe(201);
    const runs = (): Promise<{ version: string; status: string; entered: string }[]> =>
      sql(
        `SELECT toString(version) AS version, status, toString(entered) AS entered
         FROM audience_runs FINAL WHERE audience = {a:String} ORDER BY version`,
        { a: name },
      );

    // Until a kill lands inside a run: new buyers, a refresh, and kill -9 as
    // soon as the run's row says it is under way (not done).
    let killedVersion: number | undefined;
    let killedAt = '';
    for (let attempt = 0; attempt < 6 && killedVersion === undefined; attempt++) {
      await buyers(attempt === 0 ? 20_000 : 5_000);
      const before = (await runs()).length;
      const refresh = admin('POST', `/v1/audiences/${name}/refresh`).catch(() => undefined);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const all = await runs().catch(() => []);
        const latest = all[all.length - 1];
        if (all.length > before && latest && latest.status !== 'done') {
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
          killedVersion = Number(latest.version);
          killedAt = latest.status;
          break;
        }
        if (all.length > before && latest?.status === 'done') break;
      }
      await refresh;
    }
    expect(killedVersion, 'a kill -9 landed inside a run').toBeDefined();

    child = await start();
    const again = await admin('POST', `/v1/audiences/${name}/refresh`);
    const body = (await again.json()) as { run: { version: number; status: string; size: number } };
    expect(again.status, JSON.stringify(body)).toBe(200);
    // The killed run is finished, with its version, and counts everyone.
    expect(body.run).toMatchObject({ version: killedVersion, status: 'done', size: people });
    // Nobody entered twice (stored rows, no FINAL: a replayed insert of the
    // same row collapses by key, so two versions would be two entries).
    const twice = await sql(
      `SELECT person_id FROM audience_members WHERE audience = {a:String} AND change = 'entered'
       GROUP BY person_id HAVING uniqExact(version) > 1 LIMIT 5`,
      { a: name },
    );
    expect(twice, `killed while ${killedAt}`).toEqual([]);
    const [entered] = await sql<{ n: number }>(
      `SELECT uniqExact(person_id) AS n FROM audience_members WHERE audience = {a:String} AND change = 'entered'`,
      { a: name },
    );
    expect(Number(entered?.n)).toBe(people);
    // The diff of each version is what its buyers made it: versions before
    // the killed one hold their own, the killed one the rest.
    const done = await runs();
    expect(done.every((r) => r.status === 'done')).toBe(true);
    expect(done.reduce((n, r) => n + Number(r.entered), 0)).toBe(people);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 300_000);
});
