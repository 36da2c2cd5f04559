/**
 * Event time with client clock-skew correction, Segment style.
 *
 * Segment corrects device clocks with
 * `timestamp = receivedAt - (sentAt - originalTimestamp)`: the delay the
 * client measured between the event and the send is trusted, the client's
 * absolute clock is not. Nothing here reads the clock; `receivedAt` is the
 * server's receive time passed in by the caller.
 *
 * Bad times never reject an event: they fall back to `receivedAt` and say so
 * in {@link ClockSkewFlag}.
 */

/** Default tolerance for event times after `receivedAt`: 1 hour. */
export const DEFAULT_MAX_FUTURE_MS = 60 * 60 * 1000;

/**
 * Default earliest accepted event time: 2000-01-01T00:00:00Z. Earlier results
 * are a device clock reset to 1970 or similar, not real history.
 */
export const DEFAULT_MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);

/**
 * Why `timestamp` is `receivedAt` instead of the client's time:
 * - `''`: it is not (or there was no client time at all);
 * - `future_clamped`: the result was more than `maxFutureMs` after `receivedAt`;
 * - `invalid_timestamp`: a client time was given but could not be parsed, or
 *   the result was before `minTimestampMs`.
 */
export type ClockSkewFlag = '' | 'future_clamped' | 'invalid_timestamp';

/** Input of {@link correctClockSkew}. Client values are untrusted. */
export interface ClockSkewInput {
  /** Server receive time, epoch ms. */
  readonly receivedAt: number;
  /** Client send time (event `sentAt`, or the batch's). */
  readonly sentAt?: unknown;
  /** Client time of the event, as `originalTimestamp`. */
  readonly originalTimestamp?: unknown;
  /** Client `timestamp`. */
  readonly timestamp?: unknown;
  /** Default {@link DEFAULT_MAX_FUTURE_MS}. */
  readonly maxFutureMs?: number | undefined;
  /** Default {@link DEFAULT_MIN_TIMESTAMP_MS}. */
  readonly minTimestampMs?: number | undefined;
  /**
   * When `true`, a lone `timestamp` is used as given instead of being
   * corrected with `sentAt`. Default `false`, because Segment's own libraries
   * (analytics.js, analytics-node, mobile) put the device clock in
   * `timestamp`: trusting it would switch skew correction off for them.
   */
  readonly trustClientTimestamp?: boolean | undefined;
}

/** Result of {@link correctClockSkew}; all times are epoch ms. */
export interface ClockSkewResult {
  /** Best estimate of when the event happened. */
  readonly timestamp: number;
  /** The client's clock reading for the event, when one parsed. */
  readonly originalTimestamp?: number;
  /** The client's send time, when it parsed. */
  readonly sentAt?: number;
  readonly flag: ClockSkewFlag;
}

const MAX_DATE_MS = 8.64e15;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DIGITS = /^-?\d{1,16}$/;
/**
 * `Date#toISOString()` output, `YYYY-MM-DDTHH:MM:SS.sssZ`: a subset of
 * {@link ISO_8601} that is read without capture groups or a trim.
 */
