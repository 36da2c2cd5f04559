/**
 * The ClickHouse HTTP front over chDB, as a process of its own, spoken to
 * with plain HTTP: what `@clickhouse/client` relies on beyond the warehouse
 * contract (which runs the server-kind adapter on it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnClickHouseFront, type SpawnedClickHouseFront } from './spawn-clickhouse-front.js';

describe('ClickHouse HTTP front over chDB', () => {
  let front: SpawnedClickHouseFront;
  beforeAll(async () => {
    front = await spawnClickHouseFront();
  });
  afterAll(async () => {
    await front?.stop();
  });
  const get = (search: Record<string, string>, init: RequestInit = {}): Promise<Response> =>
    fetch(`${front.url}/?${new URLSearchParams(search).toString()}`, init);

  it('answers /ping, and SELECT as TabSeparated by default, with its query id', async () => {
    expect(await (await fetch(`${front.url}/ping`)).text()).toBe('Ok.\n');
    const r = await get({ query: "SELECT 1, 'a'", query_id: 'q-1' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-clickhouse-query-id')).toBe('q-1');
    expect(JSON.parse(r.headers.get('x-clickhouse-summary') ?? '')).toHaveProperty('elapsed_ns');
    expect(await r.text()).toBe('1\ta\n');
  });

  it('runs query + newline + body, binds param_*, and keeps settings to their request', async () => {
    const r = await fetch(
      `${front.url}/?${new URLSearchParams({ param_x: "it's", default_format: 'JSONEachRow', max_threads: '1' }).toString()}`,
      { method: 'POST', body: "SELECT {x:String} AS x, getSetting('max_threads') AS t" },
    );
    expect(await r.text()).toBe(`{"x":"it's","t":1}\n`);
    const next = await get({
      query: "SELECT getSetting('max_threads') = 1 AS leaked",
      default_format: 'JSONEachRow',
    });
    expect(await next.text()).toBe('{"leaked":0}\n');
  });

  it('reports an error as a server does: status, code header, Code: N. DB::Exception ... (NAME)', async () => {
    const r = await get({ query: 'SELECT * FROM no_such_table' });
    expect(r.status).toBe(404);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await r.text()).toMatch(
      /^Code: 60\. DB::Exception: .*no_such_table.* \(UNKNOWN_TABLE\) \(version /,
    );
    const bad = await get({ query: 'SELEC 1' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/\(SYNTAX_ERROR\)/);
  });

  it('gzips the answer when asked with enable_http_compression=1', async () => {
    const r = await fetch(
      `${front.url}/?${new URLSearchParams({ query: 'SELECT 42', enable_http_compression: '1' }).toString()}`,
      { headers: { 'accept-encoding': 'gzip' } },
    );
    // fetch inflates it; the header says it came compressed.
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(await r.text()).toBe('42\n');
  });
});
