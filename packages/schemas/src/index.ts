import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ErrorCode } from '@cdp/core';

/** The Segment-spec call types ingest accepts. */
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Where the JSON Schemas live: `schemas/` at the repository root (or `CDP_SCHEMAS_DIR`). */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

export interface SchemaProblem {
  readonly code: ErrorCode;
  /** Dotted path of the offending field, e.g. `context.page`, `event`. */
  readonly field: string;
  readonly message: string;
}

export type EventValidator = (
  type: EventType,
  event: Record<string, unknown>,
) => SchemaProblem | null;

function loadDir(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

/**
 * The dotted path of what an ajv error is about (`/where/0/op` ->
 * `where[0].op`), naming the missing or unknown property; '' for the root.
 */
export function ajvErrorField(e: ErrorObject): string {
  let path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const extra =
    e.keyword === 'required'
      ? String((e.params as { missingProperty: string }).missingProperty)
      : e.keyword === 'additionalProperties'
        ? String((e.params as { additionalProperty: string }).additionalProperty)
        : undefined;
  if (extra !== undefined) path = path === '' ? extra : `${path}.${extra}`;
  return path;
}

/** Turns the first ajv error into a problem naming the field, with a stable code. */
export function toProblem(e: ErrorObject): SchemaProblem {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (e.keyword) {
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const field = base ? `${base}.${missing}` : missing;
      return { code: 'CDP_ERR_EVENT_MISSING_FIELD', field, message: `${field} is required` };
    }
    case 'type':
      return {
        code: 'CDP_ERR_EVENT_INVALID_TYPE',
        field: base,
        message: `${base} must be ${String((e.params as { type: string | string[] }).type).replace(',', ' or ')}`,
      };
    default:
      return {
        code: 'CDP_ERR_EVENT_INVALID_VALUE',
        field: base,
        message: `${base} ${e.message ?? 'is not valid'}`,
      };
  }
}

/** Compiles the event schemas under `schemas/events` once; the validator is then pure and fast. */
export function createEventValidator(dir = join(SCHEMAS_DIR, 'events')): EventValidator {
  const ajv = new Ajv({ allErrors: false, strict: false });
  for (const s of loadDir(dir)) ajv.addSchema(s);
  const byType = new Map<EventType, ValidateFunction>();
  for (const t of EVENT_TYPES) {
    const v = ajv.getSchema(`https://cdp.dev/schemas/events/${t}.json`);
    if (!v) throw new Error(`schema for ${t} missing in ${dir}`);
    byType.set(t, v);
  }
  return (type, event) => {
    const v = byType.get(type);
    if (!v)
      return {
        code: 'CDP_ERR_EVENT_UNKNOWN_TYPE',
        field: 'type',
        message: `type must be one of ${EVENT_TYPES.join(', ')}`,
      };
    if (v(event)) return null;
    const first = v.errors?.[0];
    return first
      ? toProblem(first)
      : { code: 'CDP_ERR_EVENT_INVALID_VALUE', field: '', message: 'invalid event' };
  };
}

/** Compiles the topic message schemas under `schemas/topics` (for contract tests of producers). */
export function createTopicValidators(
  dir = join(SCHEMAS_DIR, 'topics'),
): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const out = new Map<string, ValidateFunction>();
  for (const s of loadDir(dir))
    out.set(String(s['$id']).replace(/^.*\/(.*)\.json$/, '$1'), ajv.compile(s));
  return out;
}
