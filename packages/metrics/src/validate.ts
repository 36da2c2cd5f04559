import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CdpError, type ErrorCode } from '@cdp/core';
import { SCHEMAS_DIR, ajvErrorField } from '@cdp/schemas';
import { BUILTIN_BY_NAME, RESERVED_NAMES } from './builtins.js';
import {
  BREAKDOWNS,
  INTERVALS,
  type AlertRule,
  type Breakdown,
  type Interval,
  type MetricDefinition,
  type SeriesQuery,
} from './types.js';

const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addFormat('uri', (s: string) => /^https?:\/\/[^\s]+$/.test(s));
ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)) && /T/.test(s));
const compiled = new Map<string, ValidateFunction>();
function validator(file: string): ValidateFunction {
  let v = compiled.get(file);
  if (!v) {
    v = ajv.compile(
      JSON.parse(readFileSync(join(SCHEMAS_DIR, 'metrics', file), 'utf8')) as Record<
        string,
        unknown
      >,
    );
    compiled.set(file, v);
  }
  return v;
}

const fieldOf = (e: ErrorObject): string => ajvErrorField(e) || 'body';

const bad = (code: ErrorCode, field: string, message: string): CdpError =>
  new CdpError(code, { field, message: `${field}: ${message}` });

function check(file: string, code: ErrorCode, input: unknown): void {
  const v = validator(file);
  if (v(input)) return;
  const e = v.errors?.[0];
  if (!e) throw bad(code, 'body', 'is not valid');
  const what =
    e.keyword === 'additionalProperties'
      ? 'unknown field'
      : e.keyword === 'required'
        ? 'is required'
        : (e.message ?? 'is not valid');
  throw bad(code, fieldOf(e), what);
}

const NUMERIC_OPS = ['gt', 'gte', 'lt', 'lte'];

/** Checks a user metric; throws `CDP_ERR_METRIC_INVALID` naming the field. `known`: the names a ratio may use. */
export function validateMetricDefinition(
  input: unknown,
  known: (name: string) => 'builtin' | 'events' | 'ratio' | undefined,
): MetricDefinition {
  const C = 'CDP_ERR_METRIC_INVALID';
  check('metric-definition.json', C, input);
  const d = input as MetricDefinition;
  if (RESERVED_NAMES.includes(d.name)) throw bad(C, 'name', `${d.name} is a built-in metric`);
  if (d.ratio) {
    for (const k of ['event', 'where', 'measure'] as const)
      if (d[k] !== undefined) throw bad(C, k, 'a ratio takes only numerator and denominator');
    for (const side of ['numerator', 'denominator'] as const) {
      const n = d.ratio[side];
      const kind = n === d.name ? 'ratio' : known(n);
      if (kind === undefined) throw bad(C, `ratio.${side}`, `no metric named ${n}`);
      if (kind === 'ratio')
        throw bad(C, `ratio.${side}`, `${n} is a ratio (a ratio of ratios is not supported)`);
      if (BUILTIN_BY_NAME.get(n)?.steps || n === 'dead_letter_rate')
        throw bad(C, `ratio.${side}`, `${n} cannot be part of a ratio`);
    }
  }
  (d.where ?? []).forEach((f, i) => {
    const field = `where[${i}].value`;
    if (f.op === 'exists') {
      if (f.value !== undefined) throw bad(C, field, 'exists takes no value');
    } else if (f.value === undefined) throw bad(C, field, 'is required');
    else if (f.op === 'in' && !Array.isArray(f.value)) throw bad(C, field, 'in takes a list');
    else if (f.op !== 'in' && Array.isArray(f.value))
      throw bad(C, field, `${f.op} takes one value`);
    else if (NUMERIC_OPS.includes(f.op) && typeof f.value !== 'number')
      throw bad(C, field, `${f.op} takes a number`);
  });
  return d;
}

