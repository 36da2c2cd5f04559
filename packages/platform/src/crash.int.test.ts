/**
 * Crash safety: under load, `kill -9` the all-in-one process, start it again
 * on the same data directory, and every messageId that was acknowledged with
 * a 200 must be in `events` exactly once. Runs the built CLI (`npm test`
 * builds first) as a real child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDir, waitFor, type TempDir } from '@cdp/testkit';

// The `cdp` binary (packages/cli, built by `npm test`), driven as a user would.
const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

function startCli(dataDir: string, port: number): { child: ChildProcess; output: () => string } {
  let out = '';
  // The child gets only what a user would set: no test-kit variables.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')),
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...env,
      CDP_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CDP_LOADER_FLUSH_MS: '300',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** Waits for /healthz, failing at once with the output if the process exits first. */
async function waitHealthy(
  url: string,
  p: { child: ChildProcess; output: () => string },
): Promise<void> {
  await waitFor(
    async () => {
      if (p.child.exitCode !== null)
        throw new Error(`cdp start exited with ${p.child.exitCode}:\n${p.output()}`);
      return (await fetch(`${url}/healthz`)).ok;
    },
    { timeoutMs: 60_000, what: 'cdp start to answer /healthz' },
  );
}

describe('crash safety of the all-in-one runner', () => {
  let dir: TempDir;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await dir?.remove();
  });

  it('keeps every acknowledged event across kill -9, exactly once', async () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    dir = await tempDir('cdp-crash');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const first = startCli(dir.path, port);
    children.push(first.child);
    await waitHealthy(url, first);
    const creds = JSON.parse(await readFile(dir.join('credentials.json'), 'utf8')) as {
      writeKey: string;
      adminToken: string;
    };
    const auth = `Basic ${Buffer.from(`${creds.writeKey}:`).toString('base64')}`;

    const run = Math.random().toString(36).slice(2, 8);
    const acked = new Set<string>();
    let seq = 0;
    let stop = false;
    const sender = async (w: number): Promise<void> => {
      while (!stop) {
        const ids = Array.from({ length: 25 }, () => `crash-${run}-${seq++}`);
        try {
          const res = await fetch(`${url}/v1/batch`, {
            method: 'POST',
            headers: { authorization: auth, 'content-type': 'application/json' },
            body: JSON.stringify({
              batch: ids.map((id) => ({
                type: 'track',
                event: 'Crash Test',
                anonymousId: `crash-${run}-w${w}`,
                messageId: id,
              })),
            }),
          });
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
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    stop = true;
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThanOrEqual(3000);

    const second = startCli(dir.path, port);
    children.push(second.child);
    await waitHealthy(url, second);
    const sql = async (query: string): Promise<Record<string, unknown>[]> => {
      const res = await fetch(`${url}/v1/sql`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${creds.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ query, params: { p: `crash-${run}-%` } }),
      });
      return ((await res.json()) as { rows: Record<string, unknown>[] }).rows;
    };
    const stored = await waitFor(
      async () => {
        const rows = await sql(
          'SELECT message_id FROM events FINAL WHERE message_id LIKE {p:String}',
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
    const dupes = await sql(
      'SELECT message_id, count() AS n FROM events FINAL WHERE message_id LIKE {p:String} GROUP BY message_id HAVING n > 1',
    );
    expect(dupes).toEqual([]);
    // Unacknowledged events may or may not be stored; acknowledged ones all are, once.
    expect(stored.length).toBeGreaterThanOrEqual(acked.size);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
    expect(second.child.exitCode).toBe(0);
  }, 180_000);
});
