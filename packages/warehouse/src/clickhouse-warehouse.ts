import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  createClient,
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  type ErrorLogParams,
  type Logger as ClickHouseLogger,
  type WarnLogParams,
} from '@clickhouse/client';
import { CdpError, type Logger } from '@cdp/core';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrations.js';
import {
  FORMAT_SINGLE_STATEMENT_PARAM,
  FORMAT_SINGLE_STATEMENT_SQL,
  checkReadonlyAst,
  explainAstSql,
  resolveReadonlyLimits,
  wrapReadonlySql,
} from './readonly-guard.js';
import { isIdentifier, quoteString, quoteTable, toJsonEachRow, toQueryParams } from './sql.js';
import { translateError, type TranslateContext } from './translate-error.js';
import type {
  InsertOptions,
  MigrationReport,
  QueryParams,
  ReadonlyQueryLimits,
  ReadonlyQueryResult,
  Warehouse,
} from './warehouse.js';

/** Options of {@link createClickHouseWarehouse}. */
export interface ClickHouseWarehouseOptions {
  /**
   * ClickHouse server HTTP(S) URL, e.g. `http://localhost:8123`. Unset or
   * empty (the default): embedded chDB in `dataDir`.
   */
  readonly url?: string | undefined;
  /** Server user (default: the client's, `default`). Ignored for chDB. */
  readonly username?: string | undefined;
  /** Server password (default: empty). Ignored for chDB. */
  readonly password?: string | undefined;
  /** Database holding every table; created when missing (default `cdp`). Letters, digits, `_`. */
  readonly database?: string | undefined;
  /**
   * chDB data directory, created when missing. Required without `url`. chDB
   * binds one data directory per process: a second warehouse on another
   * directory in the same process is refused (the same directory is fine).
   */
  readonly dataDir?: string | undefined;
  /** Server only: milliseconds before an HTTP request is abandoned (default 60,000). */
  readonly requestTimeoutMs?: number | undefined;
  /** Folder of `NNN_name.sql` migrations (default: this package's `migrations/`). */
  readonly migrationsDir?: string | URL | undefined;
  /** Receives `warehouse_*` log lines (default: none). */
  readonly logger?: Logger | undefined;
}

/**
 * Settings every insert runs with, as a query-level `SETTINGS` clause so they
 * hold for that insert only. (On chDB `clickhouse_settings` turn into `SET`s on
 * the one session and would stay for every later query.)
 * - `best_effort` dates: JS `Date`s (sent as ISO-8601) and epoch milliseconds
 *   for `DateTime64(3)`.
 * - synchronous inserts, so deduplication tokens apply and a resolved insert
 *   is visible (`async_insert` defaults to 1 in ClickHouse 26.7).
 * - unknown columns are an error, not silently dropped.
 */
const NEWLINE = Buffer.from('\n');

/** Dedup tokens reach the tables that materialized views write. */
const DEPENDENT_VIEW_SETTINGS = ['deduplicate_blocks_in_dependent_materialized_views = 1'];

const INSERT_SETTINGS = [
  "date_time_input_format = 'best_effort'",
  'async_insert = 0',
  'insert_deduplicate = 1',
  'input_format_skip_unknown_fields = 0',
];

/**
 * The one Warehouse adapter: `@clickhouse/client` over HTTP to a ClickHouse
 * server when `url` is set (`kind: 'server'`), otherwise the same client wired
 * to chDB in-process (`kind: 'chdb'`). The SQL is the same both ways.
 */
