import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { CdpError } from '@cdp/core';
import { SCHEMAS_DIR, ajvErrorField } from '@cdp/schemas';
import { outputsOf } from './builtins.js';
import type { RuleCondition, TagDefinition } from './types.js';

let compiled: ValidateFunction | undefined;

/** A date (`2024-06-01`) or a date-time with a zone. */
export function parseWindowDate(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s))
    return undefined;
  const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isNaN(ms) ? undefined : ms;
}

function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: false, strict: false, discriminator: true });
  ajv.addFormat('date-time-or-date', (s: string) => parseWindowDate(s) !== undefined);
  const schema = JSON.parse(
    readFileSync(join(SCHEMAS_DIR, 'tags', 'tag-definition.json'), 'utf8'),
  ) as Record<string, unknown>;
  compiled = ajv.compile(schema);
  return compiled;
}

const fieldOf = ajvErrorField;

function invalid(field: string, message: string): CdpError {
  return new CdpError('CDP_ERR_TAG_INVALID', { field, message: `${field}: ${message}` });
}

function checkLeafValue(
  field: string,
  op: string,
  value: unknown,
  numericOps: readonly string[],
): void {
  const needsNone = op === 'exists' || op === 'not_exists';
  if (needsNone) {
    if (value !== undefined) throw invalid(`${field}.value`, `${op} takes no value`);
    return;
  }
  if (value === undefined) throw invalid(`${field}.value`, `${op} needs a value`);
  const isList = op === 'in' || op === 'not_in';
  if (isList !== Array.isArray(value))
    throw invalid(`${field}.value`, isList ? `${op} needs an array` : `${op} needs a single value`);
  if (numericOps.includes(op) && typeof value !== 'number')
    throw invalid(`${field}.value`, `${op} compares numbers: give a number`);
}

const NUMERIC_OPS = ['gt', 'gte', 'lt', 'lte'];

function checkCondition(c: RuleCondition, field: string, refs: Set<string>): void {
  if ('and' in c) c.and.forEach((x, i) => checkCondition(x, `${field}.and[${i}]`, refs));
  else if ('or' in c) c.or.forEach((x, i) => checkCondition(x, `${field}.or[${i}]`, refs));
  else if ('not' in c) checkCondition(c.not, `${field}.not`, refs);
  else if ('tag' in c) {
    checkLeafValue(`${field}.tag`, c.tag.op, c.tag.value, NUMERIC_OPS);
    refs.add(c.tag.name);
  } else checkLeafValue(`${field}.trait`, c.trait.op, c.trait.value, NUMERIC_OPS);
}

/** The tags a rule definition reads. */
export function ruleReferences(def: TagDefinition): string[] {
  if (def.type !== 'rule') return [];
  const refs = new Set<string>();
  def.rule.rules.forEach((r, i) => checkCondition(r.when, `rule.rules[${i}].when`, refs));
  return [...refs];
}

/**
 * Checks one definition on its own: the JSON Schema, then what a schema
 * cannot say (values an operator needs, windows in order, tiers ascending).
 * Throws `CDP_ERR_TAG_INVALID` naming the field.
 */
export function validateDefinition(raw: unknown): TagDefinition {
  const v = schemaValidator();
  if (!v(raw)) {
    const e = v.errors?.[0];
    if (!e) throw invalid('', 'not a tag definition');
    const field = fieldOf(e);
    throw invalid(field, e.message ?? 'is not valid');
  }
  const def = raw as TagDefinition;
  switch (def.type) {
    case 'computed': {
      const c = def.computed;
      const needsProperty = !['count', 'days_since_first', 'days_since_last'].includes(c.fn);
      if (needsProperty && c.property === undefined)
        throw invalid('computed.property', `${c.fn} needs the property it aggregates`);
      if (!needsProperty && c.property !== undefined)
        throw invalid('computed.property', `${c.fn} takes no property`);
      (c.where ?? []).forEach((f, i) =>
        checkLeafValue(`computed.where[${i}]`, f.op, f.value, NUMERIC_OPS),
      );
      if (c.window && 'from' in c.window) {
        const from = parseWindowDate(c.window.from);
        const to = parseWindowDate(c.window.to);
        if (from === undefined) throw invalid('computed.window.from', 'not a date');
        if (to === undefined) throw invalid('computed.window.to', 'not a date');
        if (from >= to) throw invalid('computed.window.to', 'must be after from');
      }
      break;
    }
    case 'rule': {
      const refs = ruleReferences(def);
      if (refs.includes(def.name)) throw invalid('rule', `a rule tag cannot read itself`);
      break;
    }
    case 'member_tier': {
      const t = def.params.tiers;
      for (let i = 1; i < t.length; i++) {
        if ((t[i]?.minSpend ?? 0) <= (t[i - 1]?.minSpend ?? 0))
          throw invalid(`params.tiers[${i}].minSpend`, 'tiers must have ascending minSpend');
      }
      if (new Set(t.map((x) => x.name)).size !== t.length)
        throw invalid('params.tiers', 'tier names must be unique');
      break;
    }
    case 'price_sensitivity':
      if (def.params.medium > def.params.high)
        throw invalid('params.medium', 'must not be above high');
      break;
    case 'rfm':
    case 'lifecycle':
    case 'churn_risk':
    case 'spending_power':
    case 'top_categories':
    case 'preferred_channel':
      break;
  }
  return def;
}

/**
 * Checks a set of definitions together: every output name unique, every tag
 * a rule reads defined, no cycle between rules. Returns the enabled
 * definitions in dependency order (a rule after the tags it reads).
 */
export function orderDefinitions(defs: readonly TagDefinition[]): TagDefinition[] {
  const producer = new Map<string, TagDefinition>();
  for (const d of defs) {
    for (const o of outputsOf(d)) {
      const other = producer.get(o.name);
      if (other && other.name !== d.name)
        throw invalid('name', `tag ${o.name} is already produced by definition ${other.name}`);
      producer.set(o.name, d);
    }
  }
  const enabled = defs.filter((d) => d.enabled !== false);
  // Built-ins rank or carry state per person: one enabled definition of each.
  const seen = new Map<string, string>();
  for (const d of enabled) {
    if (d.type === 'computed' || d.type === 'rule') continue;
    const other = seen.get(d.type);
    if (other !== undefined)
      throw invalid('type', `only one enabled ${d.type} definition at a time (${other} is one)`);
    seen.set(d.type, d.name);
  }
  const enabledNames = new Set(enabled.flatMap((d) => outputsOf(d).map((o) => o.name)));
  const out: TagDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: TagDefinition, path: string[]): void => {
    const s = state.get(d.name);
    if (s === 'done') return;
    if (s === 'visiting')
      throw invalid(
        'rule',
        `rule tags read each other in a cycle: ${[...path, d.name].join(' -> ')}`,
      );
    state.set(d.name, 'visiting');
    for (const ref of ruleReferences(d)) {
      const p = producer.get(ref);
      if (!p) throw invalid('rule', `${d.name} reads tag ${ref}, which no definition produces`);
      if (!enabledNames.has(ref)) continue;
      visit(p, [...path, d.name]);
    }
    state.set(d.name, 'done');
    out.push(d);
  };
  for (const d of enabled) visit(d, []);
  return out;
}
