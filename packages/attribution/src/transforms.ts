import { AttributionError, type AttributionIssue } from './errors.js';
import type { Touch, TouchInput, TransformedTouch } from './types.js';

/**
 * The four path transforms of Google's fractribution (also in Snowplow's
 * dbt-snowplow-fractribution), on `D > A > B > B > C > D > C > C`:
 *
 * - `unique`: as is (identity) -> `D > A > B > B > C > D > C > C`
 * - `exposure`: consecutive repeats collapsed -> `D > A > B > C > D > C`
 * - `first`: first occurrence of each channel only -> `D > A > B > C`
 * - `frequency`: first occurrence of each channel, labelled with its count in
 *   the path -> `D(2) > A(1) > B(2) > C(3)`; credit given to `D(2)` goes to `D`.
 */
export type PathTransformName = 'unique' | 'exposure' | 'first' | 'frequency';

/**
 * One step of a transform pipeline: a {@link PathTransformName}, or one of
 * Snowplow's extra steps:
 *
 * - `{ removeIfNotAll: c }`: drop every touch labelled `c`, unless that would
 *   empty the path (then the path is kept as is);
 * - `{ removeIfLastAndNotAll: c }`: drop the trailing run of touches labelled
 *   `c`, unless the whole path is that run;
 * - `{ lookbackSteps: n }`: keep only the last `n` touches (n >= 1).
 */
export type PathTransformStep =
  | PathTransformName
  | { readonly removeIfNotAll: string }
  | { readonly removeIfLastAndNotAll: string }
  | { readonly lookbackSteps: number };

/** A single step, or steps applied left to right. */
export type PathTransform = PathTransformStep | readonly PathTransformStep[];

const TRANSFORM_NAMES: readonly string[] = ['unique', 'exposure', 'first', 'frequency'];

/** The steps of a transform, as an array. */
export function transformSteps(transform: PathTransform): readonly PathTransformStep[] {
  return typeof transform === 'string' || !Array.isArray(transform)
    ? [transform as PathTransformStep]
    : (transform as readonly PathTransformStep[]);
}

/** Whether the pipeline contains `exposure` (used to re-transform counterfactuals). */
export function hasExposureStep(transform: PathTransform): boolean {
  return transformSteps(transform).includes('exposure');
}

/** Issues with a transform given in options; empty when valid. */
export function validateTransform(transform: unknown, field: string): AttributionIssue[] {
  const steps: readonly unknown[] = Array.isArray(transform) ? transform : [transform];
  const issues: AttributionIssue[] = [];
  if (Array.isArray(transform) && transform.length === 0)
    issues.push({ field, message: 'must list at least one step' });
  steps.forEach((step, i) => {
    const f = Array.isArray(transform) ? `${field}[${i}]` : field;
    if (typeof step === 'string') {
      if (!TRANSFORM_NAMES.includes(step))
        issues.push({
          field: f,
          message: `unknown transform "${step}"; use ${TRANSFORM_NAMES.join(', ')}`,
        });
      return;
    }
    if (typeof step !== 'object' || step === null) {
      issues.push({ field: f, message: 'must be a transform name or a step object' });
      return;
    }
    const keys = Object.keys(step);
    const s = step as Record<string, unknown>;
    if (keys.length !== 1) {
      issues.push({ field: f, message: 'a step object has exactly one key' });
    } else if (keys[0] === 'removeIfNotAll' || keys[0] === 'removeIfLastAndNotAll') {
      const c = s[keys[0]];
      if (typeof c !== 'string' || c.length === 0)
        issues.push({ field: `${f}.${keys[0]}`, message: 'must be a non-empty channel name' });
    } else if (keys[0] === 'lookbackSteps') {
      const n = s['lookbackSteps'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        issues.push({ field: `${f}.lookbackSteps`, message: 'must be an integer >= 1' });
    } else {
      issues.push({ field: f, message: `unknown step "${String(keys[0])}"` });
    }
  });
  return issues;
}

/**
 * A transformed path as parallel arrays: `labels[i]` came from input touch
 * `source[i]` (`source` undefined: the identity, labels are the channels).
 * Internal form: no object per touch, so the models stay allocation-light.
 */
export interface LabelledPath {
  readonly labels: readonly string[];
  readonly source: readonly number[] | undefined;
}

type Step = (labels: readonly string[], source: readonly number[]) => LabelledPath;

const keep = (
  labels: readonly string[],
  source: readonly number[] | undefined,
  pred: (i: number) => boolean,
): LabelledPath => {
  const l: string[] = [];
  const s: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!pred(i)) continue;
    l.push(labels[i] as string);
    s.push(source === undefined ? i : (source[i] as number));
  }
  return { labels: l, source: s };
};

