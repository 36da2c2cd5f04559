import { AttributionError, type AttributionIssue } from './errors.js';
import type { AttributionTotals, PathRow, Touch } from './types.js';

/** A validated row, its touches as parallel arrays. */
export interface NormalizedRow {
  /** The channel of each touch, in order. */
  readonly channels: readonly string[];
  /** `msBeforeConversion` of each touch; undefined when no touch has one. */
  readonly times: readonly (number | undefined)[] | undefined;
  readonly conversions: number;
  readonly value: number;
  readonly nulls: number;
}

/** Validated rows plus their totals. */
export interface NormalizedInput {
  readonly rows: readonly NormalizedRow[];
  readonly totals: AttributionTotals;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function checkCount(value: unknown, field: () => string, issues: AttributionIssue[]): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    issues.push({
      field: field(),
      message: `must be a finite number >= 0, got ${describe(value)}`,
    });
    return 0;
  }
  return value;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined)
    return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

function isValidTouch(t: unknown): t is Touch {
  if (!isRecord(t)) return false;
  const { channel, msBeforeConversion: ms } = t;
  return (
    typeof channel === 'string' &&
    channel.length > 0 &&
    (ms === undefined || (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0))
  );
}

/** Validates a touch that is not a non-empty string; builds field names only on error. */
function normalizeTouch(
  t: unknown,
  at: () => string,
  issues: AttributionIssue[],
): Touch | undefined {
  if (typeof t === 'string') {
    issues.push({ field: at(), message: 'a channel name must not be empty' });
    return undefined;
  }
  if (!isRecord(t)) {
    issues.push({
      field: at(),
      message: `must be a channel name or {channel}, got ${describe(t)}`,
    });
    return undefined;
  }
  const { channel, msBeforeConversion: ms } = t;
  if (typeof channel !== 'string' || channel.length === 0) {
    issues.push({
      field: `${at()}.channel`,
      message: `must be a non-empty string, got ${describe(channel)}`,
    });
    return undefined;
  }
  if (ms === undefined) return { channel };
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    issues.push({
      field: `${at()}.msBeforeConversion`,
      message: `must be a finite number >= 0 when given, got ${describe(ms)}`,
    });
    return { channel };
  }
  return { channel, msBeforeConversion: ms };
}

/**
 * Validates path rows once, reporting every problem together, and returns them
 * with bare channel names turned into {@link Touch} objects plus the totals.
 *
 * @throws AttributionError `CDP_ERR_ATTRIBUTION_INVALID_INPUT` listing each bad field.
 */
export function normalizeRows(rows: readonly PathRow[]): NormalizedInput {
  const issues: AttributionIssue[] = [];
  if (!Array.isArray(rows)) {
    throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_INPUT', [
      { field: 'rows', message: `must be an array of path rows, got ${describe(rows)}` },
    ]);
  }
  const out: NormalizedRow[] = [];
  const channels = new Set<string>();
  let conversions = 0;
  let value = 0;
  let nulls = 0;
  rows.forEach((row: unknown, i) => {
    const field = `rows[${i}]`;
    if (!isRecord(row)) {
      issues.push({ field, message: `must be an object, got ${describe(row)}` });
      return;
    }
    const path: unknown = row['path'];
    const names: string[] = [];
    let times: (number | undefined)[] | undefined;
    if (!Array.isArray(path) || path.length === 0) {
      issues.push({ field: `${field}.path`, message: 'must be a non-empty array of touches' });
    } else {
      for (let j = 0; j < path.length; j++) {
        const t: unknown = path[j];
        // Fast paths for the common, valid shapes; anything else gets the full check.
        if (typeof t === 'string' && t.length > 0) {
          names.push(t);
          continue;
        }
        if (isValidTouch(t)) {
          if (t.msBeforeConversion !== undefined) {
            times ??= [];
            times[names.length] = t.msBeforeConversion;
          }
          names.push(t.channel);
          continue;
        }
        const touch = normalizeTouch(t, () => `${field}.path[${j}]`, issues);
        if (touch === undefined) continue;
        if (touch.msBeforeConversion !== undefined) {
          times ??= [];
          times[names.length] = touch.msBeforeConversion;
        }
        names.push(touch.channel);
      }
      if (times !== undefined) times.length = names.length;
    }
    const c = checkCount(row['conversions'], () => `${field}.conversions`, issues);
    const v = checkCount(row['value'], () => `${field}.value`, issues);
    const n = checkCount(row['nulls'], () => `${field}.nulls`, issues);
    if (c === 0 && v > 0) {
      issues.push({
        field: `${field}.value`,
        message:
          'must be 0 when conversions is 0 (value without a conversion cannot be attributed)',
      });
    }
    for (const name of names) channels.add(name);
    out.push({ channels: names, times, conversions: c, value: v, nulls: n });
    conversions += c;
    value += v;
    nulls += n;
  });
  if (issues.length > 0) throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_INPUT', issues);
  return {
    rows: out,
    totals: {
      conversions,
      value,
      nulls,
      rows: out.length,
      channels: [...channels].sort(compareCodeUnits),
    },
  };
}

/** Orders strings by UTF-16 code units: stable across locales. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
