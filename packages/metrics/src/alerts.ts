import type { AlertRule, AlertStateName, Cell } from './types.js';

/**
 * Alert evaluation, pure: the windows a rule compares, the comparison per
 * breakdown value, and the state machine with hysteresis.
 *
 * Windows end at the last whole minute before `now` (the current minute is
 * still filling). `previous`: the window just before; `week_ago`: the same
 * window 7 days earlier; `baseline`: the mean of the same window on each of
 * the last `baselineWindows` days.
 *
 * Minimum volume: the larger of the persons in the window and in the
 * reference must reach `minVolume`, so a channel whose traffic stopped
 * altogether still fires, and a trickle never does. A threshold rule checks
 * the window's own volume.
 *
 * Hysteresis: a rule fires the first evaluation its condition holds, and
 * resolves after `RESOLVE_AFTER` evaluations in a row in which the value is
 * back within half of `change` of the reference it fired against (a
 * threshold rule: on the right side of the threshold); in between it stays
 * firing, so it never flaps. Against the reference it fired against, not
 * the latest one: a drop that lasts makes the window before it look the
 * same as the window (no change), but it has not recovered.
 */

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Evaluations in a row that must be clear before a firing rule resolves. */
export const RESOLVE_AFTER = 2;

export interface AlertWindows {
  readonly current: readonly [number, number];
  readonly references: readonly (readonly [number, number])[];
}

export function alertWindows(rule: AlertRule, now: number): AlertWindows {
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const w = rule.windowMinutes * MINUTE_MS;
  const start = end - w;
  const shift = (d: number): [number, number] => [start - d, end - d];
  switch (rule.compare) {
    case 'threshold':
      return { current: [start, end], references: [] };
    case 'previous':
      return { current: [start, end], references: [shift(w)] };
    case 'week_ago':
      return { current: [start, end], references: [shift(7 * DAY_MS)] };
    case 'baseline':
      return {
        current: [start, end],
        references: Array.from({ length: rule.baselineWindows ?? 1 }, (_, i) =>
          shift((i + 1) * DAY_MS),
        ),
      };
  }
}

/** A window's metric for one key: value (null: a ratio of nothing) and persons. */
export interface WindowValue {
  readonly value: number | null;
  readonly volume: number;
}

export const valueOf = (c: Pick<Cell, 'num' | 'den'>, scale = 1): number | null =>
  c.den === 0 ? null : (c.num / c.den) * scale;

export interface AlertResult {
  readonly key: string;
  readonly value: number | null;
  readonly reference: number | null;
  /** (value - reference) / |reference|; null when either is missing or the reference is 0. */
  readonly change: number | null;
  readonly volume: number;
  readonly firing: boolean;
  /** The condition is back within the hysteresis margin (see the module's comment). */
  readonly clear: boolean;
}

/**
 * Compares, per key, the window (`current`) with the references (one map
 * per reference window); keys of either side (and `alsoKeys`, the keys a
 * state exists for) are compared. `empty` is the metric's value where a
 * window has no data for a key: 0 for a count (no conversions is 0
 * conversions), null for a ratio of nothing.
 */
export function compareWindows(
  rule: AlertRule,
  current: ReadonlyMap<string, WindowValue>,
  references: readonly ReadonlyMap<string, WindowValue>[],
  alsoKeys: Iterable<string> = [],
  empty: number | null = null,
): AlertResult[] {
  const keys = new Set<string>([...current.keys(), ...alsoKeys]);
  for (const r of references) for (const k of r.keys()) keys.add(k);
  if (rule.breakdown === undefined) {
    keys.clear();
    keys.add('');
  }
  const minVolume = rule.minVolume ?? 0;
  const down = rule.direction === 'down';
  return [...keys].sort().map((key): AlertResult => {
    const cur = current.get(key) ?? { value: empty, volume: 0 };
    if (rule.compare === 'threshold') {
      const t = rule.threshold ?? 0;
      const v = cur.value;
      const crossed = v !== null && (down ? v < t : v > t);
      return {
        key,
        value: v,
        reference: t,
        change: v === null || t === 0 ? null : (v - t) / Math.abs(t),
        volume: cur.volume,
        firing: crossed && cur.volume >= minVolume,
        clear: !crossed,
      };
    }
    const refs = references.map((r) => r.get(key) ?? { value: empty, volume: 0 });
    const refValues = refs.map((r) => r.value).filter((v): v is number => v !== null);
    const reference =
      refValues.length === 0 ? null : refValues.reduce((a, b) => a + b, 0) / refValues.length;
    const refVolume =
      references.length === 0 ? 0 : refs.reduce((a, r) => a + r.volume, 0) / references.length;
    const value = cur.value;
    // From 0 to something is an unbounded rise (dead letters from none to
    // many fires an "up" rule); 0 to 0 is no change.
    const change =
      value === null || reference === null
        ? null
        : reference === 0
          ? value === 0
            ? 0
            : value > 0
              ? Infinity
              : -Infinity
          : (value - reference) / Math.abs(reference);
    const c = rule.change ?? 0;
    const moved = change !== null && (down ? change <= -c : change >= c);
    const volume = Math.max(cur.volume, refVolume);
    return {
      key,
      value,
      reference,
      change,
      volume,
      firing: moved && volume >= minVolume,
      clear: change === null || (down ? change > -c / 2 : change < c / 2),
    };
  });
}

export interface AlertState {
  readonly state: AlertStateName;
  /** When it entered this state, epoch ms. */
  readonly since: number;
  readonly clearRuns: number;
  /** Firing: the reference it fired against (what recovery is measured by). */
  readonly firedReference: number | null;
}

export const INITIAL_STATE: AlertState = {
  state: 'ok',
  since: 0,
  clearRuns: 0,
  firedReference: null,
};

/** Whether a firing rule's value is back near the reference it fired against. */
function recovered(rule: AlertRule, value: number | null, ref: number | null): boolean {
  if (value === null || ref === null) return false;
  const half = (rule.change ?? 0) / 2;
  return rule.direction === 'down'
    ? value >= ref - Math.abs(ref) * half
    : value <= ref + Math.abs(ref) * half;
}

/** The next state of one key after an evaluation of `rule` at `now`, and the transition if there is one. */
export function nextState(
  rule: AlertRule,
  prev: AlertState,
  r: Pick<AlertResult, 'firing' | 'clear' | 'value' | 'reference'>,
  now: number,
): { state: AlertState; transition?: { from: AlertStateName; to: AlertStateName } } {
  if (prev.state !== 'firing') {
    if (!r.firing) return { state: prev };
    return {
      state: { state: 'firing', since: now, clearRuns: 0, firedReference: r.reference },
      transition: { from: prev.state, to: 'firing' },
    };
  }
  const clear =
    rule.compare === 'threshold' ? r.clear : recovered(rule, r.value, prev.firedReference);
  if (!clear || r.firing) return { state: { ...prev, clearRuns: 0 } };
  const clearRuns = prev.clearRuns + 1;
  if (clearRuns < RESOLVE_AFTER) return { state: { ...prev, clearRuns } };
  return {
    state: { state: 'resolved', since: now, clearRuns: 0, firedReference: null },
    transition: { from: 'firing', to: 'resolved' },
  };
}
