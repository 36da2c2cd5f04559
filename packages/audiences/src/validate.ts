import { CdpError } from '@cdp/core';
import { parseWindowDate } from '@cdp/tags';
import {
  CONDITION_KINDS,
  CONTACT_TYPES,
  NUMBER_OPS,
  VALUE_OPS,
  type AudienceDefinition,
  type Condition,
  type ConditionKind,
} from './types.js';

/** Bounds that keep one definition's query reasonable. */
export const AUDIENCE_LIMITS = {
  maxDepth: 16,
  maxConditions: 200,
  maxSteps: 10,
  maxListItems: 1000,
  maxStringLength: 1000,
  maxDays: 3650,
  maxHours: 87_600,
} as const;

/** Identifier types of OneID a condition may name (`external:<type>` too). */
const IDENTIFIER_TYPES = ['anonymous_id', 'user_id', 'device_id', 'email', 'phone'];

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

function invalid(path: string, message: string): CdpError {
  return new CdpError('CDP_ERR_AUDIENCE_INVALID', { field: path, message: `${path}: ${message}` });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) throw invalid(path, 'must be an object');
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      throw invalid(`${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(path, 'must be a non-empty string');
  if (v.length > AUDIENCE_LIMITS.maxStringLength)
    throw invalid(path, `must be at most ${AUDIENCE_LIMITS.maxStringLength} characters`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(path, `must be an integer from ${min} to ${max}`);
  return v;
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(path, 'must be a number');
  return v;
}

function days(v: unknown, path: string, min = 1): void {
  const o = object(v, path, ['days']);
  if (o['days'] === undefined) throw invalid(`${path}.days`, 'is required');
  int(o['days'], `${path}.days`, min, AUDIENCE_LIMITS.maxDays);
}

function span(v: unknown, path: string): void {
  const o = object(v, path, ['days', 'hours']);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw invalid(path, 'must have exactly one of days, hours');
  if (o['days'] !== undefined) int(o['days'], `${path}.days`, 1, AUDIENCE_LIMITS.maxDays);
  else int(o['hours'], `${path}.hours`, 1, AUDIENCE_LIMITS.maxHours);
}

function window(v: unknown, path: string): void {
  const o = object(v, path, ['days', 'hours', 'from', 'to']);
  if (o['from'] !== undefined || o['to'] !== undefined) {
    if (o['days'] !== undefined || o['hours'] !== undefined)
      throw invalid(path, 'is either days, hours, or from and to');
    const from = parseWindowDate(str(o['from'], `${path}.from`));
    if (from === undefined) throw invalid(`${path}.from`, 'must be an ISO date or date-time');
    const to = parseWindowDate(str(o['to'], `${path}.to`));
    if (to === undefined) throw invalid(`${path}.to`, 'must be an ISO date or date-time');
    if (to < from) throw invalid(`${path}.to`, 'must not be before from');
    return;
  }
  span(o, path);
}

function scalar(v: unknown, path: string): void {
  if (typeof v === 'string') str(v, path);
  else if (typeof v === 'number') finite(v, path);
  else if (typeof v !== 'boolean') throw invalid(path, 'must be a string, a number or a boolean');
}

/** `op` and `value` of a trait, tag or property test. */
function valueTest(o: Record<string, unknown>, path: string): void {
  const op = o['op'];
  if (typeof op !== 'string' || !(VALUE_OPS as readonly string[]).includes(op))
    throw invalid(`${path}.op`, `must be one of ${VALUE_OPS.join(', ')}`);
  const value = o['value'];
  const vPath = `${path}.value`;
  switch (op) {
    case 'exists':
    case 'not_exists':
      if (value !== undefined) throw invalid(vPath, `must be absent for ${op}`);
      return;
    case 'between':
      numberPair(value, vPath);
      return;
    case 'in':
    case 'not_in': {
      if (!Array.isArray(value) || value.length === 0)
        throw invalid(vPath, 'must be a non-empty list');
      if (value.length > AUDIENCE_LIMITS.maxListItems)
        throw invalid(vPath, `must have at most ${AUDIENCE_LIMITS.maxListItems} items`);
      const kind = typeof value[0];
      value.forEach((x, i) => {
        if (kind === 'string') str(x, `${vPath}[${i}]`);
        else if (kind === 'number') finite(x, `${vPath}[${i}]`);
        else throw invalid(`${vPath}[${i}]`, 'must be a string or a number');
        if (typeof x !== kind)
          throw invalid(`${vPath}[${i}]`, 'must be of the same type as the first item');
      });
      return;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      finite(value, vPath);
      return;
    case 'contains':
      str(value, vPath);
      return;
    default:
      scalar(value, vPath);
  }
}

function numberPair(value: unknown, path: string): void {
  if (!Array.isArray(value) || value.length !== 2)
    throw invalid(path, 'must be a pair [low, high]');
  const low = finite(value[0], `${path}[0]`);
  const high = finite(value[1], `${path}[1]`);
  if (high < low) throw invalid(`${path}[1]`, 'must not be below the low end');
}

function numberTest(v: unknown, path: string, extra: readonly string[] = []): void {
  const o = object(v, path, ['op', 'value', ...extra]);
  const op = o['op'];
  if (typeof op !== 'string' || !(NUMBER_OPS as readonly string[]).includes(op))
    throw invalid(`${path}.op`, `must be one of ${NUMBER_OPS.join(', ')}`);
  if (op === 'between') numberPair(o['value'], `${path}.value`);
  else finite(o['value'], `${path}.value`);
}

function eventMatch(o: Record<string, unknown>, path: string): void {
  str(o['event'], `${path}.event`);
  const where = o['where'];
  if (where === undefined) return;
  if (!Array.isArray(where)) throw invalid(`${path}.where`, 'must be a list');
  where.forEach((w, i) => {
    const p = `${path}.where[${i}]`;
    const t = object(w, p, ['property', 'op', 'value']);
    str(t['property'], `${p}.property`);
    valueTest(t, p);
  });
}

/** Walks the tree: shape, bounds, and every audience it names. */
class Walker {
  conditions = 0;
  readonly audiences = new Set<string>();

  condition(v: unknown, path: string, depth: number): void {
    if (depth > AUDIENCE_LIMITS.maxDepth)
      throw invalid(path, `nests deeper than ${AUDIENCE_LIMITS.maxDepth} levels`);
    if (++this.conditions > AUDIENCE_LIMITS.maxConditions)
      throw invalid(path, `a definition has at most ${AUDIENCE_LIMITS.maxConditions} conditions`);
    if (!isObject(v)) throw invalid(path, 'must be an object with one condition');
    const keys = Object.keys(v);
    if (keys.length !== 1 || !(CONDITION_KINDS as readonly string[]).includes(keys[0]!))
      throw invalid(path, `must have exactly one of ${CONDITION_KINDS.join(', ')}`);
    const kind = keys[0] as ConditionKind;
    const body = v[kind];
    const p = `${path}.${kind}`;
    switch (kind) {
      case 'and':
      case 'or':
        if (!Array.isArray(body) || body.length === 0)
          throw invalid(p, 'must be a non-empty list of conditions');
        body.forEach((c, i) => this.condition(c, `${p}[${i}]`, depth + 1));
        return;
      case 'not':
        this.condition(body, p, depth + 1);
        return;
      case 'trait':
      case 'tag': {
        const o = object(body, p, ['name', 'op', 'value']);
        str(o['name'], `${p}.name`);
        valueTest(o, p);
        return;
      }
      case 'performed': {
        const o = object(body, p, ['event', 'where', 'count', 'within', 'aggregate']);
        eventMatch(o, p);
        if (o['count'] !== undefined) {
          numberTest(o['count'], `${p}.count`);
          const c = o['count'] as { value: number | number[] };
          const values = Array.isArray(c.value) ? c.value : [c.value];
          values.forEach((x, i) =>
            int(x, `${p}.count.value${Array.isArray(c.value) ? `[${i}]` : ''}`, 0, 1e9),
          );
        }
        if (o['within'] !== undefined) window(o['within'], `${p}.within`);
        if (o['aggregate'] !== undefined) {
          numberTest(o['aggregate'], `${p}.aggregate`, ['fn', 'property']);
          const a = o['aggregate'] as Record<string, unknown>;
          if (!['sum', 'avg', 'min', 'max'].includes(String(a['fn'])))
            throw invalid(`${p}.aggregate.fn`, 'must be one of sum, avg, min, max');
          str(a['property'], `${p}.aggregate.property`);
        }
        return;
      }
      case 'sequence': {
        const o = object(body, p, ['steps', 'within']);
        const steps = o['steps'];
        if (!Array.isArray(steps) || steps.length < 2 || steps.length > AUDIENCE_LIMITS.maxSteps)
          throw invalid(`${p}.steps`, `must be a list of 2 to ${AUDIENCE_LIMITS.maxSteps} steps`);
        steps.forEach((s, i) =>
          eventMatch(object(s, `${p}.steps[${i}]`, ['event', 'where']), `${p}.steps[${i}]`),
        );
        if (o['within'] === undefined) throw invalid(`${p}.within`, 'is required');
        span(o['within'], `${p}.within`);
        return;
      }
      case 'first_time': {
        const o = object(body, p, ['event', 'within']);
        str(o['event'], `${p}.event`);
        if (o['within'] === undefined) throw invalid(`${p}.within`, 'is required');
        window(o['within'], `${p}.within`);
        return;
      }
      case 'stopped': {
        const o = object(body, p, ['event', 'before', 'not_within']);
        str(o['event'], `${p}.event`);
        days(o['before'], `${p}.before`);
        days(o['not_within'], `${p}.not_within`);
        return;
      }
      case 'restarted': {
        const o = object(body, p, ['event', 'before', 'gap', 'within']);
        str(o['event'], `${p}.event`);
        days(o['before'], `${p}.before`);
        days(o['gap'], `${p}.gap`);
        days(o['within'], `${p}.within`);
        return;
      }
      case 'in_audience': {
        if (typeof body !== 'string' || !NAME_RE.test(body))
          throw invalid(p, 'must be the name of an audience');
        this.audiences.add(body);
        return;
      }
      case 'in_list': {
        if (typeof body !== 'string' || !NAME_RE.test(body))
          throw invalid(p, 'must be the name of a list (lower-case letters, digits, _ . -)');
        return;
      }
      case 'identifier': {
        const o = object(body, p, ['type']);
        const type = str(o['type'], `${p}.type`);
        if (type !== 'exists' && !IDENTIFIER_TYPES.includes(type) && !type.startsWith('external:'))
          throw invalid(
            `${p}.type`,
            `must be exists (an email or a phone), ${IDENTIFIER_TYPES.join(', ')} or external:<type>`,
          );
        return;
      }
    }
  }
}

/** Whether `name` is a valid audience name (lower-case letters, digits, `_ . -`). */
export function isAudienceName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RE.test(name);
}

/**
 * Checks a definition (`{"conditions": <tree>, "description"?}`) and returns
 * it typed; throws `CDP_ERR_AUDIENCE_INVALID` naming the path of the first
 * problem (`conditions.and[2].performed.within.days`).
 */
export function validateAudience(input: unknown): AudienceDefinition {
  const o = object(input, 'definition', ['conditions', 'description']);
  if (o['conditions'] === undefined) throw invalid('conditions', 'is required');
  if (o['description'] !== undefined && typeof o['description'] !== 'string')
    throw invalid('description', 'must be a string');
  new Walker().condition(o['conditions'], 'conditions', 1);
  return o as unknown as AudienceDefinition;
}

/** The audiences a definition names (`in_audience`), directly. */
export function audienceReferences(def: AudienceDefinition): string[] {
  const w = new Walker();
  w.condition(def.conditions, 'conditions', 1);
  return [...w.audiences].sort();
}

/**
 * Replaces every `in_audience` by the named audience's conditions, so the
 * whole tree compiles to one query; throws `CDP_ERR_AUDIENCE_INVALID` for a
 * name that does not exist or a cycle (naming the path of the reference).
 */
export function inlineAudiences(
  def: AudienceDefinition,
  lookup: (name: string) => AudienceDefinition | undefined,
  self?: string,
): Condition {
  const expand = (c: Condition, path: string, stack: readonly string[]): Condition => {
    if ('in_audience' in c) {
      const name = c.in_audience;
      const p = `${path}.in_audience`;
      if (stack.includes(name))
        throw invalid(p, `refers back to itself: ${[...stack, name].join(' -> ')}`);
      const other = lookup(name);
      if (other === undefined) throw invalid(p, `no audience named ${name}`);
      return expand(other.conditions, p, [...stack, name]);
    }
    if ('and' in c) return { and: c.and.map((x, i) => expand(x, `${path}.and[${i}]`, stack)) };
    if ('or' in c) return { or: c.or.map((x, i) => expand(x, `${path}.or[${i}]`, stack)) };
    if ('not' in c) return { not: expand(c.not, `${path}.not`, stack) };
    return c;
  };
  return expand(def.conditions, 'conditions', self === undefined ? [] : [self]);
}

export { CONTACT_TYPES };