export async function createClickHouseWarehouse(
  opts: ClickHouseWarehouseOptions = {},
): Promise<Warehouse> {
  const database = opts.database ?? 'cdp';
  if (!isIdentifier(database)) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Warehouse database name must be letters, digits and _ (got ${JSON.stringify(database)})`,
      field: 'database',
    });
  }
  const migrationsDir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const logger = opts.logger;
  if (opts.url !== undefined && opts.url !== '') {
    const client = await openServer(opts.url, database, opts, logger);
    logger?.info({ kind: 'server', url: redactUrl(opts.url), database }, 'warehouse_opened');
    return new ClickHouseWarehouse(client, 'server', database, migrationsDir, logger);
  }
  if (opts.dataDir === undefined || opts.dataDir === '') {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'Set the warehouse url (ClickHouse server) or dataDir (embedded chDB)',
      field: 'dataDir',
    });
  }
  const dataDir = resolve(opts.dataDir);
  const client = await openChdb(dataDir, database, logger);
  logger?.info({ kind: 'chdb', dataDir, database }, 'warehouse_opened');
  return new ClickHouseWarehouse(client, 'chdb', database, migrationsDir, logger);
}

/**
 * The client's own log lines, into our logger. Its errors are the ones thrown
 * to us (and translated), so they go at debug; without a logger, nothing (the
 * client's default writes to the console).
 */
function clientLoggerClass(logger: Logger | undefined): new () => ClickHouseLogger {
  return class implements ClickHouseLogger {
    trace(): void {}
    debug(): void {}
    info(): void {}
    warn({ module, message, args, err }: WarnLogParams): void {
      logger?.warn({ module, detail: message, args, err }, 'warehouse_client_warning');
    }
    error({ module, message, args, err }: ErrorLogParams): void {
      logger?.debug({ module, detail: message, args, err }, 'warehouse_client_error');
    }
  };
}

async function openServer(
  url: string,
  database: string,
  opts: ClickHouseWarehouseOptions,
  logger: Logger | undefined,
): Promise<ClickHouseClient> {
  const config: ClickHouseClientConfigOptions = {
    url,
    log: { LoggerClass: clientLoggerClass(logger) },
    application: 'cdp-warehouse',
    request_timeout: opts.requestTimeoutMs ?? 60_000,
    // chDB 26.7's default, pinned so older servers return the same JSON.
    // Per-request URL parameters over HTTP: nothing sticks between queries.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  };
  if (opts.username !== undefined) config.username = opts.username;
  if (opts.password !== undefined) config.password = opts.password;
  // The server refuses any request whose default database does not exist, so
  // the database is created from a client on the user's default database.
  const bootstrap = createClient(config);
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` });
  } catch (e) {
    throw translateError(e);
  } finally {
    await bootstrap.close();
  }
  return createClient({ ...config, database });
}

async function openChdb(
  dataDir: string,
  database: string,
  logger: Logger | undefined,
): Promise<ClickHouseClient> {
  await mkdir(dataDir, { recursive: true });
  // Loaded only in embedded mode: it loads the native engine.
  const { createChdbConnection } = await import('chdb/connection');
  let client: ClickHouseClient;
  try {
    // chdb types its Connection against the standalone @clickhouse/client-common
    // package, @clickhouse/client 1.23 against its bundled copy of the same
    // declarations; TypeScript sees two unrelated SettingsMap classes. The
    // runtime contract is the same one (exercised by the contract suite).
    const connection = createChdbConnection({ path: dataDir }) as unknown as NonNullable<
      ClickHouseClientConfigOptions['connection']
    >;
    client = createClient({ connection, log: { LoggerClass: clientLoggerClass(logger) } });
  } catch (e) {
    throw translateError(e);
  }
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` });
    // The connection is one chDB session: USE makes the database the default
    // for every later statement on it, as `database` does over HTTP.
    await client.command({ query: `USE \`${database}\`` });
  } catch (e) {
    await client.close();
    throw translateError(e);
  }
  return client;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** An INSERT answers with an empty body; read it to the end so the socket is released. */
async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await finished(stream);
}

class ClickHouseWarehouse implements Warehouse {
  readonly kind: 'chdb' | 'server';
  readonly #client: ClickHouseClient;
  readonly #database: string;
  readonly #migrationsDir: string | URL;
  readonly #logger: Logger | undefined;
  #closed = false;

  constructor(
    client: ClickHouseClient,
    kind: 'chdb' | 'server',
    database: string,
    migrationsDir: string | URL,
    logger: Logger | undefined,
  ) {
    this.#client = client;
    this.kind = kind;
    this.#database = database;
    this.#migrationsDir = migrationsDir;
    this.#logger = logger;
  }

  migrate(): Promise<MigrationReport> {
    return runMigrations(this, {
      dir: this.#migrationsDir,
      database: this.#database,
      logger: this.#logger,
    });
  }

