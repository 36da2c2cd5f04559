import { CdpError } from '@cdp/core';

/** One problem with a request field. */
export interface InputIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * Collects every problem of a request, then throws them together as one
 * `CDP_ERR_API_BAD_REQUEST` naming the first field (the message lists all).
 */
export class InputIssues {
  readonly list: InputIssue[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Throws when any problem was recorded. */
  throwIfAny(): void {
    const first = this.list[0];
    if (first === undefined) return;
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: first.field,
      message: this.list.map((i) => `${i.field}: ${i.message}`).join('; '),
    });
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * An ISO-8601 date (`2022-06-03`, UTC) or date-time with a zone
 * (`2022-06-03T10:00:00Z`) as epoch ms. A date-only value is the start of
 * that day, or with `endOfDay` the start of the next one (so `to=2022-08-01`
 * includes all of August 1st; every `to` bound is exclusive).
 */
export function parseIsoTime(
  value: unknown,
  field: string,
  issues: InputIssues,
  endOfDay = false,
): number | undefined {
  if (typeof value !== 'string' || (!DATE_ONLY.test(value) && !DATE_TIME.test(value))) {
    issues.add(field, 'must be an ISO-8601 date (2022-06-03) or date-time with a zone');
    return undefined;
  }
  const ms = Date.parse(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (
    !Number.isFinite(ms) ||
    (DATE_ONLY.test(value) && new Date(ms).toISOString().slice(0, 10) !== value)
  ) {
    issues.add(field, 'is not a valid date');
    return undefined;
  }
  return DATE_ONLY.test(value) && endOfDay ? ms + DAY_MS : ms;
}

/** An integer in [min, max], given as a number or a decimal string. */
export function parseIntIn(
  value: unknown,
  field: string,
  min: number,
  max: number,
  issues: InputIssues,
): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^-?\d+$/.test(value.trim())
        ? Number(value.trim())
        : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    issues.add(field, `must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return n;
}

/** A non-empty string of at most `max` characters. */
export function parseName(
  value: unknown,
  field: string,
  issues: InputIssues,
  max = 200,
): string | undefined {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    issues.add(field, `must be a non-empty string of at most ${max} characters`);
    return undefined;
  }
  return value;
}

/** Checks that `from < to` when both parsed. */
export function checkRange(
  from: number | undefined,
  to: number | undefined,
  field: string,
  issues: InputIssues,
): void {
  if (from !== undefined && to !== undefined && from >= to)
    issues.add(field, 'must be after the start of the range');
}

/** A JSON body as an object, or a bad-request error. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
      field: 'body',
      message: 'Send a JSON object',
    });
  return body as Record<string, unknown>;
}

/** Refuses keys outside `allowed`. */
export function checkKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
  issues: InputIssues,
): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      issues.add(`${prefix}${k}`, `unknown field; use ${allowed.join(', ')}`);
}

/** Milliseconds as the `DateTime64` bound expression's parameter (epoch ms). */
export const msParam = (ms: number): number => Math.trunc(ms);