const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * Parses a client time: epoch milliseconds as a number or a digit string, a
 * `Date`, or an ISO-8601 / RFC 3339 string (`2024-05-01T12:00:00.123Z`,
 * `+02:00`/`+0200`/`+02` offsets, `T` or space, date only). A string without
 * an offset is UTC (never the server's time zone). Numbers are always
 * milliseconds, never seconds.
 *
 * @returns epoch ms, or `undefined` when the value is not a valid time.
 */
export function parseClientTime(value: unknown): number | undefined {
  if (typeof value === 'string') return parseTimeText(value);
  if (typeof value === 'number') return epochMs(value);
  if (value instanceof Date) return epochMs(value.getTime());
  return undefined;
}

function epochMs(value: number): number | undefined {
  return Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS ? Math.trunc(value) : undefined;
}

function parseTimeText(value: string): number | undefined {
  // Fast path: every Segment library sends `Date#toISOString()` output.
  if (CANONICAL_ISO.test(value)) {
    return utcTime(
      digitsAt(value, 0, 4),
      digitsAt(value, 5, 2),
      digitsAt(value, 8, 2),
      digitsAt(value, 11, 2),
      digitsAt(value, 14, 2),
      digitsAt(value, 17, 2),
      digitsAt(value, 20, 3),
      0,
    );
  }
  const s = value.trim();
  if (DIGITS.test(s)) return epochMs(Number(s));
  const m = ISO_8601.exec(s);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return utcTime(
    Number(y),
    Number(mo),
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Number(frac.slice(0, 3).padEnd(3, '0')),
    offsetMinutes,
  );
}

/** The number written by the ASCII digits `s[start, start + length)`. */
function digitsAt(s: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i += 1) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

/**
 * Epoch ms of validated ISO-8601 fields (`offsetMinutes` east of UTC), or
 * `undefined` when a field is out of range or the date does not exist.
 */
function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  // Date.UTC would roll 31 April over to 1 May: reject dates that do not exist.
  if (day > daysInMonth(year, month)) return undefined;
  const result = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  return Number.isFinite(result) && Math.abs(result) <= MAX_DATE_MS ? result : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days in `month` (1-12) of `year` as `Date.UTC` reads it (years 0-99 are 1900-1999). */
function daysInMonth(year: number, month: number): number {
  const y = year >= 0 && year <= 99 ? 1900 + year : year;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
}

/**
 * Corrects an event's time for client clock skew.
 *
 * 1. `timestamp` and `originalTimestamp` both valid: the event was already
 *    processed (a replay) or the sender set the time on purpose; `timestamp`
 *    is used as given. Same for a lone `timestamp` with `trustClientTimestamp`.
 * 2. Otherwise the client time is `originalTimestamp`, else `timestamp`. With
 *    a valid `sentAt` the result is `receivedAt - (sentAt - clientTime)`;
 *    without one it is the client time.
 * 3. No client time at all: `receivedAt`, flag `''`. A client time that does
 *    not parse: `receivedAt`, flag `invalid_timestamp`.
 * 4. A result more than `maxFutureMs` after `receivedAt` becomes `receivedAt`
 *    with `future_clamped`; one before `minTimestampMs` becomes `receivedAt`
 *    with `invalid_timestamp`.
 *
 * An unparseable `sentAt` only disables the correction.
 */
export function correctClockSkew(input: ClockSkewInput): ClockSkewResult {
  const { receivedAt } = input;
  const maxFutureMs = input.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const minTimestampMs = input.minTimestampMs ?? DEFAULT_MIN_TIMESTAMP_MS;
  const timestamp = parseClientTime(input.timestamp);
  const original = parseClientTime(input.originalTimestamp);
  const sentAt = parseClientTime(input.sentAt);

  let result: number;
  let clientTime: number | undefined;
  if (timestamp !== undefined && (original !== undefined || input.trustClientTimestamp === true)) {
    clientTime = original ?? timestamp;
    result = timestamp;
  } else {
    clientTime = original ?? timestamp;
    if (clientTime === undefined) {
      const gaveTime = isPresent(input.timestamp) || isPresent(input.originalTimestamp);
      return skewResult(receivedAt, sentAt, undefined, gaveTime ? 'invalid_timestamp' : '');
    }
    result = sentAt === undefined ? clientTime : receivedAt - (sentAt - clientTime);
  }

  if (!Number.isFinite(result) || result < minTimestampMs) {
    return skewResult(receivedAt, sentAt, clientTime, 'invalid_timestamp');
  }
  if (result > receivedAt + maxFutureMs) {
    return skewResult(receivedAt, sentAt, clientTime, 'future_clamped');
  }
  return skewResult(result, sentAt, clientTime, '');
}

/**
 * A {@link ClockSkewResult} without the optional times that are `undefined`
 * (built literally: object spreads cost a microsecond per event here).
 */
function skewResult(
  timestamp: number,
  sentAt: number | undefined,
  originalTimestamp: number | undefined,
  flag: ClockSkewFlag,
): ClockSkewResult {
  if (sentAt === undefined) {
    return originalTimestamp === undefined
      ? { timestamp, flag }
      : { timestamp, originalTimestamp, flag };
  }
  return originalTimestamp === undefined
    ? { timestamp, sentAt, flag }
    : { timestamp, sentAt, originalTimestamp, flag };
}
