/**
 * The Warehouse adapter against real ClickHouse: embedded chDB, and the
 * server kind (`@clickhouse/client` over HTTP) against CLICKHOUSE_URL when it
 * is set, else against the test kit's ClickHouse HTTP front over chDB, run as
 * a process of its own (`spawnClickHouseFront`, built by `npm test`).
 *
 * chDB binds one data directory per process, so every chDB test lives in this
 * one file (vitest's `forks` pool gives each file its own process) and shares
 * one temporary directory; tests that need isolation use their own database.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCdpError, type CdpError } from '@cdp/core';
import { spawnClickHouseFront, type SpawnedClickHouseFront } from '@cdp/testkit';
import { createClickHouseWarehouse } from './clickhouse-warehouse.js';
import { runWarehouseContract } from './contract.js';
import type { Warehouse } from './warehouse.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cdp-warehouse-int-'));
const opened: Warehouse[] = [];

async function open(database: string, extra: { migrationsDir?: string } = {}): Promise<Warehouse> {
  const wh = await createClickHouseWarehouse({ dataDir, database, ...extra });
  opened.push(wh);
  return wh;
}

async function rejection(p: Promise<unknown>): Promise<CdpError> {
  try {
    await p;
  } catch (e) {
    if (isCdpError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

afterAll(async () => {
  for (const wh of opened.reverse()) await wh.close();
  await rm(dataDir, { recursive: true, force: true });
});

runWarehouseContract('chdb (embedded)', async () => {
  const warehouse = await open('contract');
  return { warehouse, cleanup: () => warehouse.close() };
});

const serverUrl = process.env['CLICKHOUSE_URL'];
let front: SpawnedClickHouseFront | undefined;
afterAll(async () => {
  await front?.stop();
});

runWarehouseContract(
  serverUrl ? 'ClickHouse server' : 'ClickHouse server kind, on the chDB HTTP front',
  async () => {
    const database = `cdp_contract_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const url = serverUrl || (front ??= await spawnClickHouseFront()).url;
    const warehouse = await createClickHouseWarehouse({
      url,
      username: process.env['CLICKHOUSE_USER'],
      password: process.env['CLICKHOUSE_PASSWORD'],
      database,
    });
    expect(warehouse.kind).toBe('server');
    return {
      warehouse,
      cleanup: async () => {
        await warehouse.command(`DROP DATABASE IF EXISTS \`${database}\``);
        await warehouse.close();
      },
    };
  },
);

describe('chdb: embedded specifics', () => {
  it('reports kind chdb and keeps data across close and reopen of the same directory', async () => {
    const first = await createClickHouseWarehouse({ dataDir, database: 'reopen' });
    expect(first.kind).toBe('chdb');
    await first.command('CREATE TABLE kept (a String) ENGINE = MergeTree ORDER BY a');
    await first.insert('kept', [{ a: 'still here' }]);
    await first.close();
    const closedErr = await rejection(first.query('SELECT 1'));
    expect(closedErr).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_UNAVAILABLE', retryable: false });

    const again = await open('reopen');
    expect(await again.query('SELECT a FROM kept')).toEqual([{ a: 'still here' }]);
  });

  it("starts the engine with the server's background pools, so replaced parts leave the disk on time", async () => {
    const w = await open('engine_args');
    const rows = await w.query<{ name: string; value: string }>(
      `SELECT name, value FROM system.server_settings
       WHERE name IN ('background_common_pool_size', 'background_schedule_pool_size') ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: 'background_common_pool_size', value: '8' },
      { name: 'background_schedule_pool_size', value: '16' },
    ]);
  });

  it('two warehouses on one directory keep their databases apart', async () => {
    const a = await open('side_a');
    const b = await open('side_b');
    await a.command('CREATE TABLE t (v String) ENGINE = Memory');
    await b.command('CREATE TABLE t (v String) ENGINE = Memory');
    await a.insert('t', [{ v: 'a' }]);
    await b.insert('t', [{ v: 'b' }]);
    expect(await a.query('SELECT v, currentDatabase() AS db FROM t')).toEqual([
      { v: 'a', db: 'side_a' },
    ]);
    expect(await b.query('SELECT v, currentDatabase() AS db FROM t')).toEqual([
      { v: 'b', db: 'side_b' },
    ]);
  });

  it('refuses a second data directory in the same process with a clear error', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cdp-warehouse-other-'));
    try {
      const err = await rejection(createClickHouseWarehouse({ dataDir: other, database: 'x' }));
      expect(err.code).toBe('CDP_ERR_WAREHOUSE_UNAVAILABLE');
      expect(err.message).toMatch(/data director|path/i);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    // The engine that is open still works.
    const still = await open('after_refusal');
    expect(await still.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('needs url or dataDir, and a plain database name', async () => {
    await expect(createClickHouseWarehouse({})).rejects.toMatchObject({
      code: 'CDP_ERR_CONFIG_INVALID',
      field: 'dataDir',
    });
    await expect(
      createClickHouseWarehouse({ dataDir, database: 'bad-name; DROP' }),
    ).rejects.toMatchObject({
      code: 'CDP_ERR_CONFIG_INVALID',
      field: 'database',
    });
  });

  it('ping, and a connection refused on a server URL is retryable UNAVAILABLE', async () => {
    const wh = await open('ping');
    await expect(wh.ping()).resolves.toBeUndefined();
    const err = await rejection(
      createClickHouseWarehouse({
        url: 'http://127.0.0.1:9',
        database: 'x',
        requestTimeoutMs: 2_000,
      }),
    );
    expect(err).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_UNAVAILABLE', retryable: true });
  });
});

describe('chdb: lanes', () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const timed = async <T>(p: Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    return [await p, Date.now() - started];
  };
  // Four 3 s sleeps: 6 s on 2 cores (max_threads), with a bound parameter
  // (chdb-node runs bound queries of the whole process one at a time).
  const LONG =
    'SELECT sum(s) + {n:UInt8} AS v FROM (SELECT sleep(3) AS s UNION ALL SELECT sleep(3) ' +
    'UNION ALL SELECT sleep(3) UNION ALL SELECT sleep(3))';

  it('an insert and its read-back, a short ad-hoc query and a ping do not wait for a long ad-hoc query', async () => {
    const wh = await open('lanes');
    await wh.command('CREATE TABLE lane_events (id String) ENGINE = MergeTree ORDER BY id');
    const long = timed(wh.queryReadonly(LONG, { n: 1 }));
    await sleep(300);
    const [back, insertAndRead] = await timed(
      (async () => {
        await wh.insert('lane_events', [{ id: 'e1' }]);
        return wh.query('SELECT id FROM lane_events WHERE id = {id:String}', { id: 'e1' });
      })(),
    );
    const [, ping] = await timed(wh.ping());
    const [short, shortMs] = await timed(wh.queryReadonly('SELECT {x:UInt8} AS x', { x: 7 }));
    const [longResult, longMs] = await long;
    expect(back).toEqual([{ id: 'e1' }]);
    expect(short.rows).toEqual([{ x: 7 }]);
    expect(longResult.rows).toEqual([{ v: 1 }]);
    expect(longMs).toBeGreaterThan(2_900);
    expect(insertAndRead, 'insert + read-back, ms').toBeLessThan(1_000);
    expect(ping, 'ping, ms').toBeLessThan(500);
    expect(shortMs, 'a short ad-hoc query, ms').toBeLessThan(1_000);
  }, 30_000);

  it('caps ad-hoc queries: one over the cap is CDP_ERR_SQL_BUSY at once, and SELECT 1 and ping still answer', async () => {
    const wh = await createClickHouseWarehouse({
      dataDir,
      database: 'lanes',
      adhoc: { maxConcurrent: 2, maxQueued: 0 },
    });
    opened.push(wh);
    const longs = [
      timed(wh.queryReadonly('SELECT sleep(3) AS s')),
      timed(wh.queryReadonly('SELECT sleep(3) AS s')),
    ];
    await sleep(200);
    const [third, thirdMs] = await timed(rejection(wh.queryReadonly('SELECT sleep(3) AS s')));
    expect(third).toMatchObject({ code: 'CDP_ERR_SQL_BUSY', statusCode: 429, retryable: true });
    const [one, oneMs] = await timed(wh.query('SELECT 1 AS one'));
    const [, ping] = await timed(wh.ping());
    expect(one).toEqual([{ one: 1 }]);
    expect(thirdMs, 'the refusal, ms').toBeLessThan(500);
    expect(oneMs, 'SELECT 1, ms').toBeLessThan(500);
    expect(ping, 'ping, ms').toBeLessThan(500);
    for (const [result, ms] of await Promise.all(longs)) {
      expect(result.rows).toEqual([{ s: 0 }]);
      expect(ms).toBeGreaterThan(2_900);
    }
  }, 30_000);
});

describe('chdb: migrations', () => {
  const dir = join(dataDir, 'migrations-under-test');

  it('applies new files in order, records them, refuses an edited applied file, and stops at a failing one', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, '001_first.sql'),
      '-- the first table\nCREATE TABLE IF NOT EXISTS first (a String) ENGINE = MergeTree ORDER BY a;\n',
    );
    const wh = await open('mig', { migrationsDir: dir });
    expect(await wh.migrate()).toEqual({ applied: ['001_first'], alreadyApplied: [] });

    await writeFile(
      join(dir, '002_second.sql'),
      [
        'CREATE TABLE IF NOT EXISTS second (a String) ENGINE = MergeTree ORDER BY a;',
        "INSERT INTO {db}.second VALUES ('seeded; with a semicolon');",
        '',
      ].join('\n'),
    );
    expect(await wh.migrate()).toEqual({ applied: ['002_second'], alreadyApplied: ['001_first'] });
    expect(await wh.query('SELECT a FROM second')).toEqual([{ a: 'seeded; with a semicolon' }]);
    expect(await wh.migrate()).toEqual({
      applied: [],
      alreadyApplied: ['001_first', '002_second'],
    });

    await writeFile(
      join(dir, '001_first.sql'),
      'CREATE TABLE IF NOT EXISTS first (a String, b String) ENGINE = MergeTree ORDER BY a;\n',
    );
    const changed = await rejection(wh.migrate());
    expect(changed.code).toBe('CDP_ERR_WAREHOUSE_MIGRATION');
    expect(changed.message).toContain('001_first.sql');
    expect(changed.message).toMatch(/changed after they ran/);
    await writeFile(
      join(dir, '001_first.sql'),
      '-- the first table\nCREATE TABLE IF NOT EXISTS first (a String) ENGINE = MergeTree ORDER BY a;\n',
    );

    await writeFile(
      join(dir, '003_broken.sql'),
      'CREATE TABLE IF NOT EXISTS third (a String) ENGINE = MergeTree ORDER BY a;\nCREAT TABLE oops;\n',
    );
    const failed = await rejection(wh.migrate());
    expect(failed.code).toBe('CDP_ERR_WAREHOUSE_MIGRATION');
    expect(failed.message).toMatch(/003_broken\.sql failed at statement 2 of 2: .*Syntax error/);
    const recorded = await wh.query<{ name: string }>(
      'SELECT name FROM schema_migrations FINAL ORDER BY version',
    );
    expect(recorded.map((r) => r.name)).toEqual(['001_first', '002_second']);

    await writeFile(
      join(dir, '003_broken.sql'),
      'CREATE TABLE IF NOT EXISTS third (a String) ENGINE = MergeTree ORDER BY a;\n',
    );
    expect(await wh.migrate()).toEqual({
      applied: ['003_broken'],
      alreadyApplied: ['001_first', '002_second'],
    });
  });

  it('refuses a badly named migration file', async () => {
    const bad = join(dataDir, 'migrations-badly-named');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'events.sql'), 'SELECT 1;\n');
    const wh = await open('mig_bad', { migrationsDir: bad });
    const err = await rejection(wh.migrate());
    expect(err.code).toBe('CDP_ERR_WAREHOUSE_MIGRATION');
    expect(err.message).toContain('events.sql');
  });
});
