/**
 * The Warehouse contract: what every adapter must do, as a vitest suite.
 * Run it once per adapter (embedded chDB, ClickHouse server) from an
 * `*.int.test.ts` file:
 *
 * ```ts
 * runWarehouseContract('chdb', async () => ({ warehouse, cleanup }));
 * ```
 *
 * The factory is called once for the whole suite and must hand over a warehouse
 * on a fresh, empty database (nothing migrated); `cleanup` closes it and drops
 * what it made. The suite creates `contract_*` tables of its own beside the
 * migrated ones.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCdpError, type CdpError, type ErrorCode } from '@cdp/core';
import { TABLES } from './tables.js';
import type { Warehouse } from './warehouse.js';

export interface WarehouseContractSubject {
  readonly warehouse: Warehouse;
  cleanup(): Promise<void>;
}

export interface WarehouseContractOptions {
  /** Skip the whole suite, saying why (e.g. no server configured). */
  readonly skipReason?: string | undefined;
}

/** Waits for `p` to reject and returns the `CdpError` it rejected with. */
async function rejection(p: Promise<unknown>): Promise<CdpError> {
  let outcome: unknown;
  try {
    outcome = await p;
  } catch (e) {
    if (!isCdpError(e)) throw new Error(`expected a CdpError, got ${String(e)}`, { cause: e });
    return e;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
}

/** A complete `events` row, as the loader writes it. */
function eventRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message_id: randomUUID(),
    source_id: 'src_contract',
    type: 'track',
    event: 'Order Completed',
    name: '',
    anonymous_id: 'anon-1',
    user_id: '',
    one_id: '',
    group_id: '',
    previous_id: '',
    timestamp: new Date('2024-05-01T12:00:00.123Z'),
    received_at: Date.parse('2024-05-01T12:00:01.456Z'),
    sent_at: null,
    original_timestamp: '2024-05-01T12:00:00.100Z',
    clock_skew_flag: '',
    channel: 'direct',
    utm_source: '',
    utm_medium: '',
    utm_campaign: '',
    utm_term: '',
    utm_content: '',
    page_url: 'https://shop.example/checkout?step=3',
    page_path: '/checkout',
    referrer: '',
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0',
    is_bot: false,
    properties: JSON.stringify({ revenue: 42.5, currency: 'EUR' }),
    traits: '{}',
    context: '{}',
    ...overrides,
  };
}

/** A string with every character class that has broken an escaper somewhere. */
const TRICKY = `O'Brien "quoted" back\\slash \\' \\N\nnew line\ttab\rcr {braces} ?:x 😀 中文 é ß \u2028 -- /* ; DROP TABLE x`;

