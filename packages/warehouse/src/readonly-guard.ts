import { CdpError } from '@cdp/core';

/** Limits a read-only query runs under, after defaults. */
export interface ResolvedReadonlyLimits {
  readonly maxExecutionTime: number;
  readonly maxResultRows: number;
}

export const DEFAULT_READONLY_LIMITS: ResolvedReadonlyLimits = {
  maxExecutionTime: 30,
  maxResultRows: 10_000,
};

/** Applies defaults and refuses limits that are not positive numbers. */
export function resolveReadonlyLimits(
  limits: { maxExecutionTime?: number; maxResultRows?: number } = {},
): ResolvedReadonlyLimits {
  const maxExecutionTime = limits.maxExecutionTime ?? DEFAULT_READONLY_LIMITS.maxExecutionTime;
  const maxResultRows = limits.maxResultRows ?? DEFAULT_READONLY_LIMITS.maxResultRows;
  if (!Number.isFinite(maxExecutionTime) || maxExecutionTime <= 0 || maxExecutionTime > 86_400) {
    throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
      message: 'maxExecutionTime must be a number of seconds above 0 and at most 86400',
      field: 'limits.maxExecutionTime',
    });
  }
  if (!Number.isSafeInteger(maxResultRows) || maxResultRows <= 0) {
    throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
      message: 'maxResultRows must be a positive integer',
      field: 'limits.maxResultRows',
    });
  }
  return { maxExecutionTime, maxResultRows };
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
 * Refuses a parsed statement that is not a SELECT, that carries a `SETTINGS`
 * clause anywhere (an `ASTSetQuery`, printed as a bare `Set` line), or that
 * calls a function of {@link REFUSED_FUNCTIONS}. The `SETTINGS` check matters: a
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
    const fn = /^Function (\S+)/.exec(node)?.[1];
    if (fn !== undefined && REFUSED_FUNCTIONS.has(fn.toLowerCase())) {
      throw new CdpError('CDP_ERR_WAREHOUSE_READONLY', {
        message: `The function ${fn}() is not allowed in read-only queries`,
      });
    }
  }
}

/**
 * Step 3: the statement as a subquery with query-scoped settings. A query-level
 * `SETTINGS` clause lasts for that query only, also on chDB where
 * `clickhouse_settings` become session-wide `SET`s. `result_overflow_mode =
 * 'break'` stops at the block that crosses the limit, so the caller cuts the
 * rows to the limit and reports `truncated` when there were more.
 */
export function wrapReadonlySql(statement: string, limits: ResolvedReadonlyLimits): string {
  return (
    `SELECT * FROM (\n${statement}\n)\n` +
    `SETTINGS readonly = 1, max_execution_time = ${limits.maxExecutionTime}, ` +
    `max_result_rows = ${limits.maxResultRows}, result_overflow_mode = 'break'`
  );
}