function compileStep(step: PathTransformStep): Step {
  if (step === 'unique') return (labels, source) => ({ labels, source });
  if (step === 'exposure')
    return (labels, source) => keep(labels, source, (i) => i === 0 || labels[i] !== labels[i - 1]);
  if (step === 'first') {
    return (labels, source) => {
      const seen = new Set<string>();
      return keep(labels, source, (i) => {
        const l = labels[i] as string;
        if (seen.has(l)) return false;
        seen.add(l);
        return true;
      });
    };
  }
  if (step === 'frequency') return frequency;
  if ('removeIfNotAll' in step) {
    const target = step.removeIfNotAll;
    return (labels, source) => {
      const kept = keep(labels, source, (i) => labels[i] !== target);
      return kept.labels.length > 0 ? kept : { labels, source };
    };
  }
  if ('removeIfLastAndNotAll' in step) {
    const target = step.removeIfLastAndNotAll;
    return (labels, source) => {
      let end = labels.length;
      while (end > 0 && labels[end - 1] === target) end--;
      return end > 0
        ? { labels: labels.slice(0, end), source: source.slice(0, end) }
        : { labels, source };
    };
  }
  const n = step.lookbackSteps;
  return (labels, source) => {
    const from = Math.max(0, labels.length - n);
    return { labels: labels.slice(from), source: source.slice(from) };
  };
}

function frequency(labels: readonly string[], source: readonly number[]): LabelledPath {
  const counts = new Map<string, number>();
  for (const l of labels) {
    // As fractribution: the count suffix must stay parseable, so names with
    // parentheses are refused rather than silently mangled.
    if (l.includes('(') || l.includes(')')) {
      throw new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_INPUT', [
        {
          field: 'path',
          message: `the frequency transform forbids channel names with "(" or ")": ${JSON.stringify(l)}`,
        },
      ]);
    }
    counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  const out: string[] = [];
  const src: number[] = [];
  labels.forEach((l, i) => {
    const n = counts.get(l);
    if (n === undefined) return;
    out.push(`${l}(${n})`);
    src.push(source[i] as number);
    counts.delete(l);
  });
  return { labels: out, source: src };
}

const identity = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Compiles a transform into a function from a path's channel names to its
 * {@link LabelledPath}. `unique` alone and `exposure` alone take fast paths.
 */
export function compileTransform(
  transform: PathTransform,
): (channels: readonly string[]) => LabelledPath {
  const steps = transformSteps(transform);
  if (steps.every((s) => s === 'unique'))
    return (channels) => ({ labels: channels, source: undefined });
  if (steps.length === 1 && steps[0] === 'exposure') {
    return (channels) => {
      let repeats = false;
      for (let i = 1; i < channels.length && !repeats; i++)
        repeats = channels[i] === channels[i - 1];
      return repeats
        ? keep(channels, undefined, (i) => i === 0 || channels[i] !== channels[i - 1])
        : { labels: channels, source: undefined };
    };
  }
  const compiled = steps.map(compileStep);
  return (channels) => {
    let path: LabelledPath = { labels: channels, source: undefined };
    for (const step of compiled)
      path = step(path.labels, path.source ?? identity(path.labels.length));
    return path;
  };
}

/**
 * Applies a transform to one path. The surviving touch of a collapsed group is
 * its first one (as in fractribution), with that touch's `msBeforeConversion`.
 * No transform empties a non-empty path.
 */
export function transformPath(
  path: readonly TouchInput[],
  transform: PathTransform = 'unique',
): TransformedTouch[] {
  const touches: Touch[] = path.map((t) => (typeof t === 'string' ? { channel: t } : t));
  const { labels, source } = compileTransform(transform)(touches.map((t) => t.channel));
  return labels.map((label, i) => {
    const t = touches[source === undefined ? i : (source[i] as number)] as Touch;
    return t.msBeforeConversion === undefined
      ? { channel: t.channel, label }
      : { channel: t.channel, label, msBeforeConversion: t.msBeforeConversion };
  });
}

/**
 * Applies a transform to a list of channel names and returns the labels, e.g.
 * `transformChannels(['D','A','B','B'], 'frequency')` is `['D(1)','A(1)','B(2)']`.
 */
export function transformChannels(
  channels: readonly string[],
  transform: PathTransform = 'unique',
): string[] {
  return transformPath(channels, transform).map((t) => t.label);
}

/** The default separator of path strings, as in fractribution: `A > B > C`. */
export const PATH_SEPARATOR = ' > ';

/** Splits a path string such as `Organic_Search > Direct` into channel names. */
export function parsePathString(path: string, separator = PATH_SEPARATOR): string[] {
  return path.length === 0 ? [] : path.split(separator);
}

/** Joins labels (or touches) into a path string such as `Organic_Search > Direct`. */
export function formatPath(
  path: readonly (string | Touch | TransformedTouch)[],
  separator = PATH_SEPARATOR,
): string {
  return path
    .map((t) => (typeof t === 'string' ? t : 'label' in t ? t.label : t.channel))
    .join(separator);
}
