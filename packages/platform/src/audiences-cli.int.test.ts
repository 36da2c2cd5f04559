/**
 * `cdp audiences` end to end: the built CLI against the all-in-one platform.
 * Events go in through ingest and OneID; audiences are applied from a file
 * ("as code"), listed, previewed, refreshed, and their members and runs
 * read back, as a user would at a terminal. A bad file names the path in
 * the definition that is wrong.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '@cdp/testkit';
import { adminApi, sendBatch, sql, startTestPlatform, usePlatform } from './e2e-scenarios.js';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const run$ = promisify(execFile);

// Scheduled runs are far apart (tags, and the audience schedule's tick): the
// test runs audiences on demand, so an audience with a refresh interval is
// not run by the schedule between two commands.
const c = usePlatform(() =>
  startTestPlatform({ CDP_TAGS_INTERVAL: '3600', CDP_AUDIENCES_TICK_MS: '3600000' }),
);

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir('cdp-audiences-cli');
});
afterAll(async () => {
  await dir.remove();
});

/** Runs `cdp <args>`; answers its output and exit code (no throw on a failure). */
async function cdp(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, CDP_URL: c.url, CDP_ADMIN_TOKEN: c.admin };
  try {
    const r = await run$(process.execPath, [BIN, 'audiences', ...args], { env });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

const file = async (name: string, json: unknown): Promise<string> => {
  const path = dir.join(name);
  await writeFile(path, JSON.stringify(json));
  return path;
};

/** The person of a user id, once the resolver has stored it (a moment after its events load). */
const personOf = (userId: string): Promise<string> =>
  waitFor(
    async () => {
      const r = await adminApi<{ oneId: string }>(
        c,
        'GET',
        `/v1/persons/lookup?type=user_id&value=${userId}`,
      );
      expect(r.status).toBe(200);
      return r.json.oneId;
    },
    { timeoutMs: 20_000 },
  );

/** The table row whose first cell is `first`, as its cells. */
const row = (table: string, first: string): string[] | undefined =>
  table
    .split('\n')
    .map((l) => l.split(/\s{2,}/))
    .find((cells) => cells[0] === first);

const bought = (category: string, run: string): Record<string, unknown> => ({
  performed: {
    event: 'Order Completed',
    where: [
      { property: 'category', op: 'eq', value: category },
      { property: 'run', op: 'eq', value: run },
    ],
    within: { days: 30 },
  },
});

/**
 * One order a person (`user → category`, each with an email), through ingest;
 * waits until all are loaded and answers each user's person id.
 */
async function buyers(
  run: string,
  orders: Record<string, string>,
): Promise<Record<string, string>> {
  const at = new Date().toISOString();
  const userId = (u: string): string => `${u}-${run}`;
  await sendBatch(
    c,
    Object.entries(orders).flatMap(([u, category]) => [
      {
        type: 'identify',
        userId: userId(u),
        traits: { email: `${userId(u)}@example.com` },
        timestamp: at,
      },
      {
        type: 'track',
        messageId: `${run}-${u}`,
        userId: userId(u),
        event: 'Order Completed',
        properties: { category, revenue: 80, run },
        timestamp: at,
      },
    ]),
  );
  await waitFor(
    async () => {
      const [r] = await sql<{ n: string }>(
        c,
        `SELECT count() AS n FROM events WHERE event = 'Order Completed' AND JSONExtractString(properties, 'run') = {r:String}`,
        { r: run },
      );
      expect(Number(r?.n)).toBe(Object.keys(orders).length);
    },
    { timeoutMs: 20_000 },
  );
  const ids = await Promise.all(Object.keys(orders).map((u) => personOf(userId(u))));
  return Object.fromEntries(Object.keys(orders).map((u, i) => [u, ids[i] ?? '']));
}

describe('cdp audiences (built CLI, all-in-one)', () => {
  it('applies a file, lists, previews, refreshes, and reads members and runs', async () => {
    const run = randomUUID().slice(0, 8);
    const ids = await buyers(run, { ada: 'shoes', bob: 'shoes', cy: 'bags' });
    const [adaId, bobId, cyId] = [ids['ada'], ids['bob'], ids['cy']] as [string, string, string];
    const shoes = `shoes-${run}`;
    const bags = `bags-${run}`;

    // As code: an array of audiences, created; applied again, replaced.
    const asCode = (refresh: unknown): unknown => [
      {
        name: shoes,
        definition: { conditions: { and: [bought('shoes', run)] }, description: 'bought shoes' },
        refresh,
      },
      { name: bags, definition: { conditions: bought('bags', run) }, refresh: 'manual' },
    ];
    const created = await cdp('apply', await file('audiences.json', asCode('manual')));
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(new RegExp(`^created ${shoes} \\(version \\d+\\)\n`));
    expect(created.stdout).toContain(`created ${bags} (version `);
    const updated = await cdp('apply', await file('audiences.json', asCode(3600)));
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain(`updated ${shoes} (version `);
    expect(updated.stdout).toContain(`updated ${bags} (version `);

    const listed = await cdp('list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      /^name +size +refresh +version +computedAt +lastRun +description\n/,
    );
    // Never run: size 0, computedAt and last run empty (no cells between the
    // version and the description); the second apply's refresh.
    expect(row(listed.stdout, shoes)).toEqual([
      shoes,
      '0',
      '3600s',
      expect.stringMatching(/^\d+$/),
      'bought shoes',
    ]);
    expect(row(listed.stdout, bags)?.slice(0, 3)).toEqual([bags, '0', 'manual']);

    // Preview, from a whole audience and from a bare definition.
    const preview = await cdp(
      'preview',
      await file('preview.json', {
        name: 'unsaved',
        definition: { conditions: bought('shoes', run) },
      }),
    );
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^2 people \(\d+ ms\)\n/);
    expect(row(preview.stdout, adaId)?.[1]).toContain(`email:`);
    expect(row(preview.stdout, bobId)).toBeDefined();
    const bare = await cdp('preview', await file('bare.json', { conditions: bought('bags', run) }));
    expect(bare.stdout).toMatch(/^1 people /);
    expect(row(bare.stdout, cyId)).toBeDefined();
    expect((await adminApi(c, 'GET', '/v1/audiences/unsaved')).status).toBe(404);

    // Run twice: everyone enters in version 1 (a full run); version 2 has the
    // same people, nobody enters, and nothing happened to anyone since
    // (incremental: nobody re-evaluated).
    const summary = (version: number, entered: number, how: string): RegExp =>
      new RegExp(
        `^${shoes}: version ${version} done, 2 member\\(s\\), ${entered} entered, 0 exited \\(\\d+ ms, ${how}\\)\n$`,
      );
    const refreshed = await cdp('refresh', shoes);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(summary(1, 2, 'full'));
    expect((await cdp('refresh', shoes)).stdout).toMatch(
      summary(2, 0, 'incremental: \\d+ re-evaluated'),
    );

    const members = await cdp('members', shoes);
    expect(members.code, members.stderr).toBe(0);
    expect(members.stdout.trim().split('\n').sort()).toEqual([adaId, bobId].sort());
    const csv = await cdp('members', shoes, '--csv');
    const [header, ...lines] = csv.stdout.trim().split('\n');
    expect(header).toBe('person_id,entered_at');
    expect(lines.map((l) => l.split(',')[0]).sort()).toEqual([adaId, bobId].sort());
    expect(lines.every((l) => Date.parse(l.split(',')[1] ?? '') > 0)).toBe(true);
    // Not run yet: no members.
    expect((await cdp('members', bags)).stdout).toBe('');

    const runs = await cdp('runs', shoes);
    expect(runs.code, runs.stderr).toBe(0);
    expect(row(runs.stdout, 'version')?.slice(0, 3)).toEqual(['version', 'status', 'trigger']);
    // A full run has no candidates cell (blank: the columns' spacing takes it).
    const cells = (version: string, entered: string, how: unknown[]): unknown[] => [
      version,
      'done',
      'manual',
      ...how,
      expect.stringMatching(/^\d{4}-/),
      expect.stringMatching(/^\d+$/),
      '2',
      entered,
      '0',
    ];
    expect(
      runs.stdout
        .trim()
        .split('\n')
        .slice(2)
        .map((l) => l.split(/\s{2,}/)),
    ).toEqual([
      cells('2', '0', ['incremental', expect.stringMatching(/^\d+$/)]),
      cells('1', '2', ['full']),
    ]);
    const json = JSON.parse((await cdp('runs', shoes, '--json')).stdout) as unknown[];
    expect(json).toEqual([
      expect.objectContaining({ version: 2, status: 'done', size: 2, entered: 0 }),
      expect.objectContaining({ version: 1, status: 'done', size: 2, entered: 2 }),
    ]);
    expect((await cdp('runs', shoes, '--limit', '1', '--json')).stdout).toContain('"version": 2');
    const after = await cdp('list');
    expect(row(after.stdout, shoes)?.slice(0, 2)).toEqual([shoes, '2']);
    expect(row(after.stdout, shoes)?.[5]).toBe('done (version 2)');

    const deleted = await cdp('delete', bags);
    expect(deleted.stdout).toBe(`deleted ${bags}\n`);
    expect((await adminApi(c, 'GET', `/v1/audiences/${bags}`)).status).toBe(404);
  });

  it('lookalike: builds an audience of the people most like a seed, through the API and the CLI', async () => {
    const run = randomUUID().slice(0, 8);
    const orders: Record<string, string> = {};
    for (let i = 0; i < 12; i++) orders[`s${i}`] = 'shoes';
    for (let i = 0; i < 28; i++) orders[`o${i}`] = i % 2 === 0 ? 'bags' : 'hats';
    const ids = await buyers(run, orders);
    const seed = `shoes-${run}`;
    expect(
      (
        await cdp(
          'apply',
          await file('seed.json', {
            name: seed,
            definition: { conditions: bought('shoes', run) },
            refresh: 'manual',
          }),
        )
      ).code,
    ).toBe(0);
    expect((await cdp('refresh', seed)).stdout).toContain(`${seed}: version 1 done, 12 member(s)`);

    const bad = await adminApi(c, 'POST', `/v1/audiences/${seed}/lookalike`, { ratio: 2 });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'CDP_ERR_AUDIENCE_INVALID', field: 'ratio' });
    const unauth = await fetch(`${c.apiUrl}/v1/audiences/${seed}/lookalike`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ratio: 0.1 }),
    });
    expect(unauth.status).toBe(401);

    const name = `like-${run}`;
    const built = await cdp('lookalike', seed, '--ratio', '0.1', '--name', name);
    expect(built.code, built.stderr).toBe(0);
    const m =
      /^built (\S+): the 10% of (\d+) eligible people most like (\S+) \(12 seed members with data\): (\d+) people /.exec(
        built.stdout,
      );
    expect(m?.slice(1, 4)).toEqual([name, expect.stringMatching(/^\d+$/), seed]);
    const eligible = Number(m?.[2]);
    const selected = Number(m?.[4]);
    expect(selected).toBe(Math.ceil(0.1 * eligible));
    expect(built.stdout).toContain('weighs most: ');
    expect(built.stdout).toContain(
      `${name}: version 1 done, ${selected} member(s), ${selected} entered, 0 exited`,
    );

    const got = await adminApi<{
      audience: { definition: unknown; size: number; lookalike: { seedAudience: string } };
    }>(c, 'GET', `/v1/audiences/${name}`);
    expect(got.json.audience).toMatchObject({
      definition: { conditions: { in_list: name } },
      size: selected,
      lookalike: { seedAudience: seed },
    });
    const members = (await cdp('members', name)).stdout.trim().split('\n');
    expect(members.length).toBe(selected);
    const seedIds = Object.entries(ids)
      .filter(([u]) => u.startsWith('s'))
      .map(([, p]) => p);
    expect(members.filter((p) => seedIds.includes(p))).toEqual([]);
  });

  it('a bad file: exits 1 naming the file, the audience and the path in its definition', async () => {
    const run = randomUUID().slice(0, 8);
    const good = `good-${run}`;
    const bad = `bad-${run}`;
    const conditions = {
      and: [bought('shoes', run), { performed: { event: 'X', within: { days: 0 } } }],
    };
    const path = await file('bad.json', [
      { name: good, definition: { conditions: bought('shoes', run) } },
      { name: bad, definition: { conditions } },
    ]);
    const applied = await cdp('apply', path);
    expect(applied.code).toBe(1);
    // The good one before it is applied and said so; the bad one is not created.
    expect(applied.stdout).toContain(`created ${good} (version `);
    expect(applied.stderr).toMatch(
      new RegExp(
        `^cdp: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${bad}: 400 CDP_ERR_AUDIENCE_INVALID: .+ \\(field: conditions\\.and\\[1\\]\\.performed\\.within\\.days\\)\n$`,
      ),
    );
    expect((await adminApi(c, 'GET', `/v1/audiences/${bad}`)).status).toBe(404);

    const preview = await cdp('preview', await file('bad-preview.json', { conditions }));
    expect(preview.code).toBe(1);
    expect(preview.stderr).toContain('CDP_ERR_AUDIENCE_INVALID: ');
    expect(preview.stderr).toContain('(field: conditions.and[1].performed.within.days)');

    const missing = await cdp('apply', await file('no-name.json', { definition: { conditions } }));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('every audience needs a name');

    const notFound = await cdp('members', `nope-${run}`);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('404 CDP_ERR_AUDIENCE_NOT_FOUND');
  });
});
