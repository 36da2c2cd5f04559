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
import { CdpError, CHDB_ENGINE_ARGS, type Logger } from '@cdp/core';
import { DEFAULT_MIGRATIONS_DIR, runMigrations } from './migrations.js';
import {
  createAdhocGate,
  createDirectScheduler,
  createSerialScheduler,
  type AdhocGate,
  type AdhocLaneOptions,
  type Lane,
  type SessionScheduler,
} from './lanes.js';
import { createReadinessProbe, type ReadinessProbe } from './readiness.js';
import {
  FORMAT_SINGLE_STATEMENT_PARAM,
  FORMAT_SINGLE_STATEMENT_SQL,
  checkReadonlyAst,
  explainAstSql,
  resolveReadonlyLimits,
  wrapReadonlySql,
  type ResolvedReadonlyLimits,
} from './readonly-guard.js';
import { readJsonEachRow } from './result-reader.js';
import { setParamsSql } from './session-params.js';
import { isIdentifier, quoteString, quoteTable, toJsonEachRow, toQueryParams } from './sql.js';
import { translateError } from './translate-error.js';
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
  /**
   * The ad-hoc lane (`queryReadonly`): how many run at once, how many wait
   * and how long. Embedded, each ad-hoc query runs on a chDB session of its
   * own, so it never holds up the statements of this warehouse's session.
   */
  readonly adhoc?: AdhocLaneOptions | undefined;
  /**
   * Milliseconds `ping()` waits for the engine before it answers from the
   * last known state (default 1,000; see `createReadinessProbe`).
   */
  readonly pingTimeoutMs?: number | undefined;
}

/** An answer older than this does not make the warehouse ready (see `ping`). */
const READINESS_MAX_AGE_MS = 30_000;

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
    return new ClickHouseWarehouse(serverBackend(client), database, migrationsDir, opts);
  }
  if (opts.dataDir === undefined || opts.dataDir === '') {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: 'Set the warehouse url (ClickHouse server) or dataDir (embedded chDB)',
      field: 'dataDir',
    });
  }
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const engine = await openChdbEngine(dataDir);
  let client: ClickHouseClient;
  let pingClient: ClickHouseClient;
  try {
    client = await openChdb(dataDir, database, logger, { create: true });
    try {
      pingClient = await openChdb(dataDir, database, logger, { create: false });
    } catch (e) {
      await client.close();
      throw e;
    }
  } catch (e) {
    engine.close();
    throw e;
  }
  logger?.info({ kind: 'chdb', dataDir, database }, 'warehouse_opened');
  return new ClickHouseWarehouse(
    chdbBackend(
      client,
      pingClient,
      () => openChdb(dataDir, database, logger, { create: false }),
      () => engine.close(),
    ),
    database,
    migrationsDir,
    opts,
  );
}

/** The statements one ad-hoc query runs, on the connection it runs on. */
interface AdhocSession {
  select<T>(sql: string, params: QueryParams | undefined): Promise<T[]>;
  /** The raw answer of a statement that names its `FORMAT`. */
  exec(sql: string, params: QueryParams | undefined): Promise<Readable>;
  close(): Promise<void>;
}

