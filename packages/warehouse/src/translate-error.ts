import { CdpError, isCdpError, type ErrorCode } from '@cdp/core';

/**
 * ClickHouse error codes after which trying again later can succeed: load,
 * limits that depend on what else runs, and a cluster that is briefly unwell.
 * Everything else ClickHouse reports (syntax, unknown table or column, types,
 * bad input data) is a fault of the statement and is not retried; so is a
 * query that went over one of its own limits (see {@link limitOf}).
 */
const RETRYABLE_CLICKHOUSE_CODES: ReadonlyMap<number, string> = new Map([
  [173, 'CANNOT_ALLOCATE_MEMORY'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  [203, 'NO_FREE_CONNECTION'],
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  // The server's total memory; a query's own limit is a limit (LIMIT_CODES).
  [241, 'MEMORY_LIMIT_EXCEEDED'],
  [242, 'TABLE_IS_READ_ONLY'],
  [252, 'TOO_MANY_PARTS'],
  [285, 'TOO_FEW_LIVE_REPLICAS'],
  [319, 'UNKNOWN_STATUS_OF_INSERT'],
  [394, 'QUERY_WAS_CANCELLED'],
  [439, 'CANNOT_SCHEDULE_TASK'],
  [999, 'KEEPER_EXCEPTION'],
]);

/**
 * Errors of the limits a query carries (`max_execution_time`,
 * `max_memory_usage`, ...): for each code, the setting it reports on (the one
 * its message names, else the usual one), or `undefined` when the error is not
 * the query's own limit.
 */
const LIMIT_CODES: ReadonlyMap<number, (message: string) => string | undefined> = new Map<
  number,
  (message: string) => string | undefined
>([
  [158, (m) => named(m) ?? 'max_rows_to_read'], // TOO_MANY_ROWS
  [159, () => 'max_execution_time'], // TIMEOUT_EXCEEDED
  [160, () => 'max_execution_time'], // TOO_SLOW: the estimate is over the time limit
  [307, (m) => named(m) ?? 'max_bytes_to_read'], // TOO_MANY_BYTES
  // TOO_MANY_ROWS_OR_BYTES: the result limits.
  [396, (m) => named(m) ?? (/max bytes/i.test(m) ? 'max_result_bytes' : 'max_result_rows')],
  // MEMORY_LIMIT_EXCEEDED: the query's own limit only; the server's total
  // ("(total) memory limit exceeded") is load, and retryable.
  [
    241,
    (m) =>
      /query memory limit|memory limit \(for query\)/i.test(m) ? 'max_memory_usage' : undefined,
  ],
]);

/** The setting a limit error names itself (`controlled by 'max_rows_to_read' setting`). */
function named(message: string): string | undefined {
  return /controlled by '([a-z_]+)' setting/i.exec(message)?.[1];
}

/** The setting whose limit the query went over, for a ClickHouse error code and message. */
export function limitOf(code: number, message: string): string | undefined {
  return LIMIT_CODES.get(code)?.(message);
}

const READONLY_CODE = 164;
const ACCESS_DENIED_CODE = 497;
const AUTHENTICATION_FAILED_CODE = 516;

/** Node and undici socket errors: the server is not reachable right now. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** chdb-node's own error codes (failures before or around the engine). */
const CHDB_ERROR_CODES: ReadonlyMap<string, readonly [ErrorCode, boolean]> = new Map([
  ['CHDB_TIMEOUT', ['CDP_ERR_WAREHOUSE_UNAVAILABLE', true]],
  ['CHDB_ABORT', ['CDP_ERR_WAREHOUSE_UNAVAILABLE', true]],
  // Another data directory is bound in this process, or the session is closed.
  ['CHDB_CONNECTION', ['CDP_ERR_WAREHOUSE_UNAVAILABLE', false]],
  ['CHDB_CLOSED', ['CDP_ERR_WAREHOUSE_UNAVAILABLE', false]],
  ['CHDB_BIND', ['CDP_ERR_WAREHOUSE_QUERY', false]],
  ['CHDB_QUERY', ['CDP_ERR_WAREHOUSE_QUERY', false]],
  ['CHDB_SYNTAX', ['CDP_ERR_WAREHOUSE_QUERY', false]],
  ['CHDB_INSERT', ['CDP_ERR_WAREHOUSE_QUERY', false]],
]);

export interface TranslateContext {
  /** The statement ran through `queryReadonly`: access refusals read as read-only refusals. */
  readonly readonly?: boolean;
}

interface ErrorShape {
  readonly message: string;
  readonly code?: unknown;
  readonly type?: unknown;
  readonly cause?: unknown;
}

function shape(e: unknown): ErrorShape | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as Record<string, unknown>;
  return {
    message: typeof o.message === 'string' ? o.message : 'unknown error',
    code: o.code,
    type: o.type,
    cause: o.cause,
  };
}

