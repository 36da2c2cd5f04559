/**
 * The `Warehouse` port: numbered idempotent migrations, batched inserts and
 * parameterised queries over ClickHouse. One adapter, `@clickhouse/client`,
 * wired either to a ClickHouse server over HTTP or to chDB in-process.
 */

export type QueryParams = Readonly<Record<string, unknown>>;

export interface InsertOptions {
  /**
   * Insert deduplication token: a retried insert with the same token and the
   * same rows is a no-op. Derive it from what was consumed (topic, partition,
   * offsets) so a redelivered batch changes nothing.
   */
  readonly dedupToken?: string;
}

/**
 * Limits of one read-only query. Going over any of them but `maxResultRows`
 * fails the query with `CDP_ERR_SQL_LIMIT` naming the ClickHouse setting
 * (`field`: `max_execution_time`, `max_memory_usage`, ...), not retryable.
 */
export interface ReadonlyQueryLimits {
  /** Seconds before the query is stopped, `max_execution_time` (default 30). */
  readonly maxExecutionTime?: number;
  /** Most rows returned (default 10,000); more are cut, and `truncated` says so. */
  readonly maxResultRows?: number;
  /**
   * Largest result in bytes (default 16 MiB): ClickHouse's `max_result_bytes`
   * (uncompressed), and the same cap on the answer as read by this process, so
   * that no answer, however large, is held or decoded whole.
   */
  readonly maxResultBytes?: number;
  /** Memory of the query in bytes, `max_memory_usage` (default 1 GiB). */
  readonly maxMemoryUsage?: number;
  /** Most rows the query may read from tables, `max_rows_to_read` (default 0: no limit). */
  readonly maxRowsToRead?: number;
  /** Most bytes the query may read from tables, `max_bytes_to_read` (default 0: no limit). */
  readonly maxBytesToRead?: number;
}

export interface ReadonlyQueryResult {
  readonly rows: readonly Record<string, unknown>[];
  readonly truncated: boolean;
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

export interface Warehouse {
  /** `chdb` (embedded) or `server`: for logs and health output only. */
  readonly kind: 'chdb' | 'server';
  /** Applies every migration not applied yet, in order. Safe to run at every start. */
  migrate(): Promise<MigrationReport>;
  /** Inserts rows (objects keyed by column name) in one batch. */
  insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    opts?: InsertOptions,
  ): Promise<void>;
  /**
   * Inserts raw text lines into a one-`String`-column table in one batch
   * (`FORMAT LineAsString`): the way to hand messages to a materialized view
   * that parses them inside ClickHouse, off the Node.js event loop. A line
   * must not contain a newline.
   */
  insertLines(
    table: string,
    lines: readonly (string | Buffer)[],
    opts?: InsertOptions,
  ): Promise<void>;
  /** Runs a parameterised query (`{name:Type}` placeholders) and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement that returns no rows (DDL, ALTER, INSERT ... SELECT). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Runs one untrusted statement read-only: ClickHouse parses it (one
   * statement only) and runs it with `readonly=1` and the limits, so writes,
   * DDL, settings changes and file/URL table functions are refused by the
   * engine itself.
   */
  queryReadonly(
    sql: string,
    params?: QueryParams,
    limits?: ReadonlyQueryLimits,
  ): Promise<ReadonlyQueryResult>;
  /** Throws when the warehouse is not usable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