  async insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    opts: InsertOptions = {},
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.#insertBody(table, 'JSONEachRow', toJsonEachRow(rows), INSERT_SETTINGS, opts);
  }

  async insertLines(
    table: string,
    lines: readonly (string | Buffer)[],
    opts: InsertOptions = {},
  ): Promise<void> {
    if (lines.length === 0) return;
    const parts: Buffer[] = [];
    for (const line of lines) {
      parts.push(typeof line === 'string' ? Buffer.from(line) : line, NEWLINE);
    }
    const settings = [...INSERT_SETTINGS, ...DEPENDENT_VIEW_SETTINGS];
    await this.#insertBody(table, 'LineAsString', Buffer.concat(parts), settings, opts);
  }

  /** One `INSERT ... SETTINGS ... FORMAT <format>` with its body; settings stay scoped to it. */
  async #insertBody(
    table: string,
    format: 'JSONEachRow' | 'LineAsString',
    body: string | Buffer,
    baseSettings: readonly string[],
    opts: InsertOptions,
  ): Promise<void> {
    const target = quoteTable(table);
    const settings = [...baseSettings];
    if (opts.dedupToken !== undefined) {
      if (opts.dedupToken === '') {
        throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
          message: 'dedupToken must not be empty',
          field: 'dedupToken',
        });
      }
      settings.push(`insert_deduplication_token = ${quoteString(opts.dedupToken)}`);
    }
    const query = `INSERT INTO ${target} SETTINGS ${settings.join(', ')} FORMAT ${format}`;
    await this.#run(async () => {
      const result = await this.#client.exec({ query, values: Readable.from([body]) });
      await drain(result.stream);
    });
  }

  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return this.#run(() => this.#select<T>(sql, params));
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    const queryParams = toQueryParams(params);
    await this.#run(() =>
      this.#client.command(
        queryParams === undefined ? { query: sql } : { query: sql, query_params: queryParams },
      ),
    );
  }

  async queryReadonly(
    sql: string,
    params?: QueryParams,
    limits?: ReadonlyQueryLimits,
  ): Promise<ReadonlyQueryResult> {
    const resolved = resolveReadonlyLimits(limits);
    if (sql.trim() === '')
      throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
        message: 'The query is empty',
        field: 'sql',
      });
    const ctx: TranslateContext = { readonly: true };
    // 1. One statement, in ClickHouse's canonical form (the text is a bound parameter).
    const [formatted] = await this.#run(
      () =>
        this.#select<{ statement: string }>(FORMAT_SINGLE_STATEMENT_SQL, {
          [FORMAT_SINGLE_STATEMENT_PARAM]: sql,
        }),
      ctx,
    );
    const statement = formatted?.statement ?? '';
    // Canonical form: keywords upper-case, no comments. A quick refusal with a
    // clear message; the parse tree below is what decides.
    if (!/^(SELECT|WITH|\()/.test(statement)) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: 'Only a SELECT statement is allowed here',
      });
    }
    // 2. Its parse tree: a SELECT, with no SETTINGS anywhere.
    const ast = await this.#run(
      () => this.#select<{ explain: string }>(explainAstSql(statement), params),
      ctx,
    );
    checkReadonlyAst(ast.map((r) => r.explain));
    // 3. Run it as a subquery under readonly = 1 and the limits, scoped to this query.
    const rows = await this.#run(
      () => this.#select<Record<string, unknown>>(wrapReadonlySql(statement, resolved), params),
      ctx,
    );
    const truncated = rows.length > resolved.maxResultRows;
    return { rows: truncated ? rows.slice(0, resolved.maxResultRows) : rows, truncated };
  }

  async ping(): Promise<void> {
    const result = await this.#run(() => this.#client.ping({ select: true }));
    if (!result.success) throw translateError(result.error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
    this.#logger?.info({ kind: this.kind }, 'warehouse_closed');
  }

  async #select<T>(sql: string, params: QueryParams | undefined): Promise<T[]> {
    const queryParams = toQueryParams(params);
    const result = await this.#client.query(
      queryParams === undefined
        ? { query: sql, format: 'JSONEachRow' }
        : { query: sql, format: 'JSONEachRow', query_params: queryParams },
    );
    return result.json<T>();
  }

  async #run<T>(fn: () => Promise<T>, ctx: TranslateContext = {}): Promise<T> {
    if (this.#closed) {
      throw new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message: 'The warehouse is closed',
        retryable: false,
      });
    }
    try {
      return await fn();
    } catch (e) {
      throw translateError(e, ctx);
    }
  }
}