/** The ClickHouse error code of a `ClickHouseError` (`code: '62'`) or of a chDB/ClickHouse message (`Code: 62. DB::Exception`). */
function clickHouseCode(e: ErrorShape): number | undefined {
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const m = /\bCode: (\d+)\./.exec(e.message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Walks an error and its causes (driver errors wrap each other), nearest first. */
function chain(e: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let cur: unknown = e;
  while (out.length < 5) {
    const s = shape(cur);
    if (s === undefined) break;
    out.push(s);
    cur = s.cause;
  }
  return out;
}

/**
 * Turns what `@clickhouse/client` or chDB threw into a `CdpError`:
 * - statement faults (syntax, unknown table/column, type and parse errors) →
 *   `CDP_ERR_WAREHOUSE_QUERY`, not retryable, with ClickHouse's message;
 * - `READONLY` (and, for read-only queries, `ACCESS_DENIED`) →
 *   `CDP_ERR_WAREHOUSE_READONLY`;
 * - a query over one of its limits (time, memory, rows or bytes read, result
 *   size) → `CDP_ERR_SQL_LIMIT`, not retryable (it would fail the same way),
 *   `field` naming the setting;
 * - connection failures, client timeouts, too many parts, the server's total
 *   memory and other load conditions → `CDP_ERR_WAREHOUSE_UNAVAILABLE`, retryable;
 * - a closed or unopenable embedded engine, or failed authentication →
 *   `CDP_ERR_WAREHOUSE_UNAVAILABLE`, not retryable.
 */
export function translateError(err: unknown, ctx: TranslateContext = {}): CdpError {
  if (isCdpError(err)) return err;
  const links = chain(err);
  const top = links[0];
  if (top === undefined)
    return new CdpError('CDP_ERR_INTERNAL', { message: `Warehouse: ${String(err)}`, cause: err });

  for (const link of links) {
    const code = clickHouseCode(link);
    if (code === undefined) continue;
    const message = `ClickHouse: ${link.message.trim()}`;
    if (code === READONLY_CODE || (ctx.readonly === true && code === ACCESS_DENIED_CODE)) {
      return new CdpError('CDP_ERR_WAREHOUSE_READONLY', { message, cause: err });
    }
    const limit = limitOf(code, link.message);
    if (limit !== undefined) {
      return new CdpError('CDP_ERR_SQL_LIMIT', {
        message: `The query went over ${limit}. ${message}`,
        field: limit,
        retryable: false,
        cause: err,
      });
    }
    if (code === AUTHENTICATION_FAILED_CODE) {
      return new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message,
        retryable: false,
        cause: err,
      });
    }
    if (RETRYABLE_CLICKHOUSE_CODES.has(code)) {
      return new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message,
        retryable: true,
        cause: err,
      });
    }
    return new CdpError('CDP_ERR_WAREHOUSE_QUERY', { message, retryable: false, cause: err });
  }

  for (const link of links) {
    const code = typeof link.code === 'string' ? link.code : undefined;
    if (code !== undefined && NETWORK_ERROR_CODES.has(code)) {
      return new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message: `Warehouse unreachable: ${link.message}`,
        retryable: true,
        cause: err,
      });
    }
    const chdb = code === undefined ? undefined : CHDB_ERROR_CODES.get(code);
    if (chdb !== undefined) {
      return new CdpError(chdb[0], {
        message: `chDB: ${link.message}`,
        retryable: chdb[1],
        cause: err,
      });
    }
    if (/^Timeout error\.?$|socket hang up/i.test(link.message)) {
      return new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message: `Warehouse unreachable: ${link.message}`,
        retryable: true,
        cause: err,
      });
    }
  }
  return new CdpError('CDP_ERR_INTERNAL', { message: `Warehouse: ${top.message}`, cause: err });
}