export function runWarehouseContract(
  name: string,
  factory: () => Promise<WarehouseContractSubject>,
  opts: WarehouseContractOptions = {},
): void {
  describe.skipIf(opts.skipReason !== undefined)(
    `Warehouse contract: ${name}${opts.skipReason === undefined ? '' : ` (skipped: ${opts.skipReason})`}`,
    () => {
      let subject: WarehouseContractSubject | undefined;
      const wh = (): Warehouse => {
        if (subject === undefined) throw new Error('the warehouse factory did not run');
        return subject.warehouse;
      };
      const count = async (sql: string): Promise<number> => {
        const [row] = await wh().query<{ c: number | string }>(sql);
        return Number(row?.c);
      };

      beforeAll(async () => {
        subject = await factory();
      });
      afterAll(async () => {
        await subject?.cleanup();
      });

      it('answers ping', async () => {
        await expect(wh().ping()).resolves.toBeUndefined();
      });

      it('migrate creates every table, and a second migrate applies nothing', async () => {
        const first = await wh().migrate();
        expect(first.applied).toEqual(
          expect.arrayContaining(['001_events', '002_events_invalid', '003_sources']),
        );
        expect(first.alreadyApplied).toEqual([]);

        const tables = await wh().query<{ name: string }>(
          'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
        );
        expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(Object.values(TABLES)));

        const [events] = await wh().query<{
          engine: string;
          sorting_key: string;
          partition_key: string;
        }>(
          'SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
          { t: TABLES.events },
        );
        expect(events).toEqual({
          engine: 'ReplacingMergeTree',
          sorting_key: 'source_id, anonymous_id, user_id, message_id',
          partition_key: 'toYYYYMM(timestamp)',
        });
        const columns = await wh().query<{ name: string; type: string }>(
          'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}',
          { t: TABLES.events },
        );
        const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
        expect(types).toMatchObject({
          message_id: 'String',
          source_id: 'LowCardinality(String)',
          timestamp: "DateTime64(3, 'UTC')",
          sent_at: "Nullable(DateTime64(3, 'UTC'))",
          is_bot: 'Bool',
          loaded_at: "DateTime64(3, 'UTC')",
        });

        const second = await wh().migrate();
        expect(second.applied).toEqual([]);
        expect(second.alreadyApplied).toEqual(first.applied);
        const recorded = await wh().query<{ name: string; len: number }>(
          `SELECT name, length(checksum) AS len FROM ${TABLES.schemaMigrations} FINAL ORDER BY version`,
        );
        expect(recorded).toEqual(first.applied.map((n) => ({ name: n, len: 64 })));
      });

      describe('insert and query', () => {
        beforeAll(async () => {
          await wh().command(
            `CREATE TABLE contract_roundtrip (id String, label String, at DateTime64(3, 'UTC'), tags Array(String), n UInt64, ok Bool)
           ENGINE = MergeTree ORDER BY id`,
          );
        });

        it('round-trips strings, dates (Date, epoch ms, ISO), arrays, numbers and booleans', async () => {
          await wh().insert('contract_roundtrip', [
            {
              id: 'r1',
              label: TRICKY,
              at: new Date('2024-02-29T23:59:59.123Z'),
              tags: ["a'b", 'c\\d', '中文', ''],
              n: 42,
              ok: true,
            },
            {
              id: 'r2',
              label: '',
              at: Date.UTC(2024, 0, 1, 0, 0, 0, 5),
              tags: [],
              n: 0,
              ok: false,
            },
            {
              id: 'r3',
              label: 'plain',
              at: '2024-03-01T10:00:00.250Z',
              tags: ['x'],
              n: 9_007_199_254_740_991,
              ok: true,
            },
          ]);
          const rows = await wh().query(
            `SELECT id, label, at, toUnixTimestamp64Milli(at) AS at_ms, tags, n, ok FROM contract_roundtrip ORDER BY id`,
          );
          expect(rows).toEqual([
            {
              id: 'r1',
              label: TRICKY,
              at: '2024-02-29 23:59:59.123',
              at_ms: 1709251199123,
              tags: ["a'b", 'c\\d', '中文', ''],
              n: 42,
              ok: true,
            },
            {
              id: 'r2',
              label: '',
              at: '2024-01-01 00:00:00.005',
              at_ms: 1704067200005,
              tags: [],
              n: 0,
              ok: false,
            },
            {
              id: 'r3',
              label: 'plain',
              at: '2024-03-01 10:00:00.250',
              at_ms: 1709287200250,
              tags: ['x'],
              n: 9_007_199_254_740_991,
              ok: true,
            },
          ]);
        });

        it('binds String, DateTime64 and Array(String) parameters, special characters included', async () => {
          const rows = await wh().query<{ id: string }>(
            `SELECT id FROM contract_roundtrip
           WHERE label = {label:String} AND at = {at:DateTime64(3, 'UTC')} AND hasAny(tags, {tags:Array(String)})`,
            { label: TRICKY, at: new Date('2024-02-29T23:59:59.123Z'), tags: ['nope', "a'b"] },
          );
          expect(rows).toEqual([{ id: 'r1' }]);

          const range = await wh().query<{ id: string }>(
            `SELECT id FROM contract_roundtrip WHERE at >= {from:DateTime64(3, 'UTC')} AND at < {to:DateTime64(3, 'UTC')} ORDER BY at`,
            {
              from: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 5)),
              to: new Date('2024-03-01T10:00:00.250Z'),
            },
          );
          expect(range).toEqual([{ id: 'r2' }, { id: 'r1' }]);

          const echoed = await wh().query(
            "SELECT {s:String} AS s, {a:Array(String)} AS a, {d:Array(DateTime64(3, 'UTC'))} AS d, {u:UInt64} AS u, {e:String} AS e",
            {
              s: TRICKY,
              a: [TRICKY, '', "'"],
              d: [new Date('2024-05-01T00:00:00.999Z'), new Date(0)],
              u: 7,
              e: '',
            },
          );
          expect(echoed).toEqual([
            {
              s: TRICKY,
              a: [TRICKY, '', "'"],
              d: ['2024-05-01 00:00:00.999', '1970-01-01 00:00:00.000'],
              u: 7,
              e: '',
            },
          ]);
        });

        it('accepts a full events row with Date, epoch-ms and ISO timestamps', async () => {
          const row = eventRow({
            message_id: 'm-shape',
            user_id: 'user-1',
            properties: JSON.stringify({ note: TRICKY }),
          });
          await wh().insert(TABLES.events, [row]);
          const rows = await wh().query(
            `SELECT message_id, timestamp, received_at, sent_at, original_timestamp, is_bot, properties, loaded_at > timestamp AS loaded
           FROM ${TABLES.events} WHERE message_id = {id:String}`,
            { id: 'm-shape' },
          );
          expect(rows).toEqual([
            {
              message_id: 'm-shape',
              timestamp: '2024-05-01 12:00:00.123',
              received_at: '2024-05-01 12:00:01.456',
              sent_at: null,
              original_timestamp: '2024-05-01 12:00:00.100',
              is_bot: false,
              properties: JSON.stringify({ note: TRICKY }),
              loaded: 1,
            },
          ]);
        });

        it('an empty batch is a no-op', async () => {
          await expect(wh().insert('contract_roundtrip', [])).resolves.toBeUndefined();
          expect(await count('SELECT count() AS c FROM contract_roundtrip')).toBe(3);
        });
      });

      describe('deduplication', () => {
        it('a repeated insert with the same dedupToken is a no-op; another token inserts', async () => {
          await wh().command(
            'CREATE TABLE contract_dedup (id String, v UInt32) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100',
          );
          const batch = [
            { id: 'a', v: 1 },
            { id: 'b', v: 2 },
          ];
          await wh().insert('contract_dedup', batch, {
            dedupToken: 'cdp.events.resolved/0/100-101',
          });
          await wh().insert('contract_dedup', batch, {
            dedupToken: 'cdp.events.resolved/0/100-101',
          });
          expect(await count('SELECT count() AS c FROM contract_dedup')).toBe(2);
          // The token, not the content, identifies the batch.
          await wh().insert('contract_dedup', batch, {
            dedupToken: 'cdp.events.resolved/0/102-103',
          });
          expect(await count('SELECT count() AS c FROM contract_dedup')).toBe(4);
        });

        it('insertLines round-trips raw lines, and a repeated dedupToken is a no-op through a materialized view', async () => {
          await wh().command('CREATE TABLE contract_lines_in (m String) ENGINE = Null');
          await wh().command(
            'CREATE TABLE contract_lines (m String, n UInt64) ENGINE = MergeTree ORDER BY m SETTINGS non_replicated_deduplication_window = 100',
          );
          await wh().command(
            'CREATE MATERIALIZED VIEW contract_lines_mv TO contract_lines AS SELECT m, length(m) AS n FROM contract_lines_in',
          );
          // Byte for byte, whatever the adapter carries them as: escapes as
          // text, a carriage return, a trailing backslash.
          const lines = [
            '{"a":"ü – ✓"}',
            Buffer.from('it\'s \\ "quoted"'),
            '\t tab',
            Buffer.from('cr\r mid \\N \\t \\\\ end\\'),
          ];
          await wh().insertLines('contract_lines_in', lines, { dedupToken: 'lines-1' });
          await wh().insertLines('contract_lines_in', lines, { dedupToken: 'lines-1' });
          const rows = await wh().query<{ h: string }>('SELECT hex(m) AS h FROM contract_lines');
          const hex = (l: string | Buffer): string => Buffer.from(l).toString('hex').toUpperCase();
          expect(rows.map((r) => r.h).sort()).toEqual(lines.map(hex).sort());
          await wh().insertLines('contract_lines_in', []);
          expect(await count('SELECT count() AS c FROM contract_lines')).toBe(lines.length);
        });

        it('events: a retried batch is a no-op at once; a redelivered event collapses under FINAL', async () => {
          const batch = [eventRow({ message_id: 'dup-1' }), eventRow({ message_id: 'dup-2' })];
          await wh().insert(TABLES.events, batch, { dedupToken: 'events-batch-1' });
          await wh().insert(TABLES.events, batch, { dedupToken: 'events-batch-1' });
          const where = "message_id IN ('dup-1', 'dup-2')";
          expect(await count(`SELECT count() AS c FROM ${TABLES.events} WHERE ${where}`)).toBe(2);
          // The same event again inside another batch: two rows until parts merge,
          // one under FINAL (ReplacingMergeTree on the ids and message_id).
          await wh().insert(TABLES.events, [batch[0] ?? {}], { dedupToken: 'events-batch-2' });
          expect(
            await count(`SELECT count() AS c FROM ${TABLES.events} FINAL WHERE ${where}`),
          ).toBe(2);
        });
      });

      describe('queryReadonly', () => {
        const rowsOf = async (): Promise<number> =>
          count('SELECT count() AS c FROM contract_roundtrip');
        const tableNames = async (): Promise<string[]> =>
          (
            await wh().query<{ name: string }>(
              'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
            )
          ).map((t) => t.name);

        it('returns the rows of a parameterised SELECT', async () => {
          const result = await wh().queryReadonly(
            'SELECT id, n FROM contract_roundtrip WHERE n > {min:UInt64} AND label != {not:String} ORDER BY id',
            { min: 1, not: TRICKY.slice(0, 5) },
          );
          expect(result).toEqual({
            rows: [
              { id: 'r1', n: 42 },
              { id: 'r3', n: 9_007_199_254_740_991 },
            ],
            truncated: false,
          });
          const withCte = await wh().queryReadonly(
            `-- a comment
           WITH t AS (SELECT id FROM contract_roundtrip) SELECT count() AS c FROM t /* trailing */;`,
          );
          expect(withCte).toEqual({ rows: [{ c: 3 }], truncated: false });
        });

        const probe = `cdp_contract_probe_${randomUUID().replaceAll('-', '')}.tsv`;
        const refused: readonly (readonly [string, string])[] = [
          ['INSERT', "INSERT INTO contract_roundtrip (id) VALUES ('evil')"],
          ['INSERT ... SELECT', 'INSERT INTO contract_roundtrip SELECT * FROM contract_roundtrip'],
          ['ALTER', 'ALTER TABLE contract_roundtrip DELETE WHERE 1'],
          ['DROP', 'DROP TABLE contract_roundtrip'],
          ['TRUNCATE', 'TRUNCATE TABLE contract_roundtrip'],
          ['CREATE', 'CREATE TABLE contract_evil (a UInt8) ENGINE = Memory'],
          ['SET', 'SET readonly = 0'],
          ['multi-statement', 'SELECT 1; DROP TABLE contract_roundtrip'],
          [
            'multi-statement after a SELECT',
            "SELECT count() FROM contract_roundtrip; INSERT INTO contract_roundtrip (id) VALUES ('evil')",
          ],
          ['unbalanced parenthesis escaping the wrapper', 'SELECT 1) SETTINGS readonly = 0 --'],
          ['file()', "SELECT * FROM file('/etc/passwd', 'LineAsString')"],
          ['url()', "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')"],
          ['the file() function', "SELECT file('/etc/passwd') AS f"],
          [
            'file() with SETTINGS readonly = 0',
            "SELECT * FROM file('/etc/passwd', 'LineAsString') SETTINGS readonly = 0",
          ],
          [
            'file() in a subquery with SETTINGS readonly = 0',
            "SELECT count() FROM (SELECT * FROM file('/etc/passwd', 'LineAsString') SETTINGS readonly = 0)",
          ],
          [
            'a SETTINGS clause raising the limits',
            'SELECT number FROM numbers(10) SETTINGS max_result_rows = 1000000',
          ],
          ['writing a file', `INSERT INTO FUNCTION file('${probe}', 'TSV', 'x UInt8') SELECT 1`],
          ['INTO OUTFILE', `SELECT 1 INTO OUTFILE '${probe}'`],
          ['SYSTEM', 'SYSTEM DROP MARK CACHE'],
          ['executable()', "SELECT * FROM executable('cat /etc/passwd', 'TSV', 'x String')"],
          ['remote()', "SELECT * FROM remote('127.0.0.1:9000', system.one)"],
          ['remoteSecure()', "SELECT * FROM remoteSecure('127.0.0.1:9440', system.one)"],
          ['s3()', "SELECT count() FROM s3('http://127.0.0.1:9/x.csv')"],
          ['system.users', 'SELECT name FROM system.users'],
          ['system.grants in a subquery', 'SELECT count() FROM (SELECT * FROM system.grants)'],
          ['EXPLAIN', 'EXPLAIN SELECT 1'],
        ];

        it.each(refused)('refuses %s', async (_label, sql) => {
          const before = await rowsOf();
          const err = await rejection(wh().queryReadonly(sql));
          expect([
            'CDP_ERR_WAREHOUSE_READONLY',
            'CDP_ERR_WAREHOUSE_QUERY',
          ] satisfies ErrorCode[]).toContain(err.code);
          expect(err.retryable).toBe(false);
          expect(await rowsOf()).toBe(before);
        });

        it('left nothing behind: same tables, same rows, no file written', async () => {
          const names = await tableNames();
          expect(names).toContain('contract_roundtrip');
          expect(names).not.toContain('contract_evil');
          expect(await rowsOf()).toBe(3);
          const err = await rejection(
            wh().query(`SELECT count() FROM file('${probe}', 'TSV', 'x UInt8')`),
          );
          expect(err.code).toBe('CDP_ERR_WAREHOUSE_QUERY');
        });

        it('does not leave later statements read-only or limited', async () => {
          await wh().queryReadonly('SELECT 1', {}, { maxResultRows: 1, maxExecutionTime: 1 });
          const [settings] = await wh().query<{
            readonly: string | number;
            rows: string | number;
            time: string | number;
          }>(
            "SELECT getSetting('readonly') AS readonly, getSetting('max_result_rows') AS rows, getSetting('max_execution_time') AS time",
          );
          expect(Number(settings?.readonly)).toBe(0);
          expect(Number(settings?.rows)).toBe(0);
          expect(Number(settings?.time)).toBe(0);
          await wh().insert('contract_roundtrip', [
            { id: 'r4', label: 'after', at: new Date(), tags: [], n: 1, ok: true },
          ]);
          await wh().command('CREATE TABLE contract_after_readonly (a UInt8) ENGINE = Memory');
          await wh().command('DROP TABLE contract_after_readonly');
          expect(await rowsOf()).toBe(4);
          const many = await wh().query('SELECT number FROM numbers(50)');
          expect(many).toHaveLength(50);
        });

        it('cuts the result at maxResultRows and says so', async () => {
          const cut = await wh().queryReadonly(
            'SELECT number FROM numbers(100000) ORDER BY number',
            {},
            { maxResultRows: 10 },
          );
          expect(cut.truncated).toBe(true);
          expect(cut.rows).toEqual(Array.from({ length: 10 }, (_, i) => ({ number: i })));
          const exact = await wh().queryReadonly(
            'SELECT number FROM numbers(10)',
            {},
            { maxResultRows: 10 },
          );
          expect(exact).toMatchObject({ truncated: false });
          expect(exact.rows).toHaveLength(10);
          const defaults = await wh().queryReadonly('SELECT number FROM numbers(20000)');
          expect(defaults.truncated).toBe(true);
          expect(defaults.rows).toHaveLength(10_000);
        });

        it('stops a query at maxExecutionTime: a 4xx limit error, not a retryable 503', async () => {
          const started = Date.now();
          const err = await rejection(
            wh().queryReadonly(
              'SELECT sum(cityHash64(number)) FROM numbers(100000000000)',
              {},
              { maxExecutionTime: 1 },
            ),
          );
          expect(err).toMatchObject({
            code: 'CDP_ERR_SQL_LIMIT',
            field: 'max_execution_time',
            retryable: false,
            statusCode: 422,
          });
          expect(err.message).toMatch(/max_execution_time/);
          expect(err.message).toMatch(/TIMEOUT_EXCEEDED|TOO_SLOW|Timeout exceeded|too slow/i);
          expect(Date.now() - started).toBeLessThan(20_000);
        });

        it.each([
          [
            'max_memory_usage',
            'SELECT groupArray(number) AS a FROM numbers(50000000)',
            { maxMemoryUsage: 100_000_000 },
          ],
          [
            'max_result_bytes',
            'SELECT toString(number) AS s FROM numbers(5000)',
            { maxResultBytes: 1_000 },
          ],
          [
            'max_rows_to_read',
            'SELECT count() AS c FROM numbers(50000000)',
            { maxRowsToRead: 1_000_000 },
          ],
          [
            'max_bytes_to_read',
            'SELECT count() AS c FROM numbers(50000000)',
            { maxBytesToRead: 1_000_000 },
          ],
        ] as const)(
          'a query over %s is CDP_ERR_SQL_LIMIT naming it, not retryable',
          async (limit, sql, limits) => {
            const err = await rejection(wh().queryReadonly(sql, {}, limits));
            expect(err).toMatchObject({
              code: 'CDP_ERR_SQL_LIMIT',
              field: limit,
              retryable: false,
              statusCode: 422,
            });
            expect(err.message).toContain(limit);
          },
        );

        it('refuses an answer over maxResultBytes as sent, even when ClickHouse counts it smaller', async () => {
          // 30,000 bytes in ClickHouse's count, 180,000 as JSON (\u0001 escapes).
          const err = await rejection(
            wh().queryReadonly(
              'SELECT repeat(char(1), 30000 + number) AS z FROM numbers(1)',
              {},
              { maxResultBytes: 100_000 },
            ),
          );
          expect(err).toMatchObject({ code: 'CDP_ERR_SQL_LIMIT', field: 'max_result_bytes' });
          const fits = await wh().queryReadonly(
            'SELECT repeat(char(1), 30000 + number) AS z FROM numbers(1)',
            {},
            { maxResultBytes: 200_000 },
          );
          expect(String(fits.rows[0]?.['z'])).toHaveLength(30_000);
        });

        it('runs with a memory limit by default', async () => {
          const [row] = (await wh().queryReadonly("SELECT getSetting('max_memory_usage') AS m", {}))
            .rows;
          expect(Number(row?.['m'])).toBe(1024 ** 3);
        });
      });

      describe('errors', () => {
        it("a syntax error is CDP_ERR_WAREHOUSE_QUERY, not retryable, with ClickHouse's message", async () => {
          const err = await rejection(wh().query('SELEC 1'));
          expect(err).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_QUERY', retryable: false });
          expect(err.message).toMatch(/Syntax error/i);
        });

        it('an unknown table is CDP_ERR_WAREHOUSE_QUERY naming the table', async () => {
          const err = await rejection(wh().query('SELECT * FROM contract_no_such_table'));
          expect(err).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_QUERY', retryable: false });
          expect(err.message).toContain('contract_no_such_table');
        });

        it('bad rows are CDP_ERR_WAREHOUSE_QUERY and insert nothing', async () => {
          const before = await count('SELECT count() AS c FROM contract_roundtrip');
          const typeErr = await rejection(
            wh().insert('contract_roundtrip', [
              { id: 'bad', label: 'x', at: new Date(), tags: [], n: 'not a number', ok: true },
            ]),
          );
          expect(typeErr).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_QUERY', retryable: false });
          const unknownColumn = await rejection(
            wh().insert('contract_roundtrip', [{ id: 'bad', nope: 1 }]),
          );
          expect(unknownColumn).toMatchObject({
            code: 'CDP_ERR_WAREHOUSE_QUERY',
            retryable: false,
          });
          expect(unknownColumn.message).toContain('nope');
          const unknownTable = await rejection(
            wh().insert('contract_no_such_table', [{ id: 'x' }]),
          );
          expect(unknownTable).toMatchObject({ code: 'CDP_ERR_WAREHOUSE_QUERY', retryable: false });
          expect(await count('SELECT count() AS c FROM contract_roundtrip')).toBe(before);
        });
      });

      it('serves 50 concurrent inserts and 50 concurrent queries', async () => {
        await wh().command(
          "CREATE TABLE contract_concurrent (batch UInt32, i UInt32, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY (batch, i)",
        );
        const inserts = Array.from({ length: 50 }, (_, b) =>
          wh().insert(
            'contract_concurrent',
            Array.from({ length: 20 }, (_, i) => ({ batch: b, i, at: new Date() })),
            { dedupToken: `concurrent-${b}` },
          ),
        );
        const queries = Array.from({ length: 50 }, (_, q) =>
          q % 2 === 0
            ? wh().query<{ c: number }>(
                'SELECT count() AS c FROM contract_concurrent WHERE batch >= {b:UInt32}',
                { b: q },
              )
            : wh().queryReadonly('SELECT {q:UInt32} AS q, count() AS c FROM contract_roundtrip', {
                q,
              }),
        );
        const results = await Promise.allSettled([...inserts, ...queries]);
        const failures = results.filter((r) => r.status === 'rejected');
        expect(failures).toEqual([]);
        expect(await count('SELECT count() AS c FROM contract_concurrent')).toBe(1000);
        expect(await count('SELECT uniqExact(batch) AS c FROM contract_concurrent')).toBe(50);
        const readonlyResults = results.slice(50).filter((_, q) => q % 2 === 1);
        for (const [k, r] of readonlyResults.entries()) {
          expect(r).toMatchObject({
            status: 'fulfilled',
            value: { rows: [{ q: 2 * k + 1, c: 4 }], truncated: false },
          });
        }
      });
    },
  );
}
