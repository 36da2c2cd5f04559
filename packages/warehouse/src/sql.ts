import { CdpError } from '@cdp/core';
import type { QueryParams } from './warehouse.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a plain ClickHouse identifier (letters, digits, `_`; not starting with a digit). */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/**
 * Backquotes a table name, `events` or `db.events`. Only plain identifiers are
 * accepted: table names come from `TABLES`, never from users.
 */
export function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every(isIdentifier)) {
    throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', {
      message: `Not a table name: ${JSON.stringify(name)}`,
      field: 'table',
    });
  }
  return parts.map((p) => `\`${p}\``).join('.');
}

/** A ClickHouse string literal: backslash and quote escaped. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Unix seconds, with milliseconds when there are any (`1700000000.123`): the
 * form `@clickhouse/client` sends over HTTP, read the same in every time zone.
 * chDB's own binder would send `YYYY-MM-DD HH:MM:SS` and lose the
 * milliseconds, so dates are formatted here for both backends. Binds to
 * `DateTime64(p[, tz])`, and to `DateTime` when there are no milliseconds.
 * ClickHouse does not read numbers under 100000 as timestamps, so dates before
 * 1970-01-02T03:46:40Z go as UTC wall-clock text, right for `'UTC'` columns.
 */
function dateParam(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms))
    throw new CdpError('CDP_ERR_WAREHOUSE_QUERY', { message: 'Invalid Date in query parameters' });
  const seconds = Math.floor(ms / 1000);
  const frac = ms - seconds * 1000;
  if (seconds < 100_000) {
    const iso = d.toISOString(); // 1970-01-01T00:00:00.000Z
    return `${iso.slice(0, 10)} ${iso.slice(11, frac === 0 ? 19 : 23)}`;
  }
  return frac === 0 ? String(seconds) : `${seconds}.${String(frac).padStart(3, '0')}`;
}

function normaliseParam(v: unknown): unknown {
  if (v instanceof Date) return dateParam(v);
  if (Array.isArray(v)) return v.map(normaliseParam);
  return v;
}

/** Query parameters as both drivers bind them the same way (see `dateParam`). */
export function toQueryParams(
  params: QueryParams | undefined,
): Record<string, unknown> | undefined {
  if (params === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = normaliseParam(v);
  return out;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Rows as JSONEachRow. Dates become ISO-8601 strings and bigints strings; the
 * insert reads dates with `date_time_input_format='best_effort'`, which also
 * takes epoch milliseconds for `DateTime64(3)` columns.
 */
export function toJsonEachRow(rows: readonly Record<string, unknown>[]): string {
  let out = '';
  for (const row of rows) out += `${JSON.stringify(row, jsonReplacer)}\n`;
  return out;
}

/** Epoch ms of a `DateTime64` as JSONEachRow answers it (`2026-12-04 20:00:00.000`, UTC). */
export function clickHouseTimeMs(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

/** ISO-8601 of a `DateTime64` as JSONEachRow answers it (UTC). */
export function clickHouseTimeIso(value: string): string {
  return new Date(clickHouseTimeMs(value)).toISOString();
}