/** Checks an alert rule; throws `CDP_ERR_ALERT_INVALID` naming the field. `known`: whether a metric exists. */
export function validateAlertRule(input: unknown, known: (name: string) => boolean): AlertRule {
  const C = 'CDP_ERR_ALERT_INVALID';
  check('alert-rule.json', C, input);
  const r = input as AlertRule;
  if (!known(r.metric)) throw bad(C, 'metric', `no metric named ${r.metric}`);
  if (r.metric === 'funnel_step_rate' && r.steps === undefined)
    throw bad(C, 'steps', 'funnel_step_rate needs steps: [from event, to event]');
  if (r.metric !== 'funnel_step_rate' && r.steps !== undefined)
    throw bad(C, 'steps', 'only funnel_step_rate takes steps');
  const b = BUILTIN_BY_NAME.get(r.metric);
  if (b?.receipt) {
    if (r.breakdown !== undefined && r.breakdown !== 'source')
      throw bad(C, 'breakdown', `${r.metric} breaks down by source only`);
    for (const k of Object.keys(r.filter ?? {}))
      if (k !== 'source') throw bad(C, `filter.${k}`, `${r.metric} filters by source only`);
  }
  if (r.compare === 'threshold') {
    if (r.threshold === undefined)
      throw bad(C, 'threshold', 'is required when compare is threshold');
    if (r.change !== undefined) throw bad(C, 'change', 'a threshold rule takes no change');
  } else {
    if (r.change === undefined) throw bad(C, 'change', `is required when compare is ${r.compare}`);
    if (r.threshold !== undefined) throw bad(C, 'threshold', `only a threshold rule takes one`);
  }
  if (r.compare === 'baseline' && r.baselineWindows === undefined)
    throw bad(C, 'baselineWindows', 'is required when compare is baseline');
  if (r.compare !== 'baseline' && r.baselineWindows !== undefined)
    throw bad(C, 'baselineWindows', 'only a baseline rule takes it');
  if (r.compare === 'baseline' && r.windowMinutes > 1440)
    throw bad(C, 'windowMinutes', 'a baseline compares same windows of past days: at most 1440');
  if (r.compare === 'week_ago' && r.windowMinutes > 10080 - 1)
    throw bad(C, 'windowMinutes', 'must be shorter than a week');
  return r;
}

/** Most buckets one series answers. */
export const MAX_BUCKETS = 10_000;

/**
 * A series request from query-string values (`from`, `to`: ISO dates;
 * default the last 24 hours; `interval` default 1h), checked, `from`
 * aligned down to the interval.
 */
export function parseSeriesQuery(
  q: Readonly<Record<string, string | undefined>>,
  now: number,
): SeriesQuery {
  const C = 'CDP_ERR_METRIC_INVALID';
  const interval = (q['interval'] ?? '1h') as Interval;
  if (!Object.hasOwn(INTERVALS, interval))
    throw bad(C, 'interval', `must be one of ${Object.keys(INTERVALS).join(', ')}`);
  const step = INTERVALS[interval];
  const time = (k: 'from' | 'to', dflt: number): number => {
    const v = q[k];
    if (v === undefined) return dflt;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw bad(C, k, 'must be an ISO date or date-time');
    return ms;
  };
  const to = time('to', now);
  const from = Math.floor(time('from', to - 86_400_000) / step) * step;
  if (!(from < to)) throw bad(C, 'from', 'must be before to');
  if ((to - from) / step > MAX_BUCKETS)
    throw bad(
      C,
      'interval',
      `the range holds more than ${MAX_BUCKETS} buckets of ${interval}: a larger interval or a shorter range`,
    );
  const b = q['breakdown'];
  if (b !== undefined && !Object.hasOwn(BREAKDOWNS, b))
    throw bad(C, 'breakdown', `must be one of ${Object.keys(BREAKDOWNS).join(', ')}`);
  const filter: Partial<Record<Breakdown, string>> = {};
  for (const k of Object.keys(BREAKDOWNS) as Breakdown[]) if (q[k] !== undefined) filter[k] = q[k];
  let steps: [string, string] | undefined;
  if (q['steps'] !== undefined) {
    const s = q['steps'].split(',').map((x) => x.trim());
    if (s.length !== 2 || s.some((x) => x === ''))
      throw bad(
        C,
        'steps',
        'must be two event names, comma-separated (steps=Product Viewed,Order Completed)',
      );
    steps = [s[0] as string, s[1] as string];
  }
  return {
    from,
    to,
    interval,
    ...(b !== undefined ? { breakdown: b as Breakdown } : {}),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(steps ? { steps } : {}),
  };
}
