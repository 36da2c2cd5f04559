import { CdpError } from '@cdp/core';
import type { ReadonlyQueryLimits } from './warehouse.js';

/** Limits a read-only query runs under, after defaults (see `ReadonlyQueryLimits`). */
export type ResolvedReadonlyLimits = Required<ReadonlyQueryLimits>;

export const DEFAULT_READONLY_LIMITS: ResolvedReadonlyLimits = Object.freeze({
  maxExecutionTime: 30,
  maxResultRows: 10_000,
  maxResultBytes: 16 * 1024 * 1024,
  maxMemoryUsage: 1024 * 1024 * 1024,
  maxRowsToRead: 0,
  maxBytesToRead: 0,
});

/**
 * The answer is read whole into one string before its rows are parsed, and a
 * V8 string holds at most 2^29 - 24 characters: the byte cap stays under it.
 */
const MAX_RESULT_BYTES_CAP = 256 * 1024 * 1024;

/** Applies defaults and refuses limits that are not positive numbers. */
export function resolveReadonlyLimits(limits: ReadonlyQueryLimits = {}): ResolvedReadonlyLimits {
  const r = { ...DEFAULT_READONLY_LIMITS };
  for (const [key, value] of Object.entries(limits) as [keyof ReadonlyQueryLimits, unknown][]) {
    if (value !== undefined) r[key] = value as number;
  }
  if (
    !Number.isFinite(r.maxExecutionTime) ||
    r.maxExecutionTime <= 0 ||
    r.maxExecutionTime > 86_400
  ) {
    throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
      message: 'maxExecutionTime must be a number of seconds above 0 and at most 86400',
      field: 'limits.maxExecutionTime',
    });
  }
  const integers: readonly [keyof ReadonlyQueryLimits, number, number][] = [
    ['maxResultRows', 1, Number.MAX_SAFE_INTEGER - 1],
    ['maxResultBytes', 1, MAX_RESULT_BYTES_CAP],
    ['maxMemoryUsage', 1, Number.MAX_SAFE_INTEGER],
    ['maxRowsToRead', 0, Number.MAX_SAFE_INTEGER],
    ['maxBytesToRead', 0, Number.MAX_SAFE_INTEGER],
  ];
  for (const [key, min, max] of integers) {
    const v = r[key];
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
        message: `${key} must be an integer from ${min} to ${max}`,
        field: `limits.${key}`,
      });
    }
  }
  return r;
}

/**
 * Step 1 of a read-only query: ClickHouse's own parser formats the untrusted
 * text, passed as a bound `String` parameter so it is never spliced into SQL.
 * It fails for several statements and unbalanced parentheses, and its output is
 * one canonical statement without comments.
 */
export const FORMAT_SINGLE_STATEMENT_SQL =
  'SELECT formatQuerySingleLine({cdp_readonly_sql:String}) AS statement';
export const FORMAT_SINGLE_STATEMENT_PARAM = 'cdp_readonly_sql';

/**
 * Step 2: the parsed tree of that canonical statement. `EXPLAIN` in a subquery
 * only takes a SELECT, so anything else fails here, and `EXPLAIN AST` parses
 * without running anything.
 */
export function explainAstSql(statement: string): string {
  return `SELECT explain FROM (EXPLAIN AST\n${statement}\n)`;
}

/**
 * Functions refused in read-only queries although `readonly = 1` lets them run:
 * `file()` reads any file of the host on chDB (measured: `SELECT
 * file('/etc/passwd')` under `readonly = 1`; a server confines it to
 * `user_files_path`), `catboostEvaluate` loads a model from a path, and
 * `generateSerialID` writes a counter to Keeper.
 */
const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set([
  'file',
  'catboostevaluate',
  'generateserialid',
]);

/**
 * Tables of users, roles, grants, quotas and profiles: refused by name, so
 * that an ad-hoc query never reads them even where the server's user could
 * (chDB's default user already may not: `SHOW USERS` grant missing).
 */
const REFUSED_TABLES: ReadonlySet<string> = new Set(
  [
    'users',
    'roles',
    'grants',
    'role_grants',
    'current_roles',
    'enabled_roles',
    'quotas',
    'quota_limits',
    'quota_usage',
    'quotas_usage',
    'settings_profiles',
    'settings_profile_elements',
    'row_policies',
    'user_directories',
  ].map((t) => `system.${t}`),
);

/**
 * Refuses a parsed statement that is not a SELECT, that carries a `SETTINGS`
 * clause anywhere (an `ASTSetQuery`, printed as a bare `Set` line), that
 * calls a function of {@link REFUSED_FUNCTIONS}, or that reads a table of
 * {@link REFUSED_TABLES}. The `SETTINGS` check matters: a
 * subquery's `SETTINGS readonly = 0` lifts the outer query's `readonly = 1` for
 * that subquery (ClickHouse 26.7, measured with chDB), which would let `file()`
 * or `url()` through.
 */
export function checkReadonlyAst(lines: readonly string[]): void {
  const first = lines[0]?.trim() ?? '';
  if (!/^SelectWithUnionQuery\b|^SelectIntersectExceptQuery\b/.test(first)) {
    throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
      message: 'Only a SELECT statement is allowed here',
    });
  }
  for (const line of lines) {
    const node = line.trim();
    if (/^Set\b/.test(node)) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: 'SETTINGS clauses are not allowed in read-only queries',
      });
    }
    const table = /^TableIdentifier (\S+)/.exec(node)?.[1];
    if (table !== undefined && REFUSED_TABLES.has(table.toLowerCase())) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: `The table ${table} is not allowed in read-only queries`,
      });
    }
    const fn = /^Function (\S+)/.exec(node)?.[1];
    if (fn !== undefined && REFUSED_FUNCTIONS.has(fn.toLowerCase())) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: `The function ${fn}() is not allowed in read-only queries`,
      });
    }
  }
}

/**
 * Step 3: the statement as a subquery with query-scoped settings, answered as
 * JSONEachRow. A query-level `SETTINGS` clause lasts for that query only, also
 * on chDB where `clickhouse_settings` become session-wide `SET`s.
 * `LIMIT rows + 1` cuts the result (the caller drops the extra row and reports
 * `truncated`); every other limit throws (`*_overflow_mode = 'throw'`, the
 * default, spelled out), so a result over `max_result_bytes` is an error and
 * never a cut answer. `max_result_bytes` is checked on the outer query only
 * (a subquery may be bigger: measured on chDB 26.7), so it bounds what is
 * sent, not what is computed; `max_memory_usage` bounds that.
 */
export function wrapReadonlySql(statement: string, limits: ResolvedReadonlyLimits): string {
  return (
    `SELECT * FROM (\n${statement}\n)\nLIMIT ${limits.maxResultRows + 1}\n` +
    `SETTINGS readonly = 1, max_execution_time = ${limits.maxExecutionTime}, ` +
    `timeout_overflow_mode = 'throw', ` +
    `max_result_bytes = ${limits.maxResultBytes}, result_overflow_mode = 'throw', ` +
    `max_memory_usage = ${limits.maxMemoryUsage}, ` +
    `max_rows_to_read = ${limits.maxRowsToRead}, max_bytes_to_read = ${limits.maxBytesToRead}, ` +
    `read_overflow_mode = 'throw'\nFORMAT JSONEachRow`
  );
}