/** What differs between a server and chDB: connections, scheduling, ping. */
interface Backend {
  readonly kind: 'chdb' | 'server';
  readonly client: ClickHouseClient;
  readonly scheduler: SessionScheduler;
  openAdhoc(): Promise<AdhocSession>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

async function selectRows<T>(
  client: ClickHouseClient,
  sql: string,
  params: QueryParams | undefined,
): Promise<T[]> {
  const queryParams = toQueryParams(params);
  const result = await client.query(
    queryParams === undefined
      ? { query: sql, format: 'JSONEachRow' }
      : { query: sql, format: 'JSONEachRow', query_params: queryParams },
  );
  return result.json<T>();
}

async function pingClientOf(client: ClickHouseClient): Promise<void> {
  const result = await client.ping({ select: true });
  if (!result.success) throw result.error;
}

/** A server: one HTTP client, statements side by side, parameters as URL parameters. */
function serverBackend(client: ClickHouseClient): Backend {
  const session: AdhocSession = {
    select: (sql, params) => selectRows(client, sql, params),
    exec: async (sql, params) => {
      const queryParams = toQueryParams(params);
      const result = await client.exec(
        queryParams === undefined ? { query: sql } : { query: sql, query_params: queryParams },
      );
      return result.stream;
    },
    close: async () => {},
  };
  return {
    kind: 'server',
    client,
    scheduler: createDirectScheduler(),
    openAdhoc: async () => session,
    ping: () => pingClientOf(client),
    close: () => client.close(),
  };
}

/**
 * chDB: this warehouse's session runs one statement at a time (highest lane
 * first); pings go to a session of their own, so readiness never waits behind
 * a long statement; each ad-hoc query opens a session (about 3 ms) and binds
 * its parameters with `SET` there (see `setParamsSql`), so it holds up neither
 * this session nor chdb's process-wide chain of bound queries.
 */
function chdbBackend(
  client: ClickHouseClient,
  pingClient: ClickHouseClient,
  openSession: () => Promise<ClickHouseClient>,
  closeEngine: () => void,
): Backend {
  return {
    kind: 'chdb',
    client,
    scheduler: createSerialScheduler(),
    openAdhoc: async () => {
      const session = await openSession();
      const bind = async (params: QueryParams | undefined): Promise<void> => {
        const set = setParamsSql(toQueryParams(params));
        if (set !== undefined) await session.command({ query: set });
      };
      return {
        select: async (sql, params) => {
          await bind(params);
          return selectRows(session, sql, undefined);
        },
        exec: async (sql, params) => {
          await bind(params);
          return (await session.exec({ query: sql })).stream;
        },
        close: () => session.close(),
      };
    },
    ping: () => pingClientOf(pingClient),
    close: async () => {
      await pingClient.close();
      await client.close();
      closeEngine();
    },
  };
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

/**
 * A session that starts the engine on `dataDir` with {@link CHDB_ENGINE_ARGS}
 * (when no session has it open yet: sessions on one path share the engine
 * the first one started) and keeps it for the warehouse's lifetime.
 */
async function openChdbEngine(dataDir: string): Promise<{ close(): void }> {
  const { Session } = await import('chdb');
  try {
    return new Session(dataDir, { connectionArgs: CHDB_ENGINE_ARGS });
  } catch (e) {
    throw translateError(e);
  }
}

async function openChdb(
  dataDir: string,
  database: string,
  logger: Logger | undefined,
  opts: { create: boolean },
): Promise<ClickHouseClient> {
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
    if (opts.create) {
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` });
    }
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
  readonly #backend: Backend;
  readonly #client: ClickHouseClient;
  readonly #database: string;
  readonly #migrationsDir: string | URL;
  readonly #logger: Logger | undefined;
  readonly #adhoc: AdhocGate;
  readonly #readiness: ReadinessProbe;
  #closed = false;

  constructor(
    backend: Backend,
    database: string,
    migrationsDir: string | URL,
    opts: ClickHouseWarehouseOptions,
  ) {
    this.#backend = backend;
    this.#client = backend.client;
    this.kind = backend.kind;
    this.#database = database;
    this.#migrationsDir = migrationsDir;
    this.#logger = opts.logger;
    this.#adhoc = createAdhocGate(opts.adhoc);
    this.#readiness = createReadinessProbe({
      ping: async () => {
        this.#assertOpen();
        try {
          await backend.ping();
        } catch (e) {
          throw translateError(e);
        }
      },
      timeoutMs: opts.pingTimeoutMs ?? 1_000,
      maxAgeMs: READINESS_MAX_AGE_MS,
      now: Date.now,
    });
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
    await this.#run('system', async () => {
      const result = await this.#client.exec({ query, values: Readable.from([body]) });
      await drain(result.stream);
    });
  }

  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return this.#run('interactive', () => selectRows<T>(this.#client, sql, params));
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    const queryParams = toQueryParams(params);
    await this.#run('system', () =>
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
    this.#assertOpen();
    const rows = await this.#adhoc.run(async () => {
      let session: AdhocSession | undefined;
      try {
        session = await this.#backend.openAdhoc();
        return await this.#readonlySteps(session, sql, params, resolved);
      } catch (e) {
        throw translateError(e, { readonly: true });
      } finally {
        await session?.close();
      }
    });
    this.#readiness.answered();
    const truncated = rows.length > resolved.maxResultRows;
    return { rows: truncated ? rows.slice(0, resolved.maxResultRows) : rows, truncated };
  }

  async #readonlySteps(
    session: AdhocSession,
    sql: string,
    params: QueryParams | undefined,
    limits: ResolvedReadonlyLimits,
  ): Promise<Record<string, unknown>[]> {
    // 1. One statement, in ClickHouse's canonical form (the text is a bound parameter).
    const [formatted] = await session.select<{ statement: string }>(FORMAT_SINGLE_STATEMENT_SQL, {
      [FORMAT_SINGLE_STATEMENT_PARAM]: sql,
    });
    const statement = formatted?.statement ?? '';
    // Canonical form: keywords upper-case, no comments. A quick refusal with a
    // clear message; the parse tree below is what decides.
    if (!/^(SELECT|WITH|\()/.test(statement)) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: 'Only a SELECT statement is allowed here',
      });
    }
    // 2. Its parse tree: a SELECT, with no SETTINGS anywhere.
    const ast = await session.select<{ explain: string }>(explainAstSql(statement), params);
    checkReadonlyAst(ast.map((r) => r.explain));
    // 3. Run it as a subquery under readonly = 1 and the limits, scoped to
    // this query; its answer is read as bytes, capped (see readJsonEachRow).
    const stream = await session.exec(wrapReadonlySql(statement, limits), params);
    return readJsonEachRow(stream, limits.maxResultBytes);
  }

  ping(): Promise<void> {
    return this.#readiness.check();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.close();
    this.#logger?.info({ kind: this.kind }, 'warehouse_closed');
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message: 'The warehouse is closed',
        retryable: false,
      });
    }
  }

  async #run<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    try {
      const result = await this.#backend.scheduler.run(lane, () => {
        // A statement queued before close() must not reach a closed client.
        this.#assertOpen();
        return fn();
      });
      this.#readiness.answered();
      return result;
    } catch (e) {
      throw translateError(e);
    }
  }
}
